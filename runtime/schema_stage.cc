#include "runtime/schema_stage.h"

#include <fmt/format.h>

#include "runtime/meta.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

template <typename T>
bool Named(const std::vector<T>& v, const std::string& name) {
  for (const auto& x : v) {
    if (x.name == name) return true;
  }
  return false;
}

}  // namespace

bool DestinationHas(const MigrationContext& ctx, const DdlStatement& d) {
  const Catalog& c = ctx.destination.catalog;
  const Schema* s = c.FindSchema(d.dst_schema);
  if (d.kind == "schema") return s != nullptr;
  if (s == nullptr) return false;
  const Table* t = d.dst_table.empty() ? nullptr : s->FindTable(d.dst_table);
  if (d.kind == "table") return t != nullptr;
  if (d.kind == "index") {
    // A MySQL ALTER TABLE adding several indexes is named by their list: all must be there.
    if (t == nullptr) return false;
    size_t start = 0;
    while (start <= d.name.size()) {
      size_t comma = d.name.find(", ", start);
      std::string one = d.name.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!Named(t->indexes, one)) return false;
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    return true;
  }
  if (d.kind == "foreign key") return t != nullptr && Named(t->foreign_keys, d.name);
  if (d.kind == "view") return s->FindView(d.name) != nullptr;
  if (d.kind == "trigger") return Named(s->triggers, d.name);
  if (d.kind == "routine") return Named(s->routines, d.name);
  if (d.kind == "event") return Named(s->events, d.name);
  if (d.kind == "sequence") return Named(s->sequences, d.name);
  if (d.kind == "account") return false;  // CREATE USER IF NOT EXISTS and GRANT are idempotent
  return false;  // comments and sequence resets are idempotent and always run
}

Status RunSchemaStage(MigrationContext& ctx, Connection& dst, ir::StageKind stage, const SchemaStageOptions& opt) {
  const bool pg = dst.engine() == ir::Engine::kPostgres;
  const bool one_tx = pg && stage == ir::StageKind::kSchemaPre;
  std::string stage_name(ir::Name(stage));
  const std::string& migration = ctx.migration->name;
  FERRY_RETURN_IF_ERROR(EnsureMeta(dst));
  if (one_tx) FERRY_RETURN_IF_ERROR(dst.Begin());
  for (const auto& d : ctx.ddl.statements) {
    if (d.stage != stage) continue;
    // A table that exists is kept (conflicts = ignore; precheck failed otherwise), and so
    // are its comments.
    if (DestinationHas(ctx, d) || (d.kind == "comment" && stage == ir::StageKind::kSchemaPre &&
                                   ctx.DestinationHasTable(d.dst_schema, d.dst_table))) {
      if (opt.on_statement) opt.on_statement(d, "exists");
      continue;
    }
    if (d.after_full && !opt.full_done) {
      if (opt.on_statement) opt.on_statement(d, "deferred");
      continue;
    }
    if (opt.on_statement) opt.on_statement(d, "create");
    // The intent is recorded first: MySQL-family DDL commits on its own, and a run killed
    // right after it must still know the object is its own.
    Status st = RecordObject(dst, migration, d.Object(), ObjectState::kCreating);
    if (st.ok() && d.run_in_schema) {
      st = dst.Execute(pg ? "SET search_path TO " + QuoteIdent(dst.engine(), d.dst_schema)
                          : "USE " + QuoteIdent(dst.engine(), d.dst_schema));
    }
    if (st.ok()) st = dst.Execute(d.sql);
    if (d.run_in_schema && pg && st.ok()) st = dst.Execute("RESET search_path");
    if (st.ok()) st = RecordObject(dst, migration, d.Object(), ObjectState::kDone);
    if (!st.ok()) {
      if (one_tx) (void)dst.Rollback();
      const std::string& shown = d.Display();
      std::string sql = shown.size() > 2000 ? shown.substr(0, 2000) + " …" : shown;
      std::string why = st.message();
      if (!d.secret.empty()) {  // a server error may quote the statement back
        for (size_t p = why.find(d.secret); p != std::string::npos; p = why.find(d.secret)) why.replace(p, d.secret.size(), "<hidden>");
      }
      return Status(st.code(),
                    fmt::format("{} failed creating {} (selected at {}): {}{}\n  the statement was: {}", stage_name,
                                d.Object(), d.loc, why,
                                one_tx ? "; nothing of this stage was kept (it runs in one transaction)" : "", sql),
                    st.native());
    }
  }
  if (one_tx) FERRY_RETURN_IF_ERROR(dst.Commit());
  return Status::Ok();
}

}  // namespace ferry::runtime
