#include "runtime/connection.h"

#include "runtime/connectors/mysql/mysql_connection.h"
#include "runtime/connectors/postgres/postgres_connection.h"
#include "runtime/secrets.h"

namespace ferry::runtime {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kUnavailable: return "unavailable";
    case Code::kTlsFailure: return "tls_failure";
    case Code::kFailedPrecondition: return "failed_precondition";
    case Code::kResourceExhausted: return "resource_exhausted";
    case Code::kAborted: return "aborted";
    case Code::kUnimplemented: return "unimplemented";
    case Code::kCancelled: return "cancelled";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s = message_;
  if (!native_.empty()) s += " [" + native_ + "]";
  return s;
}

int Result::Column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Status Connection::BulkLoad(std::string_view, ByteSource&) {
  return Status(Code::kUnimplemented, "no bulk load path for this engine");
}

Status Connection::Cancel() { return Status(Code::kUnimplemented, "this connection cannot cancel a statement"); }

StatusOr<std::unique_ptr<ByteSource>> Connection::CopyOut(std::string_view) {
  return Status(Code::kUnimplemented, "COPY TO STDOUT is PostgreSQL's");
}

Status Connection::SetReadOnly() {
  if (engine() == ir::Engine::kPostgres) {
    return Execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
  }
  return Execute("SET SESSION TRANSACTION READ ONLY");
}

StatusOr<std::unique_ptr<Connection>> Connect(const ConnectOptions& options) {
  switch (options.engine) {
    case ir::Engine::kMysql:
    case ir::Engine::kMariadb:
      return ConnectMysql(options);
    case ir::Engine::kPostgres:
      return ConnectPostgres(options);
    case ir::Engine::kSqlserver:
      break;
  }
  return Status(Code::kUnimplemented,
                "endpoint " + options.label +
                    ": SQL Server connections are not implemented yet (no SQL Server server exists "
                    "to test one against); the plan compiles, but cannot run");
}

StatusOr<ConnectOptions> OptionsFor(const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint& endpoint,
                                    cloud::Resolution* resolution) {
  ConnectOptions o;
  o.engine = endpoint.engine;
  o.label = endpoint.name;
  if (endpoint.host.empty()) {
    cloud::Resolution r = cloud::ProcessResolver().Resolve(plan, m, endpoint);
    if (resolution != nullptr) *resolution = r;
    const auto& failed = r.role_error ? r.role_error : r.address_error;
    if (failed) {
      return Status(failed->status.code(), "endpoint " + endpoint.name + " (" + endpoint.origin.loc +
                                               ") is given by instance \"" + endpoint.instance +
                                               "\", which cannot be resolved: " + failed->Message());
    }
    o.host = r.host;
    o.port = r.port;
    o.resolved_from = r.Describe(endpoint);
  } else {
    o.host = endpoint.host;
    o.port = endpoint.port != 0 ? endpoint.port : ir::DefaultPort(endpoint.engine);
  }
  o.database = endpoint.database;
  o.user = endpoint.user;
  o.tls = endpoint.tls;
  o.ca = endpoint.ca;
  if (endpoint.password) {
    auto pw = ResolveSecret(*endpoint.password);
    if (!pw.ok()) {
      Status st = pw.status();
      return st.Prefix("endpoint " + endpoint.name + " (" + endpoint.origin.loc + ")");
    }
    o.password = std::move(pw).value();
  }
  return o;
}

}  // namespace ferry::runtime
