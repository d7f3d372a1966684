#include "runtime/connectors/postgres/postgres_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/connectors/connect_error.h"

namespace ferry::runtime {

namespace {

// The session every PostgreSQL connection gets: UTF-8, UTC, standard-conforming strings
// (sql.h's quoting relies on it), and ISO dates.
constexpr const char* kSessionSql[] = {
    "SET client_encoding = 'UTF8'", "SET TimeZone = 'UTC'", "SET standard_conforming_strings = on",
    "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'iso_8601'", "SET extra_float_digits = 3"};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The rows of one PGresult.
class PgCursor final : public RowCursor {
 public:
  explicit PgCursor(PGresult* res) : res_(res), rows_(PQntuples(res)) {}
  ~PgCursor() override { PQclear(res_); }
  PgCursor(const PgCursor&) = delete;
  PgCursor& operator=(const PgCursor&) = delete;

  StatusOr<bool> Next() override { return ++row_ < rows_; }
  std::optional<std::string_view> Get(size_t i) const override {
    int col = static_cast<int>(i);
    if (PQgetisnull(res_, row_, col)) return std::nullopt;
    return std::string_view(PQgetvalue(res_, row_, col), static_cast<size_t>(PQgetlength(res_, row_, col)));
  }

 private:
  PGresult* res_;
  int rows_;
  int row_ = -1;
};

class PgConnection;

// COPY TO STDOUT's output, as libpq hands it over.
class CopyStream final : public ByteSource {
 public:
  explicit CopyStream(PgConnection* conn) : conn_(conn) {}
  ~CopyStream() override;
  CopyStream(const CopyStream&) = delete;
  CopyStream& operator=(const CopyStream&) = delete;
  StatusOr<bool> Read(std::string* out) override;

 private:
  PgConnection* conn_;
  bool ended_ = false;
};

class PgConnection final : public Connection {
 public:
  PgConnection(PGconn* c, ConnectOptions options) : c_(c), cancel_(PQgetCancel(c)), options_(std::move(options)) {}
  ~PgConnection() override {
    if (cancel_ != nullptr) PQfreeCancel(cancel_);
    PQfinish(c_);
  }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  ir::Engine engine() const override { return ir::Engine::kPostgres; }

  Status Cancel() override {
    char why[256] = "";
    if (cancel_ == nullptr || PQcancel(cancel_, why, sizeof why) == 0) {
      return Status(Code::kUnavailable, "could not cancel the statement: " + Trim(why), "PostgreSQL");
    }
    return Status::Ok();
  }
  const ServerInfo& server() const override { return info_; }
  const ConnectOptions& options() const override { return options_; }

  Status Execute(std::string_view sql) override {
    auto r = Query(sql);
    return r.ok() ? Status::Ok() : r.status();
  }

  StatusOr<Result> Query(std::string_view sql) override {
    std::string text(sql);
    // The extended protocol runs exactly one statement: text that smuggles in a second one
    // (a `where` filter with a `;`) is an error, never executed.
    PGresult* res = PQexecParams(c_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      Status err = Error(res);
      PQclear(res);
      return err;
    }
    Result r;
    int nf = PQnfields(res);
    int nt = PQntuples(res);
    for (int i = 0; i < nf; ++i) r.columns.emplace_back(PQfname(res, i));
    r.rows.reserve(static_cast<size_t>(nt));
    for (int t = 0; t < nt; ++t) {
      Row row;
      row.reserve(static_cast<size_t>(nf));
      for (int i = 0; i < nf; ++i) {
        if (PQgetisnull(res, t, i)) row.emplace_back(std::nullopt);
        else row.emplace_back(std::string(PQgetvalue(res, t, i), static_cast<size_t>(PQgetlength(res, t, i))));
      }
      r.rows.push_back(std::move(row));
    }
    const char* affected = PQcmdTuples(res);
    if (affected != nullptr && *affected != '\0') r.affected = std::stoll(affected);
    PQclear(res);
    return r;
  }

  StatusOr<std::unique_ptr<RowCursor>> OpenCursor(std::string_view sql, bool /*stream*/) override {
    // One result a query: libpq's single-row mode costs a result a row, slower than holding
    // a chunk (the load keeps chunks to a few MB).
    std::string text(sql);
    PGresult* res = PQexecParams(c_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      Status err = Error(res);
      PQclear(res);
      return err;
    }
    return std::unique_ptr<RowCursor>(new PgCursor(res));
  }

  Status BulkLoad(std::string_view copy_sql, ByteSource& data) override {
    std::string text(copy_sql);
    PGresult* res = PQexec(c_, text.c_str());
    if (PQresultStatus(res) != PGRES_COPY_IN) {
      Status err = Error(res);
      PQclear(res);
      return err;
    }
    PQclear(res);
    Status produced;
    std::string piece;
    while (true) {
      piece.clear();
      auto more = data.Read(&piece);
      if (!more.ok()) {
        produced = more.status();
        break;
      }
      if (!*more) break;
      if (!piece.empty() && PQputCopyData(c_, piece.data(), static_cast<int>(piece.size())) != 1) {
        return Status(Code::kUnavailable, "lost the connection during COPY: " + Trim(PQerrorMessage(c_)), "PostgreSQL");
      }
    }
    // A failed input ends the COPY with an error, so the server discards what it got.
    if (PQputCopyEnd(c_, produced.ok() ? nullptr : "the input failed") != 1) {
      return Status(Code::kUnavailable, "lost the connection ending COPY: " + Trim(PQerrorMessage(c_)), "PostgreSQL");
    }
    Status st;
    while (PGresult* r = PQgetResult(c_)) {
      if (st.ok() && PQresultStatus(r) != PGRES_COMMAND_OK) st = Error(r);
      PQclear(r);
    }
    return produced.ok() ? st : produced;
  }

  StatusOr<std::unique_ptr<ByteSource>> CopyOut(std::string_view copy_sql) override {
    std::string text(copy_sql);
    PGresult* res = PQexec(c_, text.c_str());
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
      Status err = Error(res);
      PQclear(res);
      return err;
    }
    PQclear(res);
    return std::unique_ptr<ByteSource>(new CopyStream(this));
  }

  Status Init() {
    for (const char* sql : kSessionSql) FERRY_RETURN_IF_ERROR(Execute(sql));
    const char* v = PQparameterStatus(c_, "server_version");
    info_.version = v != nullptr ? v : "";
    const char* enc = PQparameterStatus(c_, "server_encoding");
    info_.encoding = enc != nullptr ? enc : "";
    int n = PQserverVersion(c_);  // 150018
    info_.major = n / 10000;
    info_.minor = n % 10000;
    if (PQsslInUse(c_)) {
      const char* proto = PQsslAttribute(c_, "protocol");
      info_.tls = proto != nullptr ? proto : "TLS";
    }
    auto who = Query("SELECT current_user");
    if (!who.ok()) return who.status();
    if (!who->rows.empty() && who->rows[0][0]) info_.user = *who->rows[0][0];
    return Status::Ok();
  }

 private:
  Status Error(PGresult* res) const {
    if (PQstatus(c_) != CONNECTION_OK) {
      return Status(Code::kUnavailable, "lost the connection: " + Trim(PQerrorMessage(c_)),
                    "PostgreSQL");
    }
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    std::string msg = primary != nullptr ? primary : Trim(PQerrorMessage(c_));
    if (detail != nullptr) msg += " (" + std::string(detail) + ")";
    std::string s = state != nullptr ? state : "";
    return Status(PostgresCode(s), msg, "PostgreSQL " + s);
  }

  friend class CopyStream;

  PGconn* c_;
  PGcancel* cancel_;  // PQcancel with it is safe from any thread
  ConnectOptions options_;
  ServerInfo info_;
};

StatusOr<bool> CopyStream::Read(std::string* out) {
  if (ended_) return false;
  PGconn* c = conn_->c_;
  char* buf = nullptr;
  int n = PQgetCopyData(c, &buf, 0);
  if (n > 0) {
    out->append(buf, static_cast<size_t>(n));
    PQfreemem(buf);
    return true;
  }
  ended_ = true;
  if (n == -2) return Status(Code::kUnavailable, "lost the connection during COPY: " + Trim(PQerrorMessage(c)), "PostgreSQL");
  Status st;
  while (PGresult* r = PQgetResult(c)) {
    if (st.ok() && PQresultStatus(r) != PGRES_COMMAND_OK) st = conn_->Error(r);
    PQclear(r);
  }
  if (!st.ok()) return st;
  return false;
}

// A stream left early is read to its end, so that the connection can serve the next query.
CopyStream::~CopyStream() {
  std::string rest;
  while (!ended_) {
    rest.clear();
    auto more = Read(&rest);
    if (!more.ok()) break;
  }
}

const char* SslMode(ir::Tls t) {
  switch (t) {
    case ir::Tls::kDisable: return "disable";
    case ir::Tls::kPrefer: return "prefer";
    case ir::Tls::kRequire: return "require";
    case ir::Tls::kVerifyCa: return "verify-ca";
    case ir::Tls::kVerifyFull: return "verify-full";
  }
  return "prefer";
}

}  // namespace

StatusOr<std::unique_ptr<Connection>> ConnectPostgres(const ConnectOptions& o) {
  std::string port = std::to_string(o.port != 0 ? o.port : 5432);
  std::string timeout = std::to_string(o.connect_timeout_s);
  // Keyword arrays, not a conninfo string: nothing needs escaping, nothing is parsed from
  // the environment but what libpq always reads. Without `ca`, verification uses libpq's
  // default CA file (~/.postgresql/root.crt).
  std::vector<const char*> keys = {"host", "port", "dbname", "user", "password", "sslmode",
                                   "connect_timeout", "application_name", "fallback_application_name"};
  std::vector<const char*> values = {o.host.c_str(), port.c_str(), o.database.c_str(),
                                     o.user.c_str(), o.password.c_str(), SslMode(o.tls),
                                     timeout.c_str(), "ferry", "ferry"};
  if (!o.ca.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(o.ca.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (c == nullptr) return Status(Code::kResourceExhausted, "out of memory creating a PostgreSQL connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = Trim(PQerrorMessage(c));
    // libpq prefixes 'connection to server at "h" (ip), port p failed: ' — the caller names
    // the endpoint and address already.
    if (auto pos = msg.find(" failed: "); pos != std::string::npos && msg.rfind("connection to server", 0) == 0)
      msg = msg.substr(pos + 9);
    PQfinish(c);
    return ConnectError(o, Status(PostgresConnectCode(msg), msg, "PostgreSQL"));
  }
  // Server NOTICEs ("… does not exist, skipping") are not Ferry's output.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  auto conn = std::make_unique<PgConnection>(c, o);
  Status st = conn->Init();
  if (!st.ok()) return ConnectError(o, std::move(st));
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace ferry::runtime
