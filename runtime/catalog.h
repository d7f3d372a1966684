// What a database holds, as Ferry needs it to plan, create and check a migration.
//
// Read by the engine's catalog reader (runtime/connectors/*/catalog.cc) from the system
// catalogs, read-only, in one pass per schema. Types are kept exactly as the engine prints
// them (information_schema.COLUMNS.COLUMN_TYPE on the MySQL family, format_type() on
// PostgreSQL), because that is what type map patterns are written against (docs/typemaps.md).
// Plain data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"
#include "runtime/connection.h"
#include "runtime/status.h"

namespace ferry::runtime {

// A PostgreSQL type that a schema of the catalog defines (a UserType), as a column, a
// domain or a composite attribute uses it: itself, or arrays of it. Empty for built-in and
// extension types, which a type map maps by name.
struct TypeRef {
  std::string schema;
  std::string name;
  bool array = false;  // format_type() prints any number of dimensions as one "[]"

  bool empty() const { return name.empty(); }
};

struct Column {
  std::string name;
  std::string type;          // "int(10) unsigned", "varchar(40)", "character varying(40)",
                             // "timestamp(3) with time zone", "enum('a','b')", "text[]"
  bool nullable = true;
  // The default as an SQL expression of the source engine (a string default is a quoted
  // literal: 'abc'), or nullopt when the column has none. Serial/identity sequences are not
  // defaults: see auto_increment.
  std::optional<std::string> default_expr;
  bool auto_increment = false;  // MySQL AUTO_INCREMENT; PostgreSQL identity or serial
  std::string identity;         // PostgreSQL: "always", "by default" or "serial"; else empty
  std::string generated;        // a generated column's expression, or empty
  bool generated_stored = false;
  std::string charset;          // MySQL family: character set and collation of a string column
  std::string collation;        // PostgreSQL: the column's collation when not the default
  std::string comment;
  bool json_alias = false;      // MariaDB: a longtext that is JSON (JSON_VALID check)
  TypeRef user_type;            // PostgreSQL: the user-defined type `type` names, if it is one
};

struct Index {
  std::string name;                  // "PRIMARY" for a MySQL primary key
  bool primary = false;
  bool unique = false;
  std::vector<std::string> columns;  // in key order; empty entries for expressions
  std::vector<int> prefix;           // MySQL prefix length per column (0: whole column)
  std::vector<bool> descending;
  std::string method;                // btree, hash, fulltext, spatial, gin, gist …
  std::string predicate;             // PostgreSQL partial index WHERE, or empty
  bool has_expression = false;       // a key part is an expression, not a column
  std::string definition;            // PostgreSQL: pg_get_indexdef(); MySQL: empty
  std::string comment;
};

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string ref_schema;
  std::string ref_table;
  std::vector<std::string> ref_columns;
  std::string on_update = "NO ACTION";  // NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT
  std::string on_delete = "NO ACTION";
};

struct Check {
  std::string name;
  std::string expression;  // as the engine prints it, without CHECK ( )
};

struct Table {
  std::string schema;
  std::string name;
  std::vector<Column> columns;       // in ordinal order
  std::vector<Index> indexes;        // the primary key (if any) first
  std::vector<ForeignKey> foreign_keys;
  std::vector<Check> checks;
  std::string comment;
  std::string engine;                // MySQL family: InnoDB, MyISAM …
  std::string collation;             // MySQL family: the table's default collation
  int64_t rows_estimate = 0;         // from the statistics; never exact
  int64_t bytes_estimate = 0;
  bool partitioned = false;

  const Index* PrimaryKey() const;
  // The primary key, else the first unique key over NOT NULL columns without expressions.
  const Index* ChunkKey() const;
  const Column* FindColumn(std::string_view name) const;
};

struct View {
  std::string schema;
  std::string name;
  std::string definition;  // the SELECT, as the engine prints it
  std::string check_option;  // NONE, LOCAL, CASCADED
  bool materialized = false;  // PostgreSQL materialized view
  std::string comment;
  std::vector<std::string> depends_on;  // PostgreSQL: views of the same schema it reads (pg_depend)
};

struct Trigger {
  std::string schema;
  std::string table;
  std::string name;
  std::string timing;       // BEFORE, AFTER, INSTEAD OF
  std::string events;       // INSERT, UPDATE, DELETE, or several joined by " OR "
  std::string body;         // MySQL family: ACTION_STATEMENT; PostgreSQL: the function call
  std::string definition;   // the complete CREATE TRIGGER statement, without DEFINER
  std::string sql_mode;     // MySQL family: the sql_mode it was created under (its body runs with it)
};

struct Routine {
  std::string schema;
  std::string name;
  std::string kind;         // PROCEDURE or FUNCTION
  std::string language;     // SQL, plpgsql …
  std::string definition;   // the complete CREATE statement, without DEFINER
  std::string signature;    // PostgreSQL: name(argtypes), to tell overloads apart
  std::string sql_mode;     // MySQL family: the sql_mode it was created under
};

struct Event {  // MySQL family
  std::string schema;
  std::string name;
  std::string definition;   // the complete CREATE EVENT statement, without DEFINER
  std::string status;       // ENABLED, DISABLED, SLAVESIDE_DISABLED
  std::string sql_mode;     // the sql_mode it was created under
};

struct Sequence {  // PostgreSQL
  std::string schema;
  std::string name;
  std::string data_type = "bigint";
  int64_t start = 1;
  int64_t increment = 1;
  int64_t min = 1;
  int64_t max = INT64_MAX;
  bool cycle = false;
  std::optional<int64_t> last_value;
  std::string owned_by_table;   // a serial's sequence belongs to its column
  std::string owned_by_column;
};

struct DomainCheck {
  std::string name;
  std::string definition;  // pg_get_constraintdef(): "CHECK ((VALUE > 0))", maybe "NOT VALID"
};

// A PostgreSQL enum, domain, composite or range type defined in a schema (not by an
// extension, and not a table's row type).
struct UserType {
  enum class Kind { kEnum, kDomain, kComposite, kRange };
  std::string schema;
  std::string name;
  Kind kind = Kind::kEnum;
  std::vector<std::string> labels;   // enum, in sort order
  std::string base;                  // domain: its base type; range: its subtype (format_type)
  TypeRef base_type;                 // … when that is itself a user-defined type
  bool not_null = false;             // domain
  std::optional<std::string> default_expr;  // domain
  std::string collation;             // domain or range: when not the base type's own
  std::vector<DomainCheck> checks;   // domain
  std::vector<Column> attributes;    // composite: name, type, user_type, collation
  bool range_functions = false;      // range: a canonical or subtype_diff function of its own
  std::string comment;

  std::string KindName() const;      // "enum", "domain", "composite type", "range type"
};

struct Schema {
  std::string name;
  std::string charset;    // MySQL family defaults
  std::string collation;
  std::vector<Table> tables;
  std::vector<View> views;
  std::vector<Trigger> triggers;
  std::vector<Routine> routines;
  std::vector<Event> events;
  std::vector<Sequence> sequences;
  std::vector<UserType> types;  // PostgreSQL

  const Table* FindTable(std::string_view name) const;
  const UserType* FindType(std::string_view name) const;
  const View* FindView(std::string_view name) const;
};

struct Catalog {
  ir::Engine engine = ir::Engine::kMysql;
  ServerInfo server;
  std::vector<Schema> schemas;
  // PostgreSQL: the user-defined types of the schemas not read, which columns of those read
  // may still use (a domain's base type, an enum's labels).
  std::vector<UserType> other_types;

  const Schema* FindSchema(std::string_view name) const;
  const Table* FindTable(std::string_view schema, std::string_view table) const;
  const UserType* FindType(const TypeRef& ref) const;
};

// The user schemas (databases) the connection can see, sorted; system schemas (mysql,
// information_schema, performance_schema, sys; pg_catalog, pg_toast, information_schema)
// and ferry_meta are left out.
StatusOr<std::vector<std::string>> ListSchemas(Connection& conn);

// Reads the named schemas completely. A name that does not exist is simply absent from the
// result. Read-only; works with the privileges precheck asks for.
StatusOr<Catalog> ReadCatalog(Connection& conn, const std::vector<std::string>& schemas);

// The engine-specific readers behind the two functions above.
StatusOr<std::vector<std::string>> ListSchemasMysql(Connection& conn);
StatusOr<Catalog> ReadCatalogMysql(Connection& conn, const std::vector<std::string>& schemas);
StatusOr<std::vector<std::string>> ListSchemasPostgres(Connection& conn);
StatusOr<Catalog> ReadCatalogPostgres(Connection& conn, const std::vector<std::string>& schemas);

}  // namespace ferry::runtime
