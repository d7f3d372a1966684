// Status and StatusOr: how the runtime reports a failure without exceptions.
//
// A Status carries a code the runtime acts on (retry a connection failure within the plan's
// `retry.connection` window, other failures within `retry.other`, never retry a permission
// error), a message written for the person who reads it, and the engine's own error (code and
// SQLSTATE) for the person who searches for it. Each connector maps its native errors to these
// codes in one place (runtime/connectors/*/errors.cc). A message never holds a secret.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ferry::runtime {

enum class Code {
  kOk,
  kInvalidArgument,     // the plan or the data is wrong: a bad filter, a type no rule maps
  kNotFound,            // an object, database or secret that is not there
  kAlreadyExists,       // a destination object in the way
  kUnauthenticated,     // wrong user or password
  kPermissionDenied,    // a missing privilege
  kUnavailable,         // cannot reach the server, or lost the connection: retried
  kTlsFailure,          // TLS was required and could not be set up, or the peer failed checks
  kFailedPrecondition,  // a server setting or state that must change first (binlog off …)
  kResourceExhausted,   // too many connections, disk full, out of memory on the server
  kAborted,             // deadlock, serialization failure: the transaction may be retried
  kUnimplemented,       // something Ferry cannot do (yet) for this engine
  kCancelled,           // stopped by a signal
  kInternal,            // a bug in Ferry
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string native = {})
      : code_(code), message_(std::move(message)), native_(std::move(native)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The engine's own error, e.g. "MariaDB 1045 (28000)"; empty when Ferry raised it.
  const std::string& native() const { return native_; }
  // A connection-level failure worth retrying within `retry.connection`.
  bool IsConnection() const { return code_ == Code::kUnavailable; }

  // Prefixes the message with where it happened: "reading the catalog of shop_src: …".
  Status& Prefix(const std::string& context) {
    message_ = context + ": " + message_;
    return *this;
  }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string native_;
};

template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

#define FERRY_CONCAT_INNER(a, b) a##b
#define FERRY_CONCAT(a, b) FERRY_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr): returns the Status of expr when it is not ok.
#define FERRY_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::ferry::runtime::Status _st = (expr);       \
    if (!_st.ok()) return _st;                   \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): lhs = value of expr, or return its Status.
#define FERRY_ASSIGN_OR_RETURN(lhs, expr) \
  FERRY_ASSIGN_OR_RETURN_IMPL(FERRY_CONCAT(_statusor_, __LINE__), lhs, expr)
#define FERRY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

}  // namespace ferry::runtime
