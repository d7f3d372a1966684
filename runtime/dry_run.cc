#include "runtime/dry_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "compiler/type_pattern.h"
#include "runtime/dag.h"
#include "runtime/schema_stage.h"

namespace ferry::runtime {

namespace {

std::string Canonical(ir::Engine e, const std::string& text) {
  auto t = ParseSqlType(text);
  if (!t) return text;
  static const std::map<std::string, std::string> pg = {
      {"varchar", "character varying"}, {"char", "character"},     {"int", "integer"},
      {"int4", "integer"},              {"int8", "bigint"},        {"int2", "smallint"},
      {"bool", "boolean"},              {"float8", "double precision"}, {"float4", "real"},
      {"decimal", "numeric"},           {"timestamptz", "timestamp with time zone"},
      {"timestamp", "timestamp without time zone"}, {"timetz", "time with time zone"},
      {"time", "time without time zone"}, {"varbit", "bit varying"}};
  std::string name = t->name;
  std::string args = t->has_args ? "(" + t->args_text + ")" : "";
  if (e == ir::Engine::kPostgres) {
    if (auto it = pg.find(name); it != pg.end()) name = it->second;
    if (name == "numeric" && args.find(',') == std::string::npos && t->has_args) args = "(" + t->args_text + ",0)";
    return name + args;
  }
  // MySQL family: integer display widths mean nothing, except tinyint(1) (a boolean).
  static const std::map<std::string, std::string> my = {{"integer", "int"}, {"bool", "tinyint"}, {"boolean", "tinyint"},
                                                        {"dec", "decimal"}, {"numeric", "decimal"}};
  if (auto it = my.find(name); it != my.end()) name = it->second;
  bool intlike = name == "tinyint" || name == "smallint" || name == "mediumint" || name == "int" || name == "bigint" || name == "year";
  if (intlike && !(name == "tinyint" && t->args_text == "1")) args.clear();
  if ((t->name == "bool" || t->name == "boolean")) args = "(1)";
  return name + args + (t->is_unsigned ? " unsigned" : "");
}

std::string Header(const Side& s) {
  if (!s.conn) return s.endpoint != nullptr ? s.endpoint->name + ": not connected" : "?";
  const ServerInfo& i = s.conn->server();
  const ConnectOptions& o = s.conn->options();
  std::string engine = s.conn->engine() == ir::Engine::kPostgres ? "PostgreSQL" : i.mariadb ? "MariaDB" : "MySQL";
  return fmt::format("{}: {} {} at {}:{}{}{}", o.label, engine, i.version, o.host, o.port,
                     o.resolved_from.empty() ? "" : ", resolved from " + o.resolved_from,
                     o.database.empty() ? "" : " database " + o.database);
}

const char* SevName(Problem::Severity s) {
  switch (s) {
    case Problem::Severity::kError: return "error";
    case Problem::Severity::kWarning: return "warning";
    case Problem::Severity::kNote: return "note";
  }
  return "note";
}

std::vector<Problem> AllProblems(const MigrationContext& ctx) {
  std::vector<Problem> v = ctx.selection.problems;
  v.insert(v.end(), ctx.ddl.problems.begin(), ctx.ddl.problems.end());
  return v;
}

// Differences between an existing destination table and what the plan maps into it.
std::vector<std::string> TableDiff(const MigrationContext& ctx, const TableMapping& t, const Table& d) {
  std::vector<std::string> out;
  ir::Engine e = ctx.migration->to_engine;
  for (const auto& c : t.columns) {
    const Column* dc = d.FindColumn(c.name);
    if (dc == nullptr) {
      out.push_back(fmt::format("column {} is missing (the plan maps {} {} into it)", c.name, c.source->name, c.type));
      continue;
    }
    std::string dtype = dc->json_alias ? "json" : dc->type;
    if (!c.type.empty() && !SameType(e, dtype, c.type)) {
      out.push_back(fmt::format("column {} is {} in the destination; the type map gives {}", c.name, dtype, c.type));
    }
    if (dc->nullable != c.nullable) {
      out.push_back(fmt::format("column {} is {} in the destination; the source column is {}", c.name,
                                dc->nullable ? "nullable" : "NOT NULL", c.nullable ? "nullable" : "NOT NULL"));
    }
  }
  for (const auto& dc : d.columns) {
    if (t.columns.end() == std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnMapping& c) { return c.name == dc.name; })) {
      out.push_back(fmt::format("column {} exists only in the destination{}", dc.name,
                                dc.nullable || dc.default_expr || dc.auto_increment ? "" : " and is NOT NULL without a default: the load will fail"));
    }
  }
  return out;
}

}  // namespace

bool SameType(ir::Engine engine, const std::string& a, const std::string& b) {
  return Canonical(engine, a) == Canonical(engine, b);
}

std::string RenderDryRunText(const MigrationContext& ctx, bool color) {
  auto paint = [&](const char* code, const std::string& s) {
    return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  };
  const ir::Migration& m = *ctx.migration;
  std::string out = fmt::format("dry run of migration {} ({}): read-only, nothing was written\n", m.name, m.origin.loc);
  out += fmt::format("  source       {}\n  destination  {}\n", Header(ctx.source), Header(ctx.destination));

  out += "\ndag (one node per table)\n";
  out += fmt::format("  {:>4}  {:<12} {:<40} {}\n", "id", "stage", "object", "after");
  for (const auto& n : ExpandDag(m, ctx.selection)) {
    std::string after;
    for (int a : n.after) after += (after.empty() ? "" : ",") + std::to_string(a);
    out += fmt::format("  {:>4}  {:<12} {:<40} {}\n", n.id, ir::Name(n.kind), n.object, after.empty() ? "-" : after);
  }

  out += "\nmapping (source column, source type -> destination column, type; the rule that decided)\n";
  for (const auto& t : ctx.selection.tables) {
    out += fmt::format("  {}.{} -> {}.{}   ({}{})\n", t.source->schema, t.source->name, t.dst_schema, t.dst_table, t.loc,
                       t.where.empty() ? "" : ", where " + t.where);
    for (const auto& c : t.columns) {
      std::string src_type = c.source->json_alias ? "json" : c.source->type;
      out += fmt::format("    {:<20} {:<24} -> {:<20} {:<22} {}\n", c.source->name, src_type, c.name,
                         c.type.empty() ? "?" : c.type, c.rule);
    }
  }

  auto problems = AllProblems(ctx);
  if (!problems.empty()) {
    out += "\nproblems\n";
    for (const auto& p : problems) {
      const char* col = p.severity == Problem::Severity::kError ? "31;1" : p.severity == Problem::Severity::kWarning ? "33" : "36";
      out += fmt::format("  {}[{}] {}: {}\n", paint(col, SevName(p.severity)), p.code, p.object, p.message);
      if (!p.hint.empty()) out += fmt::format("      hint: {}\n", p.hint);
      if (!p.loc.empty()) out += fmt::format("      at {}\n", p.loc);
    }
  }

  if (!m.Has(ir::MigrationType::kSchema)) {
    out += "\nddl: none (schema is not staged; the destination tables must exist)\n";
  } else {
    out += fmt::format("\nddl as a diff against the destination\n--- {} (now)\n+++ {} (after the schema stages)\n",
                       m.to, m.to);
    ir::StageKind last = ir::StageKind::kPrecheck;
    for (const auto& d : ctx.ddl.statements) {
      if (d.stage != last) {
        out += fmt::format("@@ {} @@\n", ir::Name(d.stage));
        last = d.stage;
      }
      bool exists = ctx.prepared && (DestinationHas(ctx, d) || (d.kind == "comment" && d.stage == ir::StageKind::kSchemaPre &&
                                                                 ctx.DestinationHasTable(d.dst_schema, d.dst_table)));
      if (exists) {
        if (d.kind == "comment" || d.kind == "table setting") continue;
        std::string why;
        if (ctx.Ours(d.Object())) why = " (created by an earlier run of this migration)";
        else if (d.kind == "table") why = m.conflicts == ir::Conflicts::kIgnore ? " (conflicts = ignore)" : " (conflicts = report: precheck fails)";
        out += paint("2", fmt::format("  {} exists: kept as it is{}\n", d.Object(), why));
        if (d.kind == "table") {
          const Table* dt = ctx.destination.catalog.FindTable(d.dst_schema, d.dst_table);
          for (const auto& t : ctx.selection.tables) {
            if (t.dst_schema == d.dst_schema && t.dst_table == d.dst_table && dt != nullptr) {
              for (const auto& line : TableDiff(ctx, t, *dt)) out += paint("33", "~ " + line) + "\n";
            }
          }
        }
        continue;
      }
      std::string sql = d.Display() + ";";
      if (d.run_in_schema) sql = "-- in schema " + d.dst_schema + "\n" + sql;
      if (d.after_full) sql = "-- after the full load (triggers = after_full)\n" + sql;
      size_t start = 0;
      while (start <= sql.size()) {
        size_t nl = sql.find('\n', start);
        std::string line = sql.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        out += paint("32", "+ " + line) + "\n";
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    }
  }
  return out;
}

nlohmann::json DryRunJson(const MigrationContext& ctx) {
  const ir::Migration& m = *ctx.migration;
  nlohmann::json j;
  j["migration"] = m.name;
  j["source"] = Header(ctx.source);
  j["destination"] = Header(ctx.destination);
  nlohmann::json dag = nlohmann::json::array();
  for (const auto& n : ExpandDag(m, ctx.selection)) {
    dag.push_back({{"id", n.id}, {"stage", ir::Name(n.kind)}, {"object", n.object}, {"after", n.after}, {"location", n.loc}});
  }
  j["dag"] = dag;
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : ctx.selection.tables) {
    nlohmann::json cols = nlohmann::json::array();
    for (const auto& c : t.columns) {
      cols.push_back({{"source", c.source->name},
                      {"source_type", c.source->json_alias ? "json" : c.source->type},
                      {"destination", c.name},
                      {"type", c.type},
                      {"nullable", c.nullable},
                      {"rule", c.rule}});
    }
    tables.push_back({{"source", t.source->schema + "." + t.source->name},
                      {"destination", t.dst_schema + "." + t.dst_table},
                      {"where", t.where},
                      {"location", t.loc},
                      {"columns", cols}});
  }
  j["tables"] = tables;
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : AllProblems(ctx)) {
    problems.push_back({{"severity", SevName(p.severity)},
                        {"code", p.code},
                        {"object", p.object},
                        {"message", p.message},
                        {"hint", p.hint},
                        {"location", p.loc}});
  }
  j["problems"] = problems;
  nlohmann::json ddl = nlohmann::json::array();
  if (m.Has(ir::MigrationType::kSchema)) {
    for (const auto& d : ctx.ddl.statements) {
      bool exists = ctx.prepared && DestinationHas(ctx, d);
      ddl.push_back({{"stage", ir::Name(d.stage)},
                     {"kind", d.kind},
                     {"object", d.Object()},
                     {"action", exists ? "exists" : d.after_full ? "create_after_full" : "create"},
                     {"sql", d.Display()},
                     {"location", d.loc}});
    }
  }
  j["ddl"] = ddl;
  return j;
}

}  // namespace ferry::runtime
