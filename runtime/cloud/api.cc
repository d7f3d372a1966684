#include "runtime/cloud/api.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <vector>

#include "compiler/ir.h"
#include "runtime/http.h"

namespace ferry::runtime::cloud {

namespace {

// The cloud's error code and request id are identifiers; anything else in those fields (an
// echo of the request from a misconfigured endpoint) is dropped.
std::string Identifier(const std::string& s) {
  if (s.empty() || s.size() > 128) return "";
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' && c != '-') return "";
  }
  return s;
}

Code CodeFor(long http, const std::string& code) {
  auto starts = [&](const char* p) { return code.rfind(p, 0) == 0; };
  if (http >= 500 || starts("Throttling") || starts("ServiceUnavailable") || starts("InternalError") ||
      starts("SignatureNonceUsed")) {
    return Code::kUnavailable;
  }
  if (starts("InvalidAccessKeyId") || starts("SignatureDoesNotMatch") || starts("IncompleteSignature") ||
      starts("InvalidSecurityToken") || starts("MissingSecurityToken") || starts("InvalidTimeStamp")) {
    return Code::kUnauthenticated;
  }
  if (starts("NoPermission") || starts("Forbidden") || starts("AuthenticationFail") || http == 403) {
    return Code::kPermissionDenied;
  }
  if (code.find("NotFound") != std::string::npos || starts("EntityNotExist") || http == 404) return Code::kNotFound;
  return Code::kInvalidArgument;
}

}  // namespace

std::string Redact(std::string text, const Credentials& c) {
  // Every occurrence is found in the text as it came, then each run of hidden bytes becomes
  // one mark, so that a credential which happens to occur in the mark itself changes nothing.
  std::vector<bool> hidden(text.size(), false);
  for (const std::string* s : {&c.access_key_id, &c.access_key_secret, &c.security_token}) {
    if (s->size() < 4) continue;
    for (const std::string& form : {*s, PercentEncode(*s), PercentEncode(PercentEncode(*s))}) {
      for (size_t at = text.find(form); at != std::string::npos; at = text.find(form, at + 1)) {
        std::fill(hidden.begin() + static_cast<long>(at), hidden.begin() + static_cast<long>(at + form.size()), true);
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!hidden[i]) {
      out += text[i];
    } else if (i == 0 || !hidden[i - 1]) {
      out += "[redacted]";
    }
  }
  return out;
}

std::string JsonText(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  if (it == o.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return "";
}

Credentials::~Credentials() {
  OPENSSL_cleanse(access_key_secret.data(), access_key_secret.size());
  OPENSSL_cleanse(security_token.data(), security_token.size());
}

Params SignedParams(const Request& r, const Credentials& c, TimePoint now) {
  Params p = r.params;
  p["Action"] = r.action;
  p["Version"] = r.version;
  p["Format"] = "JSON";
  p["AccessKeyId"] = c.access_key_id;
  p["SignatureMethod"] = "HMAC-SHA1";
  p["SignatureVersion"] = "1.0";
  p["SignatureNonce"] = NewNonce();
  p["Timestamp"] = IsoTimestamp(now);
  if (!c.security_token.empty()) p["SecurityToken"] = c.security_token;
  p["Signature"] = Sign(StringToSign("POST", p), c.access_key_secret);
  return p;
}

StatusOr<nlohmann::json> Call(const Request& r, const Credentials& c, ApiError* error) {
  const std::string what = r.action + " at " + r.endpoint;
  if (r.endpoint.rfind("https://", 0) != 0 && !ir::IsLoopbackUrl(r.endpoint)) {
    return Status(Code::kInvalidArgument,
                  "refusing to call " + what +
                      " over plain http: the request carries credentials; use an https:// endpoint (plain http is "
                      "allowed to a loopback address only, for tests)");
  }
  Params p = SignedParams(r, c, std::chrono::system_clock::now());
  std::string body = CanonicalQuery(p);
  std::string url = r.endpoint;
  if (url.empty() || url.back() != '/') url += '/';
  auto sent = HttpPost(url, "application/x-www-form-urlencoded", body, 20, "the cloud API (" + what + ")");
  OPENSSL_cleanse(body.data(), body.size());
  if (!sent.ok()) return sent.status();
  nlohmann::json j = nlohmann::json::parse(sent->body, nullptr, false);
  if (sent->status >= 200 && sent->status < 300 && j.is_object() && !j.contains("Code")) return j;

  ApiError e;
  e.http_status = sent->status;
  if (j.is_object()) {
    e.code = Redact(Identifier(JsonText(j, "Code")), c);
    e.request_id = Redact(Identifier(JsonText(j, "RequestId")), c);
    // A signature error's message quotes the string the cloud signed: dropped whole.
    if (e.code.rfind("SignatureDoesNotMatch", 0) != 0 && e.code.rfind("IncompleteSignature", 0) != 0) {
      e.message = Redact(JsonText(j, "Message"), c);
    }
  }
  if (error != nullptr) *error = e;
  std::string msg = what + " refused the request: HTTP " + std::to_string(e.http_status);
  if (!e.code.empty()) msg += " " + e.code;
  if (!e.message.empty()) msg += " (" + e.message + ")";
  if (!e.request_id.empty()) msg += ", request id " + e.request_id;
  if (!j.is_object()) msg += ", and its answer is not JSON";
  return Status(e.code.empty() && sent->status >= 500 ? Code::kUnavailable : CodeFor(e.http_status, e.code), msg);
}

}  // namespace ferry::runtime::cloud
