// How verify compares a column across engines: each side reads the column through an SQL
// expression that gives its canonical text, so that equal data compares equal whatever the
// engines, and data that differs never does.
//
// The canonical forms follow the type map the load used (values.h): integers and booleans
// from tinyint(1) as decimal integers; decimals without trailing zeros when the two scales
// differ; floats as their shortest round-trip digits (-0 is 0), as PostgreSQL prints them where
// Ferry finishes MySQL's, else in a form both engines' SQL can make (FloatText); timestamps in UTC as PostgreSQL prints them (no trailing zeros in the fraction,
// whatever the precisions); CHAR values without their trailing pad; SET members as "a,b";
// binary as hex; JSON across engines by Ferry after reading (JsonbText), since no SQL of
// MySQL orders keys as jsonb does. Where the two sides have the same engine and type, a
// column is read as it is.
//
// A row's canonical text (RowText) joins its columns so that no two different rows give the
// same text: NULL is `N`, and a value that could hold the separator carries its length. A row
// that Ferry hashes is hashed column by column instead (row_hash.h).
#pragma once

#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "compiler/ir.h"
#include "runtime/mapping.h"
#include "runtime/verify/row_hash.h"

namespace ferry::runtime {

// What Ferry does to a value it reads before the value is canonical, on a side whose SQL cannot
// make it so (JSON) or makes it so at a price: the MySQL side of a pair with PostgreSQL, whose
// values Ferry reads anyway to hash them (row_hash.h).
enum class Finish {
  kNone,
  kJsonb,              // JSON text -> as PostgreSQL prints jsonb (JsonbText)
  kFloat,              // a double's text -> as PostgreSQL prints the double (PgFloat8Text), 0 for -0
  kDateTime,           // MySQL's date or datetime text -> without the fraction's trailing zeros
  kDateTimeZeroNull,   // the same, and a zero date (zero year, month or day) -> NULL
};

struct CompareColumn {
  std::string name;      // the source column, as reports name it
  std::string src, dst;  // each side's SQL for the canonical text (NULL stays NULL), Finish aside
  Finish src_finish = Finish::kNone, dst_finish = Finish::kNone;
  // The canonical text made in SQL on both sides, where it is not src and dst: a finished
  // side's (not JSON, which SQL cannot make canonical) and the other side's text to match it.
  // What a key's hash is computed from in both databases.
  std::string src_sql, dst_sql;
  // A double between engines: a coarser text both engines' SQL give alike for equal doubles
  // (src_sql's digits may differ: normalize.cc PgShortest), which groups a keyless table's rows.
  std::string src_group, dst_group;
  bool fixed = false;    // the canonical text is a number, date or hex: never holds '|'
  // Between engines, a column whose canonical values are numbers on both sides (integers and
  // booleans, doubles): how a row's ColumnsHash takes it (row_hash.h), and the PostgreSQL side's
  // SQL of the number it hashes (src_number or dst_number; a bigint or a double), which
  // PostgreSQL then need not print. A side Ferry hashes reads the canonical text as ever.
  HashAs hash_as = HashAs::kText;
  std::string src_number, dst_number;
};

// A value read through `f`: a view of `raw` or of `*buf`; nullopt when it becomes NULL.
std::optional<std::string_view> FinishValue(Finish f, std::string_view raw, std::string* buf);

// The column with its canonical text made in SQL on both sides (src_sql, dst_sql), nothing
// finished; nullopt for a column only Ferry makes canonical (JSON from MySQL).
std::optional<CompareColumn> InSql(const CompareColumn& column);

CompareColumn PlanCompare(ir::Engine from, ir::Engine to, const ColumnMapping& column, ir::ZeroDates zero_dates);

// One column's part of the row text (SQL, engine e): `N` for NULL, else the canonical text,
// prefixed by its length unless fixed.
// `utf8`: lengths counted in UTF-8 bytes, for a PostgreSQL text that is hashed after
// convert_to(…, 'UTF8') in a database in another encoding.
std::string RowPart(ir::Engine e, const CompareColumn& column, bool source, bool utf8 = false);

// The SQL (engine e) of a row's canonical text: its columns' parts joined by '|'. Only for a
// side without columns Ferry finishes.
std::string RowText(ir::Engine e, const std::vector<CompareColumn>& columns, bool source, bool utf8 = false);

// JSON text as PostgreSQL prints it as jsonb: object keys ordered by length then bytes (the
// last of duplicate keys kept), ", " and ": " between items, strings escaped as jsonb does,
// numbers as numeric prints them (1e2 is 100, 1.50 stays 1.50). Text that is not JSON is
// returned marked as such, so that it still compares as text.
std::string JsonbText(std::string_view json);
// The same, written into *out (its storage kept for the next value).
void JsonbText(std::string_view json, std::string* out);

}  // namespace ferry::runtime
