// Alibaba Cloud RPC-style request signing (signature method HMAC-SHA1, SignatureVersion 1.0),
// as the cloud documents it:
//   1. every parameter except Signature, sorted by name (byte order), each name and value
//      percent-encoded (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are, so a space is
//      %20, `*` is %2A, `~` is `~`), joined as name=value with `&`;
//   2. string to sign: METHOD & PercentEncode("/") & PercentEncode(that query);
//   3. signature: Base64(HMAC-SHA1(key = AccessKeySecret + "&", string to sign)).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace ferry::runtime::cloud {

using Params = std::map<std::string, std::string>;  // sorted by name, as signing needs

std::string PercentEncode(std::string_view s);
std::string CanonicalQuery(const Params& params);
std::string StringToSign(std::string_view method, const Params& params);
std::string Sign(std::string_view string_to_sign, std::string_view access_key_secret);

// The common parameters of a request: Format=JSON, SignatureMethod, SignatureVersion, a
// fresh random SignatureNonce, and Timestamp (UTC, ISO 8601, e.g. 2016-02-23T12:46:24Z).
std::string NewNonce();
std::string IsoTimestamp(std::chrono::system_clock::time_point t);

// Parses an ISO 8601 UTC time as the cloud writes it ("2015-04-09T11:52:19Z"); false when
// it is not one.
bool ParseIsoTimestamp(std::string_view text, std::chrono::system_clock::time_point* out);

}  // namespace ferry::runtime::cloud
