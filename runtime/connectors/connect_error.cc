#include "runtime/connectors/connect_error.h"

#include <string>

namespace ferry::runtime {

Status ConnectError(const ConnectOptions& o, Status cause) {
  std::string where = "cannot connect to endpoint " + o.label + " (" + std::string(ir::Name(o.engine)) +
                      " at " + o.host + ":" + std::to_string(o.port) +
                      (o.resolved_from.empty() ? "" : ", " + o.resolved_from) + " as " + o.user + ")";
  std::string hint;
  switch (cause.code()) {
    case Code::kUnauthenticated:
      hint = "check the endpoint's user and the value its password secret holds";
      break;
    case Code::kUnavailable:
      hint = "check host and port, that the server runs, and that it accepts connections from this "
             "machine (firewall, IP whitelist, security group)";
      break;
    case Code::kTlsFailure:
      hint = "check the endpoint's tls mode and its ca file; verify_full needs a server certificate "
             "that names the host exactly as the plan writes it";
      break;
    case Code::kNotFound:
      hint = "check the endpoint's database name";
      break;
    case Code::kPermissionDenied:
      hint = "grant the user access to the database";
      break;
    case Code::kResourceExhausted:
      hint = "the server refuses more connections; lower `workers` or raise its connection limit";
      break;
    default:
      break;
  }
  std::string msg = where + ": " + cause.message();
  if (!hint.empty()) msg += "; " + hint;
  return Status(cause.code(), msg, cause.native());
}

}  // namespace ferry::runtime
