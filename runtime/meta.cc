#include "runtime/meta.h"

#include <fmt/format.h>

#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

std::string Table(ir::Engine e) { return QuoteName(e, kMetaSchema, "schema_objects"); }

}  // namespace

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
  ir::Engine e = dst.engine();
  std::string schema = QuoteIdent(e, kMetaSchema);
  Status st = dst.Execute(ir::IsMysqlFamily(e)
                              ? "CREATE DATABASE IF NOT EXISTS " + schema + " DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                              : "CREATE SCHEMA IF NOT EXISTS " + schema);
  if (st.ok()) {
    st = dst.Execute(ir::IsMysqlFamily(e)
                         ? "CREATE TABLE IF NOT EXISTS " + Table(e) +
                               " (migration varchar(190) NOT NULL, object varchar(500) NOT NULL, state varchar(16) NOT "
                               "NULL, updated_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY "
                               "(migration, object)) ENGINE=InnoDB"
                         : "CREATE TABLE IF NOT EXISTS " + Table(e) +
                               " (migration text NOT NULL, object text NOT NULL, state text NOT NULL, updated_at "
                               "timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (migration, object))");
  }
  if (!st.ok()) return st.Prefix("creating ferry_meta in the destination (the precheck's privileges item lists what it needs)");
  return Status::Ok();
}

Status RecordObject(Connection& dst, const std::string& migration, const std::string& object, ObjectState state) {
  ir::Engine e = dst.engine();
  std::string s = state == ObjectState::kDone ? "done" : "creating";
  std::string values = fmt::format("({}, {}, {})", QuoteLiteral(e, migration), QuoteLiteral(e, object), QuoteLiteral(e, s));
  std::string sql = ir::IsMysqlFamily(e)
                        ? fmt::format("INSERT INTO {} (migration, object, state) VALUES {} ON DUPLICATE KEY UPDATE "
                                      "state = VALUES(state), updated_at = CURRENT_TIMESTAMP(6)",
                                      Table(e), values)
                        : fmt::format("INSERT INTO {} (migration, object, state) VALUES {} ON CONFLICT (migration, object) "
                                      "DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                                      Table(e), values);
  Status st = dst.Execute(sql);
  if (!st.ok()) return st.Prefix("recording " + object + " in ferry_meta");
  return Status::Ok();
}

}  // namespace ferry::runtime
