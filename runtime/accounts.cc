#include "runtime/accounts.h"

#include <fmt/format.h>

#include <set>

#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

using Sev = Problem::Severity;

// Reads `name` `name` … tokens: backquoted identifiers, in order, from a GRANT's object.
std::vector<std::string> Backquoted(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '`') continue;
    std::string name;
    for (++i; i < s.size(); ++i) {
      if (s[i] == '`') {
        if (i + 1 < s.size() && s[i + 1] == '`') {
          name += '`';
          ++i;
          continue;
        }
        break;
      }
      name += s[i];
    }
    out.push_back(name);
  }
  return out;
}

// Removes " IDENTIFIED BY PASSWORD '…'" (MariaDB repeats the hash on GRANT USAGE).
std::string WithoutPassword(std::string g) {
  size_t p = g.find(" IDENTIFIED BY PASSWORD '");
  if (p == std::string::npos) return g;
  size_t end = g.find('\'', p + 25);
  g.erase(p, end == std::string::npos ? std::string::npos : end + 1 - p);
  return g;
}

// The password hash literal in a CREATE USER, to mask it in output.
std::string HashOf(const std::string& create) {
  size_t p = create.find(" PASSWORD '");
  size_t len = 11;
  if (p == std::string::npos) {
    p = create.find(" AS '");
    len = 5;
  }
  if (p == std::string::npos) return "";
  size_t end = create.find('\'', p + len);
  return end == std::string::npos ? "" : create.substr(p + len, end - p - len);
}

class Accounts {
 public:
  explicit Accounts(MigrationContext& ctx) : ctx_(ctx), m_(*ctx.migration) {}

  void Run() {
    if (!ir::IsMysqlFamily(m_.from_engine) || !ir::IsMysqlFamily(m_.to_engine)) {
      Problem(Sev::kError, "accounts", "accounts = true migrates MySQL-family accounts to a MySQL-family destination",
              "remove accounts = true and create the destination's roles by hand");
      return;
    }
    Connection& c = *ctx_.source.conn;
    auto r = c.Query(
        "SELECT User, Host, is_role FROM mysql.user WHERE User <> '' AND User NOT IN ('root', 'mariadb.sys', "
        "'mysql.sys', 'mysql.session', 'mysql.infoschema', 'debian-sys-maint') ORDER BY is_role DESC, User, Host");
    if (!r.ok()) {  // MySQL 8 has no is_role column
      r = c.Query("SELECT User, Host, 'N' FROM mysql.user WHERE User <> '' AND User NOT IN ('root', 'mysql.sys', "
                  "'mysql.session', 'mysql.infoschema', 'debian-sys-maint') ORDER BY User, Host");
    }
    if (!r.ok()) {
      Problem(Sev::kError, "accounts", "cannot read the source's accounts: " + r.status().ToString(),
              "grant the source user SELECT on mysql.* (accounts = true needs it)");
      return;
    }
    std::set<std::string> self = {Strip(ctx_.source.conn->server().user)};
    if (ctx_.destination.conn) self.insert(Strip(ctx_.destination.conn->server().user));
    std::vector<std::pair<std::string, std::string>> grants_of;
    for (const auto& row : r->rows) {
      std::string user = row[0].value_or(""), host = row[1].value_or("");
      bool role = row[2] == "Y";
      if (self.count(user + "@" + host)) continue;  // never the accounts Ferry connects as
      std::string account = role ? QuoteIdent(c.engine(), user)
                                 : QuoteIdent(c.engine(), user) + "@" + QuoteIdent(c.engine(), host);
      std::string shown_name = role ? "role " + user : user + "@" + host;
      if (role) {
        Add("CREATE ROLE IF NOT EXISTS " + account, "", shown_name);
      } else {
        auto cu = c.Query("SHOW CREATE USER " + account);
        if (!cu.ok() || cu->rows.empty() || !cu->rows[0][0]) {
          Problem(Sev::kError, "account " + shown_name,
                  "cannot read its definition: " + (cu.ok() ? std::string("empty") : cu.status().ToString()),
                  "grant the source user SELECT on mysql.*");
          continue;
        }
        std::string create = *cu->rows[0][0];
        if (create.rfind("CREATE USER ", 0) == 0) create.insert(12, "IF NOT EXISTS ");
        Add(create, HashOf(create), shown_name);
      }
      grants_of.emplace_back(account, shown_name);
    }
    for (const auto& [account, shown_name] : grants_of) Grants(account, shown_name);
  }

 private:
  static std::string Strip(const std::string& user_at_host) { return user_at_host; }

  void Problem(Sev sev, std::string object, std::string message, std::string hint) {
    ctx_.ddl.problems.push_back({sev, "A001", std::move(object), std::move(message), std::move(hint), m_.origin.loc});
  }

  void Add(std::string sql, const std::string& secret, const std::string& object) {
    DdlStatement d;
    d.stage = ir::StageKind::kSchemaPost;
    d.kind = "account";
    d.name = object;
    d.loc = m_.origin.loc;
    d.idempotent = true;
    if (!secret.empty()) {
      d.secret = secret;
      d.shown = sql;
      for (size_t p = d.shown.find(secret); p != std::string::npos; p = d.shown.find(secret)) {
        d.shown.replace(p, secret.size(), "<password hash from the source>");
      }
    }
    d.sql = std::move(sql);
    ctx_.ddl.statements.push_back(std::move(d));
  }

  void Grants(const std::string& account, const std::string& shown_name) {
    Connection& c = *ctx_.source.conn;
    auto g = c.Query("SHOW GRANTS FOR " + account);
    if (!g.ok()) {
      Problem(Sev::kError, "account " + shown_name, "cannot read its grants: " + g.status().ToString(),
              "grant the source user SELECT on mysql.*");
      return;
    }
    for (const auto& row : g->rows) {
      if (!row[0]) continue;
      std::string grant = WithoutPassword(*row[0]);
      size_t on = grant.find(" ON ");
      size_t to = grant.find(" TO ");
      if (on == std::string::npos || to == std::string::npos || on > to) {
        Add(grant, "", shown_name);  // a role granted to the account
        continue;
      }
      std::string privs = grant.substr(0, on), object = grant.substr(on + 4, to - on - 4);
      std::string rest = grant.substr(to);
      if (object == "*.*") {
        if (privs == "GRANT USAGE") continue;  // what CREATE USER gives anyway
        Add(grant, "", shown_name);
        continue;
      }
      std::string prefix;
      for (const char* kind : {"PROCEDURE ", "FUNCTION ", "PACKAGE BODY ", "PACKAGE "}) {
        if (object.rfind(kind, 0) == 0) prefix = kind;
      }
      auto names = Backquoted(object.substr(prefix.size()));
      if (names.empty()) continue;
      const SchemaMapping* sm = ctx_.selection.FindSchema(names[0]);
      if (sm == nullptr) {
        Problem(Sev::kNote, "account " + shown_name,
                fmt::format("its grant on {} is left out: the plan does not migrate schema {}", object, names[0]), "");
        continue;
      }
      std::string target;
      if (names.size() == 1 || !prefix.empty()) {
        target = prefix + QuoteIdent(m_.to_engine, sm->dst) + "." +
                 (names.size() > 1 ? QuoteIdent(m_.to_engine, names[1]) : std::string("*"));
      } else {
        const TableMapping* tm = ctx_.selection.FindSource(names[0], names[1]);
        if (tm == nullptr) {
          Problem(Sev::kNote, "account " + shown_name,
                  fmt::format("its grant on {} is left out: the plan does not migrate that table", object), "");
          continue;
        }
        target = QuoteName(m_.to_engine, tm->dst_schema, tm->dst_table);
        // Column privileges name columns: INSERT (`a`, `b`).
        for (const auto& col : tm->columns) {
          if (col.name == col.source->name) continue;
          std::string from = QuoteIdent(m_.from_engine, col.source->name), with = QuoteIdent(m_.to_engine, col.name);
          for (size_t p = privs.find(from); p != std::string::npos; p = privs.find(from, p + with.size())) {
            privs.replace(p, from.size(), with);
          }
        }
      }
      Add(privs + " ON " + target + rest, "", shown_name);
    }
  }

  MigrationContext& ctx_;
  const ir::Migration& m_;
};

}  // namespace

void AddAccountDdl(MigrationContext& ctx) {
  if (!ctx.source.conn) return;
  Accounts(ctx).Run();
}

}  // namespace ferry::runtime
