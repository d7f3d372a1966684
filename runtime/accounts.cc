#include "runtime/accounts.h"

#include <fmt/format.h>

#include <set>

#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

using Sev = Problem::Severity;

// Every quoted credential in an account statement: the literal after PASSWORD, AS or USING
// (`IDENTIFIED BY PASSWORD '*…'`, `IDENTIFIED WITH x AS '$A$…'`, `IDENTIFIED VIA ed25519
// USING '…'`, several with OR). Each is masked wherever the statement is shown.
std::vector<std::string> Credentials(const std::string& sql) {
  std::vector<std::string> out;
  for (const char* kw : {" PASSWORD '", " AS '", " USING '"}) {
    size_t len = std::string(kw).size();
    for (size_t p = sql.find(kw); p != std::string::npos; p = sql.find(kw, p + len)) {
      size_t end = p + len;
      std::string value;
      while (end < sql.size() && sql[end] != '\'') {
        if (sql[end] == '\\' && end + 1 < sql.size()) value += sql[end++];
        value += sql[end++];
      }
      if (!value.empty()) out.push_back(value);
    }
  }
  return out;
}

// A GRANT without the IDENTIFIED … clause MariaDB repeats on GRANT USAGE lines: CREATE USER
// already carries the credentials.
std::string WithoutCredentials(std::string g) {
  size_t p = g.find(" IDENTIFIED ");
  if (p == std::string::npos) return g;
  size_t end = g.find(" WITH ", p);  // WITH GRANT OPTION / resource limits follow it
  g.erase(p, end == std::string::npos ? std::string::npos : end - p);
  return g;
}

// Accounts a managed service or the server itself owns; never copied.
bool SystemAccount(const std::string& user) {
  static const char* kSystem[] = {"root", "mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema",
                                  "debian-sys-maint", "rdsadmin", "rdsrepladmin", "rds_superuser_role",
                                  "aliyun_root", "aurora", "replicator", "azure_superuser", "cloudsqlsuperuser",
                                  "PUBLIC"};
  for (const char* s : kSystem) {
    if (user == s) return true;
  }
  return false;
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
    // Password hashes and authentication plugins differ between MariaDB and MySQL (no
    // IDENTIFIED BY PASSWORD in MySQL 8, no caching_sha2_password in MariaDB).
    if (ctx_.destination.conn && ctx_.destination.conn->server().mariadb != c.server().mariadb) {
      Problem(Sev::kError, "accounts",
              "accounts = true needs the same server on both sides; password hashes do not carry between MariaDB "
              "and MySQL",
              "remove accounts = true and create the accounts in the destination by hand");
      return;
    }
    auto r = c.Query("SELECT User, Host, is_role FROM mysql.user WHERE User <> '' ORDER BY is_role DESC, User, Host");
    if (!r.ok()) {  // MySQL 8 has no is_role column
      r = c.Query("SELECT User, Host, 'N' FROM mysql.user WHERE User <> '' ORDER BY User, Host");
    }
    if (!r.ok()) {
      Problem(Sev::kError, "accounts", "cannot read the source's accounts: " + r.status().ToString(),
              "grant the source user SELECT on mysql.* (accounts = true needs it)");
      return;
    }
    std::set<std::string> existing;  // user@host in the destination
    if (ctx_.destination.conn) {
      auto d = ctx_.destination.conn->Query("SELECT User, Host FROM mysql.user");
      if (d.ok()) {
        for (const auto& row : d->rows) existing.insert(row[0].value_or("") + "@" + row[1].value_or(""));
      }
    }
    std::set<std::string> self = {ctx_.source.conn->server().user};
    if (ctx_.destination.conn) self.insert(ctx_.destination.conn->server().user);
    std::vector<std::pair<std::string, std::string>> grants_of;
    for (const auto& row : r->rows) {
      std::string user = row[0].value_or(""), host = row[1].value_or("");
      bool role = row[2] == "Y";
      if (self.count(user + "@" + host) || SystemAccount(user)) continue;  // never Ferry's own or the service's
      std::string account = role ? QuoteIdent(c.engine(), user)
                                 : QuoteIdent(c.engine(), user) + "@" + QuoteIdent(c.engine(), host);
      std::string shown_name = role ? "role " + user : user + "@" + host;
      if (existing.count(user + "@" + host)) {
        // CREATE USER IF NOT EXISTS would keep its password and GRANT would add privileges to
        // someone else's account: not without the user saying so.
        Problem(m_.conflicts == ir::Conflicts::kIgnore ? Sev::kWarning : Sev::kError, "account " + shown_name,
                m_.conflicts == ir::Conflicts::kIgnore
                    ? "already exists in the destination: its password is kept and the source's grants are added"
                    : "already exists in the destination (conflicts = report)",
                "drop it in the destination, or set conflicts = ignore to keep it and add the grants");
        if (m_.conflicts != ir::Conflicts::kIgnore) continue;
      }
      if (role) {
        Add("CREATE ROLE IF NOT EXISTS " + account, shown_name);
      } else {
        auto cu = c.Query("SHOW CREATE USER " + account);
        if (!cu.ok() && cu.status().code() == Code::kNotFound) continue;  // dropped while we read
        if (!cu.ok() || cu->rows.empty() || !cu->rows[0][0]) {
          Problem(Sev::kError, "account " + shown_name,
                  "cannot read its definition: " + (cu.ok() ? std::string("empty") : cu.status().ToString()),
                  "grant the source user SELECT on mysql.*");
          continue;
        }
        std::string create = *cu->rows[0][0];
        if (create.rfind("CREATE USER ", 0) == 0) create.insert(12, "IF NOT EXISTS ");
        Add(create, shown_name);
      }
      grants_of.emplace_back(account, shown_name);
    }
    for (const auto& [account, shown_name] : grants_of) Grants(account, shown_name);
  }

 private:
  void Problem(Sev sev, std::string object, std::string message, std::string hint) {
    ctx_.ddl.problems.push_back({sev, "A001", std::move(object), std::move(message), std::move(hint), m_.origin.loc});
  }

  void Add(std::string sql, const std::string& object) {
    DdlStatement d;
    d.stage = ir::StageKind::kSchemaPost;
    d.kind = "account";
    d.name = object;
    d.loc = m_.origin.loc;
    d.idempotent = true;
    std::vector<std::string> secrets = Credentials(sql);
    if (!secrets.empty() || sql.find("IDENTIFIED") != std::string::npos) {
      d.shown = sql;
      for (const auto& secret : secrets) {
        for (size_t p = d.shown.find(secret); p != std::string::npos; p = d.shown.find(secret)) {
          d.shown.replace(p, secret.size(), "<credential from the source>");
        }
      }
      // Whatever is left after IDENTIFIED is not shown, in case a form is not known above.
      if (size_t p = d.shown.find(" IDENTIFIED "); p != std::string::npos && secrets.empty()) {
        d.shown = d.shown.substr(0, p) + " IDENTIFIED <credentials from the source>";
      }
      d.secret = secrets.empty() ? sql : secrets.front();
    }
    d.sql = std::move(sql);
    ctx_.ddl.statements.push_back(std::move(d));
  }

  void Grants(const std::string& account, const std::string& shown_name) {
    Connection& c = *ctx_.source.conn;
    auto g = c.Query("SHOW GRANTS FOR " + account);
    if (!g.ok() && g.status().code() == Code::kNotFound) return;  // dropped while we read
    if (!g.ok()) {
      Problem(Sev::kError, "account " + shown_name, "cannot read its grants: " + g.status().ToString(),
              "grant the source user SELECT on mysql.*");
      return;
    }
    for (const auto& row : g->rows) {
      if (!row[0]) continue;
      std::string grant = WithoutCredentials(*row[0]);
      size_t on = grant.find(" ON ");
      size_t to = grant.find(" TO ");
      if (on == std::string::npos || to == std::string::npos || on > to) {
        Add(grant, shown_name);  // a role granted to the account
        continue;
      }
      std::string privs = grant.substr(0, on), object = grant.substr(on + 4, to - on - 4);
      std::string rest = grant.substr(to);
      if (object == "*.*") {
        if (privs == "GRANT USAGE") continue;  // what CREATE USER gives anyway
        Add(grant, shown_name);
        continue;
      }
      std::string prefix;
      for (const char* kind : {"PROCEDURE ", "FUNCTION ", "PACKAGE BODY ", "PACKAGE "}) {
        if (object.rfind(kind, 0) == 0) prefix = kind;
      }
      auto names = BackquotedNames(object.substr(prefix.size()));
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
      Add(privs + " ON " + target + rest, shown_name);
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
