#include "runtime/meta.h"

#include <fmt/format.h>

#include <cstdint>

#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

std::string Table(ir::Engine e) { return QuoteName(e, kMetaSchema, "schema_objects"); }

// The row key: a stable 64-bit FNV-1a of migration and object, in hex. Object names can be
// long (a MySQL ALTER TABLE adding many indexes is one object); the key stays short.
std::string Key(const std::string& migration, const std::string& object) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : migration + '\n' + object) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

bool Exists(Connection& dst) {
  auto r = dst.Query(ir::IsMysqlFamily(dst.engine())
                         ? "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ferry_meta' AND "
                           "TABLE_NAME = 'schema_objects'"
                         : "SELECT 1 WHERE to_regclass('ferry_meta.schema_objects') IS NOT NULL");
  return r.ok() && !r->rows.empty();
}

}  // namespace

std::string MigrationKey(const ir::Migration& m, const ir::Endpoint& source) {
  return fmt::format("{} from {}://{}:{}/{}", m.name, ir::Name(source.engine),
                     source.host.empty() ? source.instance : source.host,
                     source.port != 0 ? source.port : ir::DefaultPort(source.engine), source.database);
}

StatusOr<std::set<std::string>> ReadCreatedObjects(Connection& dst, const std::string& migration) {
  std::set<std::string> out;
  auto r = dst.Query(fmt::format("SELECT object FROM {} WHERE migration = {}", Table(dst.engine()),
                                 QuoteLiteral(dst.engine(), migration)));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return out;  // no ferry_meta yet: nothing is ours
    Status st = r.status();
    return st.Prefix("reading ferry_meta in the destination");
  }
  for (const auto& row : r->rows) out.insert(row[0].value_or(""));
  return out;
}

Status EnsureMeta(Connection& dst) {
  // PostgreSQL checks the privilege to create before IF NOT EXISTS: a ferry_meta a DBA made
  // beforehand must not need CREATE on the database.
  if (Exists(dst)) return Status::Ok();
  ir::Engine e = dst.engine();
  std::string schema = QuoteIdent(e, kMetaSchema);
  Status st = dst.Execute(ir::IsMysqlFamily(e)
                              ? "CREATE DATABASE IF NOT EXISTS " + schema + " DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                              : "CREATE SCHEMA IF NOT EXISTS " + schema);
  if (st.ok()) {
    st = dst.Execute(ir::IsMysqlFamily(e)
                         ? "CREATE TABLE IF NOT EXISTS " + Table(e) +
                               " (object_key char(16) NOT NULL PRIMARY KEY, migration text NOT NULL, object text NOT "
                               "NULL, state varchar(16) NOT NULL, updated_at timestamp(6) NOT NULL DEFAULT "
                               "CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"
                         : "CREATE TABLE IF NOT EXISTS " + Table(e) +
                               " (object_key char(16) PRIMARY KEY, migration text NOT NULL, object text NOT NULL, state "
                               "text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())");
  }
  if (!st.ok()) return st.Prefix("creating ferry_meta in the destination (the precheck's privileges item lists what it needs)");
  return Status::Ok();
}

Status RecordObjects(Connection& dst, const std::string& migration, const std::vector<std::string>& objects,
                     ObjectState state) {
  if (objects.empty()) return Status::Ok();
  ir::Engine e = dst.engine();
  std::string s = state == ObjectState::kDone ? "done" : "creating";
  std::string values;
  for (const auto& object : objects) {
    if (!values.empty()) values += ", ";
    values += fmt::format("({}, {}, {}, {})", QuoteLiteral(e, Key(migration, object)), QuoteLiteral(e, migration),
                          QuoteLiteral(e, object), QuoteLiteral(e, s));
  }
  std::string sql = ir::IsMysqlFamily(e)
                        ? fmt::format("INSERT INTO {} (object_key, migration, object, state) VALUES {} ON DUPLICATE "
                                      "KEY UPDATE state = VALUES(state), updated_at = CURRENT_TIMESTAMP(6)",
                                      Table(e), values)
                        : fmt::format("INSERT INTO {} (object_key, migration, object, state) VALUES {} ON CONFLICT "
                                      "(object_key) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                                      Table(e), values);
  Status st = dst.Execute(sql);
  if (!st.ok()) return st.Prefix("recording the schema stage's objects in ferry_meta");
  return Status::Ok();
}

}  // namespace ferry::runtime
