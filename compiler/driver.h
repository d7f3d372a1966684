// The compiler's one entry point for the CLI and the tests: load, analyze, lower.
//
// Stops before Lower() when there are errors. Never touches a database and never reads a
// secret's value.
#pragma once

#include <memory>
#include <string>

#include "compiler/diagnostics.h"
#include "compiler/ir.h"
#include "compiler/load.h"

namespace ferry {

struct Compilation {
  Program program;
  Diagnostics diags;
  ir::Plan plan;
  bool root_unreadable = false;
  std::string root_error;  // why the root could not be read

  bool ok() const { return !root_unreadable && !diags.has_errors(); }
};

// Heap-allocated: the program's AST and the plan hold spans into it.
std::unique_ptr<Compilation> Compile(const std::string& path);
std::unique_ptr<Compilation> CompileText(const std::string& display, std::string text);

}  // namespace ferry
