// Load: a plan file and everything it imports → a Program of parsed files.
//
// `import "std/x"` names a stdlib module (stdlib/x.ferry, compiled into the binary); any
// other import is a path relative to the importing file. Each file is read and parsed once;
// missing files and cycles are diagnostics at the import that causes them. Only files
// reachable from the plan are `visible` (their names are in scope); the analyzer may add
// hidden stdlib files later with LoadHiddenStdlib(), for the default type map of a migration
// whose plan imports none.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/diagnostics.h"
#include "compiler/source.h"

namespace ferry {

struct LoadedFile {
  ast::File ast;
  bool visible = false;  // reachable from the plan through imports
};

struct Program {
  SourceManager sources;
  std::deque<LoadedFile> files;  // indexed by FileId; a deque, so adding a file moves none
  FileId root = kNoFile;
};

enum class LoadStatus { kOk, kRootUnreadable };

// Reads `path` (as given on the command line) and its imports. On kRootUnreadable, *error
// says why and the program is empty; everything else is reported through `diags`.
LoadStatus Load(const std::string& path, Program& program, Diagnostics& diags, std::string* error);

// Adds the stdlib file `rel` (e.g. "typemaps/mysql_to_postgres.ferry") to the program as a
// hidden file, parsing it once. Returns its id, or kNoFile when the stdlib has no such file.
FileId LoadHiddenStdlib(Program& program, const std::string& rel, Diagnostics& diags);

// Parses `text` as if it were a file named `display` (for tests and `ferry fmt` of stdin).
LoadStatus LoadText(const std::string& display, std::string text, Program& program,
                    Diagnostics& diags);

}  // namespace ferry
