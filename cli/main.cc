// The `ferry` command: arguments, output forms and exit codes (DESIGN.md "Command line").
// Thin by design: it calls the compiler and prints what it returns.
//
// Exit codes: 0 ok, 1 the plan has a problem, 2 usage error, 3 a runtime failure.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/driver.h"
#include "compiler/emit.h"
#include "compiler/format.h"
#include "compiler/ir.h"
#include "cli/run_commands.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitPlanProblem = 1;
constexpr int kExitUsage = 2;

bool UseColor(FILE* stream) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return isatty(fileno(stream)) != 0;
}

std::string Plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// Prints a compilation's diagnostics (text, to stderr). Returns false when the root file
// could not be read at all (a usage error).
bool PrintDiagnostics(const ferry::Compilation& c) {
  if (c.root_unreadable) {
    fmt::print(stderr, "ferry: {}\n", c.root_error);
    return false;
  }
  const ferry::RenderOptions opts{UseColor(stderr)};
  for (const ferry::Diagnostic& d : c.diags.Sorted()) {
    fmt::print(stderr, "{}", ferry::RenderText(c.program.sources, d, opts));
  }
  return true;
}

std::string Summary(const ferry::Compilation& c) {
  const size_t errors = c.diags.error_count(), warnings = c.diags.warning_count();
  if (errors == 0 && warnings == 0) return "ok";
  std::string s = errors > 0 ? Plural(errors, "error") : "ok";
  if (warnings > 0) s += fmt::format("{}{}", errors > 0 ? ", " : " with ", Plural(warnings, "warning"));
  return s;
}

int Check(const std::vector<std::string>& plans, const std::string& format) {
  int exit_code = kExitOk;
  if (format == "json") {
    nlohmann::ordered_json out;
    out["format_version"] = ferry::ir::kFormatVersion;
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const std::string& p : plans) {
      auto c = ferry::Compile(p);
      nlohmann::ordered_json f;
      f["plan"] = p;
      if (c->root_unreadable) {
        f["error"] = c->root_error;
        exit_code = std::max(exit_code, kExitUsage);
      } else {
        f["errors"] = c->diags.error_count();
        f["warnings"] = c->diags.warning_count();
        f["diagnostics"] = nlohmann::ordered_json::parse(ferry::RenderJson(c->program.sources, c->diags.Sorted()));
        if (!c->ok()) exit_code = std::max(exit_code, kExitPlanProblem);
      }
      files.push_back(std::move(f));
    }
    out["plans"] = std::move(files);
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return exit_code;
  }
  for (const std::string& p : plans) {
    auto c = ferry::Compile(p);
    if (!PrintDiagnostics(*c)) {
      exit_code = std::max(exit_code, kExitUsage);
      continue;
    }
    fmt::print(stderr, "{}: {}\n", p, Summary(*c));
    if (!c->ok()) exit_code = std::max(exit_code, kExitPlanProblem);
  }
  return exit_code;
}

int Plan(const std::string& plan, const std::string& format) {
  auto c = ferry::Compile(plan);
  if (!PrintDiagnostics(*c)) return kExitUsage;
  if (!c->ok()) {
    fmt::print(stderr, "{}: {}; no plan produced\n", plan, Summary(*c));
    return kExitPlanProblem;
  }
  if (format == "json") {
    fmt::print("{}", ferry::EmitJson(c->plan));
  } else if (format == "dot") {
    fmt::print("{}", ferry::EmitDot(c->plan));
  } else {
    fmt::print("{}", ferry::EmitText(c->plan));
  }
  return kExitOk;
}

int Fmt(const std::vector<std::string>& plans, bool check_only) {
  int exit_code = kExitOk;
  for (const std::string& p : plans) {
    auto c = ferry::Compile(p);
    if (c->root_unreadable) {
      fmt::print(stderr, "ferry: {}\n", c->root_error);
      exit_code = std::max(exit_code, kExitUsage);
      continue;
    }
    const ferry::LoadedFile& root = c->program.files[c->program.root];
    if (root.ast.has_syntax_errors) {
      // Only the root's own syntax matters to its layout; show just those diagnostics.
      const ferry::RenderOptions opts{UseColor(stderr)};
      for (const ferry::Diagnostic& d : c->diags.Sorted()) {
        if (d.span.file == c->program.root && ferry::Info(d.kind).code < "E0100") {
          fmt::print(stderr, "{}", ferry::RenderText(c->program.sources, d, opts));
        }
      }
      fmt::print(stderr, "{}: not formatted: fix the syntax errors first\n", p);
      exit_code = std::max(exit_code, kExitPlanProblem);
      continue;
    }
    const std::string& before = c->program.sources.file(c->program.root).text;
    const std::string after = ferry::Format(c->program.sources, root.ast);
    if (after == before) continue;
    if (check_only) {
      fmt::print("{}\n", p);
      exit_code = std::max(exit_code, kExitPlanProblem);
      continue;
    }
    const std::string tmp = p + ".ferry-fmt.tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << after;
      if (!out) {
        fmt::print(stderr, "ferry: cannot write `{}`\n", tmp);
        return kExitUsage;
      }
    }
    std::error_code ec;
    std::filesystem::permissions(tmp, std::filesystem::status(p, ec).permissions(), ec);  // keep the file's mode
    const std::string target = std::filesystem::is_symlink(p, ec) ? std::filesystem::canonical(p, ec).string() : p;
    if (std::rename(tmp.c_str(), target.c_str()) != 0) {
      std::remove(tmp.c_str());
      fmt::print(stderr, "ferry: cannot replace `{}`\n", p);
      return kExitUsage;
    }
    fmt::print(stderr, "formatted {}\n", p);
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry: database migrations as reviewed, compiled plans", "ferry"};
  app.set_version_flag("--version", std::string(FERRY_VERSION));
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);

  std::vector<std::string> check_plans;
  std::string check_format = "text";
  CLI::App* check = app.add_subcommand("check", "Check plans and print diagnostics; exit 1 on errors");
  check->add_option("PLAN", check_plans, "plan files")->required();
  check->add_option("--format", check_format, "text or json")->check(CLI::IsMember({"text", "json"}));

  std::vector<std::string> fmt_plans;
  bool fmt_check = false;
  CLI::App* fmt_cmd = app.add_subcommand("fmt", "Rewrite plans in the canonical layout");
  fmt_cmd->add_option("PLAN", fmt_plans, "plan files")->required();
  fmt_cmd->add_flag("--check", fmt_check, "change nothing; list the files that are not formatted and exit 1");

  std::string plan_file;
  std::string plan_format = "text";
  CLI::App* plan = app.add_subcommand("plan", "Compile a plan into its DAG of stages (offline)");
  plan->add_option("PLAN", plan_file, "plan file")->required();
  plan->add_option("--format", plan_format, "text, json or dot")->check(CLI::IsMember({"text", "json", "dot"}));

  bool dry_run = false;
  std::string plan_migration;
  plan->add_flag("--dry-run", dry_run,
                 "read both catalogs (read-only) and show the DAG per table and the DDL as a diff");
  plan->add_option("--migration", plan_migration, "only this migration of the plan");

  ferry::cli::RunOptions precheck_opts;
  CLI::App* precheck = app.add_subcommand("precheck", "Run the precheck stage against both endpoints (read-only)");
  precheck->add_option("PLAN", precheck_opts.plan, "plan file")->required();
  precheck->add_option("--format", precheck_opts.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  precheck->add_option("--migration", precheck_opts.migration, "only this migration of the plan");

  ferry::cli::RunOptions apply_opts;
  CLI::App* apply = app.add_subcommand("apply", "Run the plan: precheck, then its stages (resumable)");
  apply->add_option("PLAN", apply_opts.plan, "plan file")->required();
  apply->add_option("--migration", apply_opts.migration, "only this migration of the plan");
  apply->add_option("--format", apply_opts.format, "text, or json for progress as JSON lines")
      ->check(CLI::IsMember({"text", "json"}));
  apply->add_option("--metrics", apply_opts.metrics, "serve Prometheus metrics on HOST:PORT while it runs");

  ferry::cli::RunOptions status_opts;
  CLI::App* status = app.add_subcommand("status", "Show a migration's stages, tables and progress from ferry_meta");
  status->add_option("PLAN", status_opts.plan, "plan file")->required();
  status->add_option("--migration", status_opts.migration, "only this migration of the plan");
  status->add_option("--format", status_opts.format, "text or json")->check(CLI::IsMember({"text", "json"}));

  ferry::cli::RunOptions verify_opts;
  CLI::App* verify = app.add_subcommand(
      "verify", "Compare the source's rows with the destination's; exit 0 equal, 1 different, 3 failed");
  verify->add_option("PLAN", verify_opts.plan, "plan file")->required();
  verify->add_option("--migration", verify_opts.migration, "only this migration of the plan");
  verify->add_option("--format", verify_opts.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  verify->add_option("--mode", verify_opts.verify_mode,
                     "count, checksum or rows (default: the plan's verify { mode }, else checksum)")
      ->check(CLI::IsMember({"count", "checksum", "rows"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (*check) return Check(check_plans, check_format);
  if (*fmt_cmd) return Fmt(fmt_plans, fmt_check);
  if (*plan && dry_run) {
    if (plan_format == "dot") {
      fmt::print(stderr, "ferry: --dry-run prints text or json\n");
      return kExitUsage;
    }
    ferry::cli::RunOptions dry;
    dry.plan = plan_file;
    dry.format = plan_format;
    dry.migration = plan_migration;
    dry.color = UseColor(stdout);
    return ferry::cli::DryRun(dry);
  }
  if (*plan) return Plan(plan_file, plan_format);
  if (*precheck) {
    precheck_opts.color = precheck_opts.format == "text" && UseColor(stdout);
    return ferry::cli::Precheck(precheck_opts);
  }
  if (*apply) {
    apply_opts.color = UseColor(stdout);
    apply_opts.tty = apply_opts.format == "text" && isatty(fileno(stdout)) != 0;
    return ferry::cli::Apply(apply_opts);
  }
  if (*status) return ferry::cli::Status(status_opts);
  if (*verify) {
    verify_opts.color = verify_opts.format == "text" && UseColor(stdout);
    verify_opts.tty = verify_opts.format == "text" && isatty(fileno(stderr)) != 0;
    return ferry::cli::Verify(verify_opts);
  }
  return kExitUsage;
}
