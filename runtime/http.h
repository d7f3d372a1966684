// A small HTTP client over libcurl: the failure webhook (alert.h) and the cloud API
// (cloud/api.h) post through it.
#pragma once

#include <string>

#include "runtime/status.h"

namespace ferry::runtime {

struct HttpResponse {
  long status = 0;   // the HTTP status code
  std::string body;
};

// POSTs `body` to `url` and returns what the server answered, whatever its status code. A
// server that cannot be reached, or does not answer within `timeout_s`, is kUnavailable; the
// message names `what` (e.g. "the alert webhook (plan.ferry:12:3)") and curl's reason, never
// the body, which may hold signed parameters. Certificates are verified; no proxy from the
// environment is used for loopback addresses.
StatusOr<HttpResponse> HttpPost(const std::string& url, const std::string& content_type, const std::string& body,
                                int timeout_s, const std::string& what);

}  // namespace ferry::runtime
