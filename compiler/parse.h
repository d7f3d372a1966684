// Parse: one plan file's text → ast::File.
//
// The only place that sees ANTLR: it runs the generated lexer and parser, reports lexical
// and syntax problems as coded diagnostics (recovering, so every error of a file is
// reported), and builds the AST with byte spans. Always returns a File; after syntax errors
// it holds what could be recovered and `has_syntax_errors` is set.
#pragma once

#include "compiler/ast.h"
#include "compiler/diagnostics.h"
#include "compiler/source.h"

namespace ferry {

// Deepest nesting of `{ [ (` a file may use; deeper input is rejected before parsing so
// hostile input cannot exhaust the stack.
inline constexpr int kMaxNesting = 48;

ast::File Parse(const SourceManager& sm, FileId file, Diagnostics& diags);

}  // namespace ferry
