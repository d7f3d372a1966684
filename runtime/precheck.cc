#include "runtime/precheck.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "runtime/meta.h"
#include "runtime/schema_stage.h"
#include "runtime/sql.h"
#include "runtime/verify/verify.h"

namespace ferry::runtime {

namespace {

using R = CheckItem::Result;
using ir::Engine;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// MySQL's LIKE as grant tables use it for database names: % and _ with \ escapes.
bool LikeMatch(std::string_view p, std::string_view t) {
  if (p.empty()) return t.empty();
  if (p[0] == '%') {
    for (size_t i = 0; i <= t.size(); ++i) {
      if (LikeMatch(p.substr(1), t.substr(i))) return true;
    }
    return false;
  }
  if (t.empty()) return false;
  if (p[0] == '\\' && p.size() > 1) return p[1] == t[0] && LikeMatch(p.substr(2), t.substr(1));
  if (p[0] == '_' || p[0] == t[0]) return LikeMatch(p.substr(1), t.substr(1));
  return false;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string Describe(const Connection& c) {
  const ServerInfo& s = c.server();
  const ConnectOptions& o = c.options();
  std::string engine = c.engine() == Engine::kPostgres ? "PostgreSQL" : s.mariadb ? "MariaDB" : "MySQL";
  return fmt::format("{}: {} {} at {}:{}{} as {}, {}", o.label, engine, s.version, o.host, o.port,
                     o.resolved_from.empty() ? "" : " (resolved from " + o.resolved_from + ")", s.user,
                     s.tls.empty() ? "not encrypted" : "TLS " + s.tls);
}

// The privileges the connected MySQL-family user holds, from information_schema (which
// lists the current user's grants, or everyone's to a user who may read mysql.*).
struct MysqlGrants {
  std::set<std::string> global;
  std::vector<std::pair<std::string, std::string>> schema;  // (LIKE pattern, privilege)
  std::set<std::tuple<std::string, std::string, std::string>> table;

  bool Has(const std::string& priv, const std::string& s, const std::string& t = "") const {
    const bool any = priv != "GRANT OPTION";  // ALL PRIVILEGES holds everything but that
    if (global.count(priv) || (any && global.count("ALL PRIVILEGES"))) return true;
    for (const auto& [pattern, p] : schema) {
      if ((p == priv || (any && p == "ALL PRIVILEGES")) && LikeMatch(pattern, s)) return true;
    }
    return !t.empty() && (table.count({s, t, priv}) > 0 || (any && table.count({s, t, "ALL PRIVILEGES"}) > 0));
  }
};

// One line of SHOW GRANTS into *g: `GRANT SELECT, INSERT ON `db`.* TO …`; a role granted to
// the role (`GRANT `r2` TO …`) is queued.
void AddGrant(const std::string& line, MysqlGrants* g, std::vector<std::string>* roles) {
  if (line.rfind("GRANT ", 0) != 0) return;
  size_t on = line.find(" ON "), to = line.find(" TO ");
  if (to == std::string::npos) return;
  if (on == std::string::npos || on > to) {
    for (const auto& r : BackquotedNames(line.substr(6, to - 6))) roles->push_back(r);
    return;
  }
  std::string privs = line.substr(6, on - 6), object = line.substr(on + 4, to - on - 4);
  std::vector<std::string> list;
  int depth = 0;
  std::string cur;
  for (char ch : privs) {  // INSERT (`a`, `b`) holds commas of its own
    if (ch == '(') ++depth;
    if (ch == ')') --depth;
    if (ch == ',' && depth == 0) {
      list.push_back(cur);
      cur.clear();
      continue;
    }
    cur += ch;
  }
  list.push_back(cur);
  bool grant_option = line.find(" WITH GRANT OPTION") != std::string::npos;
  auto names = BackquotedNames(object);
  for (std::string p : list) {
    while (!p.empty() && p.front() == ' ') p.erase(0, 1);
    if (size_t paren = p.find(" ("); paren != std::string::npos) continue;  // column grants: not enough
    if (p == "ALL PRIVILEGES" || p == "ALL") p = "ALL PRIVILEGES";
    if (object == "*.*") {
      g->global.insert(p);
      if (grant_option) g->global.insert("GRANT OPTION");
    } else if (names.size() == 1) {
      g->schema.emplace_back(names[0], p);
    } else if (names.size() >= 2) {
      g->table.insert({names[0], names[1], p});
    }
  }
}

StatusOr<MysqlGrants> ReadMysqlGrants(Connection& c) {
  MysqlGrants g;
  std::string user = c.server().user;  // user@host
  size_t at = user.rfind('@');
  std::string grantee = at == std::string::npos
                            ? QuoteLiteral(c.engine(), "'" + user + "'")
                            : QuoteLiteral(c.engine(), "'" + user.substr(0, at) + "'@'" + user.substr(at + 1) + "'");
  FERRY_ASSIGN_OR_RETURN(auto u, c.Query("SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = " + grantee));
  for (auto& r : u.rows) {
    g.global.insert(r[0].value_or(""));
    if (r[1] == "YES") g.global.insert("GRANT OPTION");  // WITH GRANT OPTION is a flag, not a row
  }
  FERRY_ASSIGN_OR_RETURN(auto s, c.Query("SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = " + grantee));
  for (auto& r : s.rows) g.schema.emplace_back(r[0].value_or(""), r[1].value_or(""));
  FERRY_ASSIGN_OR_RETURN(auto t, c.Query("SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = " + grantee));
  for (auto& r : t.rows) g.table.insert({r[0].value_or(""), r[1].value_or(""), r[2].value_or("")});
  // information_schema leaves out what the session's active roles grant: read their GRANTs.
  auto role = c.Query("SELECT CURRENT_ROLE()");
  if (role.ok() && !role->rows.empty() && role->rows[0][0] && *role->rows[0][0] != "NONE") {
    std::vector<std::string> pending, seen;
    std::string roles = *role->rows[0][0];  // MariaDB: r; MySQL 8: `r`@`%`,`s`@`%`
    for (size_t start = 0; start <= roles.size();) {
      size_t comma = roles.find(',', start);
      pending.push_back(roles.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    while (!pending.empty() && seen.size() < 32) {
      std::string r = pending.back();
      pending.pop_back();
      if (std::find(seen.begin(), seen.end(), r) != seen.end()) continue;
      seen.push_back(r);
      std::string who = r.find('`') != std::string::npos ? r : QuoteIdent(c.engine(), r);
      auto grants = c.Query("SHOW GRANTS FOR " + who);
      if (!grants.ok()) continue;
      for (const auto& row : grants->rows) AddGrant(row[0].value_or(""), &g, &pending);
    }
  }
  return g;
}

class Prechecker {
 public:
  explicit Prechecker(MigrationContext& ctx) : ctx_(ctx), m_(*ctx.migration) {}

  PrecheckReport Run() {
    report_.migration = m_.name;
    const char* source_unresolved = Cloud(ctx_.source, "P105", "P107", "source");
    const char* destination_unresolved = Cloud(ctx_.destination, "P106", "P108", "destination");
    Connectivity(ctx_.source, "P101", "source", source_unresolved);
    Connectivity(ctx_.destination, "P102", "destination", destination_unresolved);
    if (ctx_.source.conn) Version(*ctx_.source.conn, "P103", "source", m_.from_engine);
    if (ctx_.destination.conn) Version(*ctx_.destination.conn, "P104", "destination", m_.to_engine);
    if (ctx_.source.conn) {
      if (!ctx_.source.catalog_status.ok()) {
        Item("P135", "source: catalog readable", R::kFailure, ctx_.source.catalog_status.ToString(),
             "grant the source user SELECT on the schemas to migrate (and SHOW VIEW / USAGE as the privileges item says)");
      } else {
        SourcePrivileges();
        if (m_.Has(ir::MigrationType::kIncremental)) ServerSettings();
        Mapping();
        Keys();
        Filters();
      }
    }
    if (ctx_.destination.conn && ctx_.source.conn && ctx_.source.catalog_status.ok()) {
      if (!ctx_.destination.catalog_status.ok()) {
        Item("P136", "destination: catalog readable", R::kFailure, ctx_.destination.catalog_status.ToString(),
             "grant the destination user access to the destination schemas");
      } else {
        DestinationPrivileges();
        ExistingTables();
        if (Schema()) {
          ObjectsInTheWay();
          DestinationTypes();
          BinlogTrust();
        }
      }
    }
    if (m_.accounts) Accounts();
    return std::move(report_);
  }

 private:
  CheckItem& Item(std::string code, std::string title, R result, std::string detail, std::string hint = "",
                  std::string loc = "") {
    report_.items.push_back({std::move(code), std::move(title), result, std::move(detail),
                             result == R::kPass ? "" : std::move(hint), loc.empty() ? m_.origin.loc : std::move(loc)});
    return report_.items.back();
  }

  bool Schema() const { return m_.Has(ir::MigrationType::kSchema); }
  bool Full() const { return m_.Has(ir::MigrationType::kFull); }
  bool Incremental() const { return m_.Has(ir::MigrationType::kIncremental); }

  // An endpoint given by `instance`: the role assumed (when the instance is another
  // account's) and the address the cloud API gave for it. Returns the code of the item that
  // failed, or nullptr.
  const char* Cloud(const Side& side, const char* role_code, const char* address_code, const char* which) {
    if (!side.resolution) return nullptr;
    const cloud::Resolution& r = *side.resolution;
    const ir::Endpoint& e = *side.endpoint;
    if (!r.role_arn.empty()) {
      std::string title = fmt::format("{}: role {} assumable", which, r.role_arn.substr(r.role_arn.rfind('/') + 1));
      if (r.role_error) {
        Item(role_code, title, R::kFailure, r.role_error->status.message(), r.role_error->hint, r.role_error->loc);
        return role_code;  // the address cannot be asked for without the role
      }
      Item(role_code, title, R::kPass,
           fmt::format("assumed {} as session {}; its credentials last until {} and are renewed before then",
                       r.role_arn, r.session, cloud::IsoTimestamp(r.expires)),
           "", e.origin.loc);
    }
    std::string title = fmt::format("{}: instance {} resolvable", which, e.instance);
    if (r.address_error) {
      Item(address_code, title, R::kFailure, r.address_error->status.message(), r.address_error->hint,
           r.address_error->loc);
      return address_code;
    }
    Item(address_code, title, R::kPass,
         fmt::format("{}:{}, its {} address in {}{}", r.host, r.port, r.ip_type, e.region,
                     r.stale ? " (last known: the cloud API did not answer)" : ""),
         "", e.origin.loc);
    return nullptr;
  }

  // `unresolved`: the item that says why the endpoint's instance has no address, if it has none.
  void Connectivity(const Side& side, const char* code, const char* which, const char* unresolved) {
    std::string title = fmt::format("{}: connection and authentication", which);
    std::string loc = side.endpoint != nullptr ? side.endpoint->origin.loc : "";
    if (side.conn) {
      Item(code, title, R::kPass, Describe(*side.conn), "", loc);
      return;
    }
    if (unresolved != nullptr) {
      Item(code, title, R::kFailure,
           fmt::format("not tried: instance {} has no address yet ({} says why)", side.endpoint->instance,
                       unresolved),
           "", loc);
      return;
    }
    Item(code, title, R::kFailure, side.connect.ToString(), "", loc);
  }

  void Version(Connection& c, const char* code, const char* which, Engine planned) {
    const ServerInfo& s = c.server();
    std::string title = fmt::format("{}: engine and version", which);
    std::string loc = c.engine() == m_.from_engine && std::string(which) == "source"
                          ? ctx_.source.endpoint->origin.loc
                          : ctx_.destination.endpoint->origin.loc;
    if (c.engine() == Engine::kPostgres) {
      if (s.major < 10) {
        Item(code, title, R::kFailure, "PostgreSQL " + s.version + " is older than 10",
             "Ferry needs PostgreSQL 10 or later (identity columns, logical replication)", loc);
      } else if (m_.verify && m_.verify->mode != ir::VerifyMode::kCount && VerifyPgMajor(c) < kVerifyMinPgMajor) {
        Item(code, title, R::kFailure,
             fmt::format("PostgreSQL {} is older than {}, which the plan's verify stage (mode = {}) needs",
                         s.version, kVerifyMinPgMajor, m_.verify->mode == ir::VerifyMode::kRows ? "rows" : "checksum"),
             fmt::format("verify with mode = count, or against PostgreSQL {} or later: checksum and rows compare values "
                         "as it prints them (trim_scale, floats at their shortest digits)",
                         kVerifyMinPgMajor),
             m_.verify->origin.loc);
      } else {
        Item(code, title, R::kPass, "PostgreSQL " + s.version, "", loc);
      }
      return;
    }
    std::string found = (s.mariadb ? "MariaDB " : "MySQL ") + s.version;
    if ((s.mariadb && (s.major < 10 || (s.major == 10 && s.minor < 2))) || (!s.mariadb && (s.major < 5 || (s.major == 5 && s.minor < 7)))) {
      Item(code, title, R::kFailure, found + " is too old",
           "Ferry needs MariaDB 10.2+ or MySQL 5.7+ (information_schema defaults, JSON, generated columns)", loc);
      return;
    }
    if (s.mariadb && planned == Engine::kMysql) {
      Item(code, title, R::kWarning, found + ", but the plan says engine = mysql",
           "set engine = mariadb on the endpoint so that the MariaDB type map applies", loc);
    } else if (!s.mariadb && planned == Engine::kMariadb) {
      Item(code, title, R::kWarning, found + ", but the plan says engine = mariadb",
           "set engine = mysql on the endpoint so that the MySQL type map applies", loc);
    } else {
      Item(code, title, R::kPass, found, "", loc);
    }
  }

  // ---- privileges ----------------------------------------------------------------------

  void SourcePrivileges() {
    Connection& c = *ctx_.source.conn;
    std::string title = "source: privileges for " + StagedTypes();
    std::string loc = ctx_.source.endpoint->origin.loc;
    std::vector<std::string> missing;
    std::string hint;
    if (ir::IsMysqlFamily(c.engine())) {
      auto g = ReadMysqlGrants(c);
      if (!g.ok()) {
        Item("P110", title, R::kWarning, "cannot read the grants: " + g.status().ToString(),
             "check the privileges by hand against docs/precheck.md", loc);
        return;
      }
      std::set<std::string> schemas_without_select;
      for (const auto& t : ctx_.selection.tables) {
        if (!g->Has("SELECT", t.source->schema, t.source->name)) schemas_without_select.insert(t.source->schema);
      }
      for (const auto& s : schemas_without_select) missing.push_back("SELECT on `" + s + "`");
      bool views = false;
      for (const auto& s : ctx_.selection.schemas) {
        if (s.whole && !s.source->views.empty() && !g->Has("SHOW VIEW", s.source->name)) views = true;
      }
      if (views && Schema()) missing.push_back("SHOW VIEW");
      if (Incremental()) {
        if (!g->Has("REPLICATION SLAVE", "")) missing.push_back("REPLICATION SLAVE");
        if (!g->Has("REPLICATION CLIENT", "") && !g->Has("BINLOG MONITOR", "")) missing.push_back("REPLICATION CLIENT");
      }
      std::string user = c.server().user;
      size_t at = user.rfind('@');
      std::string to = at == std::string::npos ? user : "'" + user.substr(0, at) + "'@'" + user.substr(at + 1) + "'";
      std::vector<std::string> privs, globals;
      for (const auto& s : schemas_without_select) privs.push_back(fmt::format("GRANT SELECT ON `{}`.* TO {};", s, to));
      for (const auto& p : missing) {
        if (p.rfind("SELECT on", 0) != 0) globals.push_back(p);
      }
      if (!globals.empty()) privs.push_back(fmt::format("GRANT {} ON *.* TO {};", Join(globals), to));
      hint = "as a privileged user run: " + Join(privs, " ");
    } else {
      std::vector<std::string> schemas;
      for (const auto& s : ctx_.selection.schemas) schemas.push_back(QuoteLiteral(Engine::kPostgres, s.source->name));
      if (!schemas.empty()) {
        auto r = c.Query(fmt::format(
            "SELECT n.nspname, c.relname, has_schema_privilege(n.oid, 'USAGE'), has_table_privilege(c.oid, 'SELECT') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND "
            "n.nspname IN ({})",
            Join(schemas)));
        if (!r.ok()) {
          Item("P110", title, R::kWarning, "cannot read the privileges: " + r.status().ToString(), "", loc);
          return;
        }
        std::set<std::string> usage, select;
        for (const auto& row : r->rows) {
          std::string s = row[0].value_or(""), t = row[1].value_or("");
          if (!ctx_.selection.FindSource(s, t)) continue;
          if (row[2] != "t") usage.insert(s);
          else if (row[3] != "t") select.insert(s + "." + t);
        }
        std::vector<std::string> grants;
        for (const auto& s : usage) {
          missing.push_back("USAGE on schema " + s);
          grants.push_back(fmt::format("GRANT USAGE ON SCHEMA {} TO {}; GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {};",
                                       QuoteIdent(Engine::kPostgres, s), QuoteIdent(Engine::kPostgres, c.server().user),
                                       QuoteIdent(Engine::kPostgres, s), QuoteIdent(Engine::kPostgres, c.server().user)));
        }
        if (!select.empty()) {
          std::vector<std::string> v(select.begin(), select.end());
          if (v.size() > 5) {
            v.resize(5);
            v.push_back("…");
          }
          missing.push_back("SELECT on " + Join(v));
          grants.push_back("GRANT SELECT ON <those tables> TO " + QuoteIdent(Engine::kPostgres, c.server().user) + ";");
        }
        hint = "as the owner or a superuser run: " + Join(grants, " ");
      }
      if (Incremental()) {
        auto r = c.Query("SELECT rolreplication OR rolsuper, has_database_privilege(current_database(), 'CREATE') "
                         "FROM pg_roles WHERE rolname = current_user");
        if (r.ok() && !r->rows.empty()) {
          if (r->rows[0][0] != "t") {
            missing.push_back("REPLICATION");
            hint += fmt::format(" ALTER ROLE {} REPLICATION;", QuoteIdent(Engine::kPostgres, c.server().user));
          }
          if (r->rows[0][1] != "t") {
            missing.push_back("CREATE on the database (for the publication)");
            hint += " GRANT CREATE ON DATABASE <db> TO " + QuoteIdent(Engine::kPostgres, c.server().user) + ";";
          }
        }
      }
    }
    if (missing.empty()) {
      Item("P110", title, R::kPass, "the source user " + c.server().user + " holds every privilege needed", "", loc);
    } else {
      Item("P110", title, R::kFailure, "the source user " + c.server().user + " lacks " + Join(missing), hint, loc);
    }
  }

  std::string StagedTypes() const {
    std::vector<std::string> v;
    if (Schema()) v.push_back("schema");
    if (Full()) v.push_back("full");
    if (Incremental()) v.push_back("incremental");
    return Join(v, ", ") + " migration";
  }

  void DestinationPrivileges() {
    Connection& c = *ctx_.destination.conn;
    std::string title = "destination: privileges for " + StagedTypes();
    std::string loc = ctx_.destination.endpoint->origin.loc;
    std::vector<std::string> missing;
    std::string hint;
    std::set<std::string> dst_schemas;
    for (const auto& s : ctx_.selection.schemas) dst_schemas.insert(s.dst);
    if (ir::IsMysqlFamily(c.engine())) {
      auto g = ReadMysqlGrants(c);
      if (!g.ok()) {
        Item("P111", title, R::kWarning, "cannot read the grants: " + g.status().ToString(), "", loc);
        return;
      }
      std::vector<std::string> need;
      if (Schema()) {
        need = {"CREATE", "ALTER", "INDEX", "REFERENCES"};
        bool views = false, routines = false, triggers = false, events = false;
        for (const auto& d : ctx_.ddl.statements) {
          views |= d.kind == "view";
          routines |= d.kind == "routine";
          triggers |= d.kind == "trigger";
          events |= d.kind == "event";
        }
        if (views) need.insert(need.end(), {"CREATE VIEW", "SELECT"});  // a view's creator reads its tables
        if (routines) need.insert(need.end(), {"CREATE ROUTINE", "ALTER ROUTINE"});
        if (triggers) need.push_back("TRIGGER");
        if (events) need.push_back("EVENT");
      }
      if (Full() || Incremental()) need.insert(need.end(), {"SELECT", "INSERT", "UPDATE", "DELETE"});
      std::map<std::string, std::vector<std::string>> lacking;  // privilege → schemas
      for (const auto& s : dst_schemas) {
        for (const auto& p : need) {
          if (!g->Has(p, s)) lacking[p].push_back(s);
        }
      }
      // Run state lives in ferry_meta (meta.h).
      for (const char* p : {"CREATE", "SELECT", "INSERT", "UPDATE", "DELETE"}) {
        if (!g->Has(p, kMetaSchema)) lacking[p].push_back(kMetaSchema);
      }
      std::string user = c.server().user;
      size_t at = user.rfind('@');
      std::string to = at == std::string::npos ? user : "'" + user.substr(0, at) + "'@'" + user.substr(at + 1) + "'";
      std::set<std::string> schemas;
      std::vector<std::string> privs;
      for (const auto& [p, ss] : lacking) {
        missing.push_back(p + " on " + Join(ss));
        privs.push_back(p);
        schemas.insert(ss.begin(), ss.end());
      }
      std::vector<std::string> grants;
      for (const auto& s : schemas) grants.push_back(fmt::format("GRANT {} ON `{}`.* TO {};", Join(privs), s, to));
      hint = "as a privileged user run: " + Join(grants, " ");
    } else {
      std::vector<std::string> grants;
      std::string me = QuoteIdent(Engine::kPostgres, c.server().user);
      for (const auto& s : dst_schemas) {
        bool exists = std::find(ctx_.destination.schemas.begin(), ctx_.destination.schemas.end(), s) !=
                      ctx_.destination.schemas.end();
        std::string sql = exists ? fmt::format("SELECT has_schema_privilege({0}, 'USAGE'), has_schema_privilege({0}, 'CREATE')",
                                               QuoteLiteral(Engine::kPostgres, s))
                                 : "SELECT true, has_database_privilege(current_database(), 'CREATE')";
        auto r = c.Query(sql);
        if (!r.ok() || r->rows.empty()) continue;
        bool usage = r->rows[0][0] == "t", create = r->rows[0][1] == "t";
        if (!exists && Schema() && !create) {
          missing.push_back("CREATE on the database (to create schema " + s + ")");
          grants.push_back("GRANT CREATE ON DATABASE " + QuoteIdent(Engine::kPostgres, c.options().database) + " TO " + me + ";");
        }
        if (exists && !usage) {
          missing.push_back("USAGE on schema " + s);
          grants.push_back("GRANT USAGE ON SCHEMA " + QuoteIdent(Engine::kPostgres, s) + " TO " + me + ";");
        }
        if (exists && Schema() && !create) {
          missing.push_back("CREATE on schema " + s);
          grants.push_back("GRANT CREATE ON SCHEMA " + QuoteIdent(Engine::kPostgres, s) + " TO " + me + ";");
        }
      }
      auto meta = c.Query(
          "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ferry_meta'), "
          "has_database_privilege(current_database(), 'CREATE'), "
          "CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ferry_meta') "
          "THEN has_schema_privilege('ferry_meta', 'USAGE') AND has_schema_privilege('ferry_meta', 'CREATE') END");
      if (meta.ok() && !meta->rows.empty()) {
        const Row& row = meta->rows[0];
        if (row[0] != "t" && row[1] != "t") {
          missing.push_back("CREATE on the database (for Ferry's state schema ferry_meta)");
          grants.push_back("GRANT CREATE ON DATABASE " + QuoteIdent(Engine::kPostgres, c.options().database) + " TO " + me + ";");
        } else if (row[0] == "t" && row[2] != "t") {
          missing.push_back("USAGE, CREATE on schema ferry_meta");
          grants.push_back("GRANT USAGE, CREATE ON SCHEMA ferry_meta TO " + me + ";");
        }
      }
      if (Full() || Incremental()) {
        for (const auto& t : ctx_.selection.tables) {
          if (!ctx_.DestinationHasTable(t.dst_schema, t.dst_table)) continue;
          // has_table_privilege with a list is true when *any* is held: one call each.
          std::string rel = QuoteLiteral(Engine::kPostgres, QuoteName(Engine::kPostgres, t.dst_schema, t.dst_table));
          auto r = c.Query(fmt::format(
              "SELECT has_table_privilege({0}, 'INSERT') AND has_table_privilege({0}, 'UPDATE') AND "
              "has_table_privilege({0}, 'DELETE') AND has_table_privilege({0}, 'SELECT')",
              rel));
          if (r.ok() && !r->rows.empty() && r->rows[0][0] != "t") {
            missing.push_back("INSERT, UPDATE, DELETE, SELECT on " + t.dst_schema + "." + t.dst_table);
          }
        }
      }
      hint = "as the owner or a superuser run: " + Join(grants, " ");
    }
    if (missing.empty()) {
      Item("P111", title, R::kPass, "the destination user " + c.server().user + " holds every privilege needed", "", loc);
    } else {
      Item("P111", title, R::kFailure, "the destination user " + c.server().user + " lacks " + Join(missing), hint, loc);
    }
  }

  // ---- server settings for incremental migration -----------------------------------------

  void ServerSettings() {
    Connection& c = *ctx_.source.conn;
    std::string loc = ctx_.source.endpoint->origin.loc;
    if (ir::IsMysqlFamily(c.engine())) {
      auto r = c.Query("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', "
                       "'server_id', 'binlog_row_metadata', 'gtid_mode')");
      if (!r.ok()) {
        Item("P120", "source: binary log enabled", R::kFailure, "cannot read the server settings: " + r.status().ToString(),
             "", loc);
        return;
      }
      std::map<std::string, std::string> v;
      for (const auto& row : r->rows) v[row[0].value_or("")] = Upper(row[1].value_or(""));
      bool on = v["log_bin"] == "ON" || v["log_bin"] == "1";
      Item("P120", "source: binary log enabled", on ? R::kPass : R::kFailure,
           on ? "log_bin = ON" : "the binary log is off (log_bin = OFF): incremental migration reads it",
           "start the server with --log-bin (on RDS: enabled by default; check the backup settings) and restart it", loc);
      Item("P121", "source: binlog_format = ROW", v["binlog_format"] == "ROW" ? R::kPass : R::kFailure,
           "binlog_format = " + v["binlog_format"],
           "SET GLOBAL binlog_format = 'ROW' (and set it in the server's configuration so that it survives a restart)", loc);
      Item("P122", "source: binlog_row_image = FULL", v["binlog_row_image"] == "FULL" ? R::kPass : R::kFailure,
           "binlog_row_image = " + v["binlog_row_image"],
           "SET GLOBAL binlog_row_image = 'FULL' (and in the configuration): changes must carry whole rows", loc);
      bool id = !v["server_id"].empty() && v["server_id"] != "0";
      Item("P123", "source: server_id set", id ? R::kPass : R::kFailure, "server_id = " + v["server_id"],
           "set server_id to a non-zero value unique among your servers", loc);
      if (v.count("binlog_row_metadata")) {
        Item("P124", "source: binlog_row_metadata = FULL", v["binlog_row_metadata"] == "FULL" ? R::kPass : R::kWarning,
             "binlog_row_metadata = " + v["binlog_row_metadata"],
             "SET GLOBAL binlog_row_metadata = 'FULL' so that change events carry column names; without it Ferry "
             "reads them from the catalog, which a concurrent ALTER TABLE can make stale",
             loc);
      }
      return;
    }
    auto r = c.Query(
        "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int, "
        "(SELECT count(*) FROM pg_replication_slots), current_setting('max_wal_senders')::int, "
        "(SELECT count(*) FROM pg_stat_replication)");
    if (!r.ok() || r->rows.empty()) {
      Item("P125", "source: wal_level = logical", R::kFailure,
           "cannot read the server settings: " + r.status().ToString(), "", loc);
      return;
    }
    const Row& row = r->rows[0];
    std::string level = row[0].value_or("");
    Item("P125", "source: wal_level = logical", level == "logical" ? R::kPass : R::kFailure, "wal_level = " + level,
         "ALTER SYSTEM SET wal_level = logical; then restart the server (on RDS: set the parameter and restart)", loc);
    int slots = std::stoi(row[1].value_or("0")), used = std::stoi(row[2].value_or("0"));
    Item("P126", "source: a free replication slot", slots > used ? R::kPass : R::kFailure,
         fmt::format("max_replication_slots = {}, {} in use", slots, used),
         "raise max_replication_slots (restart needed), or drop slots nobody uses: "
         "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active",
         loc);
    int senders = std::stoi(row[3].value_or("0")), busy = std::stoi(row[4].value_or("0"));
    Item("P127", "source: a free WAL sender", senders > busy ? R::kPass : R::kFailure,
         fmt::format("max_wal_senders = {}, {} in use", senders, busy),
         "raise max_wal_senders (restart needed)", loc);
  }

  // ---- objects -----------------------------------------------------------------------------

  void Mapping() {
    int errors = 0;
    for (const auto& p : ctx_.selection.problems) {
      if (p.severity == Problem::Severity::kError) {
        ++errors;
        Item("P130", "objects: " + p.object, R::kFailure, fmt::format("[{}] {}", p.code, p.message), p.hint, p.loc);
      } else if (p.severity == Problem::Severity::kWarning) {
        Item("P130", "objects: " + p.object, R::kWarning, fmt::format("[{}] {}", p.code, p.message), p.hint, p.loc);
      }
    }
    for (const auto& p : ctx_.ddl.problems) {
      if (p.severity == Problem::Severity::kError) {
        ++errors;
        Item("P130", "objects: " + p.object, R::kFailure, fmt::format("[{}] {}", p.code, p.message), p.hint, p.loc);
      } else if (m_.assessment) {
        Item("P150", "assessment: " + p.object, R::kInfo, fmt::format("[{}] {}", p.code, p.message), p.hint, p.loc);
      }
    }
    if (errors == 0) {
      size_t cols = 0;
      for (const auto& t : ctx_.selection.tables) cols += t.columns.size();
      R r = ctx_.selection.tables.empty() ? R::kFailure : R::kPass;
      Item("P130", "objects: selection and type mapping", r,
           r == R::kPass ? fmt::format("{} tables in {} schemas selected; {} columns mapped through {}",
                                       ctx_.selection.tables.size(), ctx_.selection.schemas.size(), cols, m_.typemap)
                         : "the plan's object rules select no table of the source",
           "check the objects block against the source's schemas: " + Join(ctx_.source.schemas));
    }
  }

  void Keys() {
    std::vector<std::string> keyless;
    for (const auto& t : ctx_.selection.tables) {
      if (t.source->ChunkKey() == nullptr) keyless.push_back(t.source->schema + "." + t.source->name);
    }
    if (keyless.empty()) {
      Item("P133", "source: tables have a primary or unique key", R::kPass, "every selected table has one");
      return;
    }
    std::string list = Join(keyless);
    if (Incremental()) {
      Item("P133", "source: tables have a primary or unique key", R::kWarning,
           "without a primary or NOT NULL unique key: " + list +
               "; changes to them cannot be matched to one destination row, so an update or delete may hit "
               "several identical rows",
           "add a primary key to those tables before migrating, or exclude them");
    } else {
      Item("P133", "source: tables have a primary or unique key", R::kInfo,
           "without a primary or NOT NULL unique key: " + list +
               "; they are copied in one piece, and a resumed load copies such a table again from the start");
    }
  }

  void Filters() {
    Connection& c = *ctx_.source.conn;
    int count = 0;
    for (const auto& t : ctx_.selection.tables) {
      if (t.where.empty()) continue;
      ++count;
      // Planned, never run: EXPLAIN on a read-only session; one statement only (a `;` that
      // tries to add another is an error in both connectors).
      std::string sql = fmt::format("EXPLAIN SELECT 1 FROM {} WHERE ({})",
                                    QuoteName(c.engine(), t.source->schema, t.source->name), t.where);
      auto r = c.Query(sql);
      std::string title = "source: filter on " + t.source->schema + "." + t.source->name;
      if (r.ok()) {
        Item("P134", title, R::kPass, "`" + t.where + "` is valid " + std::string(ir::Name(c.engine())) + " SQL", "", t.loc);
      } else {
        Item("P134", title, R::kFailure, "`" + t.where + "` does not plan on the source: " + r.status().ToString(),
             "write `where` as one " + std::string(ir::Name(c.engine())) + " boolean expression over the table's columns",
             t.loc);
      }
    }
    (void)count;
  }

  void ExistingTables() {
    std::vector<std::string> existing, missing, resumed;
    std::vector<std::string> missing_cols;
    for (const auto& t : ctx_.selection.tables) {
      const Table* d = ctx_.destination.catalog.FindTable(t.dst_schema, t.dst_table);
      std::string name = t.dst_schema + "." + t.dst_table;
      if (d != nullptr && Schema() && ctx_.Ours("table " + name)) {
        resumed.push_back(name);
      } else if (d != nullptr) {
        existing.push_back(name);
        if (!Schema()) {
          for (const auto& c : t.columns) {
            if (d->FindColumn(c.name) == nullptr) missing_cols.push_back(name + "." + c.name);
          }
        }
      } else {
        missing.push_back(name);
      }
    }
    if (Schema()) {
      std::string title = "destination: tables that already exist";
      std::string ours = resumed.empty() ? ""
                         : fmt::format("; {} created by an earlier run of migration {} (ferry_meta): resumed",
                                       Join(resumed), m_.name);
      if (existing.empty()) {
        Item("P131", title, R::kPass,
             resumed.empty() ? "none of the destination tables exists yet" : "no table of anyone else is in the way" + ours);
      } else if (m_.conflicts == ir::Conflicts::kReport) {
        Item("P131", title, R::kFailure, "already in the destination: " + Join(existing) + " (conflicts = report)" + ours,
             "drop or rename them in the destination, map the tables to other names in the plan, or set "
             "conflicts = ignore to keep them and their rows (a source row whose key they already hold is skipped)");
      } else {
        Item("P131", title, R::kWarning,
             "already in the destination: " + Join(existing) +
                 "; they are kept as they are, and a source row whose key they hold is skipped (conflicts = ignore)",
             "make sure their columns match the source, or the load fails");
      }
    } else {
      std::string title = "destination: tables exist (schema is not staged)";
      if (missing.empty() && missing_cols.empty()) {
        Item("P132", title, R::kPass, "every destination table exists");
      } else {
        std::string detail;
        if (!missing.empty()) detail = "missing in the destination: " + Join(missing);
        if (!missing_cols.empty()) detail += (detail.empty() ? "" : "; ") + std::string("missing columns: ") + Join(missing_cols);
        Item("P132", title, R::kFailure, detail,
             "create them in the destination first, map the objects to the names that exist, or add schema to stages");
      }
    }
  }

  // Names the schema stages will create that the destination already uses for something else
  // (P131 covers tables). PostgreSQL relations — tables, views, sequences, indexes — share one
  // namespace per schema; MySQL foreign keys, triggers, routines and events are per schema.
  void ObjectsInTheWay() {
    const Catalog& d = ctx_.destination.catalog;
    std::vector<std::string> taken, kept;
    bool pg = m_.to_engine == Engine::kPostgres;
    for (const auto& st : ctx_.ddl.statements) {
      // A primary key made of an index: the index's statement stands for the name.
      if (st.kind == "schema" || st.kind == "table" || st.kind == "comment" || st.kind == "sequence reset" ||
          st.kind == "account" || st.kind == "primary key" || st.kind == "table setting" || ctx_.Ours(st.Object())) {
        continue;
      }
      const ::ferry::runtime::Schema* s = d.FindSchema(st.dst_schema);
      if (s == nullptr) continue;
      // An object of a table that already exists (conflicts = ignore) is that table's own.
      if (!st.dst_table.empty() && s->FindTable(st.dst_table) != nullptr && !ctx_.Ours("table " + st.dst_schema + "." + st.dst_table)) {
        continue;
      }
      bool clash = DestinationHas(ctx_, st);
      if (!clash && pg && (st.kind == "index" || st.kind == "view" || st.kind == "sequence" || st.kind == "type")) {
        // Relations share one namespace; a table, view or sequence also names a type (its row type).
        clash = s->FindTable(st.name) != nullptr || s->FindView(st.name) != nullptr;
        for (const auto& q : s->sequences) clash |= q.name == st.name;
        for (const auto& t : s->tables) {
          for (const auto& i : t.indexes) clash |= i.name == st.name && st.kind != "type";
        }
      }
      if (!clash && !pg && st.kind == "foreign key") {
        for (const auto& t : s->tables) {
          for (const auto& fk : t.foreign_keys) clash |= fk.name == st.name;
        }
      }
      if (!clash && !pg && st.kind == "view") clash = s->FindTable(st.name) != nullptr;
      if (clash) (m_.conflicts == ir::Conflicts::kIgnore ? kept : taken).push_back(st.Object());
    }
    std::string title = "destination: other objects in the way";
    if (!taken.empty()) {
      Item("P137", title, R::kFailure,
           "the destination already has objects with the names of: " + Join(taken) + " (conflicts = report)",
           "drop or rename them in the destination, or set conflicts = ignore to keep them (the objects of "
           "the same name are then not created)");
    } else if (!kept.empty()) {
      Item("P137", title, R::kWarning, "kept as they are, not created (conflicts = ignore): " + Join(kept),
           "check that what the destination has does what the source's objects do");
    } else {
      Item("P137", title, R::kPass, "no destination object uses a name the schema stages create");
    }
  }

  // Into PostgreSQL, the type of every column the schema stage creates must exist in the
  // destination database: PostGIS's geometry (where the type map puts MySQL's spatial types),
  // an extension's type that a PostgreSQL source uses (citext, hstore), a type an override
  // names. Without this check the CREATE TABLE fails in the schema stage, after precheck said
  // yes. The types Ferry creates itself, and tables kept as they are, are left out.
  void DestinationTypes() {
    if (m_.to_engine != Engine::kPostgres) return;
    std::set<std::string> created;
    for (const auto& tm : ctx_.selection.types) created.insert(QuoteName(Engine::kPostgres, tm.dst_schema, tm.source->name));
    std::map<std::string, std::vector<std::string>> columns_of;  // destination type -> its columns
    for (const auto& t : ctx_.selection.tables) {
      if (ctx_.destination.catalog.FindTable(t.dst_schema, t.dst_table) != nullptr) continue;
      for (const auto& c : t.columns) {
        std::string element = c.type;
        while (element.size() > 2 && element.compare(element.size() - 2, 2, "[]") == 0) element.resize(element.size() - 2);
        if (created.count(element) == 0) columns_of[c.type].push_back(t.dst_schema + "." + t.dst_table + "." + c.name);
      }
    }
    Connection& c = *ctx_.destination.conn;
    std::vector<std::string> missing, hints;
    for (const auto& [type, cols] : columns_of) {
      // to_regtype gives NULL for a type that does not exist; before PostgreSQL 16 it raises
      // an error for a name that does not parse, which is as much a missing type.
      auto r = c.Query("SELECT to_regtype(" + QuoteLiteral(Engine::kPostgres, type) + ") IS NOT NULL");
      if (r.ok() && !r->rows.empty() && r->rows[0][0] == "t") continue;
      if (!r.ok() && r.status().code() == Code::kUnavailable) return;  // the connection item says it
      std::string shown = cols.size() <= 3 ? Join(cols) : Join({cols[0], cols[1], cols[2]}) + fmt::format(" and {} more", cols.size() - 3);
      missing.push_back(fmt::format("{} (column{} {})", type, cols.size() == 1 ? "" : "s", shown));
      std::string name = type.substr(0, type.find_first_of("(["));
      if (size_t dot = name.rfind('.'); dot != std::string::npos) name.erase(0, dot + 1);
      name.erase(std::remove(name.begin(), name.end(), '"'), name.end());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (const char* ext = ExtensionOf(name)) {
        std::string h = fmt::format("{} comes from the {} extension: CREATE EXTENSION {} in database {}", name, ext, ext,
                                    ctx_.destination.endpoint->database);
        if (std::find(hints.begin(), hints.end(), h) == hints.end()) hints.push_back(h);
      }
    }
    std::string title = "destination: column types exist";
    if (missing.empty()) {
      Item("P138", title, R::kPass, "every column type the tables are created with exists in the destination");
      return;
    }
    hints.push_back(
        "or give the columns a type the destination has in the plan (column NAME { type = \"...\" }; "
        "\"bytea\" keeps a spatial value's bytes as MySQL stores them: SRID, then WKB)");
    Item("P138", title, R::kFailure, "the destination database has no type " + Join(missing, "; "), Join(hints, "; "));
  }

  // The extension that provides a well-known type that is not built into PostgreSQL.
  static const char* ExtensionOf(const std::string& type) {
    static const std::map<std::string, const char*> kKnown = {
        {"geometry", "postgis"}, {"geography", "postgis"}, {"box2d", "postgis"}, {"box3d", "postgis"},
        {"citext", "citext"},    {"hstore", "hstore"},     {"ltree", "ltree"},   {"lquery", "ltree"},
        {"cube", "cube"},        {"seg", "seg"},           {"isbn", "isn"},      {"issn", "isn"},
        {"ean13", "isn"},        {"vector", "vector"},
    };
    auto it = kKnown.find(type);
    return it == kKnown.end() ? nullptr : it->second;
  }

  // A MySQL-family destination that writes a binary log refuses routines and triggers from a
  // user without SUPER unless log_bin_trust_function_creators is on (errors 1418/1419).
  void BinlogTrust() {
    if (!ir::IsMysqlFamily(m_.to_engine)) return;
    bool bodies = false;
    for (const auto& st : ctx_.ddl.statements) bodies |= st.kind == "routine" || st.kind == "trigger";
    if (!bodies) return;
    Connection& c = *ctx_.destination.conn;
    auto r = c.Query("SELECT @@GLOBAL.log_bin, @@GLOBAL.log_bin_trust_function_creators");
    auto g = ReadMysqlGrants(c);
    if (!r.ok() || r->rows.empty() || !g.ok()) return;
    bool binlog = r->rows[0][0] == "1", trust = r->rows[0][1] == "1";
    std::string title = "destination: routines and triggers may be created";
    if (!binlog || trust || g->Has("SUPER", "")) {
      Item("P112", title, R::kPass,
           !binlog ? "the destination writes no binary log"
                   : trust ? "log_bin_trust_function_creators = ON" : "the destination user has SUPER",
           "", ctx_.destination.endpoint->origin.loc);
      return;
    }
    Item("P112", title, R::kFailure,
         "the destination writes a binary log and log_bin_trust_function_creators is OFF: without SUPER, "
         "creating the routines and triggers fails",
         "SET GLOBAL log_bin_trust_function_creators = 1 (on a managed service: in its parameter group)",
         ctx_.destination.endpoint->origin.loc);
  }

  void Accounts() {
    std::string title = "accounts: privileges to migrate database accounts";
    if (!ir::IsMysqlFamily(m_.from_engine) || !ir::IsMysqlFamily(m_.to_engine)) {
      Item("P140", title, R::kFailure, "accounts = true needs MySQL-family endpoints on both sides",
           "remove accounts = true, and create the accounts in the destination by hand");
      return;
    }
    std::vector<std::string> missing, unreadable;
    if (ctx_.source.conn) {
      auto g = ReadMysqlGrants(*ctx_.source.conn);
      if (!g.ok()) unreadable.push_back("source: " + g.status().ToString());
      else if (!g->Has("SELECT", "mysql", "user") && !g->Has("SELECT", "mysql", "global_priv")) {
        missing.push_back("source: SELECT on mysql.* (to read accounts and their password hashes)");
      }
    }
    if (ctx_.destination.conn) {
      auto g = ReadMysqlGrants(*ctx_.destination.conn);
      if (!g.ok()) {
        unreadable.push_back("destination: " + g.status().ToString());
      } else {
        if (!g->Has("CREATE USER", "")) missing.push_back("destination: CREATE USER");
        if (!g->Has("GRANT OPTION", "")) missing.push_back("destination: GRANT OPTION (WITH GRANT OPTION)");
      }
    }
    if (missing.empty() && !unreadable.empty()) {
      Item("P140", title, R::kWarning, "cannot read the grants to check: " + Join(unreadable, "; "),
           "check by hand that the source user may SELECT mysql.* and the destination user has CREATE USER and "
           "GRANT OPTION");
      return;
    }
    if (missing.empty()) {
      Item("P140", title, R::kPass, "the source user can read accounts; the destination user can create and grant");
    } else {
      Item("P140", title, R::kFailure, "lacking " + Join(missing, "; "),
           "grant them, or remove accounts = true and create the accounts by hand");
    }
  }

  MigrationContext& ctx_;
  const ir::Migration& m_;
  PrecheckReport report_;
};

const char* ResultName(R r) {
  switch (r) {
    case R::kPass: return "pass";
    case R::kWarning: return "warning";
    case R::kFailure: return "failure";
    case R::kInfo: return "info";
  }
  return "info";
}

}  // namespace

bool PrecheckReport::passed() const { return Count(R::kFailure) == 0; }

int PrecheckReport::Count(R r) const {
  return static_cast<int>(std::count_if(items.begin(), items.end(), [r](const CheckItem& i) { return i.result == r; }));
}

int PrecheckReport::SuccessRate() const {
  int pass = Count(R::kPass), total = pass + Count(R::kWarning) + Count(R::kFailure);
  return total == 0 ? 0 : pass * 100 / total;
}

PrecheckReport RunPrecheck(MigrationContext& ctx) { return Prechecker(ctx).Run(); }

std::string RenderText(const PrecheckReport& r, bool color) {
  auto paint = [&](const char* code, const std::string& s) {
    return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  };
  std::string out = fmt::format("precheck {}\n", r.migration);
  for (const auto& i : r.items) {
    std::string mark;
    switch (i.result) {
      case R::kPass: mark = paint("32", "pass"); break;
      case R::kWarning: mark = paint("33", "WARN"); break;
      case R::kFailure: mark = paint("31;1", "FAIL"); break;
      case R::kInfo: mark = paint("36", "info"); break;
    }
    out += fmt::format("  {} {} {}\n", mark, i.code, i.title);
    out += fmt::format("         {}\n", i.detail);
    if (!i.hint.empty()) out += fmt::format("         hint: {}\n", i.hint);
    if (i.result == R::kFailure || i.result == R::kWarning) out += fmt::format("         at {}\n", i.loc);
  }
  out += fmt::format("success rate {}% ({} passed, {} warnings, {} failed, {} informational)\n", r.SuccessRate(),
                     r.Count(R::kPass), r.Count(R::kWarning), r.Count(R::kFailure), r.Count(R::kInfo));
  out += r.passed() ? "precheck passed\n"
                    : "precheck failed: nothing was written; fix the failed items and run ferry precheck again\n";
  return out;
}

nlohmann::json ToJson(const PrecheckReport& r) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : r.items) {
    nlohmann::json j = {{"code", i.code}, {"title", i.title}, {"result", ResultName(i.result)}, {"detail", i.detail},
                        {"location", i.loc}};
    if (!i.hint.empty()) j["hint"] = i.hint;
    items.push_back(std::move(j));
  }
  return {{"migration", r.migration},
          {"passed", r.passed()},
          {"success_rate", r.SuccessRate()},
          {"counts",
           {{"pass", r.Count(R::kPass)},
            {"warning", r.Count(R::kWarning)},
            {"failure", r.Count(R::kFailure)},
            {"info", r.Count(R::kInfo)}}},
          {"items", items}};
}

}  // namespace ferry::runtime
