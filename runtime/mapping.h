// Selection and mapping: which source objects a migration moves, under which destination
// names, with which destination column types.
//
// Expands the plan's object rules (LANGUAGE.md §3: first match decides, globs, excludes,
// renames, `capitalization`) against the live source catalog, and maps every selected
// column's type through the migration's effective type map (docs/typemaps.md). Everything
// the plan asks for that the catalog cannot satisfy is a Problem with the plan line that
// asked for it: a type no rule maps, a named table that does not exist, two source objects
// landing on one destination name.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"
#include "runtime/catalog.h"

namespace ferry::runtime {

struct Problem {
  enum class Severity { kError, kWarning, kNote };
  Severity severity = Severity::kError;
  std::string code;     // stable: "M001" …
  std::string object;   // "table shop.orders", "column shop.orders.total"
  std::string message;
  std::string hint;
  std::string loc;      // the plan line the problem comes from, or empty
};

struct ColumnMapping {
  const Column* source = nullptr;
  std::string name;           // in the destination
  std::string type;           // in the destination engine
  std::string value_type;     // the source type its values are read as: the source column's
                              // type, or the built-in type a PostgreSQL domain is based on
  std::string rule;           // why: "typemap mysql_to_postgres: \"int unsigned\" -> \"bigint\" (std/…:12)"
  bool nullable = true;       // may differ from the source (zero_dates = null)
  std::vector<std::string> enum_values;  // enum/set members, when the destination needs a CHECK
  bool is_set = false;        // a MySQL SET (destination text[])
  bool generated_as_data = false;  // a generated column that is created as a plain column

  // value_type, or where a mapping was built without one, the source column's type.
  std::string ValueType() const;
};

struct TableMapping {
  const Table* source = nullptr;
  std::string dst_schema;
  std::string dst_table;
  std::vector<ColumnMapping> columns;  // selected columns, in source order
  std::string where;
  std::vector<ir::Op> ops;
  std::string loc;  // the rule that selected it

  const ColumnMapping* FindSource(std::string_view source_column) const;
};

struct SchemaMapping {
  const Schema* source = nullptr;
  std::string dst;
  bool whole = false;   // the whole schema: its views, routines, triggers and events too
  std::string loc;
};

// A PostgreSQL user-defined type the schema stage creates in the destination: one a moved
// column uses (or a type it uses does), or any type of a whole schema.
struct TypeMapping {
  const UserType* source = nullptr;
  std::string dst_schema;
  std::string loc;  // the rule that selected its schema
};

struct Selection {
  ir::Engine from = ir::Engine::kMysql;
  ir::Engine to = ir::Engine::kMysql;
  std::vector<SchemaMapping> schemas;
  std::vector<TableMapping> tables;
  std::vector<TypeMapping> types;  // each after the types it uses
  std::vector<Problem> problems;

  bool ok() const;
  const TableMapping* FindSource(std::string_view schema, std::string_view table) const;
  const SchemaMapping* FindSchema(std::string_view source_schema) const;
};

// The source schemas the plan's rules can select among `available` (so that only those are
// read from the catalog).
std::vector<std::string> SelectSchemas(const ir::Migration& m, const std::vector<std::string>& available);

// Expands and maps. `source` must hold every schema SelectSchemas returned.
Selection Select(const ir::Plan& plan, const ir::Migration& m, const Catalog& source);

// Matches a glob and returns what each `*` took, or false. Exposed for tests.
bool GlobCapture(std::string_view pattern, std::string_view text, std::vector<std::string>* stars);
// A rename target with each `*` replaced by the text its source `*` matched.
std::string ApplyGlobTarget(std::string_view target, const std::vector<std::string>& stars);

}  // namespace ferry::runtime
