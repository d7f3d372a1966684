#include "runtime/schema_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/load/throttle.h"
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
  if (d.kind == "primary key") {
    if (t == nullptr) return false;
    for (const auto& i : t->indexes) {
      if (i.name == d.name && i.primary) return true;
    }
    return false;
  }
  if (d.kind == "foreign key") return t != nullptr && Named(t->foreign_keys, d.name);
  // Reset once: on a table this migration did not create, or once reset, the setting is the
  // user's own and left alone.
  if (d.kind == "table setting") {
    return t != nullptr && (!ctx.Ours("table " + d.dst_schema + "." + d.dst_table) || ctx.OursDone(d.Object()));
  }
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
  if (d.kind == "type") return s->FindType(d.name) != nullptr;
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

}  // namespace

// Runs one statement of a schema stage on one connection; a failure names the stage, the
// object, the plan line and the SQL.
struct StatementRunner {
  std::string stage_name;
  bool one_tx = false;        // PostgreSQL schema.pre: a failure rolls the stage back
  std::string session_mode;   // MySQL family: the sql_mode to return to after a body's own

  Status Run(Connection& c, const DdlStatement& d) const {
    const bool pg = c.engine() == ir::Engine::kPostgres;
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
  }
};

Status RestoreTableSettings(MigrationContext& ctx, Connection& dst) {
  Status first;
  for (const auto& d : ctx.ddl.statements) {
    if (d.kind != "table setting" || DestinationHas(ctx, d)) continue;
    Status st = dst.Execute(d.sql);
    if (!st.ok() && first.ok()) first = st.Prefix(d.Object());
  }
  return first;
}

// ---- IndexBuilder ------------------------------------------------------------------------------

IndexBuilder::IndexBuilder(MigrationContext& ctx, SchemaStageOptions options) : ctx_(ctx), opt_(std::move(options)) {
  const bool pg = ctx.migration->to_engine == ir::Engine::kPostgres;
  std::map<std::string, size_t> by_table;  // MySQL family: a table's one unit
  for (const auto& d : ctx.ddl.statements) {
    if (d.stage != ir::StageKind::kSchemaPost || d.kind != "index") continue;
    if ((opt_.done != nullptr && opt_.done->count(&d)) || DestinationHas(ctx, d)) continue;
    std::string table = d.dst_schema + "." + d.dst_table;
    if (!pg) {
      auto [it, added] = by_table.emplace(table, units_.size());
      if (!added) {
        units_[it->second].statements.push_back(&d);
        continue;
      }
    }
    Unit u;
    u.schema = d.dst_schema;
    u.table = d.dst_table;
    u.statements.push_back(&d);
    for (const auto& t : ctx.selection.tables) {
      if (t.dst_schema == d.dst_schema && t.dst_table == d.dst_table) u.size = t.source->rows_estimate;
    }
    units_.push_back(std::move(u));
  }
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, opt_.parallel)), units_.size());
  live_ = static_cast<int>(n);
  for (size_t i = 0; i < n; ++i) {
    threads_.emplace_back([this] {
      Worker();
      std::lock_guard<std::mutex> lock(mu_);
      --live_;
      cv_.notify_all();
    });
  }
}

IndexBuilder::~IndexBuilder() { (void)Stop(); }

void IndexBuilder::TableLoaded(const std::string& dst_schema, const std::string& dst_table) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& u : units_) {
    if (u.schema == dst_schema && u.table == dst_table) u.released = true;
  }
  cv_.notify_all();
}

Status IndexBuilder::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& u : units_) u.released = true;
    closing_ = true;
  }
  return Wait(false);
}

std::vector<std::string> IndexBuilder::Running() {
  std::lock_guard<std::mutex> lock(mu_);
  return {running_.begin(), running_.end()};
}

Status IndexBuilder::Stop(bool cancel) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  return Wait(cancel);
}

// Waits for the workers to leave. Asked to cancel (or once opt_.stop is set), it cancels the
// statements under way, outside the lock (a cancel is network work: a MySQL one opens a
// connection); a statement's connection stays in busy_ until the pass is over. A request that
// reaches the server before its statement does is lost (the session is idle then): it is sent
// again each second until every statement under way has ended.
Status IndexBuilder::Wait(bool cancel) {
  cv_.notify_all();
  std::unique_lock<std::mutex> lock(mu_);
  std::chrono::steady_clock::time_point sent{};
  bool told = false;
  while (live_ > 0) {
    if (cancel || (opt_.stop != nullptr && opt_.stop->load())) {
      stopping_ = cancelling_ = true;
      cv_.notify_all();  // a worker waiting for work or for its retry leaves now
      if (!busy_.empty() && std::chrono::steady_clock::now() - sent >= std::chrono::seconds(1)) {
        std::vector<Connection*> targets(busy_.begin(), busy_.end());
        ++cancel_passes_;
        lock.unlock();
        Status failed;
        for (Connection* c : targets) {
          Status st = c->Cancel();
          if (!st.ok() && failed.ok()) failed = st;
        }
        lock.lock();
        --cancel_passes_;
        cv_.notify_all();
        if (!failed.ok() && !told && opt_.on_notice) {
          opt_.on_notice("could not cancel an index build under way (" + failed.ToString() +
                         "); trying again each second, and waiting for it");
          told = true;
        }
        sent = std::chrono::steady_clock::now();
      }
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  lock.unlock();
  for (auto& t : threads_) t.join();
  threads_.clear();
  lock.lock();
  std::string cancelled = fmt::format("cancelled the build of {} (rolled back)", fmt::join(cancelled_, ", "));
  if (!failed_.ok()) {  // a build that failed on its own is named first, stopped or not
    if (cancelled_.empty()) return failed_;
    return Status(failed_.code(), failed_.message() + "; stopped: " + cancelled, failed_.native());
  }
  if (cancelling_) {
    return Status(Code::kCancelled,
                  cancelled_.empty()
                      ? std::string("stopped before the next index build; run ferry apply again to resume")
                      : fmt::format("stopped: {}; run ferry apply again to build {} and resume", cancelled,
                                    cancelled_.size() == 1 ? "it" : "them"));
  }
  return Status::Ok();
}

namespace {

// Whether the index a statement builds is in the destination now (a MySQL ALTER TABLE adding
// several: its first; the ALTER adds all or none).
StatusOr<bool> IndexThere(Connection& c, const DdlStatement& d) {
  const ir::Engine e = c.engine();
  std::string name = d.name.substr(0, d.name.find(", "));
  std::string sql = e == ir::Engine::kPostgres
                        ? fmt::format("SELECT 1 FROM pg_indexes WHERE schemaname = {} AND indexname = {}",
                                      QuoteLiteral(e, d.dst_schema), QuoteLiteral(e, name))
                        : fmt::format("SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {} AND "
                                      "TABLE_NAME = {} AND INDEX_NAME = {} LIMIT 1",
                                      QuoteLiteral(e, d.dst_schema), QuoteLiteral(e, d.dst_table), QuoteLiteral(e, name));
  auto r = c.Query(sql);
  if (!r.ok()) return r.status();
  return !r->rows.empty();
}

// Whether the server builds an index with parallel workers: PostgreSQL 11 and later (10 has no
// max_parallel_maintenance_workers to set).
bool HasParallelBuilds(const Connection& c) { return c.engine() == ir::Engine::kPostgres && c.server().major >= 11; }

}  // namespace

// One unit's statements on this worker's connection, recorded before and after. A lost
// connection (the destination restarted) is retried within the plan's retry window, on a new
// connection; an index the lost attempt did build is then not built again.
Status IndexBuilder::Build(const StatementRunner& runner, const std::vector<const DdlStatement*>& statements,
                           std::unique_ptr<Connection>& conn) {
  const auto began = std::chrono::steady_clock::now();
  int attempt = 0;
  bool lost = false;
  const std::vector<std::string> objects = Objects(statements);
  while (true) {
    Status st;
    if (!conn) {
      auto opened = opt_.connect();
      if (opened.ok()) {
        conn = std::move(opened).value();
        // Sorts for index builds in memory rather than in temporary files: this session only.
        if (conn->engine() == ir::Engine::kPostgres) st = conn->Execute("SET maintenance_work_mem = '256MB'");
      } else {
        st = opened.status();
      }
    }
    if (st.ok()) st = RecordObjects(*conn, ctx_.migration_key, objects, ObjectState::kCreating);
    for (size_t k = 0; st.ok() && k < statements.size(); ++k) {
      if (lost) {
        auto there = IndexThere(*conn, *statements[k]);
        if (!there.ok()) {
          st = there.status();
          break;
        }
        if (*there) continue;
      } else {
        std::lock_guard<std::mutex> lock(mu_);
        if (opt_.on_statement) opt_.on_statement(*statements[k], "create");
      }
      if (HasParallelBuilds(*conn)) st = conn->Execute(ParallelBuildSetting());
      if (st.ok()) st = Run(runner, *conn, *statements[k]);
    }
    if (st.ok()) st = RecordObjects(*conn, ctx_.migration_key, objects, ObjectState::kDone);
    if (st.ok()) return st;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return st;
    }
    auto delay = RetryDelayMs(st, ctx_.migration->retry, began, &attempt);
    if (!delay) return st;
    if (st.code() == Code::kUnavailable) {
      conn.reset();
      lost = true;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(*delay), [this] { return stopping_; })) return st;
  }
}

// A statement of a build, cancellable (Wait) while it runs; none starts once stopping.
Status IndexBuilder::Run(const StatementRunner& runner, Connection& conn, const DdlStatement& d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Code::kCancelled, "stopped before " + d.Object());
    busy_.insert(&conn);
  }
  Status st = runner.Run(conn, d);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return cancel_passes_ == 0; });  // a pass under way may hold &conn
  busy_.erase(&conn);
  return st;
}

// While rows still load, the destination's CPUs are the load's: a build there sorts alone, since
// parallel workers would take CPU from the COPYs and cost more in all (new processes, each
// faulting in its memory, and a merge of their runs). Once every row is in, the builds left
// get the server's own parallelism.
std::string IndexBuilder::ParallelBuildSetting() {
  std::lock_guard<std::mutex> lock(mu_);
  return closing_ ? "RESET max_parallel_maintenance_workers" : "SET max_parallel_maintenance_workers = 0";
}

void IndexBuilder::Worker() {
  const StatementRunner runner{"schema.post", false, ""};
  std::unique_ptr<Connection> conn;
  while (true) {
    std::vector<const DdlStatement*> statements;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (true) {
        if (stopping_ || !failed_.ok()) return;
        Unit* unit = nullptr;
        for (auto& u : units_) {
          if (u.released && !u.statements.empty() && (unit == nullptr || u.size > unit->size)) unit = &u;
        }
        if (unit != nullptr) {
          statements.swap(unit->statements);  // taken: emptied under the lock, no other worker picks it
          break;
        }
        bool pending = false;
        for (const auto& u : units_) pending |= !u.statements.empty();
        if (closing_ && !pending) return;
        cv_.wait(lock);
      }
      for (const DdlStatement* d : statements) running_.insert(d->Object());
    }
    Status st = Build(runner, statements, conn);
    std::lock_guard<std::mutex> lock(mu_);
    for (const DdlStatement* d : statements) running_.erase(d->Object());
    if (st.ok()) {
      built_.insert(statements.begin(), statements.end());
    } else if (cancelling_ && st.code() == Code::kCancelled) {
      cancelled_.push_back(fmt::format("{}", fmt::join(Objects(statements), ", ")));
    } else if (failed_.ok()) {
      if (st.message().rfind("schema.post", 0) != 0) st.Prefix("schema.post");
      failed_ = st;
    }
    cv_.notify_all();
  }
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
    if (opt.done != nullptr && opt.done->count(&d)) continue;  // run by this process already
    if (DestinationHas(ctx, d) || (d.kind == "comment" && stage == ir::StageKind::kSchemaPre &&
                                   ctx.DestinationHasTable(d.dst_schema, d.dst_table))) {
      if (opt.on_statement) opt.on_statement(d, "exists");
    } else if (d.after_full && !opt.full_done) {
      if (opt.on_statement) opt.on_statement(d, "deferred");
    } else {
      todo.push_back(&d);
    }
  }
  const StatementRunner runner{stage_name, one_tx, session_mode};
  if (stage == ir::StageKind::kSchemaPost && opt.connect) {
    // Index builds first, several at a time (each reads and sorts a whole table); foreign keys
    // and the rest follow in order, once every index they may rely on is there.
    IndexBuilder builder(ctx, opt);
    FERRY_RETURN_IF_ERROR(builder.Finish());
    todo.erase(std::remove_if(todo.begin(), todo.end(), [&](const DdlStatement* d) { return builder.built().count(d) > 0; }),
               todo.end());
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
    // A table created now holds no rows, whatever an earlier run's chunks say (its table was
    // dropped since): its load starts over. Before the CREATE, so that a run killed between
    // the two still finds the table missing and comes here again.
    std::vector<std::string> fresh;
    for (const DdlStatement* d : batch) {
      if (d->kind != "table") continue;
      for (const auto& t : ctx.selection.tables) {
        if (t.dst_schema == d->dst_schema && t.dst_table == d->dst_table) {
          fresh.push_back(t.source->schema + "." + t.source->name);
        }
      }
    }
    if (st.ok()) st = ForgetChunks(dst, migration, fresh);
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      if (opt.on_statement) opt.on_statement(*batch[i], "create");
      st = runner.Run(dst, *batch[i]);
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
