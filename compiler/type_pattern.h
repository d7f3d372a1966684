// Column types and the `map` rules of type maps (docs/typemaps.md).
//
// A SqlType is a source column's type as the catalog reports it, normalised; a TypePattern
// is the left side of a `map` rule. The checker uses this to validate rules, the runtime to
// map every column. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"

namespace ferry {

struct SqlType {
  std::string name;  // lower case, single spaces, all words but modifiers: "double precision",
                     // "timestamp without time zone" (also for `timestamp(3) without time zone`)
  bool has_args = false;
  std::vector<std::string> args;  // as written, trimmed: "12", "'a'", "max"
  std::string args_text;          // the text between the parentheses
  bool is_unsigned = false;
};

// Normalises and splits a type string. Returns nullopt (and why, in *error) when the text is
// not a type: empty, unbalanced parentheses or quotes, or characters no type has.
std::optional<SqlType> ParseSqlType(std::string_view text, std::string* error = nullptr);

struct TypePattern {
  SqlType type;
  bool any_args = false;             // `(*)`
  std::vector<std::string> params;   // identifiers bound by position ("" where literal)
};

std::optional<TypePattern> ParseTypePattern(std::string_view text, std::string* error = nullptr);

// The parameters a target uses: identifiers inside its parentheses, and "*".
std::vector<std::string> TargetParameters(std::string_view target);

// If `pattern` matches `type`, the target with the bound arguments substituted.
std::optional<std::string> Match(const TypePattern& pattern, std::string_view target,
                                 const SqlType& type);

// True when `earlier` matches every type `later` matches.
bool Subsumes(const TypePattern& earlier, const TypePattern& later);

// Maps a type through rules tried in order; nullopt when no rule matches.
std::optional<std::string> MapType(const std::vector<ir::TypeRule>& rules, const SqlType& type);

}  // namespace ferry
