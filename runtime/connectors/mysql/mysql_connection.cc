#include "runtime/connectors/mysql/mysql_connection.h"

#include <mysql.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/connectors/connect_error.h"

namespace ferry::runtime {

namespace {

// The session every MySQL-family connection gets: utf8mb4 both ways, UTC, and a fixed
// sql_mode (strict, so a bad value is an error and not a silent truncation; without
// NO_BACKSLASH_ESCAPES and ANSI_QUOTES, which sql.h's quoting relies on). Zero dates are
// allowed in the session so that `zero_dates = keep` can write them.
constexpr const char* kSessionSql =
    "SET NAMES utf8mb4, time_zone = '+00:00', "
    "sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO', "
    "foreign_key_checks = 1";

// LOAD DATA LOCAL INFILE served from memory. The handler is set on every connection before
// it connects, so a server asking for a file is only ever served the bulk load in progress,
// never a file from disk; outside a bulk load it is refused.
struct LocalInfile {
  ByteSource* source = nullptr;  // the bulk load in progress, or null
  std::string piece;
  size_t at = 0;
  Status failed;                 // the source's own error

  static int Init(void** state, const char* /*file name: never opened*/, void* self) {
    *state = self;
    return static_cast<LocalInfile*>(self)->source == nullptr ? 1 : 0;
  }
  static int Read(void* state, char* buf, unsigned int len) {
    auto* l = static_cast<LocalInfile*>(state);
    while (l->at == l->piece.size()) {
      l->piece.clear();
      l->at = 0;
      auto more = l->source->Read(&l->piece);
      if (!more.ok()) {
        l->failed = more.status();
        return -1;
      }
      if (!*more) return 0;
    }
    size_t n = std::min<size_t>(len, l->piece.size() - l->at);
    std::memcpy(buf, l->piece.data() + l->at, n);
    l->at += n;
    return static_cast<int>(n);
  }
  static void End(void* /*state*/) {}
  static int Error(void* state, char* message, unsigned int len) {
    auto* l = static_cast<LocalInfile*>(state);
    std::snprintf(message, len, "%s",
                  l->source == nullptr ? "Ferry serves no local file outside its own bulk loads"
                                       : "the bulk load's input failed");
    return 1148;  // ER_NOT_ALLOWED_COMMAND
  }
};

// MariaDB 4166, MySQL 3948 and 1148: the server (or its settings) refuse LOAD DATA LOCAL.
bool LocalInfileRefused(unsigned err) { return err == 4166 || err == 3948 || err == 1148; }

class MysqlCursor final : public RowCursor {
 public:
  MysqlCursor(MYSQL* m, MYSQL_RES* res, bool mariadb) : m_(m), res_(res), mariadb_(mariadb) {}
  // A streamed result left early is read to its end by mysql_free_result.
  ~MysqlCursor() override { mysql_free_result(res_); }
  MysqlCursor(const MysqlCursor&) = delete;
  MysqlCursor& operator=(const MysqlCursor&) = delete;

  StatusOr<bool> Next() override {
    row_ = mysql_fetch_row(res_);
    if (row_ != nullptr) {
      lengths_ = mysql_fetch_lengths(res_);
      return true;
    }
    if (mysql_errno(m_) != 0) return MysqlStatus(mysql_errno(m_), mysql_sqlstate(m_), mysql_error(m_), mariadb_);
    return false;
  }
  std::optional<std::string_view> Get(size_t i) const override {
    if (row_[i] == nullptr) return std::nullopt;
    return std::string_view(row_[i], lengths_[i]);
  }

 private:
  MYSQL* m_;
  MYSQL_RES* res_;
  bool mariadb_;
  MYSQL_ROW row_ = nullptr;
  unsigned long* lengths_ = nullptr;
};

// A query's rows in the binary protocol of a prepared statement: the server sends numbers,
// dates and times as they are stored, without printing them (on the benchmark's rows that is a
// third to three fifths of the CPU MariaDB spends sending them). Get gives each value as the
// text protocol prints it: integers in decimal (ZEROFILL padded), doubles by their shortest
// round-trip digits, dates and times as MySQL prints them with the column's fraction; strings,
// decimals and bytes as they come. Rows are read from the server as the cursor advances.
class MysqlBinaryCursor final : public RowCursor {
 public:
  MysqlBinaryCursor(MYSQL* m, MYSQL_STMT* stmt, bool mariadb) : m_(m), stmt_(stmt), mariadb_(mariadb) {}
  ~MysqlBinaryCursor() override {
    mysql_stmt_free_result(stmt_);  // reads a result left early to its end
    mysql_stmt_close(stmt_);
  }
  MysqlBinaryCursor(const MysqlBinaryCursor&) = delete;
  MysqlBinaryCursor& operator=(const MysqlBinaryCursor&) = delete;

  Status Start() {
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt_);
    if (meta == nullptr) return Status(Code::kInternal, "OpenBinaryCursor on a statement that returns no rows");
    unsigned n = mysql_num_fields(meta);
    MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    columns_.resize(n);
    binds_.assign(n, MYSQL_BIND{});
    for (unsigned i = 0; i < n; ++i) {
      Column& c = columns_[i];
      MYSQL_BIND& b = binds_[i];
      c.type = fields[i].type;
      c.is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
      c.zerofill = (fields[i].flags & ZEROFILL_FLAG) != 0 ? fields[i].length : 0;
      c.decimals = fields[i].decimals <= 6 ? fields[i].decimals : 6;
      switch (c.type) {
        case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_YEAR:
          c.kind = Kind::kInteger;
          b.buffer_type = MYSQL_TYPE_LONGLONG;
          b.buffer = &c.integer;
          b.is_unsigned = c.is_unsigned;
          break;
        case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
          c.kind = Kind::kDouble;
          b.buffer_type = MYSQL_TYPE_DOUBLE;
          b.buffer = &c.real;
          break;
        case MYSQL_TYPE_DATE: case MYSQL_TYPE_NEWDATE: case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIME:
          c.kind = c.type == MYSQL_TYPE_TIME ? Kind::kTime : c.type == MYSQL_TYPE_DATE || c.type == MYSQL_TYPE_NEWDATE ? Kind::kDate : Kind::kDatetime;
          b.buffer_type = c.type == MYSQL_TYPE_NEWDATE ? MYSQL_TYPE_DATE : c.type;
          b.buffer = &c.time;
          b.buffer_length = sizeof c.time;
          break;
        default:  // strings, decimals, bits, blobs: their bytes
          c.kind = Kind::kBytes;
          c.bytes.resize(256);
          b.buffer_type = MYSQL_TYPE_BLOB;
          b.buffer = c.bytes.data();
          b.buffer_length = c.bytes.size();
          break;
      }
      b.length = &c.length;
      b.is_null = &c.null;
      b.error = &c.truncated;
    }
    mysql_free_result(meta);
    if (mysql_stmt_bind_result(stmt_, binds_.data()) != 0) return Error();
    return Status::Ok();
  }

  StatusOr<bool> Next() override {
    int rc = mysql_stmt_fetch(stmt_);
    if (rc == MYSQL_NO_DATA) return false;
    if (rc == 1) return Error();
    for (size_t i = 0; i < columns_.size(); ++i) {
      Column& c = columns_[i];
      c.text.clear();
      if (c.null || c.kind != Kind::kBytes || c.length <= c.bytes.size()) continue;
      // Longer than the buffer: fetched again whole, into a buffer that fits it from now on.
      c.bytes.resize(c.length);
      MYSQL_BIND& b = binds_[i];
      b.buffer = c.bytes.data();
      b.buffer_length = c.bytes.size();
      rebind_ = true;
      if (mysql_stmt_fetch_column(stmt_, &b, static_cast<unsigned>(i), 0) != 0) {
        Status st = Error();
        mysql_stmt_bind_result(stmt_, binds_.data());  // no freed buffer stays bound
        return st;
      }
    }
    if (rebind_ && mysql_stmt_bind_result(stmt_, binds_.data()) != 0) return Error();
    rebind_ = false;
    return true;
  }

  bool GetInteger(size_t i, int64_t* v) const override {
    const Column& c = columns_[i];
    if (c.null || c.kind != Kind::kInteger || (c.is_unsigned && c.integer < 0)) return false;
    *v = c.integer;
    return true;
  }
  bool GetDouble(size_t i, double* v) const override {
    const Column& c = columns_[i];
    if (c.null || c.kind != Kind::kDouble) return false;
    *v = c.real;
    return true;
  }

  std::optional<std::string_view> Get(size_t i) const override {
    const Column& c = columns_[i];
    if (c.null) return std::nullopt;
    if (c.kind == Kind::kBytes) return std::string_view(c.bytes.data(), c.length);
    if (c.text.empty()) Print(c);
    return std::string_view(c.text);
  }

 private:
  enum class Kind { kInteger, kDouble, kDate, kDatetime, kTime, kBytes };
  struct Column {
    enum_field_types type = MYSQL_TYPE_NULL;
    Kind kind = Kind::kBytes;
    bool is_unsigned = false;
    unsigned long zerofill = 0;  // the display width a ZEROFILL column pads to
    unsigned decimals = 0;       // of a datetime's or a time's fraction
    long long integer = 0;
    double real = 0;
    MYSQL_TIME time{};
    std::vector<char> bytes;
    unsigned long length = 0;
    my_bool null = 0, truncated = 0;
    mutable std::string text;  // the value as text, made on the first Get of the row
  };

  // v in decimal, at least `width` digits (zeros in front), at p; returns the end.
  static char* Digits(char* p, unsigned long v, int width) {
    char d[24];
    char* e = std::to_chars(d, d + sizeof d, v).ptr;
    for (int pad = width - static_cast<int>(e - d); pad > 0; --pad) *p++ = '0';
    return std::copy(d, e, p);
  }
  // Exactly two digits (a month, an hour: always below 100).
  static char* Two(char* p, unsigned v) {
    *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    return p;
  }

  static void Print(const Column& c) {
    char d[64];
    char* p = d;
    const MYSQL_TIME& t = c.time;
    switch (c.kind) {
      case Kind::kInteger: {
        p = c.is_unsigned ? std::to_chars(d, d + sizeof d, static_cast<unsigned long long>(c.integer)).ptr
                          : std::to_chars(d, d + sizeof d, c.integer).ptr;
        size_t len = static_cast<size_t>(p - d);
        if (c.zerofill > len) c.text.append(c.zerofill - len, '0');
        c.text.append(d, len);
        return;
      }
      case Kind::kDouble:
        c.text.assign(d, std::to_chars(d, d + sizeof d, c.real).ptr);
        return;
      case Kind::kTime:
        if (t.neg) *p++ = '-';
        p = Digits(p, t.hour + 24ul * t.day, 2);
        *p++ = ':';
        p = Two(p, t.minute);
        *p++ = ':';
        p = Two(p, t.second);
        break;
      case Kind::kDate: case Kind::kDatetime:
        p = Digits(p, t.year, 4);
        *p++ = '-';
        p = Two(p, t.month);
        *p++ = '-';
        p = Two(p, t.day);
        if (c.kind == Kind::kDate) break;
        *p++ = ' ';
        p = Two(p, t.hour);
        *p++ = ':';
        p = Two(p, t.minute);
        *p++ = ':';
        p = Two(p, t.second);
        break;
      case Kind::kBytes:
        return;
    }
    if (c.kind != Kind::kDate && c.decimals > 0) {  // the fraction's first `decimals` digits of its microseconds
      unsigned long part = t.second_part;
      for (unsigned k = c.decimals; k < 6; ++k) part /= 10;
      *p++ = '.';
      p = Digits(p, part, static_cast<int>(c.decimals));
    }
    c.text.assign(d, p);
  }

  // The statement's error; while rows stream, a lost connection or a killed query is the
  // connection's (libmariadb's unbuffered fetch leaves the statement's error clear).
  Status Error() const {
    if (mysql_stmt_errno(stmt_) != 0) {
      return MysqlStatus(mysql_stmt_errno(stmt_), mysql_stmt_sqlstate(stmt_), mysql_stmt_error(stmt_), mariadb_);
    }
    if (mysql_errno(m_) != 0) return MysqlStatus(mysql_errno(m_), mysql_sqlstate(m_), mysql_error(m_), mariadb_);
    return Status(Code::kUnavailable, "reading a result failed, and the server gave no error (the connection was lost?)");
  }

  MYSQL* m_;
  MYSQL_STMT* stmt_;
  bool mariadb_;
  std::vector<Column> columns_;
  std::vector<MYSQL_BIND> binds_;
  bool rebind_ = false;
};

class MysqlConnection final : public Connection {
 public:
  MysqlConnection(MYSQL* m, std::unique_ptr<LocalInfile> infile, ConnectOptions options)
      : m_(m), infile_(std::move(infile)), options_(std::move(options)) {}
  ~MysqlConnection() override { mysql_close(m_); }
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  ir::Engine engine() const override { return options_.engine; }
  const ServerInfo& server() const override { return info_; }
  const ConnectOptions& options() const override { return options_; }

  // Thread ids are per server: the KILL goes only where the new connection reached the same
  // server as this one (a proxy or a load balancer in between may route it elsewhere).
  Status Cancel() override {
    auto killer = ConnectMysql(options_);
    if (!killer.ok()) return killer.status();
    auto& k = static_cast<MysqlConnection&>(**killer);
    if (k.server_identity_ != server_identity_) {
      return Status(Code::kUnavailable, fmt::format("could not cancel the statement: a new connection reached "
                                                    "server {}, not {}, which runs it (a proxy in between?)",
                                                    k.server_identity_, server_identity_));
    }
    Status st = k.Execute("KILL QUERY " + std::to_string(thread_id_));
    // ER_NO_SUCH_THREAD: the connection ended meanwhile; nothing runs to cancel.
    if (!st.ok() && (st.native() == "MariaDB 1094" || st.native() == "MySQL 1094")) return Status::Ok();
    return st;
  }

  Status Execute(std::string_view sql) override {
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) return Error();
    // Drain a result set a statement may return anyway (SHOW, CALL).
    MYSQL_RES* res = mysql_store_result(m_);
    if (res != nullptr) mysql_free_result(res);
    else if (mysql_field_count(m_) != 0) return Error();
    return Status::Ok();
  }

  StatusOr<Result> Query(std::string_view sql) override {
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) return Error();
    Result r;
    MYSQL_RES* res = mysql_store_result(m_);
    if (res == nullptr) {
      if (mysql_field_count(m_) != 0) return Error();
      r.affected = static_cast<int64_t>(mysql_affected_rows(m_));
      return r;
    }
    unsigned n = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    for (unsigned i = 0; i < n; ++i) r.columns.emplace_back(fields[i].name, fields[i].name_length);
    r.rows.reserve(mysql_num_rows(res));
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      Row out;
      out.reserve(n);
      for (unsigned i = 0; i < n; ++i) {
        if (row[i] == nullptr) out.emplace_back(std::nullopt);
        else out.emplace_back(std::string(row[i], lengths[i]));
      }
      r.rows.push_back(std::move(out));
    }
    mysql_free_result(res);
    return r;
  }

  StatusOr<std::unique_ptr<RowCursor>> OpenCursor(std::string_view sql, bool stream) override {
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) return Error();
    MYSQL_RES* res = stream ? mysql_use_result(m_) : mysql_store_result(m_);
    if (res == nullptr) {
      if (mysql_field_count(m_) != 0) return Error();
      return Status(Code::kInternal, "OpenCursor on a statement that returns no rows");
    }
    return std::unique_ptr<RowCursor>(new MysqlCursor(m_, res, info_.mariadb));
  }

  StatusOr<std::unique_ptr<RowCursor>> OpenBinaryCursor(std::string_view sql) override {
    MYSQL_STMT* stmt = mysql_stmt_init(m_);
    if (stmt == nullptr) return Error();
    auto cursor = std::make_unique<MysqlBinaryCursor>(m_, stmt, info_.mariadb);
    auto failed = [&] {
      return MysqlStatus(mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt), info_.mariadb);
    };
    if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) return failed();
    if (mysql_stmt_execute(stmt) != 0) return failed();
    FERRY_RETURN_IF_ERROR(cursor->Start());
    return std::unique_ptr<RowCursor>(std::move(cursor));
  }

  Status BulkLoad(std::string_view sql, ByteSource& data) override {
    *infile_ = LocalInfile{};
    infile_->source = &data;
    int rc = mysql_real_query(m_, sql.data(), sql.size());
    infile_->source = nullptr;
    Status failed = std::move(infile_->failed);
    *infile_ = LocalInfile{};
    if (!failed.ok()) return failed;  // the server got a cut-off file; the caller rolls back
    if (rc != 0) {
      if (LocalInfileRefused(mysql_errno(m_))) {
        return Status(Code::kUnimplemented,
                      std::string("the server does not accept LOAD DATA LOCAL INFILE (local_infile is off): ") +
                          mysql_error(m_));
      }
      return Error();
    }
    // LOAD DATA LOCAL makes data errors and duplicate keys warnings (the server cannot stop the
    // upload): here they are errors, as in a strict INSERT.
    unsigned warnings = mysql_warning_count(m_);
    if (warnings == 0) return Status::Ok();
    std::string what;
    auto shown = Query("SHOW WARNINGS LIMIT 3");
    if (shown.ok()) {
      for (const auto& w : shown->rows) {
        if (w.size() >= 3 && w[2]) what += (what.empty() ? "" : "; ") + *w[2];
      }
    }
    return Status(Code::kInvalidArgument,
                  fmt::format("the destination rejected {} value(s) of the bulk load: {}", warnings,
                              what.empty() ? "(the warnings could not be read)" : what),
                  fmt::format("{} LOAD DATA warnings", info_.mariadb ? "MariaDB" : "MySQL"));
  }

  Status Init() {
    FERRY_RETURN_IF_ERROR(Execute(kSessionSql));
    const char* v = mysql_get_server_info(m_);
    info_.version = v != nullptr ? v : "";
    unsigned long n = mysql_get_server_version(m_);
    info_.major = static_cast<int>(n / 10000);
    info_.minor = static_cast<int>(n / 100 % 100);
    info_.patch = static_cast<int>(n % 100);
    info_.mariadb = info_.version.find("MariaDB") != std::string::npos;
    thread_id_ = mysql_thread_id(m_);
    const char* tls = nullptr;
    if (mysql_get_ssl_cipher(m_) != nullptr &&
        mariadb_get_infov(m_, MARIADB_CONNECTION_TLS_VERSION, &tls) == 0 && tls != nullptr) {
      info_.tls = tls;
    }
    auto who = Query("SELECT CURRENT_USER(), CONCAT(@@hostname, ':', @@port, ' id ', @@server_id)");
    if (!who.ok()) return who.status();
    if (!who->rows.empty() && who->rows[0][0]) info_.user = *who->rows[0][0];
    if (!who->rows.empty() && who->rows[0][1]) server_identity_ = *who->rows[0][1];
    return Status::Ok();
  }

 private:
  Status Error() const {
    return MysqlStatus(mysql_errno(m_), mysql_sqlstate(m_), mysql_error(m_), info_.mariadb);
  }

  MYSQL* m_;
  std::unique_ptr<LocalInfile> infile_;
  ConnectOptions options_;
  ServerInfo info_;
  unsigned long thread_id_ = 0;  // the server's id of this connection, for KILL QUERY
  std::string server_identity_;  // "host:port id server_id": which server that id belongs to
};

}  // namespace

StatusOr<std::unique_ptr<Connection>> ConnectMysql(const ConnectOptions& o) {
  MYSQL* m = mysql_init(nullptr);
  if (m == nullptr) return Status(Code::kResourceExhausted, "out of memory creating a MySQL connection");
  unsigned timeout = static_cast<unsigned>(o.connect_timeout_s);
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  unsigned protocol = MYSQL_PROTOCOL_TCP;  // "localhost" must not mean a Unix socket
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool yes = 1, no = 0;
  // LOAD DATA LOCAL for bulk loads, served from memory by Ferry's own handler only (LocalInfile).
  auto infile = std::make_unique<LocalInfile>();
  mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &yes);
  mysql_set_local_infile_handler(m, LocalInfile::Init, LocalInfile::Read, LocalInfile::End, LocalInfile::Error,
                                 infile.get());
  switch (o.tls) {
    case ir::Tls::kDisable:
      break;
    case ir::Tls::kPrefer:  // TLS when the server offers it, without checks (as libpq's prefer)
      mysql_ssl_set(m, nullptr, nullptr, nullptr, nullptr, nullptr);
      mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
      break;
    case ir::Tls::kRequire:
      mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &yes);
      mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
      break;
    case ir::Tls::kVerifyCa:
    case ir::Tls::kVerifyFull:
      mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &yes);
      // Without `ca`, the system's trusted CAs: verification must never quietly check nothing.
      if (!o.ca.empty()) mysql_optionsv(m, MYSQL_OPT_SSL_CA, o.ca.c_str());
      else mysql_optionsv(m, MYSQL_OPT_SSL_CAPATH, "/etc/ssl/certs");
      // Connector/C checks the chain whenever a CA is given; the host name only with
      // VERIFY_SERVER_CERT. verify_ca checks the chain alone (see the TLS tests).
      mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                     o.tls == ir::Tls::kVerifyFull ? &yes : &no);
      break;
  }
  const char* db = o.database.empty() ? nullptr : o.database.c_str();
  int port = o.port != 0 ? o.port : 3306;
  if (mysql_real_connect(m, o.host.c_str(), o.user.c_str(), o.password.c_str(), db,
                         static_cast<unsigned>(port), nullptr, 0) == nullptr) {
    Status st = MysqlStatus(mysql_errno(m), mysql_sqlstate(m), mysql_error(m), false);
    mysql_close(m);
    return ConnectError(o, std::move(st));
  }
  auto conn = std::make_unique<MysqlConnection>(m, std::move(infile), o);
  Status st = conn->Init();
  if (!st.ok()) return ConnectError(o, std::move(st));
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace ferry::runtime
