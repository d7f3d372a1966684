// A connection to one database server, whatever its engine.
//
// The connectors (runtime/connectors/mysql, runtime/connectors/postgres) implement this over
// MariaDB Connector/C and libpq. Every connection is set up the same way for every caller:
// UTF-8 (utf8mb4), UTC, and a fixed SQL mode on the MySQL family, so that quoting (sql.h) and
// values mean the same thing on every connection Ferry opens. Not thread-safe: one connection
// per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"
#include "runtime/cloud/resolver.h"
#include "runtime/status.h"

namespace ferry::runtime {

struct ConnectOptions {
  ir::Engine engine = ir::Engine::kMysql;
  std::string host;
  int port = 0;           // 0: the engine's default
  std::string database;   // may be empty for the MySQL family
  std::string user;
  std::string password;   // resolved from the plan's secret; never printed
  ir::Tls tls = ir::Tls::kPrefer;
  std::string ca;         // CA bundle for verify_ca / verify_full
  int connect_timeout_s = 10;
  std::string label;      // how messages name it: the plan's endpoint name
  std::string resolved_from;  // for an `instance` endpoint: how host and port were found
};

struct ServerInfo {
  std::string version;    // as the server reports it: "10.11.19-MariaDB-0+deb12u1-log", "15.18"
  int major = 0, minor = 0, patch = 0;
  bool mariadb = false;   // a MariaDB server (MySQL family)
  std::string tls;        // the TLS protocol in use ("TLSv1.3"), or empty when unencrypted
  std::string user;       // the user the server authenticated (CURRENT_USER / current_user)
  std::string encoding;   // PostgreSQL: its database's encoding (server_encoding, "UTF8"); MySQL: empty
};

using Value = std::optional<std::string>;  // nullopt is SQL NULL; bytes otherwise (binary-safe)
using Row = std::vector<Value>;

struct Result {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  int64_t affected = 0;

  // The index of a column by name; -1 when absent.
  int Column(std::string_view name) const;
};

// A query's rows, read one at a time: the load's source side. Streaming cursors (the MySQL
// family, mysql_use_result) hold one row in memory whatever the result's size, and keep the
// connection busy until the end or until the cursor goes.
class RowCursor {
 public:
  virtual ~RowCursor() = default;
  // Moves to the next row; false after the last.
  virtual StatusOr<bool> Next() = 0;
  // Value i of the current row: nullopt for NULL; the bytes stay valid until Next.
  virtual std::optional<std::string_view> Get(size_t i) const = 0;
  // Value i as the number it was sent as, where the cursor has one (a binary protocol's integer
  // of signed 64-bit range, or double), without printing it: false otherwise (also for NULL),
  // and the caller reads Get's text, which is the same number.
  virtual bool GetInteger(size_t /*i*/, int64_t* /*v*/) const { return false; }
  virtual bool GetDouble(size_t /*i*/, double* /*v*/) const { return false; }
};

// A stream of bytes read piece by piece: a bulk load's input, or COPY TO STDOUT's output.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Appends the next piece to *out; false (and nothing appended) once the stream has ended.
  virtual StatusOr<bool> Read(std::string* out) = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual ir::Engine engine() const = 0;
  virtual const ServerInfo& server() const = 0;
  virtual const ConnectOptions& options() const = 0;

  // Runs one statement that returns no rows.
  virtual Status Execute(std::string_view sql) = 0;
  // Runs one statement and returns all its rows.
  virtual StatusOr<Result> Query(std::string_view sql) = 0;
  // Runs one query and returns its rows through a cursor. `stream`: read rows from the
  // server as the cursor advances (when the engine can) instead of all at once; the caller
  // must then keep reading, since the server waits for it (net_write_timeout on MySQL).
  virtual StatusOr<std::unique_ptr<RowCursor>> OpenCursor(std::string_view sql, bool stream) = 0;
  // OpenCursor(sql, true), its rows sent in the server's binary protocol where the engine has
  // one worth taking: the MySQL family's prepared statements, which spare the server printing
  // numbers, dates and times. Get gives every value as OpenCursor's text would (an integer in
  // decimal, a double by its shortest round-trip digits, a datetime as MySQL prints it).
  virtual StatusOr<std::unique_ptr<RowCursor>> OpenBinaryCursor(std::string_view sql) { return OpenCursor(sql, true); }
  // Bulk load, part of the surrounding transaction: PostgreSQL runs `sql` (COPY … FROM STDIN)
  // and sends it `data`; the MySQL family runs `sql` (LOAD DATA LOCAL INFILE …) and serves
  // `data` when the server asks for the file (never a file from disk, whatever the server
  // names). An error of `data` itself is returned as it is. On the MySQL family anything the
  // server only warned about is an error (LOAD DATA LOCAL turns data errors into warnings),
  // and a server that refuses LOCAL gives kUnimplemented.
  virtual Status BulkLoad(std::string_view sql, ByteSource& data);
  // PostgreSQL: runs `COPY … TO STDOUT` and returns its output as a stream. The connection
  // serves nothing else until the stream ended or went. Other engines: kUnimplemented.
  virtual StatusOr<std::unique_ptr<ByteSource>> CopyOut(std::string_view copy_sql);
  // Asks the server to cancel the statement this connection runs now, from another thread (the
  // only call that may be made while another thread uses the connection). The statement then
  // fails (kCancelled) and the connection stays usable; with none running, nothing happens.
  // PostgreSQL: a cancel request; the MySQL family: KILL QUERY on a connection of its own.
  virtual Status Cancel();

  // Transactions (the MySQL family commits DDL implicitly; PostgreSQL does not).
  Status Begin() { return Execute(engine() == ir::Engine::kPostgres ? "BEGIN" : "START TRANSACTION"); }
  Status Commit() { return Execute("COMMIT"); }
  Status Rollback() { return Execute("ROLLBACK"); }
  // Makes this connection's transactions read-only (precheck, dry run, the source side).
  Status SetReadOnly();
};

// Opens a connection and applies the session settings above. Errors say which endpoint,
// host and port, and what to do; they never hold the password.
StatusOr<std::unique_ptr<Connection>> Connect(const ConnectOptions& options);

// The options for endpoint `e` as migration `m` of `plan` reaches it, with its password
// secret resolved now (secrets.h). `host`/`port` come from the plan, or, for an endpoint
// given by `instance`, from the cloud API (cloud/resolver.h: the role assumed, the address
// looked up; called again, it reuses both while they are fresh). `resolution`, when given,
// receives how the instance was resolved, or which step failed (precheck reports them).
StatusOr<ConnectOptions> OptionsFor(const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint& e,
                                    cloud::Resolution* resolution = nullptr);

}  // namespace ferry::runtime
