#include "runtime/schema_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
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

namespace {

// The objects statements build, once each (several statements may build one object: a
// table's comments).
std::vector<std::string> Objects(const std::vector<const DdlStatement*>& statements) {
  std::vector<std::string> objects;
  for (const DdlStatement* d : statements) {
    if (std::find(objects.begin(), objects.end(), d->Object()) == objects.end()) objects.push_back(d->Object());
  }
  return objects;
}

// Runs `builds` on up to options.parallel connections, a table's statements on one
// connection, in order (a MySQL ALTER TABLE holds its table). Their intents are recorded
// before and their completion after, as a batch's are.
Status BuildInParallel(Connection& dst, const std::string& migration, const std::vector<const DdlStatement*>& builds,
                       const SchemaStageOptions& opt,
                       const std::function<Status(Connection&, const DdlStatement&)>& run) {
  std::vector<std::vector<const DdlStatement*>> tables;
  std::map<std::string, size_t> at;
  for (const DdlStatement* d : builds) {
    auto [it, added] = at.emplace(d->dst_schema + "." + d->dst_table, tables.size());
    if (added) tables.emplace_back();
    tables[it->second].push_back(d);
  }
  std::vector<std::string> objects = Objects(builds);
  FERRY_RETURN_IF_ERROR(RecordObjects(dst, migration, objects, ObjectState::kCreating));
  std::mutex mu;
  Status failed;
  size_t next = 0;
  auto worker = [&](Connection* c) {
    std::unique_ptr<Connection> own;
    Connection* tuned = nullptr;
    while (true) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.ok() || next >= tables.size()) return;
        i = next++;
      }
      Status st;
      if (c == nullptr) {
        auto opened = opt.connect();
        if (opened.ok()) {
          own = std::move(opened).value();
          c = own.get();
        } else {
          st = opened.status();
        }
      }
      if (st.ok() && c->engine() == ir::Engine::kPostgres && c != tuned) {
        // Sorts for index builds in memory rather than in temporary files: this session only.
        st = c->Execute("SET maintenance_work_mem = '256MB'");
        tuned = c;
      }
      for (size_t k = 0; st.ok() && k < tables[i].size(); ++k) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (opt.on_statement) opt.on_statement(*tables[i][k], "create");
        }
        st = run(*c, *tables[i][k]);
      }
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (failed.ok()) failed = st;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  size_t n = std::min<size_t>(static_cast<size_t>(opt.parallel), tables.size());
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker, nullptr);
  worker(&dst);
  for (auto& t : threads) t.join();
  if (!failed.ok()) return failed;
  return RecordObjects(dst, migration, objects, ObjectState::kDone);
}

}  // namespace

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
  // One statement on one connection; a failure names the stage, the object and the SQL.
  auto run = [&](Connection& c, const DdlStatement& d) -> Status {
    Status st;
    if (d.run_in_schema) {
      st = c.Execute(pg ? "SET search_path TO " + QuoteIdent(c.engine(), d.dst_schema)
                        : "USE " + QuoteIdent(c.engine(), d.dst_schema));
    }
    // A MySQL routine, trigger or event runs with the sql_mode it was created under.
    bool mode = !pg && !d.sql_mode.empty();
    if (st.ok() && mode) st = c.Execute("SET SESSION sql_mode = " + QuoteLiteral(c.engine(), d.sql_mode));
    if (st.ok()) st = c.Execute(d.sql);
    if (mode) {
      Status back = c.Execute("SET SESSION sql_mode = " + QuoteLiteral(c.engine(), session_mode));
      if (st.ok()) st = back;
    }
    if (d.run_in_schema && pg && st.ok()) st = c.Execute("RESET search_path");
    if (st.ok()) return st;
    if (one_tx) (void)c.Rollback();
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
  };
  if (stage == ir::StageKind::kSchemaPost && opt.parallel > 1 && opt.connect) {
    // Index builds first, several at a time (each reads and sorts a whole table); foreign keys
    // and the rest follow in order, once every index they may rely on is there.
    std::vector<const DdlStatement*> builds, rest;
    for (const DdlStatement* d : todo) (d->kind == "index" ? builds : rest).push_back(d);
    if (builds.size() > 1) {
      FERRY_RETURN_IF_ERROR(BuildInParallel(dst, migration, builds, opt, run));
      todo = std::move(rest);
    }
  }
  if (one_tx) FERRY_RETURN_IF_ERROR(dst.Begin());
  // Batches: the intents of a batch are recorded in one statement before it runs (MySQL-family
  // DDL commits on its own, and a run killed in the middle must know the objects are its
  // own), and marked done in one after it.
  constexpr size_t kBatch = 200;
  for (size_t first = 0; first < todo.size(); first += kBatch) {
    std::vector<const DdlStatement*> batch(todo.begin() + static_cast<std::ptrdiff_t>(first),
                                           todo.begin() + static_cast<std::ptrdiff_t>(std::min(todo.size(), first + kBatch)));
    std::vector<std::string> objects = Objects(batch);
    Status st = RecordObjects(dst, migration, objects, ObjectState::kCreating);
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      if (opt.on_statement) opt.on_statement(*batch[i], "create");
      st = run(dst, *batch[i]);
      if (!st.ok()) return st;
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
