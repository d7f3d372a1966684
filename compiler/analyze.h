// Analyze: a loaded Program → the declarations of the plan IR, checked.
//
// Resolves names per kind across the plan and its imports, checks every attribute against
// its block's schema (types, ranges, words, required ones), then the rules of LANGUAGE.md
// that span blocks: accounts and roles, secrets, stages, type maps and object selection.
// Reports everything it finds; returns the IR without stages (see Lower()). The IR is only
// meaningful when `diags` has no errors.
#pragma once

#include "compiler/diagnostics.h"
#include "compiler/ir.h"
#include "compiler/load.h"

namespace ferry {

// May add hidden stdlib files to `program` (a migration's default type map).
ir::Plan Analyze(Program& program, Diagnostics& diags);

// Globs in object names: `*` any run of characters, `?` one character.
bool HasGlob(std::string_view s);
bool GlobMatch(std::string_view pattern, std::string_view text);
// True when every name `later` matches is matched by `earlier`.
bool GlobSubsumes(std::string_view earlier, std::string_view later);

}  // namespace ferry
