#include "runtime/sql.h"

namespace ferry::runtime {

namespace {
std::string Wrap(std::string_view s, char open, char close) {
  std::string out;
  out.reserve(s.size() + 2);
  out += open;
  for (char c : s) {
    out += c;
    if (c == close) out += close;
  }
  out += close;
  return out;
}
}  // namespace

std::string QuoteIdent(ir::Engine engine, std::string_view name) {
  switch (engine) {
    case ir::Engine::kMysql:
    case ir::Engine::kMariadb:
      return Wrap(name, '`', '`');
    case ir::Engine::kPostgres:
      return Wrap(name, '"', '"');
    case ir::Engine::kSqlserver:
      return Wrap(name, '[', ']');
  }
  return Wrap(name, '"', '"');
}

std::string QuoteName(ir::Engine engine, std::string_view schema, std::string_view table) {
  return QuoteIdent(engine, schema) + "." + QuoteIdent(engine, table);
}

std::string QuoteLiteral(ir::Engine engine, std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  if (ir::IsMysqlFamily(engine)) {
    out += '\'';
    for (char c : text) {
      switch (c) {
        case '\'': out += "''"; break;
        case '\\': out += "\\\\"; break;
        case '\0': out += "\\0"; break;
        default: out += c;
      }
    }
    out += '\'';
    return out;
  }
  // PostgreSQL with standard_conforming_strings (and SQL Server): only quotes double.
  out += '\'';
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += '\'';
  return out;
}

std::string HexDigits(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<std::string> BackquotedNames(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '`') continue;
    std::string name;
    for (++i; i < s.size(); ++i) {
      if (s[i] == '`') {
        if (i + 1 < s.size() && s[i + 1] == '`') {
          name += '`';
          ++i;
          continue;
        }
        break;
      }
      name += s[i];
    }
    out.push_back(name);
  }
  return out;
}

}  // namespace ferry::runtime
