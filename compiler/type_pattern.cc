#include "compiler/type_pattern.h"

#include <cctype>

namespace ferry {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string Trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

// Lower-cases words and collapses whitespace to single spaces.
std::string NormaliseWords(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

}  // namespace

std::optional<SqlType> ParseSqlType(std::string_view text, std::string* error) {
  // PostgreSQL arrays: `text[]`, `integer[][]` are the element type's name plus `[]`s.
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.remove_suffix(1);
  std::string array_suffix;
  while (trimmed.size() > 2 && trimmed.ends_with("[]")) {
    array_suffix += "[]";
    trimmed.remove_suffix(2);
  }
  text = trimmed;
  SqlType t;
  const size_t open = text.find('(');
  const std::string head = NormaliseWords(text.substr(0, open));
  std::string tail;
  if (open != std::string_view::npos) {
    // Find the matching `)`, respecting quotes (enum values may hold parentheses).
    int depth = 0;
    char quote = 0;
    size_t close = std::string_view::npos;
    for (size_t i = open; i < text.size(); ++i) {
      const char c = text[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) {
      Fail(error, quote != 0 ? "a quote is never closed" : "`(` is never closed");
      return std::nullopt;
    }
    t.has_args = true;
    t.args_text = Trim(text.substr(open + 1, close - open - 1));
    // Split on top-level commas.
    std::string cur;
    quote = 0;
    depth = 0;
    for (char c : t.args_text) {
      if (quote != 0) {
        if (c == quote) quote = 0;
        cur += c;
        continue;
      }
      if (c == '\'' || c == '"') quote = c;
      if (c == '(') ++depth;
      if (c == ')') --depth;
      if (c == ',' && depth == 0) {
        t.args.push_back(Trim(cur));
        cur.clear();
        continue;
      }
      cur += c;
    }
    if (!Trim(cur).empty() || !t.args.empty()) t.args.push_back(Trim(cur));
    for (std::string& a : t.args) {
      if (a.empty()) {
        Fail(error, "an argument between commas is empty");
        return std::nullopt;
      }
      if (a[0] != '\'' && a[0] != '"') a = NormaliseWords(a);
    }
    tail = NormaliseWords(text.substr(close + 1));
  }
  if (head.empty()) {
    Fail(error, "the type has no name");
    return std::nullopt;
  }
  for (char c : head) {
    if (!IsIdentChar(c) && c != ' ') {
      Fail(error, std::string("`") + c + "` cannot appear in a type name");
      return std::nullopt;
    }
  }
  // Modifiers may follow the name (`int unsigned`) or the arguments (`int(10) unsigned`);
  // other words after the arguments belong to the name (`timestamp(3) without time zone`
  // is the type `timestamp without time zone` with argument 3).
  const std::string words = head + (tail.empty() ? "" : " " + tail);
  std::string name;
  size_t pos = 0;
  while (pos < words.size()) {
    size_t end = words.find(' ', pos);
    if (end == std::string::npos) end = words.size();
    const std::string w = words.substr(pos, end - pos);
    pos = end + 1;
    if (!name.empty() && (w == "unsigned" || w == "signed" || w == "zerofill")) {
      t.is_unsigned = t.is_unsigned || w == "unsigned";
      continue;
    }
    name += (name.empty() ? "" : " ") + w;
  }
  for (char c : tail) {
    if (!IsIdentChar(c) && c != ' ') {
      Fail(error, std::string("`") + c + "` cannot follow a type's arguments");
      return std::nullopt;
    }
  }
  t.name = name + array_suffix;
  return t;
}

std::optional<TypePattern> ParseTypePattern(std::string_view text, std::string* error) {
  std::optional<SqlType> t = ParseSqlType(text, error);
  if (!t) return std::nullopt;
  TypePattern p;
  p.type = *t;
  if (t->has_args && t->args.size() == 1 && t->args[0] == "*") {
    p.any_args = true;
    return p;
  }
  for (const std::string& a : t->args) {
    if (a.empty()) {
      Fail(error, "an argument is empty");
      return std::nullopt;
    }
    if (a == "*") {
      Fail(error, "`*` must be the only argument: `(*)`");
      return std::nullopt;
    }
    if (a != "max" && IsIdentStart(a[0])) {
      for (char c : a) {
        if (!IsIdentChar(c)) {
          Fail(error, "argument `" + a + "` is neither a number nor a parameter name");
          return std::nullopt;
        }
      }
      p.params.push_back(a);
    } else {
      p.params.emplace_back();
    }
  }
  return p;
}

std::vector<std::string> TargetParameters(std::string_view target) {
  std::vector<std::string> out;
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (depth > 0 && c == '*') {
      out.emplace_back("*");
    } else if (depth > 0 && IsIdentStart(c)) {
      size_t j = i;
      while (j < target.size() && IsIdentChar(target[j])) ++j;
      std::string word = NormaliseWords(target.substr(i, j - i));
      if (word != "max") out.push_back(word);
      i = j - 1;
    }
  }
  return out;
}

std::optional<std::string> Match(const TypePattern& p, std::string_view target, const SqlType& t) {
  if (p.type.name != t.name || p.type.is_unsigned != t.is_unsigned) return std::nullopt;
  if (p.type.has_args && !p.any_args) {
    if (p.type.args.size() != t.args.size()) return std::nullopt;
    for (size_t i = 0; i < t.args.size(); ++i) {
      if (p.params[i].empty() && p.type.args[i] != t.args[i]) return std::nullopt;
    }
  }
  // Substitute parameters inside the target's parentheses.
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth > 0 && c == '*') {
      out += t.args_text;
      continue;
    }
    if (depth > 0 && IsIdentStart(c)) {
      size_t j = i;
      while (j < target.size() && IsIdentChar(target[j])) ++j;
      const std::string word(target.substr(i, j - i));
      std::string replacement = word;
      for (size_t k = 0; k < p.params.size(); ++k) {
        if (!p.params[k].empty() && p.params[k] == NormaliseWords(word)) replacement = t.args[k];
      }
      out += replacement;
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

bool Subsumes(const TypePattern& a, const TypePattern& b) {
  if (a.type.name != b.type.name || a.type.is_unsigned != b.type.is_unsigned) return false;
  if (!a.type.has_args || a.any_args) return true;
  if (!b.type.has_args || b.any_args) return false;
  if (a.type.args.size() != b.type.args.size()) return false;
  for (size_t i = 0; i < a.params.size(); ++i) {
    if (!a.params[i].empty()) continue;  // a parameter matches anything
    if (!b.params[i].empty() || a.type.args[i] != b.type.args[i]) return false;
  }
  return true;
}

std::optional<std::string> MapType(const std::vector<ir::TypeRule>& rules, const SqlType& type) {
  for (const ir::TypeRule& r : rules) {
    std::optional<TypePattern> p = ParseTypePattern(r.pattern);
    if (!p) continue;
    if (std::optional<std::string> out = Match(*p, r.target, type)) return out;
  }
  return std::nullopt;
}

}  // namespace ferry
