// Format: one canonical layout for a plan file (`ferry fmt`), so diffs show only changes.
//
// Two-space indentation, `key = value`, one member per line, separators dropped, strings
// re-escaped canonically, at most one blank line kept between members, and every comment
// kept: leading comments above their member, trailing ones on its line. Idempotent. Only
// for files without syntax errors (the caller checks).
#pragma once

#include <string>

#include "compiler/ast.h"
#include "compiler/source.h"

namespace ferry {

std::string Format(const SourceManager& sm, const ast::File& file);

}  // namespace ferry
