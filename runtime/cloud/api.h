// Calls to the cloud's RPC-style API (STS, RDS): signed POSTs with Format=JSON, a fresh
// nonce and timestamp each, answered with JSON.
//
// No key, secret or token ever leaves this file except inside the signed request: the
// errors it returns name the action and the endpoint, the cloud's error code, its request
// id and its message with every credential string removed (the cloud's message for a
// signature mismatch quotes the string it signed, so that one is dropped whole).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/cloud/signature.h"
#include "runtime/status.h"

namespace ferry::runtime::cloud {

using TimePoint = std::chrono::system_clock::time_point;

struct Credentials {
  std::string access_key_id;
  std::string access_key_secret;
  std::string security_token;  // empty for an account's own (long-term) keys
  TimePoint issued{};
  TimePoint expires = TimePoint::max();  // max for long-term keys

  ~Credentials();  // wipes the secret and the token from memory
  Credentials() = default;
  Credentials(const Credentials&) = default;
  Credentials& operator=(const Credentials&) = default;
};

struct Request {
  std::string endpoint;  // "https://sts.aliyuncs.com"
  std::string action;    // "AssumeRole"
  std::string version;   // "2015-04-01"
  Params params;         // the action's own parameters
};

// What the cloud answered when it refused a request.
struct ApiError {
  long http_status = 0;
  std::string code;        // e.g. "EntityNotExist.Role"
  std::string message;     // with credentials removed; empty when it could hold them
  std::string request_id;  // for a support ticket
};

// Sends the request signed with `credentials` and returns the JSON body of a successful
// answer. When the cloud refuses it, the Status says so (kUnauthenticated for bad keys,
// kPermissionDenied for a refusal, kNotFound, kUnavailable for throttling and server
// errors, which are worth retrying) and *error holds the cloud's answer.
StatusOr<nlohmann::json> Call(const Request& request, const Credentials& credentials, ApiError* error);

// The parameters of the POST body, signature included (exposed for tests).
Params SignedParams(const Request& request, const Credentials& credentials, TimePoint now);

// `text` with every credential string of `c` (as it is, and percent-encoded once or twice, as
// a quoted string to sign holds it) replaced by "[redacted]".
std::string Redact(std::string text, const Credentials& c);

// Field `key` of a JSON object as text: a string as it is, a number as written; "" when the
// answer is not an object, lacks the field, or holds something else there. The cloud's
// answers are read only through this, so an unexpected answer is an error, never a crash.
std::string JsonText(const nlohmann::json& object, const char* key);

}  // namespace ferry::runtime::cloud
