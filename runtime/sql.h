// Quoting for each engine. Every identifier Ferry writes into SQL goes through QuoteIdent,
// every value through QuoteLiteral; nothing a catalog or a plan holds is spliced in raw.
//
// Literal quoting relies on the session settings every connection gets (connection.h):
// the MySQL family without NO_BACKSLASH_ESCAPES, PostgreSQL with standard_conforming_strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"

namespace ferry::runtime {

// `a``b` for the MySQL family, "a""b" for PostgreSQL, [a]]b] for SQL Server.
std::string QuoteIdent(ir::Engine engine, std::string_view name);
// schema.table, each part quoted.
std::string QuoteName(ir::Engine engine, std::string_view schema, std::string_view table);
// 'it''s' (the MySQL family also escapes backslashes; PostgreSQL uses E'' only when needed).
std::string QuoteLiteral(ir::Engine engine, std::string_view text);

// The bytes as lower-case hex digits (for X'…', 0x…, bytea's \x…).
std::string HexDigits(std::string_view bytes);

// The backquoted names in MySQL text, in order: "GRANT … ON `db`.`t`" → {db, t}; a doubled
// backquote inside a name is one backquote.
std::vector<std::string> BackquotedNames(std::string_view text);

}  // namespace ferry::runtime
