#include "cli/run_commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "compiler/driver.h"
#include "compiler/emit.h"
#include "runtime/context.h"
#include "runtime/dry_run.h"
#include "runtime/precheck.h"
#include "runtime/schema_stage.h"

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

}  // namespace

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
  if (o.format == "json") {
    fmt::print("{}\n", nlohmann::json{{"format_version", ir::kFormatVersion}, {"prechecks", all}}.dump(2, ' ', false,
                                                                                                       nlohmann::json::error_handler_t::replace));
  }
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
  if (o.format == "json") {
    fmt::print("{}\n", nlohmann::json{{"format_version", ir::kFormatVersion}, {"dry_runs", all}}.dump(2, ' ', false,
                                                                                                      nlohmann::json::error_handler_t::replace));
  }
  return exit;
}

int Apply(const RunOptions& o) {
  int exit = kExitOk;
  auto c = CompileForRun(o, &exit);
  if (!c) return exit;
  auto migrations = Migrations(c->plan, o, &exit);
  for (const ir::Migration* m : migrations) {
    for (auto t : m->types) {
      if (t != ir::MigrationType::kSchema) {
        fmt::print(stderr,
                   "ferry: migration {} ({}) stages {}: this version of ferry runs only the schema stages "
                   "(stages = [schema]); full and incremental migration are not implemented yet. Nothing was "
                   "connected to.\n",
                   m->name, m->origin.loc, t == ir::MigrationType::kFull ? "full" : "incremental");
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
    fmt::print("{}", runtime::RenderText(report, o.color));
    passed &= report.passed();
    contexts.push_back(std::move(ctx));
  }
  if (!passed) return kExitProblem;
  for (auto& ctx_ptr : contexts) {
    runtime::MigrationContext* ctx = ctx_ptr.get();
    const ir::Migration* m = ctx->migration;
    for (const auto& p : ctx->selection.problems) {
      if (p.severity != runtime::Problem::Severity::kNote) continue;
      fmt::print("note[{}] {}: {}\n", p.code, p.object, p.message);
    }
    for (const auto& p : ctx->ddl.problems) {
      fmt::print("{}[{}] {}: {}\n", p.severity == runtime::Problem::Severity::kWarning ? "warning" : "note", p.code,
                 p.object, p.message);
    }
    // The precheck ran on read-only sessions; the schema stages write through a new one.
    auto opts = runtime::OptionsFor(*ctx->destination.endpoint);
    if (!opts.ok()) {
      fmt::print(stderr, "ferry: {}\n", opts.status().ToString());
      return kExitRuntime;
    }
    auto dst = runtime::Connect(*opts);
    if (!dst.ok()) {
      fmt::print(stderr, "ferry: {}\n", dst.status().ToString());
      return kExitRuntime;
    }
    runtime::SchemaStageOptions sopts;
    int created = 0, kept = 0;
    sopts.on_statement = [&](const runtime::DdlStatement& d, const std::string& action) {
      if (action == "create") ++created;
      else ++kept;
      if (d.kind == "comment" || d.kind == "sequence reset") return;
      fmt::print("{:<12} {:<8} {}\n", ir::Name(d.stage), action, d.Object());
      std::fflush(stdout);
    };
    for (auto stage : {ir::StageKind::kSchemaPre, ir::StageKind::kSchemaPost}) {
      runtime::Status st = runtime::RunSchemaStage(*ctx, **dst, stage, sopts);
      if (!st.ok()) {
        fmt::print(stderr, "ferry: migration {}: {}\n", m->name, st.ToString());
        return kExitRuntime;
      }
    }
    fmt::print("migration {}: schema stages done ({} statements run, {} objects already there)\n", m->name, created,
               kept);
  }
  return exit;
}

}  // namespace ferry::cli
