#include "runtime/schema_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

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
  if (d.kind == "routine") {
    for (const auto& r : s->routines) {
      if ((ctx.destination.catalog.engine == ir::Engine::kPostgres ? r.signature : r.name) == d.name) return true;
    }
    return false;
  }
  if (d.kind == "event") return Named(s->events, d.name);
  if (d.kind == "sequence") return Named(s->sequences, d.name);
  if (d.kind == "account") return false;  // CREATE USER IF NOT EXISTS and GRANT are idempotent
  return false;  // comments and sequence resets are idempotent and always run
}

Status RunSchemaStage(MigrationContext& ctx, Connection& dst, ir::StageKind stage, const SchemaStageOptions& opt) {
  const bool pg = dst.engine() == ir::Engine::kPostgres;
  const bool one_tx = pg && stage == ir::StageKind::kSchemaPre;
  std::string stage_name(ir::Name(stage));
  const std::string& migration = ctx.migration_key;
  FERRY_RETURN_IF_ERROR(EnsureMeta(dst));
  // As pg_dump does: a function body may use objects created after it (a view, say).
  if (pg) FERRY_RETURN_IF_ERROR(dst.Execute("SET check_function_bodies = false"));
  // Tables may reference tables created after them (foreign keys inline in CREATE TABLE);
  // nothing holds rows yet, so there is nothing to check.
  if (!pg && stage == ir::StageKind::kSchemaPre) FERRY_RETURN_IF_ERROR(dst.Execute("SET foreign_key_checks = 0"));
  if (!pg && stage != ir::StageKind::kSchemaPre) FERRY_RETURN_IF_ERROR(dst.Execute("SET foreign_key_checks = 1"));
  std::string session_mode;
  if (!pg) {
    auto r = dst.Query("SELECT @@SESSION.sql_mode");
    if (r.ok() && !r->rows.empty()) session_mode = r->rows[0][0].value_or("");
  }
  std::vector<const DdlStatement*> todo;
  for (const auto& d : ctx.ddl.statements) {
    if (d.stage != stage) continue;
    // A table that exists is kept (conflicts = ignore; precheck failed otherwise), and so
    // are its comments.
    if (DestinationHas(ctx, d) || (d.kind == "comment" && stage == ir::StageKind::kSchemaPre &&
                                   ctx.DestinationHasTable(d.dst_schema, d.dst_table))) {
      if (opt.on_statement) opt.on_statement(d, "exists");
    } else if (d.after_full && !opt.full_done) {
      if (opt.on_statement) opt.on_statement(d, "deferred");
    } else {
      todo.push_back(&d);
    }
  }
  if (one_tx) FERRY_RETURN_IF_ERROR(dst.Begin());
  // Batches: the intents of a batch are recorded in one statement before it runs (MySQL-family
  // DDL commits on its own, and a run killed in the middle must know the objects are its
  // own), and marked done in one after it.
  constexpr size_t kBatch = 200;
  for (size_t first = 0; first < todo.size(); first += kBatch) {
    std::vector<std::string> objects;
    for (size_t i = first; i < std::min(todo.size(), first + kBatch); ++i) {
      // Several statements may build one object (a table's comments): one row each.
      if (std::find(objects.begin(), objects.end(), todo[i]->Object()) == objects.end()) {
        objects.push_back(todo[i]->Object());
      }
    }
    Status st = RecordObjects(dst, migration, objects, ObjectState::kCreating);
    for (size_t i = first; st.ok() && i < std::min(todo.size(), first + kBatch); ++i) {
      const DdlStatement& d = *todo[i];
      if (opt.on_statement) opt.on_statement(d, "create");
      if (d.run_in_schema) {
        st = dst.Execute(pg ? "SET search_path TO " + QuoteIdent(dst.engine(), d.dst_schema)
                            : "USE " + QuoteIdent(dst.engine(), d.dst_schema));
      }
      // A MySQL routine, trigger or event runs with the sql_mode it was created under.
      bool mode = !pg && !d.sql_mode.empty();
      if (st.ok() && mode) st = dst.Execute("SET SESSION sql_mode = " + QuoteLiteral(dst.engine(), d.sql_mode));
      if (st.ok()) st = dst.Execute(d.sql);
      if (mode) {
        Status back = dst.Execute("SET SESSION sql_mode = " + QuoteLiteral(dst.engine(), session_mode));
        if (st.ok()) st = back;
      }
      if (d.run_in_schema && pg && st.ok()) st = dst.Execute("RESET search_path");
      if (!st.ok()) {
        if (one_tx) (void)dst.Rollback();
        const std::string& shown = d.Display();
        std::string sql = shown.size() > 2000 ? shown.substr(0, 2000) + " …" : shown;
        std::string why = st.message();
        if (!d.secret.empty()) {
          // A server error may quote the statement back, whole or cut: its text is withheld.
          why = "the server refused it (its message is withheld: it may quote the credentials)";
        }
        return Status(st.code(),
                      fmt::format("{} failed creating {} (selected at {}): {}{}\n  the statement was: {}", stage_name,
                                  d.Object(), d.loc, why,
                                  one_tx ? "; nothing of this stage was kept (it runs in one transaction)" : "", sql),
                      st.native());
      }
    }
    if (st.ok()) st = RecordObjects(dst, migration, objects, ObjectState::kDone);
    if (!st.ok()) {
      if (one_tx) (void)dst.Rollback();
      return st.Prefix(stage_name);
    }
  }
  if (one_tx) FERRY_RETURN_IF_ERROR(dst.Commit());
  return Status::Ok();
}

}  // namespace ferry::runtime
