// The AST: Ferry's own tree for one plan file, with byte spans.
//
// Built from the ANTLR parse tree by Parse() (compiler/parse.h) and never refers to ANTLR
// types. It keeps the shape the user wrote (attributes, rules, sub-blocks in order, and the
// comments) so that `ferry fmt` can lay it out again; meaning is given by the checker.
// Values of this tree are plain data, owned by their parent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/source.h"

namespace ferry::ast {

// An identifier or a string used as a name (`shop`, `"audit_*"`).
struct Name {
  std::string text;  // decoded
  Span span;
  bool quoted = false;
};

enum class ValueKind { kString, kNumber, kDuration, kSize, kWord, kList, kCall, kError };

struct Value {
  ValueKind kind = ValueKind::kError;
  Span span;
  std::string text;     // decoded string; word; callee; numbers and quantities as written
  double number = 0;    // kNumber
  bool integral = false;  // kNumber without a fraction
  int64_t millis = 0;   // kDuration
  int64_t bytes = 0;    // kSize
  std::vector<Value> items;  // kList items, kCall arguments
};

struct Attribute {
  Name key;
  Value value;
  Span span;
};

struct Member;

struct Block {
  std::vector<Member> members;
  Span span;  // from `{` to `}`
};

enum class ObjectKind { kSchema, kTable, kColumn };

// `schema a -> b { … }`, `table "x_*"`, `exclude column c`
struct ObjectRule {
  ObjectKind kind = ObjectKind::kTable;
  bool exclude = false;
  Name source;
  std::optional<Name> target;
  std::optional<Block> body;
  Span span;
};

// `map "pattern" -> "target"`
struct MapRule {
  Name pattern;
  Name target;
  Span span;
};

// `retry { … }`, `throttle full { … }`, `objects { … }`
struct SubBlock {
  Name kind;
  std::optional<Name> qualifier;
  Block body;
  Span span;
};

struct Member {
  std::variant<Attribute, ObjectRule, MapRule, SubBlock> node;
  Span span() const;
};

// `account x { … }`, `typemap ours extends base { … }`
struct Declaration {
  Name kind;
  Name name;
  std::optional<Name> base;
  Block body;
  Span span;
};

struct Import {
  Name path;
  Span span;
};

struct Comment {
  Span span;
  std::string text;  // as written, delimiters included
};

struct File {
  FileId id = kNoFile;
  std::vector<std::variant<Import, Declaration>> items;  // in source order
  std::vector<Comment> comments;                         // in source order
  bool has_syntax_errors = false;
  std::vector<uint32_t> syntax_error_offsets;  // where the parser reported errors, in order

  // True when the parser reported an error inside `span`: what is missing there may be the
  // part that failed to parse, so the checker does not also call it missing.
  bool HasSyntaxErrorIn(Span span) const {
    for (uint32_t o : syntax_error_offsets) {
      if (o >= span.begin && o <= span.end) return true;
    }
    return false;
  }
};

inline Span Member::span() const {
  return std::visit([](const auto& m) { return m.span; }, node);
}

}  // namespace ferry::ast
