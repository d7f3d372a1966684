// PostgreSQL SQLSTATEs → runtime codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
// A failed connection has no SQLSTATE in libpq, only its message: PostgresConnectCode reads that.
#include <string>

#include "runtime/connectors/postgres/postgres_connection.h"

namespace ferry::runtime {

Code PostgresCode(std::string_view s) {
  if (s.size() != 5) return Code::kInternal;
  std::string_view cls = s.substr(0, 2);
  if (s == "28P01" || s == "28000") return Code::kUnauthenticated;
  if (s == "42501") return Code::kPermissionDenied;  // insufficient_privilege
  if (cls == "08" || s == "57P01" || s == "57P02" || s == "57P03") return Code::kUnavailable;
  if (s == "42P07" || s == "42P06" || s == "42710" || s == "42723")
    return Code::kAlreadyExists;  // duplicate table / schema / object / function
  if (s == "42P01" || s == "3F000" || s == "3D000" || s == "42704" || s == "42883") return Code::kNotFound;
  if (s == "40001" || s == "40P01" || s == "55P03") return Code::kAborted;  // serialization, deadlock, lock
  if (cls == "53") return Code::kResourceExhausted;
  if (s == "55000" || s == "25006") return Code::kFailedPrecondition;  // prerequisite state, read-only tx
  if (s == "57014") return Code::kCancelled;
  if (cls == "0A") return Code::kUnimplemented;
  if (cls == "XX") return Code::kInternal;
  return Code::kInvalidArgument;  // syntax, data and constraint errors: the SQL or data is wrong
}

Code PostgresConnectCode(std::string_view m) {
  auto has = [&](std::string_view needle) { return m.find(needle) != std::string_view::npos; };
  if (has("password authentication failed") || has("no password supplied") ||
      has("authentication failed") || has("no pg_hba.conf entry"))
    return Code::kUnauthenticated;
  // A server going away or coming back (a restart, a failover) is a connection failure to
  // retry, even when it shows as a TLS session cut short.
  if (has("closed the connection unexpectedly") || has("connection has been closed unexpectedly") ||
      has("is starting up") || has("is shutting down") || has("Connection refused") || has("in recovery mode")) {
    return Code::kUnavailable;
  }
  if (has("SSL") || has("certificate") || has("sslmode")) return Code::kTlsFailure;
  if (has("database \"") && has("does not exist")) return Code::kNotFound;
  if (has("permission denied")) return Code::kPermissionDenied;
  if (has("too many clients") || has("remaining connection slots")) return Code::kResourceExhausted;
  return Code::kUnavailable;
}

}  // namespace ferry::runtime
