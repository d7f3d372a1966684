// The MySQL-family catalog reader: what one MariaDB or MySQL server holds, as catalog.h models it.
//
// Everything comes from information_schema (SCHEMATA, TABLES, COLUMNS, CHECK_CONSTRAINTS,
// TABLE_CONSTRAINTS, STATISTICS, REFERENTIAL_CONSTRAINTS, KEY_COLUMN_USAGE, VIEWS, TRIGGERS,
// ROUTINES, EVENTS), a handful of set-based queries per schema, except the text of routines and
// events, which only SHOW CREATE gives. The two servers print some of it differently (MariaDB
// 10.11 as seen on a live server; MySQL 8 from its manual and known reports):
//  - COLUMN_DEFAULT: MariaDB >= 10.2.7 prints an SQL expression ('abc', NULL, current_timestamp());
//    MySQL prints the raw value and flags expressions with DEFAULT_GENERATED in EXTRA, and shows
//    binary defaults as 0x… hex.
//  - MySQL 8 backslash-escapes the quotes of expressions it keeps in its data dictionary
//    (generated columns, expression defaults, checks: _utf8mb4\'a\'); MariaDB does not.
//  - MariaDB's JSON is a longtext with a json_valid(`col`) check named after the column.
//  - CHECK_CONSTRAINTS has TABLE_NAME on MariaDB only; STATISTICS has EXPRESSION on MySQL only.
#include "runtime/catalog.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "runtime/connection.h"
#include "runtime/sql.h"
#include "runtime/status.h"

namespace ferry::runtime {

namespace {

constexpr const char* kSystemSchemas[] = {"mysql", "information_schema", "performance_schema",
                                          "sys", "ferry_meta"};

std::string Text(const Value& v) { return v.value_or(std::string()); }

// Statistics columns are unsigned on some versions and may be NULL (views, missing stats):
// anything that does not parse counts as 0, which is what an estimate can afford.
int64_t Int(const Value& v) {
  if (!v.has_value()) return 0;
  int64_t n = 0;
  const char* begin = v->data();
  const char* end = begin + v->size();
  auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || ptr != end) return 0;
  return n;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ContainsCi(std::string_view haystack, std::string_view needle) {
  return Lower(haystack).find(Lower(needle)) != std::string::npos;
}

bool StartsWithCi(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == Lower(prefix);
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// "int(10) unsigned" → "int": what decides how MySQL prints a default.
std::string BaseType(std::string_view column_type) {
  size_t end = column_type.find_first_of("( ");
  return Lower(column_type.substr(0, end));
}

bool IsNumericType(const std::string& base) {
  static const std::set<std::string> kNumeric = {
      "tinyint", "smallint", "mediumint", "int",    "integer", "bigint", "decimal", "dec",
      "numeric", "fixed",    "float",     "double", "real",    "bool",   "boolean", "year"};
  return kNumeric.count(base) > 0;
}

bool IsBinaryType(const std::string& base) {
  return base == "binary" || base == "varbinary" || base == "tinyblob" || base == "blob" ||
         base == "mediumblob" || base == "longblob";
}

// CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(3), current_timestamp(): wrapping these in parentheses
// would turn a plain temporal default into an expression default, which MySQL treats apart.
bool IsCurrentTimestamp(std::string_view x) {
  std::string s = Lower(x);
  constexpr std::string_view kName = "current_timestamp";
  if (s == kName) return true;
  if (s.size() < kName.size() + 2 || s.compare(0, kName.size(), kName) != 0) return false;
  if (s[kName.size()] != '(' || s.back() != ')') return false;
  for (size_t i = kName.size() + 1; i + 1 < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool IsHexLiteral(std::string_view x) {
  if (x.size() < 3 || x[0] != '0' || (x[1] != 'x' && x[1] != 'X')) return false;
  return std::all_of(x.begin() + 2, x.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// True when the first '(' closes at the very end, so that "(a) + (b)" is not taken as wrapped.
// Quoted text is skipped so that a parenthesis inside a literal does not count.
bool IsWrapped(std::string_view x) {
  if (x.size() < 2 || x.front() != '(' || x.back() != ')') return false;
  int depth = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    char c = x[i];
    if (c == '\'' || c == '"' || c == '`') {
      for (++i; i < x.size(); ++i) {
        if (x[i] == '\\' && c != '`') {
          ++i;
        } else if (x[i] == c) {
          if (i + 1 < x.size() && x[i + 1] == c) {
            ++i;
          } else {
            break;
          }
        }
      }
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) return i + 1 == x.size();
  }
  return false;
}

// MySQL 8 keeps expression text escaped for a string literal (\' and \\); undoing that once
// gives the SQL it was written as. Other backslashes are part of the text and stay.
std::string UnescapeMysqlExpr(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\'' || s[i + 1] == '\\')) {
      out += s[++i];
    } else {
      out += s[i];
    }
  }
  return out;
}

// One part of DEFINER=user@host: `quoted` (doubled backquotes inside), 'quoted', "quoted", or a
// bare word up to '@' or a space. Returns the index just past it.
size_t SkipAccountPart(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  char q = s[i];
  if (q == '`' || q == '\'' || q == '"') {
    for (++i; i < s.size(); ++i) {
      if (s[i] == '\\' && q != '`') {
        ++i;
      } else if (s[i] == q) {
        if (i + 1 < s.size() && s[i + 1] == q) {
          ++i;
        } else {
          return i + 1;
        }
      }
    }
    return i;
  }
  while (i < s.size() && s[i] != '@' && !IsSpace(s[i])) ++i;
  return i;
}

// SHOW CREATE puts DEFINER=`user`@`host` right after CREATE. The destination has other accounts,
// so the object is created as whoever runs the DDL. Text without the clause is returned as is.
std::string StripDefiner(std::string_view text) {
  size_t create = SkipSpace(text, 0);
  if (!StartsWithCi(text.substr(create), "CREATE")) return std::string(text);
  size_t after_create = create + 6;
  size_t i = SkipSpace(text, after_create);
  if (i == after_create || !StartsWithCi(text.substr(i), "DEFINER")) return std::string(text);
  i = SkipSpace(text, i + 7);
  if (i >= text.size() || text[i] != '=') return std::string(text);
  i = SkipAccountPart(text, SkipSpace(text, i + 1));
  size_t at = SkipSpace(text, i);
  if (at < text.size() && text[at] == '@') i = SkipAccountPart(text, SkipSpace(text, at + 1));
  i = SkipSpace(text, i);
  std::string out(text.substr(0, after_create));
  out += ' ';
  out += text.substr(i);
  return out;
}

int TimingRank(std::string_view timing) {
  if (timing == "BEFORE") return 0;
  if (timing == "AFTER") return 1;
  return 2;
}

int EventRank(std::string_view event) {
  if (event == "INSERT") return 0;
  if (event == "UPDATE") return 1;
  if (event == "DELETE") return 2;
  return 3;
}

// Runs a SELECT whose column list this file wrote, so rows can be read by position.
StatusOr<Result> Select(Connection& conn, const std::string& sql, size_t columns) {
  FERRY_ASSIGN_OR_RETURN(Result r, conn.Query(sql));
  if (r.columns.size() != columns) {
    return Status(Code::kInternal, "a catalog query returned " + std::to_string(r.columns.size()) +
                                       " columns, expected " + std::to_string(columns));
  }
  return r;
}

// Reads one schema. Every query is filtered on the schema, and rows are matched by exact name,
// because information_schema compares names case-insensitively on some servers.
class SchemaReader {
 public:
  SchemaReader(Connection& conn, Schema& schema)
      : conn_(conn),
        schema_(schema),
        engine_(conn.engine()),
        mariadb_(conn.server().mariadb),
        literal_(QuoteLiteral(conn.engine(), schema.name)) {}

  Status Read() {
    FERRY_RETURN_IF_ERROR(ReadTables());
    if (!schema_.tables.empty()) {
      FERRY_RETURN_IF_ERROR(ReadColumns());
      FERRY_RETURN_IF_ERROR(ReadChecks());
      FERRY_RETURN_IF_ERROR(ReadIndexes());
      FERRY_RETURN_IF_ERROR(ReadForeignKeys());
    }
    FERRY_RETURN_IF_ERROR(ReadViews());
    FERRY_RETURN_IF_ERROR(ReadTriggers());
    FERRY_RETURN_IF_ERROR(ReadRoutines());
    FERRY_RETURN_IF_ERROR(ReadEvents());
    return Status::Ok();
  }

 private:
  // MariaDB before 10.2.7 printed raw values like MySQL; from then on, SQL expressions.
  bool DefaultsAreExpressions() const {
    const ServerInfo& s = conn_.server();
    if (!s.mariadb) return false;
    if (s.major != 10) return s.major > 10;
    if (s.minor != 2) return s.minor > 2;
    return s.patch >= 7;
  }

  bool Mine(const Value& schema) const { return schema.has_value() && *schema == schema_.name; }

  Table* FindTable(const Value& name) {
    if (!name.has_value()) return nullptr;
    auto it = tables_.find(*name);
    return it == tables_.end() ? nullptr : &schema_.tables[it->second];
  }

  std::string Name(std::string_view object) const {
    return QuoteName(engine_, schema_.name, object);
  }

  Status ReadTables() {
    // System-versioned tables are base tables with history; sequences (MariaDB) are not tables.
    FERRY_ASSIGN_OR_RETURN(
        Result r, Select(conn_,
                         "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_ROWS, "
                         "DATA_LENGTH, INDEX_LENGTH, TABLE_COMMENT, CREATE_OPTIONS "
                         "FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                             literal_ + " AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
                         9));
    for (const Row& row : r.rows) {
      if (!Mine(row[0]) || !row[1].has_value()) continue;
      Table t;
      t.schema = schema_.name;
      t.name = *row[1];
      t.engine = Text(row[2]);
      t.collation = Text(row[3]);
      t.rows_estimate = Int(row[4]);
      t.bytes_estimate = Int(row[5]) + Int(row[6]);
      t.comment = Text(row[7]);
      t.partitioned = ContainsCi(Text(row[8]), "partitioned");
      schema_.tables.push_back(std::move(t));
    }
    std::sort(schema_.tables.begin(), schema_.tables.end(),
              [](const Table& a, const Table& b) { return a.name < b.name; });
    for (size_t i = 0; i < schema_.tables.size(); ++i) tables_[schema_.tables[i].name] = i;
    return Status::Ok();
  }

  Status ReadColumns() {
    FERRY_ASSIGN_OR_RETURN(
        Result r, Select(conn_,
                         "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
                         "COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, CHARACTER_SET_NAME, "
                         "COLLATION_NAME, COLUMN_COMMENT "
                         "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
                             literal_ + " ORDER BY TABLE_NAME, ORDINAL_POSITION",
                         11));
    bool expression_defaults = DefaultsAreExpressions();
    for (const Row& row : r.rows) {
      Table* t = Mine(row[0]) ? FindTable(row[1]) : nullptr;
      if (t == nullptr) continue;  // a view's or a sequence's columns
      Column c;
      c.name = Text(row[2]);
      c.type = Text(row[3]);
      c.nullable = Text(row[4]) == "YES";
      std::string extra = Text(row[6]);
      c.auto_increment = ContainsCi(extra, "auto_increment");
      if (ContainsCi(extra, "GENERATED") && !ContainsCi(extra, "DEFAULT_GENERATED")) {
        c.generated = mariadb_ ? Text(row[7]) : UnescapeMysqlExpr(Text(row[7]));
        c.generated_stored = ContainsCi(extra, "STORED") || ContainsCi(extra, "PERSISTENT");
      }
      if (c.generated.empty() && !c.auto_increment) {
        c.default_expr =
            expression_defaults ? MariadbDefault(row[5]) : MysqlDefault(row[5], c.type, extra);
      }
      c.charset = Text(row[8]);
      c.collation = Text(row[9]);
      c.comment = Text(row[10]);
      t->columns.push_back(std::move(c));
    }
    return Status::Ok();
  }

  // The text is already SQL; "NULL" is DEFAULT NULL, the same as no default for a nullable column.
  static std::optional<std::string> MariadbDefault(const Value& v) {
    if (!v.has_value() || *v == "NULL") return std::nullopt;
    return *v;
  }

  std::optional<std::string> MysqlDefault(const Value& v, const std::string& type,
                                          const std::string& extra) const {
    if (!v.has_value()) return std::nullopt;
    const std::string& x = *v;
    if (ContainsCi(extra, "DEFAULT_GENERATED")) {
      std::string expr = UnescapeMysqlExpr(x);
      if (IsCurrentTimestamp(expr) || IsWrapped(expr)) return expr;
      return "(" + expr + ")";
    }
    std::string base = BaseType(type);
    if (IsNumericType(base)) return x;
    if (base == "bit" && (StartsWithCi(x, "b'") || IsHexLiteral(x))) return x;
    if (IsBinaryType(base) && IsHexLiteral(x)) return x;
    // MySQL 5.7 and old MariaDB print the temporal function defaults without any flag.
    if ((base == "timestamp" || base == "datetime") && IsCurrentTimestamp(x)) return x;
    return QuoteLiteral(engine_, x);
  }

  Status ReadChecks() {
    std::string sql;
    if (mariadb_) {
      sql =
          "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE "
          "FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = " +
          literal_;
    } else {
      // Check names are unique per schema on MySQL, so schema + name finds the table.
      sql =
          "SELECT tc.TABLE_SCHEMA, tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE "
          "FROM information_schema.TABLE_CONSTRAINTS tc "
          "JOIN information_schema.CHECK_CONSTRAINTS cc "
          "ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA "
          "AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME "
          "WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA = " +
          literal_;
    }
    FERRY_ASSIGN_OR_RETURN(Result r, Select(conn_, sql, 4));
    for (const Row& row : r.rows) {
      Table* t = Mine(row[0]) ? FindTable(row[1]) : nullptr;
      if (t == nullptr) continue;
      Check check;
      check.name = Text(row[2]);
      check.expression = mariadb_ ? Text(row[3]) : UnescapeMysqlExpr(Text(row[3]));
      if (mariadb_ && MarkJson(*t, check)) continue;
      t->checks.push_back(std::move(check));
    }
    for (Table& t : schema_.tables) {
      std::sort(t.checks.begin(), t.checks.end(),
                [](const Check& a, const Check& b) { return a.name < b.name; });
    }
    return Status::Ok();
  }

  // MariaDB's JSON type is LONGTEXT plus the check it adds itself: the column is JSON, and the
  // check goes with the type rather than being copied. Its utf8mb4_bin collation goes too: a
  // json type has none.
  bool MarkJson(Table& t, const Check& check) const {
    for (Column& c : t.columns) {
      if (c.name != check.name) continue;
      if (c.type != "longtext" ||
          check.expression != "json_valid(" + QuoteIdent(engine_, c.name) + ")") {
        return false;
      }
      c.type = "json";
      c.json_alias = true;
      c.charset.clear();
      c.collation.clear();
      return true;
    }
    return false;
  }

  Status ReadIndexes() {
    // EXPRESSION (functional key parts) exists on MySQL 8 only.
    std::string sql =
        "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, "
        "SUB_PART, COLLATION, INDEX_TYPE, INDEX_COMMENT, ";
    sql += mariadb_ ? "NULL" : "EXPRESSION";
    sql += " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = " + literal_ +
           " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
    FERRY_ASSIGN_OR_RETURN(Result r, Select(conn_, sql, 11));
    for (const Row& row : r.rows) {
      Table* t = Mine(row[0]) ? FindTable(row[1]) : nullptr;
      if (t == nullptr) continue;
      std::string name = Text(row[2]);
      auto it = std::find_if(t->indexes.begin(), t->indexes.end(),
                             [&](const Index& i) { return i.name == name; });
      if (it == t->indexes.end()) {
        Index index;
        index.name = name;
        index.primary = name == "PRIMARY";
        index.unique = index.primary || Text(row[3]) == "0";
        index.method = Lower(Text(row[8]));
        index.comment = Text(row[9]);
        t->indexes.push_back(std::move(index));
        it = std::prev(t->indexes.end());
      }
      bool expression = !row[5].has_value() && row[10].has_value();
      it->has_expression = it->has_expression || expression;
      it->columns.push_back(expression ? std::string() : Text(row[5]));
      // MariaDB reports a SUB_PART of 32 for spatial keys, which no CREATE INDEX accepts.
      bool prefixable = it->method != "spatial" && it->method != "fulltext";
      it->prefix.push_back(prefixable ? static_cast<int>(Int(row[6])) : 0);
      it->descending.push_back(Text(row[7]) == "D");
    }
    for (Table& t : schema_.tables) {
      std::sort(t.indexes.begin(), t.indexes.end(), [](const Index& a, const Index& b) {
        if (a.primary != b.primary) return a.primary;
        return a.name < b.name;
      });
    }
    return Status::Ok();
  }

  Status ReadForeignKeys() {
    FERRY_ASSIGN_OR_RETURN(
        Result r,
        Select(conn_,
               "SELECT rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.CONSTRAINT_NAME, rc.UPDATE_RULE, "
               "rc.DELETE_RULE, rc.UNIQUE_CONSTRAINT_SCHEMA, rc.REFERENCED_TABLE_NAME, "
               "k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_COLUMN_NAME "
               "FROM information_schema.REFERENTIAL_CONSTRAINTS rc "
               "JOIN information_schema.KEY_COLUMN_USAGE k "
               "ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA "
               "AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME "
               "WHERE rc.CONSTRAINT_SCHEMA = " +
                   literal_ + " AND k.TABLE_SCHEMA = " + literal_ +
                   " AND k.REFERENCED_TABLE_NAME IS NOT NULL "
                   "ORDER BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION",
               10));
    for (const Row& row : r.rows) {
      Table* t = Mine(row[0]) ? FindTable(row[1]) : nullptr;
      if (t == nullptr) continue;
      std::string name = Text(row[2]);
      auto it = std::find_if(t->foreign_keys.begin(), t->foreign_keys.end(),
                             [&](const ForeignKey& fk) { return fk.name == name; });
      if (it == t->foreign_keys.end()) {
        ForeignKey fk;
        fk.name = name;
        if (row[3].has_value()) fk.on_update = *row[3];
        if (row[4].has_value()) fk.on_delete = *row[4];
        fk.ref_schema = row[8].has_value() ? *row[8] : Text(row[5]);
        fk.ref_table = Text(row[6]);
        t->foreign_keys.push_back(std::move(fk));
        it = std::prev(t->foreign_keys.end());
      }
      it->columns.push_back(Text(row[7]));
      it->ref_columns.push_back(Text(row[9]));
    }
    for (Table& t : schema_.tables) {
      std::sort(t.foreign_keys.begin(), t.foreign_keys.end(),
                [](const ForeignKey& a, const ForeignKey& b) { return a.name < b.name; });
    }
    return Status::Ok();
  }

  Status ReadViews() {
    FERRY_ASSIGN_OR_RETURN(Result r,
                           Select(conn_,
                                  "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION "
                                  "FROM information_schema.VIEWS WHERE TABLE_SCHEMA = " +
                                      literal_,
                                  4));
    for (const Row& row : r.rows) {
      if (!Mine(row[0]) || !row[1].has_value()) continue;
      View v;
      v.schema = schema_.name;
      v.name = *row[1];
      v.definition = Text(row[2]);
      // The server blanks the text for a user who may not see it (SHOW VIEW and SELECT are
      // needed). The view stays in the catalog with an empty definition: precheck's
      // privileges item and the DDL generator (D015) say what to grant.
      v.check_option = row[3].has_value() ? *row[3] : "NONE";
      schema_.views.push_back(std::move(v));
    }
    std::sort(schema_.views.begin(), schema_.views.end(),
              [](const View& a, const View& b) { return a.name < b.name; });
    return Status::Ok();
  }

  Status ReadTriggers() {
    FERRY_ASSIGN_OR_RETURN(
        Result r,
        Select(conn_,
               "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, "
               "ACTION_TIMING, ACTION_STATEMENT, ACTION_ORDER, SQL_MODE "
               "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " +
                   literal_,
               8));
    std::vector<std::pair<int64_t, Trigger>> found;
    for (const Row& row : r.rows) {
      if (!Mine(row[0]) || !row[1].has_value()) continue;
      Trigger tr;
      tr.schema = schema_.name;
      tr.name = *row[1];
      tr.events = Text(row[2]);
      tr.table = Text(row[3]);
      tr.timing = Text(row[4]);
      tr.body = Text(row[5]);
      tr.sql_mode = Text(row[7]);
      // Unqualified, so that the DDL runs it in whichever schema the destination uses.
      tr.definition = "CREATE TRIGGER " + QuoteIdent(engine_, tr.name) + " " + tr.timing + " " +
                      tr.events + " ON " + QuoteIdent(engine_, tr.table) + " FOR EACH ROW " +
                      tr.body;
      found.emplace_back(Int(row[6]), std::move(tr));
    }
    // Creating them in ACTION_ORDER recreates the order the source fires them in.
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      const Trigger& x = a.second;
      const Trigger& y = b.second;
      if (x.table != y.table) return x.table < y.table;
      if (TimingRank(x.timing) != TimingRank(y.timing)) {
        return TimingRank(x.timing) < TimingRank(y.timing);
      }
      if (EventRank(x.events) != EventRank(y.events)) {
        return EventRank(x.events) < EventRank(y.events);
      }
      if (a.first != b.first) return a.first < b.first;
      return x.name < y.name;
    });
    for (auto& [order, tr] : found) schema_.triggers.push_back(std::move(tr));
    return Status::Ok();
  }

  std::string RoutinePrivilegeHint() const {
    if (mariadb_) return "connect as its definer, or grant SELECT ON mysql.proc";
    return "grant SHOW_ROUTINE (MySQL 8.0.20+) or global SELECT";
  }

  Status ReadRoutines() {
    FERRY_ASSIGN_OR_RETURN(
        Result r, Select(conn_,
                         "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, EXTERNAL_LANGUAGE "
                         "FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = " +
                             literal_ + " AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')",
                         4));
    for (const Row& row : r.rows) {
      if (!Mine(row[0]) || !row[1].has_value()) continue;
      Routine routine;
      routine.schema = schema_.name;
      routine.name = *row[1];
      routine.kind = Text(row[2]);
      routine.language = row[3].has_value() && !row[3]->empty() ? *row[3] : "SQL";
      std::string what = Lower(routine.kind) + " " + Name(routine.name);
      FERRY_ASSIGN_OR_RETURN(Result show,
                             conn_.Query("SHOW CREATE " + routine.kind + " " + Name(routine.name)));
      std::string column = routine.kind == "PROCEDURE" ? "Create Procedure" : "Create Function";
      int at = show.Column(column);
      if (at < 0 || show.rows.size() != 1) {
        return Status(Code::kInternal, "SHOW CREATE for " + what + " has no " + column);
      }
      const Value& text = show.rows[0][static_cast<size_t>(at)];
      if (!text.has_value()) {
        return Status(Code::kPermissionDenied, "cannot read the definition of " + what + ": " +
                                                   RoutinePrivilegeHint() + " to " +
                                                   conn_.server().user);
      }
      routine.definition = StripDefiner(*text);
      if (int mode = show.Column("sql_mode"); mode >= 0) {
        routine.sql_mode = show.rows[0][static_cast<size_t>(mode)].value_or("");
      }
      schema_.routines.push_back(std::move(routine));
    }
    std::sort(schema_.routines.begin(), schema_.routines.end(),
              [](const Routine& a, const Routine& b) {
                if (a.name != b.name) return a.name < b.name;
                return a.kind < b.kind;
              });
    return Status::Ok();
  }

  Status ReadEvents() {
    FERRY_ASSIGN_OR_RETURN(Result r, Select(conn_,
                                            "SELECT EVENT_SCHEMA, EVENT_NAME, STATUS "
                                            "FROM information_schema.EVENTS WHERE EVENT_SCHEMA = " +
                                                literal_,
                                            3));
    for (const Row& row : r.rows) {
      if (!Mine(row[0]) || !row[1].has_value()) continue;
      Event event;
      event.schema = schema_.name;
      event.name = *row[1];
      event.status = Text(row[2]);
      FERRY_ASSIGN_OR_RETURN(Result show, conn_.Query("SHOW CREATE EVENT " + Name(event.name)));
      int at = show.Column("Create Event");
      if (at < 0 || show.rows.size() != 1) {
        return Status(Code::kInternal,
                      "SHOW CREATE EVENT for " + Name(event.name) + " has no Create Event");
      }
      const Value& text = show.rows[0][static_cast<size_t>(at)];
      if (!text.has_value()) {
        return Status(Code::kPermissionDenied, "cannot read the definition of event " +
                                                   Name(event.name) + ": grant EVENT on " +
                                                   QuoteIdent(engine_, schema_.name) + ".* to " +
                                                   conn_.server().user);
      }
      event.definition = StripDefiner(*text);
      if (int mode = show.Column("sql_mode"); mode >= 0) {
        event.sql_mode = show.rows[0][static_cast<size_t>(mode)].value_or("");
      }
      schema_.events.push_back(std::move(event));
    }
    std::sort(schema_.events.begin(), schema_.events.end(),
              [](const Event& a, const Event& b) { return a.name < b.name; });
    return Status::Ok();
  }

  Connection& conn_;
  Schema& schema_;
  ir::Engine engine_;
  bool mariadb_;
  std::string literal_;                   // the schema name as an SQL string literal
  std::map<std::string, size_t> tables_;  // name → index in schema_.tables
};

}  // namespace

StatusOr<std::vector<std::string>> ListSchemasMysql(Connection& conn) {
  std::string excluded;
  for (const char* name : kSystemSchemas) {
    if (!excluded.empty()) excluded += ", ";
    excluded += QuoteLiteral(conn.engine(), name);
  }
  StatusOr<Result> r = Select(conn,
                              "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                              "WHERE SCHEMA_NAME NOT IN (" +
                                  excluded + ")",
                              1);
  if (!r.ok()) {
    Status st = r.status();
    return st.Prefix("listing the schemas");
  }
  std::vector<std::string> names;
  for (const Row& row : r->rows) {
    if (row[0].has_value()) names.push_back(*row[0]);
  }
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<Catalog> ReadCatalogMysql(Connection& conn, const std::vector<std::string>& schemas) {
  Catalog catalog;
  catalog.engine = conn.engine();
  catalog.server = conn.server();
  if (schemas.empty()) return catalog;

  std::string names;
  for (const std::string& name : schemas) {
    if (!names.empty()) names += ", ";
    names += QuoteLiteral(conn.engine(), name);
  }
  StatusOr<Result> r = Select(conn,
                              "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, "
                              "DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                              "WHERE SCHEMA_NAME IN (" +
                                  names + ")",
                              3);
  if (!r.ok()) {
    Status st = r.status();
    return st.Prefix("reading the catalog: listing the schemas");
  }
  std::map<std::string, const Row*> found;
  for (const Row& row : r->rows) {
    if (row[0].has_value()) found[*row[0]] = &row;
  }

  std::set<std::string> done;
  for (const std::string& name : schemas) {
    auto it = found.find(name);
    if (it == found.end() || !done.insert(name).second) continue;
    Schema& schema = catalog.schemas.emplace_back();
    schema.name = name;
    schema.charset = Text((*it->second)[1]);
    schema.collation = Text((*it->second)[2]);
    Status st = SchemaReader(conn, schema).Read();
    if (!st.ok()) {
      return st.Prefix("reading the catalog of schema " + QuoteIdent(conn.engine(), name));
    }
  }
  return catalog;
}

}  // namespace ferry::runtime
