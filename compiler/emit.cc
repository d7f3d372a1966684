#include "compiler/emit.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/lower.h"

namespace ferry {
namespace {

using Json = nlohmann::ordered_json;

std::string_view TypeWord(ir::MigrationType t) {
  switch (t) {
    case ir::MigrationType::kSchema: return "schema";
    case ir::MigrationType::kFull: return "full";
    case ir::MigrationType::kIncremental: return "incremental";
  }
  return "";
}
std::string_view OpWord(ir::Op o) {
  switch (o) {
    case ir::Op::kInsert: return "insert";
    case ir::Op::kUpdate: return "update";
    case ir::Op::kDelete: return "delete";
    case ir::Op::kDdl: return "ddl";
  }
  return "";
}
std::string_view Word(ir::Conflicts c) { return c == ir::Conflicts::kIgnore ? "ignore" : "report"; }
std::string_view Word(ir::Capitalization c) {
  return c == ir::Capitalization::kLower ? "lower" : c == ir::Capitalization::kUpper ? "upper" : "keep";
}
std::string_view Word(ir::Triggers t) {
  return t == ir::Triggers::kNone ? "none" : t == ir::Triggers::kWithSchema ? "with_schema" : "after_full";
}
std::string_view Word(ir::OnlineDdl o) {
  return o == ir::OnlineDdl::kCopyTempTables ? "copy_temp_tables" : o == ir::OnlineDdl::kAdaptDms ? "adapt_dms" : "adapt_gh_ost";
}
std::string_view Word(ir::VerifyMode v) {
  return v == ir::VerifyMode::kCount ? "count" : v == ir::VerifyMode::kRows ? "rows" : "checksum";
}
std::string_view Word(ir::VerifyAfter v) {
  return v == ir::VerifyAfter::kIncremental ? "incremental" : v == ir::VerifyAfter::kBoth ? "both" : "full";
}
std::string_view Word(ir::Tls t) {
  switch (t) {
    case ir::Tls::kDisable: return "disable";
    case ir::Tls::kPrefer: return "prefer";
    case ir::Tls::kRequire: return "require";
    case ir::Tls::kVerifyCa: return "verify_ca";
    case ir::Tls::kVerifyFull: return "verify_full";
  }
  return "prefer";
}
std::string_view Word(ir::ZeroDates z) {
  switch (z) {
    case ir::ZeroDates::kUnset: return "";
    case ir::ZeroDates::kNull: return "null";
    case ir::ZeroDates::kError: return "error";
    case ir::ZeroDates::kKeep: return "keep";
  }
  return "";
}

std::string FormatNumber(double d) {
  if (d == static_cast<double>(static_cast<int64_t>(d))) return fmt::format("{}", static_cast<int64_t>(d));
  return fmt::format("{}", d);
}

// Maps a migration uses, with the maps they extend, in the order they are tried.
std::vector<const ir::TypeMap*> UsedMaps(const ir::Plan& plan) {
  std::vector<const ir::TypeMap*> out;
  for (const ir::Migration& m : plan.migrations) {
    for (const ir::TypeMap* t = plan.FindTypeMap(m.typemap); t != nullptr; t = plan.FindTypeMap(t->base)) {
      if (std::find(out.begin(), out.end(), t) != out.end()) break;
      out.push_back(t);
    }
  }
  return out;
}

std::string DescribeEndpoint(const ir::Plan& plan, const ir::Endpoint& e) {
  std::string where;
  if (!e.host.empty()) {
    where = fmt::format("{}:{}", e.host, e.port != 0 ? e.port : ir::DefaultPort(e.engine));
  } else {
    where = fmt::format("instance {}{} ({} address)", e.instance, e.region.empty() ? "" : " in " + e.region,
                        e.network == ir::Network::kPublic ? "public" : "private");
  }
  std::string out = fmt::format("{} {}", ir::Name(e.engine), where);
  if (!e.database.empty()) out += fmt::format(" database {}", e.database);
  if (!e.account.empty()) {
    const ir::Account* a = plan.FindAccount(e.account);
    out += fmt::format(", account {}{}", e.account, a != nullptr ? " (" + a->id + ")" : "");
  }
  if (!e.assume.empty()) {
    const ir::Role* r = plan.FindRole(e.assume);
    out += fmt::format(" via role {}", r != nullptr ? r->role_name : e.assume);
  }
  out += fmt::format(", tls {}", Word(e.tls));
  return out;
}

}  // namespace

std::string EmitText(const ir::Plan& plan) {
  std::string out = fmt::format("plan {} (format {})\n", plan.root, ir::kFormatVersion);
  for (const ir::Migration& m : plan.migrations) {
    out += fmt::format("\nmigration {}  ({})\n", m.name, m.origin.loc);
    if (const ir::Endpoint* e = plan.FindEndpoint(m.from)) out += fmt::format("  from     {}: {}\n", m.from, DescribeEndpoint(plan, *e));
    if (const ir::Endpoint* e = plan.FindEndpoint(m.to)) out += fmt::format("  to       {}: {}\n", m.to, DescribeEndpoint(plan, *e));
    if (!m.account.empty()) out += fmt::format("  runs as  account {}\n", m.account);
    std::string types;
    for (ir::MigrationType t : m.types) types += (types.empty() ? "" : ", ") + std::string(TypeWord(t));
    out += fmt::format("  stages   {}\n", types);
    out += fmt::format("  options  workers {}, conflicts {}, capitalization {}", m.workers, Word(m.conflicts),
                       Word(m.capitalization));
    if (m.Has(ir::MigrationType::kSchema) && m.Has(ir::MigrationType::kIncremental)) out += fmt::format(", triggers {}", Word(m.triggers));
    if (m.events) out += ", events";
    if (m.assessment) out += ", assessment";
    if (m.accounts) out += ", accounts";
    if (m.heartbeat) out += ", heartbeat";
    if (ir::IsMysqlFamily(m.from_engine) && m.Has(ir::MigrationType::kIncremental)) out += fmt::format(", online_ddl {}", Word(m.online_ddl));
    out += "\n";
    if (const ir::TypeMap* t = plan.FindTypeMap(m.typemap)) {
      out += fmt::format("  typemap  {}{}{}\n", t->name, t->base.empty() ? "" : " extends " + t->base, t->stdlib ? " (stdlib)" : "");
    }
    for (const auto& [word, th] : {std::pair{"full", &m.throttle_full}, std::pair{"incremental", &m.throttle_incremental}}) {
      if (!*th) continue;
      std::string parts;
      const ir::Throttle& t = **th;
      if (t.source_qps) parts += fmt::format("{}source_qps {}", parts.empty() ? "" : ", ", FormatNumber(*t.source_qps));
      if (t.rows_per_s) parts += fmt::format("{}rows_per_s {}", parts.empty() ? "" : ", ", FormatNumber(*t.rows_per_s));
      if (t.mb_per_s) parts += fmt::format("{}mb_per_s {}", parts.empty() ? "" : ", ", FormatNumber(*t.mb_per_s));
      out += fmt::format("  throttle {}: {}\n", word, parts.empty() ? "no limit" : parts);
    }
    out += fmt::format("  retry    connection {}, other {}\n", ir::FormatDuration(m.retry.connection_ms), ir::FormatDuration(m.retry.other_ms));
    if (m.verify) out += fmt::format("  verify   {} after {}\n", Word(m.verify->mode), Word(m.verify->after));
    if (m.alert) {
      out += fmt::format("  alert    {}{}{}\n", m.alert->on_failure ? "on failure" : "not on failure",
                         m.alert->lag_over_ms ? ", lag over " + ir::FormatDuration(*m.alert->lag_over_ms) : "",
                         m.alert->webhook.empty() ? "" : ", webhook " + m.alert->webhook);
    }
    if (!m.tag.empty()) out += fmt::format("  tag      {}\n", m.tag);

    out += "  objects\n";
    for (const ir::SchemaRule& s : m.objects) {
      out += fmt::format("    {}schema {}{}{}\n", s.exclude ? "exclude " : "", s.source,
                         s.target.empty() ? "" : " -> " + s.target, s.whole && !s.exclude ? " (whole schema)" : "");
      for (const ir::TableRule& t : s.tables) {
        out += fmt::format("      {}table {}{}\n", t.exclude ? "exclude " : "", t.source, t.target.empty() ? "" : " -> " + t.target);
        if (!t.where.empty()) out += fmt::format("        where {}\n", t.where);
        if (t.ops.size() != 4) {
          std::string ops;
          for (ir::Op o : t.ops) ops += (ops.empty() ? "" : ", ") + std::string(OpWord(o));
          out += fmt::format("        ops {}\n", ops);
        }
        for (const ir::ColumnRule& c : t.columns) {
          out += fmt::format("        {}column {}{}{}\n", c.exclude ? "exclude " : "", c.source,
                             c.target.empty() ? "" : " -> " + c.target, c.type.empty() ? "" : " type " + c.type);
        }
      }
    }
    size_t object_width = 6;
    for (const ir::Stage& s : m.stages) object_width = std::max(object_width, s.object.size());
    out += fmt::format("  dag\n    {:>3}  {:<11}  {:<{}}  {:<12}  {}\n", "id", "stage", "object", object_width, "after", "from");
    for (const ir::Stage& s : m.stages) {
      std::string after;
      for (int a : s.after) after += (after.empty() ? "" : ",") + std::to_string(a);
      out += fmt::format("    {:>3}  {:<11}  {:<{}}  {:<12}  {}\n", s.id, ir::Name(s.kind), s.object, object_width,
                         after.empty() ? "-" : after, s.origin.loc);
    }
  }
  return out;
}

std::string EmitJson(const ir::Plan& plan) {
  auto origin = [](const ir::Origin& o) { return o.loc; };
  auto secret = [](const std::optional<ir::Secret>& s) -> Json {
    if (!s) return nullptr;
    return s->ToString();
  };
  Json j;
  j["format_version"] = ir::kFormatVersion;
  j["plan"] = plan.root;
  Json accounts = Json::array();
  for (const ir::Account& a : plan.accounts) {
    accounts.push_back({{"name", a.name}, {"id", a.id}, {"access_key_id", secret(a.access_key_id)},
                        {"access_key_secret", secret(a.access_key_secret)}, {"sts_endpoint", a.sts_endpoint},
                        {"rds_endpoint", a.rds_endpoint}, {"origin", origin(a.origin)}});
  }
  j["accounts"] = accounts;
  Json roles = Json::array();
  for (const ir::Role& r : plan.roles) {
    roles.push_back({{"name", r.name}, {"account", r.account}, {"role_name", r.role_name}, {"trusts", r.trusts},
                     {"external_id", r.external_id}, {"session_ms", r.session_ms}, {"origin", origin(r.origin)}});
  }
  j["roles"] = roles;
  Json endpoints = Json::array();
  for (const ir::Endpoint& e : plan.endpoints) {
    endpoints.push_back({{"name", e.name}, {"engine", ir::Name(e.engine)}, {"host", e.host},
                         {"port", e.port != 0 ? e.port : ir::DefaultPort(e.engine)}, {"instance", e.instance},
                         {"region", e.region}, {"network", e.network == ir::Network::kPublic ? "public" : "private"},
                         {"database", e.database}, {"account", e.account}, {"assume", e.assume}, {"user", e.user},
                         {"password", secret(e.password)}, {"tls", Word(e.tls)}, {"ca", e.ca},
                         {"origin", origin(e.origin)}});
  }
  j["endpoints"] = endpoints;
  Json typemaps = Json::array();
  for (const ir::TypeMap* t : UsedMaps(plan)) {
    Json rules = Json::array();
    for (const ir::TypeRule& r : t->rules) rules.push_back({{"pattern", r.pattern}, {"target", r.target}, {"origin", origin(r.origin)}});
    typemaps.push_back({{"name", t->name}, {"from", ir::Name(t->from)}, {"to", ir::Name(t->to)}, {"extends", t->base},
                        {"zero_dates", Word(t->zero_dates)}, {"stdlib", t->stdlib}, {"rules", rules},
                        {"origin", origin(t->origin)}});
  }
  j["typemaps"] = typemaps;
  Json migrations = Json::array();
  for (const ir::Migration& m : plan.migrations) {
    Json mj;
    mj["name"] = m.name;
    mj["from"] = m.from;
    mj["to"] = m.to;
    mj["account"] = m.account;
    Json types = Json::array();
    for (ir::MigrationType t : m.types) types.push_back(TypeWord(t));
    mj["stages"] = types;
    mj["conflicts"] = Word(m.conflicts);
    mj["capitalization"] = Word(m.capitalization);
    mj["triggers"] = Word(m.triggers);
    mj["events"] = m.events;
    mj["assessment"] = m.assessment;
    mj["online_ddl"] = Word(m.online_ddl);
    mj["workers"] = m.workers;
    mj["typemap"] = m.typemap;
    mj["heartbeat"] = m.heartbeat;
    mj["accounts"] = m.accounts;
    mj["tag"] = m.tag;
    Json objects = Json::array();
    for (const ir::SchemaRule& s : m.objects) {
      Json tables = Json::array();
      for (const ir::TableRule& t : s.tables) {
        Json columns = Json::array();
        for (const ir::ColumnRule& c : t.columns) {
          columns.push_back({{"exclude", c.exclude}, {"source", c.source}, {"target", c.target}, {"type", c.type},
                             {"origin", origin(c.origin)}});
        }
        Json ops = Json::array();
        for (ir::Op o : t.ops) ops.push_back(OpWord(o));
        tables.push_back({{"exclude", t.exclude}, {"source", t.source}, {"target", t.target}, {"where", t.where},
                          {"ops", ops}, {"columns", columns}, {"origin", origin(t.origin)}});
      }
      objects.push_back({{"exclude", s.exclude}, {"source", s.source}, {"target", s.target}, {"whole", s.whole},
                         {"tables", tables}, {"origin", origin(s.origin)}});
    }
    mj["objects"] = objects;
    auto throttle = [](const std::optional<ir::Throttle>& t) -> Json {
      if (!t) return nullptr;
      Json o = Json::object();
      if (t->source_qps) o["source_qps"] = *t->source_qps;
      if (t->rows_per_s) o["rows_per_s"] = *t->rows_per_s;
      if (t->mb_per_s) o["mb_per_s"] = *t->mb_per_s;
      return o;
    };
    mj["throttle_full"] = throttle(m.throttle_full);
    mj["throttle_incremental"] = throttle(m.throttle_incremental);
    mj["retry"] = {{"connection_ms", m.retry.connection_ms}, {"other_ms", m.retry.other_ms}};
    mj["verify"] = m.verify ? Json{{"mode", Word(m.verify->mode)}, {"after", Word(m.verify->after)}} : Json(nullptr);
    mj["alert"] = m.alert ? Json{{"on_failure", m.alert->on_failure},
                                 {"lag_over_ms", m.alert->lag_over_ms ? Json(*m.alert->lag_over_ms) : Json(nullptr)},
                                 {"webhook", m.alert->webhook}}
                          : Json(nullptr);
    Json stages = Json::array();
    for (const ir::Stage& s : m.stages) {
      stages.push_back({{"id", s.id}, {"kind", ir::Name(s.kind)}, {"object", s.object}, {"after", s.after},
                        {"origin", origin(s.origin)}});
    }
    mj["dag"] = stages;
    mj["origin"] = origin(m.origin);
    migrations.push_back(std::move(mj));
  }
  j["migrations"] = migrations;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {
std::string DotEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string EmitDot(const ir::Plan& plan) {
  std::string out = "digraph ferry {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  int cluster = 0;
  for (const ir::Migration& m : plan.migrations) {
    out += fmt::format("  subgraph cluster_{} {{\n    label=\"migration {}\";\n", cluster, DotEscape(m.name));
    for (const ir::Stage& s : m.stages) {
      std::string label = std::string(ir::Name(s.kind));
      if (!s.object.empty()) label += "\n" + s.object;
      out += fmt::format("    m{}_s{} [label=\"{}\"];\n", cluster, s.id, DotEscape(label));
    }
    for (const ir::Stage& s : m.stages) {
      for (int a : s.after) out += fmt::format("    m{}_s{} -> m{}_s{};\n", cluster, a, cluster, s.id);
    }
    out += "  }\n";
    ++cluster;
  }
  out += "}\n";
  return out;
}

}  // namespace ferry
