// Reads a PostgreSQL database's catalog into the model of runtime/catalog.h.
//
// The facts come from the system catalogs (pg_namespace, pg_class, pg_attribute, pg_attrdef,
// pg_index, pg_constraint, pg_trigger, pg_proc, pg_sequence, pg_depend) and the server's own
// deparsers (format_type, pg_get_expr, pg_get_*def), not from information_schema: that hides
// objects the user does not own and lacks identity, generated-column and index detail. One
// query per kind of object covers all requested schemas at once, so a schema of ten thousand
// tables costs ten round trips, not ten thousand. Only catalog features of PostgreSQL 12 and
// later are used.

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "runtime/catalog.h"
#include "runtime/connection.h"
#include "runtime/sql.h"
#include "runtime/status.h"

namespace ferry::runtime {

namespace {

constexpr ir::Engine kPg = ir::Engine::kPostgres;

// The relations that hold a table's data. Partitions are left out because the partitioned
// parent carries their rows, columns and (cloned) indexes, constraints and triggers.
constexpr std::string_view kTableKinds = "c.relkind IN ('r', 'p') AND NOT c.relispartition";

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string TrimRight(std::string s) {
  while (!s.empty() && IsSpace(s.back())) s.pop_back();
  return s;
}

// pg_get_viewdef() starts with a space and ends with ";": neither belongs to the SELECT.
std::string TrimViewDefinition(std::string s) {
  s = TrimRight(std::move(s));
  while (!s.empty() && s.back() == ';') s = TrimRight(s.substr(0, s.size() - 1));
  size_t start = 0;
  while (start < s.size() && IsSpace(s[start])) ++start;
  return s.substr(start);
}

bool ParseInt(std::string_view text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// The types Ferry reads as user-defined (UserType): enums, domains, ranges and composite types
// of their own (not a table's row type), outside the system schemas and not an extension's —
// an extension's types come with the extension, and type maps name them.
std::string IsUserType(const std::string& t) {
  return t + ".typtype IN ('e', 'd', 'c', 'r')\n"
         "  AND (" + t + ".typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class tc WHERE tc.oid = " + t +
         ".typrelid AND tc.relkind = 'c'))\n"
         "  AND NOT EXISTS (SELECT 1 FROM pg_namespace tn WHERE tn.oid = " + t + ".typnamespace\n"
         "                    AND tn.nspname IN ('pg_catalog', 'information_schema'))\n"
         "  AND NOT EXISTS (SELECT 1 FROM pg_depend te WHERE te.classid = 'pg_type'::regclass\n"
         "                    AND te.objid = " + t + ".oid AND te.deptype = 'e')";
}

// Joins, as `alias`, the user-defined type that the type `oid` is or is an array of: the
// columns alias.ut_schema, alias.ut_name and alias.ut_array, all NULL for any other type.
std::string UserTypeJoin(const std::string& oid, const std::string& alias) {
  return "LEFT JOIN LATERAL (SELECT un.nspname AS ut_schema, ue.typname AS ut_name, ue.oid <> ua.oid AS ut_array\n"
         "  FROM pg_type ua\n"
         "  JOIN pg_type ue ON ue.oid = CASE WHEN ua.typcategory = 'A' AND ua.typelem <> 0 THEN ua.typelem ELSE ua.oid END\n"
         "  JOIN pg_namespace un ON un.oid = ue.typnamespace\n"
         "  WHERE ua.oid = " + oid + " AND " + IsUserType("ue") + ") " + alias + " ON true\n";
}

// pg_get_constraintdef() prints "CHECK (<expression>)", possibly followed by " NOT VALID" or
// " NO INHERIT". The closing parenthesis is found by matching, skipping string literals and
// quoted identifiers, because the expression may hold parentheses of its own inside quotes.
std::string CheckExpression(std::string_view def) {
  constexpr std::string_view kOpen = "CHECK (";
  if (def.substr(0, kOpen.size()) != kOpen) return std::string(def);
  int depth = 1;
  for (size_t i = kOpen.size(); i < def.size(); ++i) {
    char c = def[i];
    if (c == '\'' || c == '"') {
      // With standard_conforming_strings (every Ferry session) only E'' strings escape with a
      // backslash; a doubled quote stays inside the literal either way.
      bool escapes = c == '\'' && i > 0 && (def[i - 1] == 'E' || def[i - 1] == 'e');
      ++i;
      while (i < def.size()) {
        if (escapes && def[i] == '\\') {
          i += 2;
        } else if (def[i] == c && i + 1 < def.size() && def[i + 1] == c) {
          i += 2;
        } else if (def[i] == c) {
          break;
        } else {
          ++i;
        }
      }
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return std::string(def.substr(kOpen.size(), i - kOpen.size()));
    }
  }
  // Unbalanced: not something the server prints; keep what follows "CHECK (" rather than lose it.
  std::string_view rest = def.substr(kOpen.size());
  if (!rest.empty() && rest.back() == ')') rest.remove_suffix(1);
  return std::string(rest);
}

// The event bits of pg_trigger.tgtype (TRIGGER_TYPE_* in the server's trigger.h), in the order
// pg_get_triggerdef() prints them.
constexpr std::pair<int64_t, std::string_view> kTriggerEvents[] = {
    {4, "INSERT"}, {8, "DELETE"}, {16, "UPDATE"}, {32, "TRUNCATE"}};

std::string FkAction(std::string_view code) {
  if (code == "r") return "RESTRICT";
  if (code == "c") return "CASCADE";
  if (code == "n") return "SET NULL";
  if (code == "d") return "SET DEFAULT";
  return "NO ACTION";  // 'a'
}

// A default of the form nextval('<sequence>'::regclass), and nothing around it.
bool IsNextval(std::string_view expr) {
  constexpr std::string_view kHead = "nextval('";
  constexpr std::string_view kTail = "'::regclass)";
  if (expr.size() < kHead.size() + kTail.size()) return false;
  if (expr.substr(0, kHead.size()) != kHead) return false;
  if (expr.substr(expr.size() - kTail.size()) != kTail) return false;
  std::string_view inner = expr.substr(kHead.size(), expr.size() - kHead.size() - kTail.size());
  return inner.find("::regclass") == std::string_view::npos;
}

// One row of a result, read by column name. Every query here selects fixed names, so an
// unknown name is a bug in this file; it reads as NULL in a release build.
class Fields {
 public:
  Fields(const Result& result, const Row& row) : result_(result), row_(row) {}

  const Value& Get(std::string_view name) const {
    static const Value kNull;
    int i = result_.Column(name);
    assert(i >= 0 && "a column the query selects");
    if (i < 0 || static_cast<size_t>(i) >= row_.size()) return kNull;
    return row_[static_cast<size_t>(i)];
  }
  std::string Text(std::string_view name) const {
    const Value& v = Get(name);
    return v ? *v : std::string();
  }
  bool Bool(std::string_view name) const {
    const Value& v = Get(name);
    return v && *v == "t";
  }
  // Leaves *out alone when the value is NULL; a value that is not an integer is an error rather
  // than a silent zero.
  Status Int(std::string_view name, int64_t* out) const {
    std::optional<int64_t> v;
    FERRY_RETURN_IF_ERROR(OptionalInt(name, &v));
    if (v) *out = *v;
    return Status::Ok();
  }
  Status OptionalInt(std::string_view name, std::optional<int64_t>* out) const {
    const Value& v = Get(name);
    if (!v) {
      *out = std::nullopt;
      return Status::Ok();
    }
    int64_t n = 0;
    if (!ParseInt(*v, &n)) {
      return Status(Code::kInternal, "column " + std::string(name) + " holds \"" + *v +
                                         "\" where an integer was expected");
    }
    *out = n;
    return Status::Ok();
  }

 private:
  const Result& result_;
  const Row& row_;
};

// The columns UserTypeJoin() adds.
TypeRef ReadTypeRef(const Fields& f) {
  TypeRef ref;
  ref.schema = f.Text("ut_schema");
  ref.name = f.Text("ut_name");
  ref.array = f.Bool("ut_array");
  return ref;
}

// The columns collation_name and collation_schema, when the name is not NULL: a pg_catalog
// collation goes by its bare name ("C", "en_US.utf8", which may hold a dot); any other is
// schema-qualified and quoted, so the two cannot be confused.
std::string ReadCollation(const Fields& f) {
  std::string name = f.Text("collation_name");
  if (name.empty()) return name;
  std::string schema = f.Text("collation_schema");
  return schema == "pg_catalog" ? name : QuoteName(kPg, schema, name);
}

// Reads the requested schemas kind by kind into one Catalog. Tables are read first; the
// queries that follow name a table by its oid, which is how their rows find their table.
class Reader {
 public:
  Reader(Connection& conn, std::vector<std::string> schemas, Catalog* catalog)
      : conn_(conn), requested_(std::move(schemas)), catalog_(*catalog) {
    std::string list;
    for (const std::string& s : requested_) {
      if (!list.empty()) list += ", ";
      list += QuoteLiteral(kPg, s);
    }
    // Compared as text: a cast to name would cut a long requested name down to 63 bytes and
    // match a different schema.
    in_schemas_ = "n.nspname::text = ANY (ARRAY[" + list + "]::text[])";
    std::string names;
    for (const std::string& s : requested_) {
      if (!names.empty()) names += ", ";
      names += "\"" + s + "\"";
    }
    where_ = std::string("reading the PostgreSQL catalog of ") +
             (requested_.size() == 1 ? "schema " : "schemas ") + names;
  }

  Status ReadAll() {
    FERRY_RETURN_IF_ERROR(ReadSchemas());
    if (catalog_.schemas.empty()) return Status::Ok();
    FERRY_RETURN_IF_ERROR(ReadTables());
    FERRY_RETURN_IF_ERROR(ReadColumns());
    FERRY_RETURN_IF_ERROR(ReadIndexes());
    FERRY_RETURN_IF_ERROR(ReadForeignKeys());
    FERRY_RETURN_IF_ERROR(ReadChecks());
    FERRY_RETURN_IF_ERROR(ReadViews());
    FERRY_RETURN_IF_ERROR(ReadTriggers());
    FERRY_RETURN_IF_ERROR(ReadRoutines());
    FERRY_RETURN_IF_ERROR(ReadSequences());
    FERRY_RETURN_IF_ERROR(ReadTypes());
    return Status::Ok();
  }

 private:
  StatusOr<Result> Run(const std::string& sql, std::string_view what) {
    StatusOr<Result> result = conn_.Query(sql);
    if (!result.ok()) return Context(result.status(), what);
    return result;
  }

  Status Context(Status st, std::string_view what) const {
    if (st.ok()) return st;
    st.Prefix(where_ + " (" + std::string(what) + ")");
    return st;
  }

  Schema* FindSchema(const std::string& name) {
    auto it = schema_index_.find(name);
    return it == schema_index_.end() ? nullptr : &catalog_.schemas[it->second];
  }

  Table* FindTable(const std::string& oid) {
    auto it = table_index_.find(oid);
    if (it == table_index_.end()) return nullptr;
    return &catalog_.schemas[it->second.first].tables[it->second.second];
  }

  Status ReadSchemas() {
    FERRY_ASSIGN_OR_RETURN(Result r, Run("SELECT n.nspname AS name FROM pg_namespace n WHERE " +
                                             in_schemas_,
                                         "schemas"));
    std::set<std::string> present;
    for (const Row& row : r.rows) present.insert(Fields(r, row).Text("name"));
    // The order the caller asked for, which is the order the plan names them in.
    for (const std::string& name : requested_) {
      if (present.count(name) == 0 || schema_index_.count(name) != 0) continue;
      schema_index_[name] = catalog_.schemas.size();
      Schema schema;
      schema.name = name;
      catalog_.schemas.push_back(std::move(schema));
    }
    return Status::Ok();
  }

  Status ReadTables() {
    // A partitioned parent has no storage and no statistics of its own: its estimates are the
    // sums over its partition tree.
    std::string sql =
        "SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind = 'p' AS partitioned,\n"
        "  CASE WHEN c.relkind = 'p' THEN\n"
        "    (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0)::bigint\n"
        "       FROM pg_partition_tree(c.oid) pt JOIN pg_class l ON l.oid = pt.relid\n"
        "      WHERE pt.isleaf)\n"
        "  ELSE greatest(c.reltuples, 0)::bigint END AS rows_estimate,\n"
        "  CASE WHEN c.relkind = 'p' THEN\n"
        "    (SELECT coalesce(sum(pg_total_relation_size(pt.relid)), 0)::bigint\n"
        "       FROM pg_partition_tree(c.oid) pt)\n"
        "  ELSE pg_total_relation_size(c.oid) END AS bytes_estimate,\n"
        "  obj_description(c.oid, 'pg_class') AS comment\n"
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE " + in_schemas_ + " AND " + std::string(kTableKinds) + "\n"
        "ORDER BY c.relname";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "tables"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Schema* schema = FindSchema(f.Text("schema"));
      if (schema == nullptr) continue;
      Table t;
      t.schema = schema->name;
      t.name = f.Text("name");
      t.partitioned = f.Bool("partitioned");
      FERRY_RETURN_IF_ERROR(Context(f.Int("rows_estimate", &t.rows_estimate), "tables"));
      FERRY_RETURN_IF_ERROR(Context(f.Int("bytes_estimate", &t.bytes_estimate), "tables"));
      t.comment = f.Text("comment");
      table_index_[f.Text("oid")] = {static_cast<size_t>(schema - catalog_.schemas.data()),
                                     schema->tables.size()};
      schema->tables.push_back(std::move(t));
    }
    return Status::Ok();
  }

  Status ReadColumns() {
    // `serial` holds when the default's nextval() calls a sequence owned by this very column
    // (deptype 'a' is what serial and ALTER SEQUENCE … OWNED BY record); a nextval() of some
    // other sequence is an ordinary default.
    std::string sql =
        "SELECT a.attrelid AS table_oid, a.attname AS name,\n"
        "  format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,\n"
        "  pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,\n"
        "  a.attidentity AS identity, a.attgenerated AS generated,\n"
        "  CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation\n"
        "    THEN co.collname END AS collation_name,\n"
        "  CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation\n"
        "    THEN cn.nspname END AS collation_schema,\n"
        "  col_description(a.attrelid, a.attnum) AS comment,\n"
        "  EXISTS (SELECT 1 FROM pg_depend own\n"
        "            JOIN pg_class s ON s.oid = own.objid AND s.relkind = 'S'\n"
        "            JOIN pg_depend ud ON ud.classid = 'pg_attrdef'::regclass\n"
        "             AND ud.objid = ad.oid AND ud.refclassid = 'pg_class'::regclass\n"
        "             AND ud.refobjid = s.oid\n"
        "           WHERE own.classid = 'pg_class'::regclass\n"
        "             AND own.refclassid = 'pg_class'::regclass\n"
        "             AND own.refobjid = a.attrelid AND own.refobjsubid = a.attnum\n"
        "             AND own.deptype = 'a') AS serial,\n"
        "  ut.ut_schema, ut.ut_name, ut.ut_array\n"
        "FROM pg_attribute a\n"
        "JOIN pg_class c ON c.oid = a.attrelid\n"
        "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "JOIN pg_type t ON t.oid = a.atttypid\n" +
        UserTypeJoin("a.atttypid", "ut") +
        "LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum\n"
        "LEFT JOIN pg_collation co ON co.oid = a.attcollation\n"
        "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace\n"
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND " + in_schemas_ + " AND " +
        std::string(kTableKinds) + "\n"
        "ORDER BY a.attrelid, a.attnum";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "columns"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Table* table = FindTable(f.Text("table_oid"));
      if (table == nullptr) continue;
      Column c;
      c.name = f.Text("name");
      c.type = f.Text("type");
      c.nullable = f.Bool("nullable");
      c.default_expr = f.Get("default_expr");
      std::string identity = f.Text("identity");
      std::string generated = f.Text("generated");
      if (identity == "a" || identity == "d") {
        c.identity = identity == "a" ? "always" : "by default";
        c.auto_increment = true;
        c.default_expr.reset();
      } else if (generated == "s" || generated == "v") {
        // 'v' (virtual) is PostgreSQL 18's; the expression is the same either way.
        c.generated = c.default_expr.value_or("");
        c.generated_stored = generated == "s";
        c.default_expr.reset();
      } else if (c.default_expr && f.Bool("serial") && IsNextval(*c.default_expr)) {
        c.identity = "serial";
        c.auto_increment = true;
        c.default_expr.reset();
      }
      c.collation = ReadCollation(f);
      c.comment = f.Text("comment");
      c.user_type = ReadTypeRef(f);
      table->columns.push_back(std::move(c));
    }
    return Status::Ok();
  }

  Status ReadIndexes() {
    // One row per key part. indkey holds the INCLUDE columns after the first indnkeyatts key
    // parts; indoption holds one entry per key part only, so the shorter array pads with NULL.
    // An invalid index (a failed CREATE INDEX CONCURRENTLY) enforces nothing and is skipped; a
    // partitioned table's index may be invalid only until every partition has its own, and is
    // kept.
    std::string sql =
        "SELECT i.indrelid AS table_oid, ic.relname AS name, i.indisprimary AS is_primary,\n"
        "  i.indisunique AS is_unique, am.amname AS method,\n"
        "  pg_get_expr(i.indpred, i.indrelid) AS predicate,\n"
        "  pg_get_indexdef(i.indexrelid) AS definition,\n"
        "  obj_description(i.indexrelid, 'pg_class') AS comment,\n"
        "  k.attnum, k.opt, a.attname AS column_name\n"
        "FROM pg_index i\n"
        "JOIN pg_class ic ON ic.oid = i.indexrelid\n"
        "JOIN pg_am am ON am.oid = ic.relam\n"
        "JOIN pg_class c ON c.oid = i.indrelid\n"
        "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indoption::int2[])\n"
        "  WITH ORDINALITY AS k(attnum, opt, ord)\n"
        "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum\n"
        "  AND k.attnum > 0\n"
        "WHERE k.ord <= i.indnkeyatts AND i.indislive AND (i.indisvalid OR c.relkind = 'p')\n"
        "  AND " + in_schemas_ + " AND " + std::string(kTableKinds) + "\n"
        "ORDER BY i.indrelid, i.indisprimary DESC, ic.relname, k.ord";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "indexes"));
    Index* current = nullptr;
    std::string current_table, current_name;
    for (const Row& row : r.rows) {
      Fields f(r, row);
      std::string table_oid = f.Text("table_oid");
      std::string name = f.Text("name");
      if (current == nullptr || table_oid != current_table || name != current_name) {
        current = nullptr;
        Table* table = FindTable(table_oid);
        if (table == nullptr) continue;
        Index idx;
        idx.name = name;
        idx.primary = f.Bool("is_primary");
        idx.unique = f.Bool("is_unique");
        idx.method = f.Text("method");
        idx.predicate = f.Text("predicate");
        idx.definition = f.Text("definition");
        idx.comment = f.Text("comment");
        table->indexes.push_back(std::move(idx));
        current = &table->indexes.back();
        current_table = table_oid;
        current_name = name;
      }
      int64_t attnum = 0, option = 0;
      FERRY_RETURN_IF_ERROR(Context(f.Int("attnum", &attnum), "indexes"));
      FERRY_RETURN_IF_ERROR(Context(f.Int("opt", &option), "indexes"));
      if (attnum == 0) current->has_expression = true;
      current->columns.push_back(attnum == 0 ? std::string() : f.Text("column_name"));
      current->prefix.push_back(0);
      current->descending.push_back((option & 1) != 0);  // INDOPTION_DESC
    }
    return Status::Ok();
  }

  Status ReadForeignKeys() {
    // conparentid <> 0 marks the constraints PostgreSQL adds by itself on the referencing table,
    // one per partition of a referenced partitioned table; the parent constraint covers them.
    std::string sql =
        "SELECT con.conrelid AS table_oid, con.conname AS name, rn.nspname AS ref_schema,\n"
        "  rc.relname AS ref_table, con.confupdtype AS on_update, con.confdeltype AS on_delete,\n"
        "  a.attname AS column_name, ra.attname AS ref_column_name\n"
        "FROM pg_constraint con\n"
        "JOIN pg_class c ON c.oid = con.conrelid\n"
        "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "JOIN pg_class rc ON rc.oid = con.confrelid\n"
        "JOIN pg_namespace rn ON rn.oid = rc.relnamespace\n"
        "CROSS JOIN LATERAL unnest(con.conkey, con.confkey)\n"
        "  WITH ORDINALITY AS k(attnum, ref_attnum, ord)\n"
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum\n"
        "JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ref_attnum\n"
        "WHERE con.contype = 'f' AND con.conparentid = 0 AND " + in_schemas_ + " AND " +
        std::string(kTableKinds) + "\n"
        "ORDER BY con.conrelid, con.conname, k.ord";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "foreign keys"));
    ForeignKey* current = nullptr;
    std::string current_table, current_name;
    for (const Row& row : r.rows) {
      Fields f(r, row);
      std::string table_oid = f.Text("table_oid");
      std::string name = f.Text("name");
      if (current == nullptr || table_oid != current_table || name != current_name) {
        current = nullptr;
        Table* table = FindTable(table_oid);
        if (table == nullptr) continue;
        ForeignKey fk;
        fk.name = name;
        fk.ref_schema = f.Text("ref_schema");
        fk.ref_table = f.Text("ref_table");
        fk.on_update = FkAction(f.Text("on_update"));
        fk.on_delete = FkAction(f.Text("on_delete"));
        table->foreign_keys.push_back(std::move(fk));
        current = &table->foreign_keys.back();
        current_table = table_oid;
        current_name = name;
      }
      current->columns.push_back(f.Text("column_name"));
      current->ref_columns.push_back(f.Text("ref_column_name"));
    }
    return Status::Ok();
  }

  Status ReadChecks() {
    std::string sql =
        "SELECT con.conrelid AS table_oid, con.conname AS name,\n"
        "  pg_get_constraintdef(con.oid) AS definition\n"
        "FROM pg_constraint con\n"
        "JOIN pg_class c ON c.oid = con.conrelid\n"
        "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE con.contype = 'c' AND " + in_schemas_ + " AND " + std::string(kTableKinds) + "\n"
        "ORDER BY con.conrelid, con.conname";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "check constraints"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Table* table = FindTable(f.Text("table_oid"));
      if (table == nullptr) continue;
      Check check;
      check.name = f.Text("name");
      check.expression = CheckExpression(f.Text("definition"));
      table->checks.push_back(std::move(check));
    }
    return Status::Ok();
  }

  Status ReadViews() {
    std::string sql =
        "SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized,\n"
        "  pg_get_viewdef(c.oid, true) AS definition,\n"
        "  (SELECT o.option_value FROM pg_options_to_table(c.reloptions) o\n"
        "    WHERE o.option_name = 'check_option') AS check_option,\n"
        "  obj_description(c.oid, 'pg_class') AS comment,\n"
        // Views of the same schema this one reads, through its rewrite rule: the order to
        // create them in (the text cannot tell: names on the search path print bare).
        "  (SELECT string_agg(DISTINCT rc.relname, chr(1)) FROM pg_rewrite rw\n"
        "    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid\n"
        "    JOIN pg_class rc ON rc.oid = d.refobjid\n"
        "    WHERE rw.ev_class = c.oid AND rc.oid <> c.oid AND rc.relkind IN ('v', 'm')\n"
        "      AND rc.relnamespace = c.relnamespace) AS depends\n"
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE c.relkind IN ('v', 'm') AND " + in_schemas_ + "\n"
        "ORDER BY c.relname";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "views"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Schema* schema = FindSchema(f.Text("schema"));
      if (schema == nullptr) continue;
      View v;
      v.schema = schema->name;
      v.name = f.Text("name");
      v.materialized = f.Bool("materialized");
      v.definition = TrimViewDefinition(f.Text("definition"));
      std::string option = f.Text("check_option");
      v.check_option = option == "local" ? "LOCAL" : option == "cascaded" ? "CASCADED" : "NONE";
      v.comment = f.Text("comment");
      std::string deps = f.Text("depends");
      for (size_t start = 0; !deps.empty() && start <= deps.size();) {
        size_t end = deps.find('\x01', start);
        v.depends_on.push_back(deps.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
      schema->views.push_back(std::move(v));
    }
    return Status::Ok();
  }

  Status ReadTriggers() {
    // Views are included for their INSTEAD OF triggers. A partition's copy of its parent's
    // trigger is left out with the partition.
    std::string sql =
        "SELECT n.nspname AS schema, c.relname AS table_name, t.tgname AS name,\n"
        "  t.tgtype AS tgtype, fn.nspname AS function_schema, p.proname AS function_name,\n"
        "  pg_get_triggerdef(t.oid) AS definition\n"
        "FROM pg_trigger t\n"
        "JOIN pg_class c ON c.oid = t.tgrelid\n"
        "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "JOIN pg_proc p ON p.oid = t.tgfoid\n"
        "JOIN pg_namespace fn ON fn.oid = p.pronamespace\n"
        "WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition\n"
        "  AND " + in_schemas_ + "\n"
        "ORDER BY c.relname, t.tgname";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "triggers"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Schema* schema = FindSchema(f.Text("schema"));
      if (schema == nullptr) continue;
      int64_t type = 0;
      FERRY_RETURN_IF_ERROR(Context(f.Int("tgtype", &type), "triggers"));
      Trigger t;
      t.schema = schema->name;
      t.table = f.Text("table_name");
      t.name = f.Text("name");
      // The TRIGGER_TYPE_* bits of the server's trigger.h.
      t.timing = (type & 64) != 0 ? "INSTEAD OF" : (type & 2) != 0 ? "BEFORE" : "AFTER";
      for (const auto& [bit, event] : kTriggerEvents) {
        if ((type & bit) == 0) continue;
        if (!t.events.empty()) t.events += " OR ";
        t.events += event;
      }
      t.body = QuoteName(kPg, f.Text("function_schema"), f.Text("function_name")) + "()";
      t.definition = f.Text("definition");
      schema->triggers.push_back(std::move(t));
    }
    return Status::Ok();
  }

  Status ReadRoutines() {
    // A function an extension installed comes back with CREATE EXTENSION, not with Ferry.
    std::string sql =
        "SELECT n.nspname AS schema, p.proname AS name, p.prokind AS kind,\n"
        "  l.lanname AS language, pg_get_functiondef(p.oid) AS definition,\n"
        "  p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature\n"
        "FROM pg_proc p\n"
        "JOIN pg_namespace n ON n.oid = p.pronamespace\n"
        "JOIN pg_language l ON l.oid = p.prolang\n"
        "WHERE p.prokind IN ('f', 'p') AND " + in_schemas_ + "\n"
        "  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass\n"
        "                   AND d.objid = p.oid AND d.deptype = 'e')\n"
        "ORDER BY p.proname, pg_get_function_identity_arguments(p.oid) COLLATE \"C\"";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "routines"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Schema* schema = FindSchema(f.Text("schema"));
      if (schema == nullptr) continue;
      Routine routine;
      routine.schema = schema->name;
      routine.name = f.Text("name");
      routine.kind = f.Text("kind") == "p" ? "PROCEDURE" : "FUNCTION";
      routine.language = f.Text("language");
      routine.definition = TrimRight(f.Text("definition"));
      routine.signature = f.Text("signature");
      schema->routines.push_back(std::move(routine));
    }
    return Status::Ok();
  }

  Status ReadSequences() {
    // pg_sequences.last_value is NULL both for a sequence never used and for one the user may
    // not read; either way there is no position to carry over. The owner of a serial's sequence
    // is recorded with deptype 'a', of an identity's with 'i'.
    std::string sql =
        "SELECT n.nspname AS schema, c.relname AS name,\n"
        "  format_type(s.seqtypid, NULL) AS data_type, s.seqstart AS start,\n"
        "  s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcycle AS cycle,\n"
        "  (SELECT ps.last_value FROM pg_sequences ps\n"
        "    WHERE ps.schemaname = n.nspname AND ps.sequencename = c.relname) AS last_value,\n"
        "  (SELECT ot.relname FROM pg_depend d JOIN pg_class ot ON ot.oid = d.refobjid\n"
        "    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid\n"
        "      AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0\n"
        "      AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by_table,\n"
        "  (SELECT oa.attname FROM pg_depend d\n"
        "     JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid\n"
        "    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid\n"
        "      AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0\n"
        "      AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by_column\n"
        "FROM pg_sequence s\n"
        "JOIN pg_class c ON c.oid = s.seqrelid AND c.relkind = 'S'\n"
        "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE " + in_schemas_ + "\n"
        "ORDER BY c.relname";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "sequences"));
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Schema* schema = FindSchema(f.Text("schema"));
      if (schema == nullptr) continue;
      Sequence seq;
      seq.schema = schema->name;
      seq.name = f.Text("name");
      seq.data_type = f.Text("data_type");
      FERRY_RETURN_IF_ERROR(Context(f.Int("start", &seq.start), "sequences"));
      FERRY_RETURN_IF_ERROR(Context(f.Int("increment", &seq.increment), "sequences"));
      FERRY_RETURN_IF_ERROR(Context(f.Int("min", &seq.min), "sequences"));
      FERRY_RETURN_IF_ERROR(Context(f.Int("max", &seq.max), "sequences"));
      FERRY_RETURN_IF_ERROR(Context(f.OptionalInt("last_value", &seq.last_value), "sequences"));
      seq.cycle = f.Bool("cycle");
      seq.owned_by_table = f.Text("owned_by_table");
      seq.owned_by_column = f.Text("owned_by_column");
      schema->sequences.push_back(std::move(seq));
    }
    return Status::Ok();
  }

  // Enums, domains, composite and range types, then what each kind holds: enum labels, domain
  // CHECK constraints, composite attributes.
  Status ReadTypes() {
    std::string sql =
        "SELECT t.oid, n.nspname AS schema, t.typname AS name, t.typtype AS kind,\n"
        "  CASE t.typtype WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod)\n"
        "                 WHEN 'r' THEN format_type(rg.rngsubtype, NULL) END AS base,\n"
        "  t.typnotnull AS not_null, pg_get_expr(t.typdefaultbin, 0) AS default_expr,\n"
        "  CASE WHEN co.oid <> bt.typcollation THEN co.collname END AS collation_name,\n"
        "  CASE WHEN co.oid <> bt.typcollation THEN cn.nspname END AS collation_schema,\n"
        "  coalesce(rg.rngcanonical <> 0 OR rg.rngsubdiff <> 0, false) AS range_functions,\n"
        "  obj_description(t.oid, 'pg_type') AS comment,\n"
        "  ut.ut_schema, ut.ut_name, ut.ut_array\n"
        "FROM pg_type t\n"
        "JOIN pg_namespace n ON n.oid = t.typnamespace\n"
        "LEFT JOIN pg_range rg ON rg.rngtypid = t.oid\n"
        "LEFT JOIN pg_type bt ON bt.oid = CASE t.typtype WHEN 'd' THEN t.typbasetype WHEN 'r' THEN rg.rngsubtype END\n"
        "LEFT JOIN pg_collation co ON co.oid = CASE t.typtype WHEN 'd' THEN t.typcollation\n"
        "                                                    WHEN 'r' THEN rg.rngcollation END\n"
        "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace\n" +
        UserTypeJoin("bt.oid", "ut") +
        "WHERE " + IsUserType("t") + "\n"
        "ORDER BY t.typname";
    FERRY_ASSIGN_OR_RETURN(Result r, Run(sql, "types"));
    // Of every schema: a column may use a type of a schema the plan does not move.
    std::vector<std::pair<std::string, std::pair<std::vector<UserType>*, size_t>>> read;  // oid -> (list, index)
    for (const Row& row : r.rows) {
      Fields f(r, row);
      Schema* schema = FindSchema(f.Text("schema"));
      std::vector<UserType>* list = schema != nullptr ? &schema->types : &catalog_.other_types;
      UserType t;
      t.schema = f.Text("schema");
      t.name = f.Text("name");
      std::string kind = f.Text("kind");
      t.kind = kind == "e"   ? UserType::Kind::kEnum
               : kind == "d" ? UserType::Kind::kDomain
               : kind == "c" ? UserType::Kind::kComposite
                             : UserType::Kind::kRange;
      t.base = f.Text("base");
      t.base_type = ReadTypeRef(f);
      t.not_null = f.Bool("not_null");
      t.default_expr = f.Get("default_expr");
      t.collation = ReadCollation(f);
      t.range_functions = f.Bool("range_functions");
      t.comment = f.Text("comment");
      read.push_back({f.Text("oid"), {list, list->size()}});
      list->push_back(std::move(t));
    }
    // Pointers only once every type is in place, when the vectors no longer move.
    std::map<std::string, UserType*> by_oid;
    for (const auto& [oid, at] : read) by_oid[oid] = &(*at.first)[at.second];
    auto type_of = [&](const std::string& oid) {
      auto it = by_oid.find(oid);
      return it == by_oid.end() ? nullptr : it->second;
    };

    FERRY_ASSIGN_OR_RETURN(Result labels,
                           Run("SELECT e.enumtypid AS type_oid, e.enumlabel AS label\n"
                               "FROM pg_enum e\n"
                               "JOIN pg_type t ON t.oid = e.enumtypid\n"
                               "WHERE " + IsUserType("t") + "\n"
                               "ORDER BY e.enumtypid, e.enumsortorder",
                               "enum labels"));
    for (const Row& rr : labels.rows) {
      Fields f(labels, rr);
      if (UserType* t = type_of(f.Text("type_oid"))) t->labels.push_back(f.Text("label"));
    }

    FERRY_ASSIGN_OR_RETURN(Result checks,
                           Run("SELECT c.contypid AS type_oid, c.conname AS name,\n"
                               "  pg_get_constraintdef(c.oid) AS definition\n"
                               "FROM pg_constraint c\n"
                               "JOIN pg_type t ON t.oid = c.contypid\n"
                               "WHERE " + IsUserType("t") + " AND c.contype = 'c'\n"
                               "ORDER BY c.contypid, c.conname",
                               "domain constraints"));
    for (const Row& rr : checks.rows) {
      Fields f(checks, rr);
      if (UserType* t = type_of(f.Text("type_oid"))) t->checks.push_back({f.Text("name"), f.Text("definition")});
    }

    FERRY_ASSIGN_OR_RETURN(Result attrs,
                           Run("SELECT t.oid AS type_oid, a.attname AS name,\n"
                               "  format_type(a.atttypid, a.atttypmod) AS type,\n"
                               "  CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation\n"
                               "    THEN co.collname END AS collation_name,\n"
                               "  CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation\n"
                               "    THEN cn.nspname END AS collation_schema,\n"
                               "  ut.ut_schema, ut.ut_name, ut.ut_array\n"
                               "FROM pg_type t\n"
                               "JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped\n"
                               "JOIN pg_type at ON at.oid = a.atttypid\n"
                               "LEFT JOIN pg_collation co ON co.oid = a.attcollation\n"
                               "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace\n" +
                               UserTypeJoin("a.atttypid", "ut") +
                               "WHERE " + IsUserType("t") + " AND t.typtype = 'c'\n"
                               "ORDER BY t.oid, a.attnum",
                               "composite type attributes"));
    for (const Row& rr : attrs.rows) {
      Fields f(attrs, rr);
      UserType* t = type_of(f.Text("type_oid"));
      if (t == nullptr) continue;
      Column c;
      c.name = f.Text("name");
      c.type = f.Text("type");
      c.collation = ReadCollation(f);
      c.user_type = ReadTypeRef(f);
      t->attributes.push_back(std::move(c));
    }
    return Status::Ok();
  }

  Connection& conn_;
  std::vector<std::string> requested_;
  Catalog& catalog_;
  std::string in_schemas_;  // the SQL condition on n.nspname that selects the requested schemas
  std::string where_;       // how error messages name what was being read
  std::map<std::string, size_t> schema_index_;                    // name -> catalog_.schemas
  std::map<std::string, std::pair<size_t, size_t>> table_index_;  // oid -> (schema, table)
};

}  // namespace

StatusOr<std::vector<std::string>> ListSchemasPostgres(Connection& conn) {
  // pg_temp_N and pg_toast_temp_N are the per-session temporary schemas; "\_" keeps LIKE from
  // reading the underscores as wildcards.
  constexpr std::string_view kSql = R"(SELECT nspname AS name FROM pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'ferry_meta')
  AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY nspname COLLATE "C")";
  StatusOr<Result> result = conn.Query(kSql);
  if (!result.ok()) {
    Status st = result.status();
    st.Prefix("listing the schemas of the PostgreSQL database");
    return st;
  }
  std::vector<std::string> names;
  for (const Row& row : result->rows) names.push_back(Fields(*result, row).Text("name"));
  // Byte order whatever the server's collation, so plans and reports do not depend on it.
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<Catalog> ReadCatalogPostgres(Connection& conn, const std::vector<std::string>& schemas) {
  Catalog catalog;
  catalog.engine = conn.engine();
  catalog.server = conn.server();
  if (schemas.empty()) return catalog;
  Reader reader(conn, schemas, &catalog);
  FERRY_RETURN_IF_ERROR(reader.ReadAll());
  return catalog;
}

}  // namespace ferry::runtime
