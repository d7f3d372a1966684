#include "cli/run_commands.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "compiler/driver.h"
#include "compiler/emit.h"
#include "runtime/alert.h"
#include "runtime/context.h"
#include "runtime/lease.h"
#include "runtime/load/full_load.h"
#include "runtime/meta.h"
#include "runtime/metrics.h"
#include "runtime/dry_run.h"
#include "runtime/precheck.h"
#include "runtime/schema_stage.h"
#include "runtime/verify/verify.h"

namespace ferry::cli {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitProblem = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 3;

// Compiles and prints diagnostics; nullptr (and *exit) when the plan cannot run.
std::unique_ptr<Compilation> CompileForRun(const RunOptions& o, int* exit) {
  auto c = Compile(o.plan);
  if (c->root_unreadable) {
    fmt::print(stderr, "ferry: {}\n", c->root_error);
    *exit = kExitUsage;
    return nullptr;
  }
  const RenderOptions ropts{o.color};
  for (const Diagnostic& d : c->diags.Sorted()) fmt::print(stderr, "{}", RenderText(c->program.sources, d, ropts));
  if (!c->ok()) {
    fmt::print(stderr, "{}: {} error(s); nothing was connected to\n", o.plan, c->diags.error_count());
    *exit = kExitProblem;
    return nullptr;
  }
  return c;
}

std::vector<const ir::Migration*> Migrations(const ir::Plan& plan, const RunOptions& o, int* exit) {
  std::vector<const ir::Migration*> out;
  for (const auto& m : plan.migrations) {
    if (o.migration.empty() || m.name == o.migration) out.push_back(&m);
  }
  if (out.empty()) {
    std::vector<std::string> names;
    for (const auto& m : plan.migrations) names.push_back(m.name);
    fmt::print(stderr, "ferry: {}\n",
               o.migration.empty() ? fmt::format("{} declares no migration", o.plan)
                                   : fmt::format("{} has no migration `{}`; it has: {}", o.plan, o.migration,
                                                 fmt::join(names, ", ")));
    *exit = kExitUsage;
  }
  return out;
}

// One JSON line of `apply --format json`: {"event": …, …}.
std::string EventLine(const nlohmann::json& event) {
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The JSON every runtime command prints: {"format_version": N, "<key>": [...]}.
void PrintJson(const char* key, const nlohmann::json& items) {
  fmt::print("{}\n", nlohmann::json{{"format_version", ir::kFormatVersion}, {key, items}}.dump(
                          2, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool ConnectFailed(const runtime::MigrationContext& ctx) {
  return !ctx.source.conn || !ctx.destination.conn || !ctx.source.catalog_status.ok() ||
         !ctx.destination.catalog_status.ok();
}

void PrintSideErrors(const runtime::MigrationContext& ctx) {
  for (const runtime::Status* st : {&ctx.source.connect, &ctx.destination.connect, &ctx.source.catalog_status,
                                    &ctx.destination.catalog_status}) {
    if (!st->ok()) fmt::print(stderr, "ferry: {}\n", st->ToString());
  }
}

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

// While it lives, a stop request (Ctrl-C) cancels the statement `c` runs, rather than waiting
// for it: a foreign key validated over a large table may take hours. The request goes again
// each second, since one that reaches the server between two statements cancels nothing.
class CancelOnStop {
 public:
  explicit CancelOnStop(runtime::Connection& c)
      : thread_([this, &c] {
          std::unique_lock<std::mutex> lock(mu_);
          bool told = false;
          while (!done_) {
            if (g_stop.load()) {
              lock.unlock();
              runtime::Status st = c.Cancel();
              if (!st.ok() && !told) {
                fmt::print(stderr, "ferry: could not cancel the statement under way ({}); trying again each second, "
                           "and waiting for it\n", st.ToString());
                told = true;
              }
              lock.lock();
              cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; });
            } else {
              cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return done_; });
            }
          }
        }) {}
  ~CancelOnStop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  CancelOnStop(const CancelOnStop&) = delete;
  CancelOnStop& operator=(const CancelOnStop&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: it starts once the members it uses exist
};

std::string Human(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", bytes, units[u]);
}

// Progress: redrawn in place on a terminal, JSON lines with --format json, otherwise a line
// per table when it completes and a summary every 10 seconds.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(const RunOptions& o, std::string migration) : o_(o), migration_(std::move(migration)) {}

  // A line of its own (a schema statement run while the load goes on): above the bars, which
  // are drawn again below it at the next tick.
  void Line(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    if (o_.tty && drawn_ > 0) fmt::print("\x1b[{}A\x1b[J", drawn_);
    drawn_ = 0;
    fmt::print("{}\n", text);
    std::fflush(stdout);
  }

  void operator()(const std::vector<runtime::TableProgress>& tables, double secs, bool final) {
    std::lock_guard<std::mutex> lock(mu_);
    if (o_.format == "json") {
      nlohmann::json j = {{"event", final ? "load_done" : "progress"}, {"migration", migration_}, {"seconds", secs}};
      for (const auto& t : tables) {
        j["tables"].push_back({{"table", t.table}, {"rows", t.rows}, {"bytes", t.bytes}, {"chunks_done", t.chunks_done},
                               {"chunks", t.chunks}});
      }
      fmt::print("{}\n", j.dump());
      std::fflush(stdout);
      return;
    }
    int64_t rows = 0, bytes = 0;
    for (const auto& t : tables) {
      rows += t.rows;
      bytes += t.bytes;
    }
    if (o_.tty) {
      if (drawn_ > 0) fmt::print("\x1b[{}A", drawn_);
      drawn_ = 0;
      for (const auto& t : tables) {
        double frac = t.chunks == 0 ? 1.0 : static_cast<double>(t.chunks_done) / t.chunks;
        int width = 24, fill = static_cast<int>(frac * width);
        double rate = secs > 0 ? static_cast<double>(t.rows) / secs : 0;
        int64_t left = std::max<int64_t>(0, t.rows_estimate - t.rows);
        std::string eta = frac >= 1.0 ? "done" : rate > 0 ? fmt::format("ETA {:.0f}s", static_cast<double>(left) / rate) : "";
        fmt::print("\x1b[2K  {:<32} [{}{}] {:>10} rows {:>10} {:>9.0f} rows/s {}\n", t.table, std::string(fill, '#'),
                   std::string(width - fill, '.'), t.rows, Human(static_cast<double>(t.bytes)), rate, eta);
        ++drawn_;
      }
      std::fflush(stdout);
      return;
    }
    for (const auto& t : tables) {
      if (t.chunks_done == t.chunks && !reported_[t.table]) {
        reported_[t.table] = true;
        fmt::print("load         done     {} ({} rows, {})\n", t.table, t.rows, Human(static_cast<double>(t.bytes)));
      }
    }
    if (final || secs - last_ >= 10) {
      last_ = secs;
      fmt::print("load         {:.0f}s: {} rows, {}, {:.0f} rows/s\n", secs, rows, Human(static_cast<double>(bytes)),
                 secs > 0 ? static_cast<double>(rows) / secs : 0.0);
    }
    std::fflush(stdout);
  }

 private:
  const RunOptions& o_;
  std::string migration_;
  std::mutex mu_;  // the load's progress thread and the index builds both print
  int drawn_ = 0;
  double last_ = 0;
  std::map<std::string, bool> reported_;
};

ir::VerifyMode VerifyModeFor(const ir::Migration& m, const std::string& flag) {
  if (flag == "count") return ir::VerifyMode::kCount;
  if (flag == "rows") return ir::VerifyMode::kRows;
  if (flag == "checksum") return ir::VerifyMode::kChecksum;
  return m.verify ? m.verify->mode : ir::VerifyMode::kChecksum;
}

// Runs verify for one prepared migration and prints its report (text, or adds it to *json).
// Returns the exit code: 0 equal, 1 different, 3 failed.
int RunVerifyAndReport(runtime::MigrationContext& ctx, const RunOptions& o, ir::VerifyMode mode,
                       nlohmann::json* json) {
  const ir::Migration& m = *ctx.migration;
  runtime::VerifyOptions vo;
  vo.mode = mode;
  vo.stop = &g_stop;
  vo.on_notice = [&](const std::string& note) { fmt::print(stderr, "ferry: migration {}: {}\n", m.name, note); };
  if (o.tty) {
    vo.on_progress = [&](int done, int total, double secs) {
      fmt::print(stderr, "\x1b[2K\rverify {}: {}/{} chunks compared, {:.0f}s", m.name, done, total, secs);
      std::fflush(stderr);
    };
  }
  auto report = runtime::RunVerify(ctx, vo);
  if (o.tty) fmt::print(stderr, "\x1b[2K\r");
  if (!report.ok()) {
    fmt::print(stderr, "ferry: migration {}: {}\n", m.name, report.status().ToString());
    return kExitRuntime;
  }
  if (json != nullptr) json->push_back(runtime::ToJson(*report));
  else fmt::print("{}", runtime::RenderText(*report, o.color));
  return report->equal ? kExitOk : kExitProblem;
}

}  // namespace

int Verify(const RunOptions& o) {
  int exit = kExitOk;
  auto c = CompileForRun(o, &exit);
  if (!c) return exit;
  auto migrations = Migrations(c->plan, o, &exit);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  nlohmann::json all = nlohmann::json::array();
  for (const ir::Migration* m : migrations) {
    auto ctx = runtime::Prepare(c->plan, *m);
    if (ConnectFailed(*ctx)) {
      PrintSideErrors(*ctx);
      exit = std::max(exit, kExitRuntime);
      continue;
    }
    if (!ctx->selection.ok()) {
      for (const auto& p : ctx->selection.problems) {
        if (p.severity != runtime::Problem::Severity::kError) continue;
        fmt::print(stderr, "ferry: migration {}: error[{}] {}: {}{}{}\n", m->name, p.code, p.object, p.message,
                   p.loc.empty() ? "" : " (" + p.loc + ")", p.hint.empty() ? "" : "\n  hint: " + p.hint);
      }
      exit = std::max(exit, kExitProblem);
      continue;
    }
    // Differences found while an apply still copies are only rows it has not copied yet.
    if (auto run = runtime::ReadRun(*ctx->destination.conn, ctx->migration_key); run.ok() && *run && (*run)->lease_live) {
      fmt::print(stderr, "ferry: migration {}: {} is running it (stage {}); rows it has not copied yet show as "
                 "differences\n", m->name, (*run)->lease_owner, (*run)->stage);
    }
    int code = RunVerifyAndReport(*ctx, o, VerifyModeFor(*m, o.verify_mode), o.format == "json" ? &all : nullptr);
    exit = std::max(exit, code);
  }
  if (o.format == "json") PrintJson("verify", all);
  return exit;
}

int Precheck(const RunOptions& o) {
  int exit = kExitOk;
  auto c = CompileForRun(o, &exit);
  if (!c) return exit;
  auto migrations = Migrations(c->plan, o, &exit);
  nlohmann::json all = nlohmann::json::array();
  for (const ir::Migration* m : migrations) {
    auto ctx = runtime::Prepare(c->plan, *m);
    runtime::PrecheckReport report = runtime::RunPrecheck(*ctx);
    if (o.format == "json") all.push_back(runtime::ToJson(report));
    else fmt::print("{}", runtime::RenderText(report, o.color));
    if (!report.passed()) exit = std::max(exit, kExitProblem);
  }
  if (o.format == "json") PrintJson("prechecks", all);
  return exit;
}

int DryRun(const RunOptions& o) {
  int exit = kExitOk;
  auto c = CompileForRun(o, &exit);
  if (!c) return exit;
  auto migrations = Migrations(c->plan, o, &exit);
  nlohmann::json all = nlohmann::json::array();
  for (const ir::Migration* m : migrations) {
    auto ctx = runtime::Prepare(c->plan, *m);
    if (!ctx->source.conn || !ctx->source.catalog_status.ok()) {
      PrintSideErrors(*ctx);
      exit = std::max(exit, kExitRuntime);
      continue;
    }
    if (ConnectFailed(*ctx)) {
      PrintSideErrors(*ctx);
      fmt::print(stderr, "ferry: the destination could not be read: the diff below assumes it is empty\n");
      exit = std::max(exit, kExitRuntime);
    }
    if (o.format == "json") all.push_back(runtime::DryRunJson(*ctx));
    else fmt::print("{}", runtime::RenderDryRunText(*ctx, o.color));
    bool errors = !ctx->selection.ok();
    for (const auto& p : ctx->ddl.problems) errors |= p.severity == runtime::Problem::Severity::kError;
    if (errors) exit = std::max(exit, kExitProblem);
  }
  if (o.format == "json") PrintJson("dry_runs", all);
  return exit;
}

int Apply(const RunOptions& o) {
  int exit = kExitOk;
  auto c = CompileForRun(o, &exit);
  if (!c) return exit;
  auto migrations = Migrations(c->plan, o, &exit);
  for (const ir::Migration* m : migrations) {
    for (auto t : m->types) {
      if (t == ir::MigrationType::kIncremental) {
        fmt::print(stderr,
                   "ferry: migration {} ({}) stages incremental: this version of ferry runs the schema and full "
                   "stages; incremental migration is not implemented yet. Nothing was connected to.\n",
                   m->name, m->origin.loc);
        return kExitRuntime;
      }
    }
  }
  // Every migration's precheck passes before any of them writes: a failed precheck means
  // nothing was written anywhere.
  std::vector<std::unique_ptr<runtime::MigrationContext>> contexts;
  bool passed = true;
  for (const ir::Migration* m : migrations) {
    auto ctx = runtime::Prepare(c->plan, *m);
    runtime::PrecheckReport report = runtime::RunPrecheck(*ctx);
    if (o.format == "json") {
      fmt::print("{}\n", EventLine({{"event", "precheck"}, {"migration", m->name}, {"report", runtime::ToJson(report)}}));
    } else {
      fmt::print("{}", runtime::RenderText(report, o.color));
    }
    passed &= report.passed();
    contexts.push_back(std::move(ctx));
  }
  if (!passed) return kExitProblem;
  std::unique_ptr<runtime::MetricsServer> metrics;
  if (!o.metrics.empty()) {
    auto server = runtime::MetricsServer::Start(o.metrics);
    if (!server.ok()) {
      fmt::print(stderr, "ferry: {}\n", server.status().ToString());
      return kExitUsage;
    }
    metrics = std::move(server).value();
  }
  for (auto& ctx_ptr : contexts) {
    runtime::MigrationContext* ctx = ctx_ptr.get();
    const ir::Migration* m = ctx->migration;
    auto remark = [&](const runtime::Problem& p) {
      const char* severity = p.severity == runtime::Problem::Severity::kWarning ? "warning" : "note";
      if (o.format == "json") {
        fmt::print("{}\n", EventLine({{"event", severity}, {"migration", m->name}, {"code", p.code},
                                      {"object", p.object}, {"message", p.message}}));
      } else {
        fmt::print("{}[{}] {}: {}\n", severity, p.code, p.object, p.message);
      }
    };
    for (const auto& p : ctx->selection.problems) {
      if (p.severity == runtime::Problem::Severity::kNote) remark(p);
    }
    for (const auto& p : ctx->ddl.problems) remark(p);
    // The precheck ran on read-only sessions; the schema stages write through a new one.
    auto dst = runtime::ConnectTo(*ctx, ctx->destination);
    if (!dst.ok()) {
      fmt::print(stderr, "ferry: {}\n", dst.status().ToString());
      return kExitRuntime;
    }
    // One apply of a migration at a time: a lease in ferry_meta, renewed while this runs.
    auto lease = runtime::Lease::Take([ctx] { return runtime::ConnectTo(*ctx, ctx->destination); }, ctx->migration_key);
    if (!lease.ok()) {
      fmt::print(stderr, "ferry: migration {}: {}\n", m->name, lease.status().ToString());
      return kExitRuntime;
    }
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
    auto record = [&](const char* state, const std::string& stage, const std::string& error) {
      (void)runtime::RecordRun(**dst, ctx->migration_key, state, stage, error);
      if (metrics) metrics->SetStage(m->name, stage);
    };
    ProgressPrinter printer(o, m->name);
    runtime::SchemaStageOptions sopts;
    sopts.parallel = m->workers;
    sopts.connect = [ctx]() { return runtime::ConnectTo(*ctx, ctx->destination); };
    sopts.stop = &g_stop;
    sopts.on_notice = [&](const std::string& note) { fmt::print(stderr, "ferry: migration {}: {}\n", m->name, note); };
    int created = 0, kept = 0;
    sopts.on_statement = [&](const runtime::DdlStatement& d, const std::string& action) {
      if (action == "create") ++created;
      else ++kept;
      if (d.kind == "comment" || d.kind == "sequence reset" || d.kind == "table setting") return;
      printer.Line(o.format == "json" ? EventLine({{"event", "schema"}, {"migration", m->name},
                                                   {"stage", ir::Name(d.stage)}, {"action", action},
                                                   {"object", d.Object()}})
                                      : fmt::format("{:<12} {:<8} {}", ir::Name(d.stage), action, d.Object()));
    };
    const bool schema = m->Has(ir::MigrationType::kSchema), full = m->Has(ir::MigrationType::kFull);
    auto fail = [&](const std::string& stage, const runtime::Status& st) {
      // Stopped by a signal; a statement cancelled otherwise (KILL QUERY, statement_timeout) failed.
      bool stopped = st.code() == runtime::Code::kCancelled && g_stop.load();
      record(stopped ? "stopped" : "failed", stage, st.ToString());
      fmt::print(stderr, "ferry: migration {}: {}\n", m->name, st.ToString());
      if (schema && stage != "schema.pre") {
        // The tables this migration created get autovacuum back, whether or not it is run again.
        auto again = runtime::ConnectTo(*ctx, ctx->destination);
        runtime::Status back = again.ok() ? runtime::RestoreTableSettings(*ctx, **again) : again.status();
        if (!back.ok()) {
          fmt::print(stderr, "ferry: migration {}: autovacuum stays off on the tables this migration created ({}); "
                     "the next apply that finishes turns it back on, or run ALTER TABLE … RESET "
                     "(autovacuum_enabled) on them\n", m->name, back.ToString());
        }
      }
      if (!stopped) {
        if (metrics) metrics->AddError(m->name);
        runtime::Status sent = runtime::SendFailureAlert(*m, {o.plan, stage, "", st.ToString()});
        if (!sent.ok()) fmt::print(stderr, "ferry: {}\n", sent.ToString());
      }
      return kExitRuntime;
    };
    if (schema) {
      record("running", "schema.pre", "");
      runtime::Status st = runtime::RunSchemaStage(*ctx, **dst, ir::StageKind::kSchemaPre, sopts);
      if (!st.ok()) return fail("schema.pre", st);
    }
    // A table's indexes are built as soon as its rows are loaded, while other tables load.
    std::unique_ptr<runtime::IndexBuilder> indexes;
    if (full) {
      record("running", "load", "");
      runtime::LoadOptions lopts;
      if (schema) {
        indexes = std::make_unique<runtime::IndexBuilder>(*ctx, sopts);
        lopts.on_table_done = [&](const runtime::TableMapping& t) { indexes->TableLoaded(t.dst_schema, t.dst_table); };
      }
      lopts.stop = &g_stop;
      lopts.lease_lost = &(*lease)->lost();
      lopts.on_progress = [&](const std::vector<runtime::TableProgress>& t, double secs, bool final) {
        printer(t, secs, final);
        if (metrics) metrics->SetTables(m->name, t);
      };
      lopts.on_notice = [&](const std::string& note) { fmt::print(stderr, "ferry: migration {}: {}\n", m->name, note); };
      runtime::Status st = runtime::RunFullLoad(*ctx, lopts);
      if (!st.ok()) {
        // None other starts. Stopped (Ctrl-C): the builds under way are cancelled, since one
        // may take hours; a failed load lets them end, so that the next apply has them.
        if (indexes) {
          const bool cancel = st.code() == runtime::Code::kCancelled && g_stop.load();
          std::vector<std::string> running = indexes->Running();
          if (!running.empty() && !cancel) {
            fmt::print(stderr, "ferry: migration {}: waiting for the index builds under way to end ({}); the next "
                       "apply goes on from there\n", m->name, fmt::join(running, ", "));
          }
          runtime::Status built = indexes->Stop(cancel);
          if (!built.ok() && !(cancel && built.code() == runtime::Code::kCancelled && running.empty())) {
            fmt::print(stderr, "ferry: migration {}: {}\n", m->name, built.ToString());
          }
        }
        return fail("load", st);
      }
    }
    if (full) {
      // The load may have outlived this connection (a destination restarted mid-load).
      auto fresh = runtime::ConnectTo(*ctx, ctx->destination);
      if (!fresh.ok()) return fail("schema.post", fresh.status());
      dst = std::move(fresh);
    }
    if (schema) {
      record("running", "schema.post", "");
      if (indexes) {
        runtime::Status st = indexes->Finish();
        if (!st.ok()) return fail("schema.post", st);
        sopts.done = &indexes->built();
      }
      runtime::Status st;
      {
        CancelOnStop cancel(**dst);
        st = runtime::RunSchemaStage(*ctx, **dst, ir::StageKind::kSchemaPost, sopts);
      }
      if (!st.ok() && g_stop.load() && st.code() == runtime::Code::kCancelled) {
        st = runtime::Status(runtime::Code::kCancelled,
                             "stopped on request: " + st.message() + "\n  run ferry apply again to resume",
                             st.native());
      }
      if (!st.ok()) return fail("schema.post", st);
    }
    if (m->verify && m->verify->after != ir::VerifyAfter::kIncremental) {
      // The verify stage reads the catalogs again: the destination has its tables now.
      record("running", "verify", "");
      auto fresh = runtime::Prepare(c->plan, *m);
      if (ConnectFailed(*fresh)) {
        PrintSideErrors(*fresh);
        return fail("verify", runtime::Status(runtime::Code::kUnavailable, "verify could not read both catalogs"));
      }
      nlohmann::json reports = nlohmann::json::array();
      int code = RunVerifyAndReport(*fresh, o, m->verify->mode, o.format == "json" ? &reports : nullptr);
      if (o.format == "json" && !reports.empty()) {
        // One more JSON line among the progress lines.
        fmt::print("{}\n", EventLine({{"event", "verify_done"}, {"migration", m->name}, {"report", reports[0]}}));
      }
      if (code == kExitRuntime) return fail("verify", runtime::Status(runtime::Code::kInternal, "verify failed"));
      if (code == kExitProblem) {
        fail("verify", runtime::Status(runtime::Code::kFailedPrecondition,
                                       "verify found differences between the source and the destination"));
        return kExitProblem;
      }
    }
    record("done", m->verify ? "verify" : full ? "load" : "schema.post", "");
    if (o.format == "json") {
      nlohmann::json done = {{"event", "done"}, {"migration", m->name}};
      if (schema) done["schema"] = {{"statements_run", created}, {"objects_already_there", kept}};
      fmt::print("{}\n", EventLine(done));
    } else {
      if (schema) {
        fmt::print("migration {}: schema stages done ({} statements run, {} objects already there)\n", m->name,
                   created, kept);
      }
      fmt::print("migration {}: done\n", m->name);
    }
  }
  return exit;
}

int Status(const RunOptions& o) {
  int exit = kExitOk;
  auto c = CompileForRun(o, &exit);
  if (!c) return exit;
  auto migrations = Migrations(c->plan, o, &exit);
  nlohmann::json all = nlohmann::json::array();
  for (const ir::Migration* m : migrations) {
    const ir::Endpoint* src = c->plan.FindEndpoint(m->from);
    const ir::Endpoint* dst = c->plan.FindEndpoint(m->to);
    std::string key = runtime::MigrationKey(*m, *src);
    auto opts = runtime::OptionsFor(c->plan, *m, *dst);
    if (!opts.ok()) {
      fmt::print(stderr, "ferry: {}\n", opts.status().ToString());
      return kExitRuntime;
    }
    auto conn = runtime::Connect(*opts);
    if (!conn.ok()) {
      fmt::print(stderr, "ferry: {}\n", conn.status().ToString());
      return kExitRuntime;
    }
    (void)(*conn)->SetReadOnly();
    auto run = runtime::ReadRun(**conn, key);
    auto chunks = runtime::ReadChunks(**conn, key);
    auto objects = runtime::ReadCreatedObjects(**conn, key);
    if (!run.ok() || !chunks.ok() || !objects.ok()) {
      const runtime::Status& st = !run.ok() ? run.status() : !chunks.ok() ? chunks.status() : objects.status();
      fmt::print(stderr, "ferry: migration {}: {}\n", m->name, st.ToString());
      return kExitRuntime;
    }
    // The last `ferry verify` (or verify stage) of this migration, when there was one.
    auto verify = runtime::ReadVerifyRun(**conn, key);
    if (!verify.ok()) {
      fmt::print(stderr, "ferry: migration {}: {}\n", m->name, verify.status().ToString());
      return kExitRuntime;
    }
    int verify_chunks = 0, verify_compared = 0, verify_differing = 0;
    if (*verify) {
      auto vc = runtime::ReadVerifyChunks(**conn, key);
      if (!vc.ok()) {
        fmt::print(stderr, "ferry: migration {}: {}\n", m->name, vc.status().ToString());
        return kExitRuntime;
      }
      for (const auto& ch : *vc) {
        ++verify_chunks;
        if (ch.state != "pending") ++verify_compared;
        if (ch.state == "differs") ++verify_differing;
      }
    }
    // "running" is what a verify killed midway left too: the next `ferry verify` resumes it.
    auto verify_text = [&]() {
      const runtime::VerifyRun& v = **verify;
      return fmt::format("{}: {}{} ({}/{} chunks compared, {} differing)", v.mode, v.state,
                         v.state == "running" ? " or stopped midway" : "", verify_compared, verify_chunks,
                         verify_differing);
    };
    struct Agg {
      int chunks = 0, done = 0;
      int64_t rows = 0, bytes = 0;
    };
    std::map<std::string, Agg> tables;
    for (const auto& ch : *chunks) {
      Agg& a = tables[ch.table];
      ++a.chunks;
      if (ch.done) {
        ++a.done;
        a.rows += ch.rows;
        a.bytes += ch.bytes;
      }
    }
    if (o.format == "json") {
      nlohmann::json j = {{"migration", m->name}, {"schema_objects", objects->size()}};
      if (*run) {
        j["state"] = (*run)->state;
        j["stage"] = (*run)->stage;
        j["error"] = (*run)->error;
        j["started_at"] = (*run)->started_at;
        j["updated_at"] = (*run)->updated_at;
        j["running"] = (*run)->lease_live;
        if ((*run)->lease_live) j["holder"] = (*run)->lease_owner;
      } else {
        j["state"] = "never run";
      }
      if (*verify) {
        j["verify"] = {{"mode", (*verify)->mode},         {"state", (*verify)->state},
                       {"chunks", verify_chunks},          {"chunks_compared", verify_compared},
                       {"chunks_differing", verify_differing}};
      } else {
        j["verify"] = nullptr;
      }
      j["tables"] = nlohmann::json::array();
      for (const auto& [name, a] : tables) {
        j["tables"].push_back({{"table", name}, {"chunks", a.chunks}, {"chunks_done", a.done}, {"rows", a.rows},
                               {"bytes", a.bytes}});
      }
      all.push_back(j);
      continue;
    }
    fmt::print("migration {} ({} -> {})\n", m->name, m->from, m->to);
    if (!*run) {
      fmt::print("  never run against {}\n", m->to);
      continue;
    }
    const runtime::RunRecord& r = **run;
    fmt::print("  state    {}{} (stage {}, since {}, last update {})\n", r.state,
               r.lease_live ? " — " + r.lease_owner + " is running it" : "", r.stage, r.started_at, r.updated_at);
    if (!r.error.empty()) fmt::print("  error    {}\n", r.error);
    fmt::print("  schema   {} objects created\n", objects->size());
    int64_t rows = 0, bytes = 0;
    for (const auto& [name, a] : tables) {
      rows += a.rows;
      bytes += a.bytes;
      fmt::print("  load     {:<40} {:>4}/{:<4} chunks {:>12} rows {:>10}\n", name, a.done, a.chunks, a.rows,
                 Human(static_cast<double>(a.bytes)));
    }
    if (!tables.empty()) fmt::print("  total    {} rows, {}\n", rows, Human(static_cast<double>(bytes)));
    if (*verify) fmt::print("  verify   {}\n", verify_text());
  }
  if (o.format == "json") PrintJson("status", all);
  return exit;
}

}  // namespace ferry::cli
