#include "tests/integration/fake_cloud.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

namespace ferry::testing {

namespace {

std::string Decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseForm(const std::string& s) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t amp = s.find('&', start);
    std::string pair = s.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    size_t eq = pair.find('=');
    if (!pair.empty()) out[Decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : Decode(pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

// The cloud's percent-encoding, written here on its own so that the server does not check
// Ferry's signer with Ferry's code.
std::string CloudEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string ExpectedSignature(const std::string& method, const std::map<std::string, std::string>& p,
                              const std::string& secret, std::string* string_to_sign) {
  std::vector<std::pair<std::string, std::string>> sorted;
  for (const auto& kv : p) {
    if (kv.first != "Signature") sorted.push_back(kv);
  }
  std::sort(sorted.begin(), sorted.end());
  std::string canon;
  for (const auto& [k, v] : sorted) canon += (canon.empty() ? "" : "&") + CloudEncode(k) + "=" + CloudEncode(v);
  *string_to_sign = method + "&%2F&" + CloudEncode(canon);
  std::string key = secret + "&";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(string_to_sign->data()),
       string_to_sign->size(), md, &n);
  unsigned char b64[64];
  int len = EVP_EncodeBlock(b64, md, static_cast<int>(n));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(len));
}

std::string Random(size_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[rng() % 62];
  return s;
}

long ParseTime(const std::string& t) {
  std::tm tm{};
  if (t.size() != 20 || std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long>(timegm(&tm));
}

std::string FormatTime(long t) {
  std::time_t s = t;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

}  // namespace

FakeCloud::FakeCloud() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  listen(fd_, 16);
  thread_ = std::thread([this] { Serve(); });
}

FakeCloud::~FakeCloud() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

std::string FakeCloud::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeCloud::AddKey(const std::string& id, const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_[id] = key;
}
void FakeCloud::AddRole(const Role& role) {
  std::lock_guard<std::mutex> lock(mu_);
  roles_.push_back(role);
}
void FakeCloud::AddInstance(const std::string& id, const Instance& instance) {
  std::lock_guard<std::mutex> lock(mu_);
  instances_[id] = instance;
}

void FakeCloud::SetAnswer(const std::string& action, int status, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  answers_[action] = {status, body};
}

void FakeCloud::EndIssuedSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& kv : issued_) kv.second.expires = 0;
}

std::vector<FakeCloud::Seen> FakeCloud::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

int FakeCloud::Count(const std::string& action, bool ok_only) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(std::count_if(seen_.begin(), seen_.end(), [&](const Seen& s) {
    return s.action == action && (!ok_only || s.answer_code.empty());
  }));
}

std::vector<std::string> FakeCloud::issued() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, i] : issued_) {
    out.push_back(i.secret);
    out.push_back(i.token);
  }
  return out;
}

void FakeCloud::Serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0) continue;
    std::string in;
    char buf[8192];
    size_t header_end = std::string::npos;
    size_t need = 0;
    while (true) {
      ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = in.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        std::string lower = in.substr(0, header_end);
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        size_t cl = lower.find("content-length:");
        need = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
      }
      if (in.size() >= header_end + 4 + need) break;
    }
    if (header_end == std::string::npos) {
      close(c);
      continue;
    }
    std::string method = in.substr(0, in.find(' '));
    size_t target_start = in.find(' ') + 1;
    std::string target = in.substr(target_start, in.find(' ', target_start) - target_start);
    std::map<std::string, std::string> params;
    size_t q = target.find('?');
    if (q != std::string::npos) params = ParseForm(target.substr(q + 1));
    for (auto& kv : ParseForm(in.substr(header_end + 4, need))) params[kv.first] = kv.second;
    std::string response = Handle(method, params);
    send(c, response.data(), response.size(), MSG_NOSIGNAL);
    close(c);
  }
}

std::string FakeCloud::Handle(const std::string& method, const std::map<std::string, std::string>& params) {
  int status = 200;
  std::string code;
  std::string body;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string sts;
    auto get = [&](const char* k) {
      auto it = params.find(k);
      return it == params.end() ? std::string() : it->second;
    };
    auto error = [&](int http, const std::string& c, const std::string& message) {
      status = http;
      code = c;
      return nlohmann::json{{"RequestId", "REQ-" + Random(8)}, {"HostId", "127.0.0.1"}, {"Code", c}, {"Message", message}}
          .dump();
    };
    // The common parameters, as the cloud checks them.
    for (const char* k : {"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod",
                          "SignatureVersion", "SignatureNonce", "Timestamp"}) {
      if (params.count(k) == 0) body = error(400, "MissingParameter", std::string("The input parameter \"") + k +
                                                                         "\" that is mandatory for processing this request is not supplied.");
      if (!body.empty()) break;
    }
    long ts = ParseTime(get("Timestamp"));
    long now = static_cast<long>(std::time(nullptr));
    if (!body.empty()) {
    } else if (get("SignatureMethod") != "HMAC-SHA1" || get("SignatureVersion") != "1.0" || get("Format") != "JSON") {
      body = error(400, "InvalidParameter", "SignatureMethod, SignatureVersion or Format is not supported here.");
    } else if (ts < 0 || ts > now + 900 || ts < now - 900) {
      body = error(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    } else if (nonces_.count(get("SignatureNonce")) > 0) {
      body = error(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    } else {
      nonces_.insert(get("SignatureNonce"));
      std::string secret, account, role;
      const std::string id = get("AccessKeyId");
      auto key = keys_.find(id);
      auto temp = issued_.find(id);
      if (key != keys_.end()) {
        secret = key->second.secret;
        account = key->second.account_id;
      } else if (temp != issued_.end()) {
        secret = temp->second.secret;
        account = temp->second.account_id;
        role = temp->second.role;
      }
      if (secret.empty()) {
        body = error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
      } else if (key != keys_.end() && !key->second.active) {
        body = error(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.");
      } else if (ExpectedSignature(method, params, secret, &sts) != get("Signature")) {
        // As the cloud does, the message quotes the string the server signed: it holds the
        // access key id and the token, which Ferry must never pass on.
        body = error(400, "SignatureDoesNotMatch",
                     "Specified signature is not matched with our calculation. server string to sign is:" + sts);
      } else if (temp != issued_.end() && get("SecurityToken") != temp->second.token) {
        body = error(400, get("SecurityToken").empty() ? "MissingSecurityToken" : "InvalidSecurityToken.MismatchWithAccessKey",
                     "The security token you provided does not match the access key " + id + " (token " +
                         get("SecurityToken") + ").");
      } else if (temp != issued_.end() && temp->second.expires <= now) {
        body = error(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.");
      } else if (answers_.count(get("Action")) > 0) {
        status = answers_[get("Action")].first;
        body = answers_[get("Action")].second;
        code = status == 200 ? "" : "(set)";
      } else if (get("Action") == "AssumeRole") {
        if (get("Version") != "2015-04-01") {
          body = error(400, "InvalidVersion", "Specified parameter Version is not valid.");
        } else if (temp != issued_.end()) {
          body = error(403, "NoPermission", "Roles may not be assumed by a temporary identity here.");
        } else if (key->second.root) {
          body = error(403, "NoPermission", "Roles may not be assumed by root accounts.");
        } else {
          const std::string arn = get("RoleArn");
          const Role* r = nullptr;
          for (const auto& candidate : roles_) {
            std::string want = "acs:ram::" + candidate.account_id + ":role/" + candidate.name;
            std::string a = arn, b = want;
            std::transform(a.begin(), a.end(), a.begin(), ::tolower);
            std::transform(b.begin(), b.end(), b.begin(), ::tolower);
            if (a == b) r = &candidate;
          }
          const std::string session = get("RoleSessionName");
          long duration = get("DurationSeconds").empty() ? 3600 : std::stol(get("DurationSeconds"));
          bool session_ok = session.size() >= 2 && session.size() <= 64 &&
                            std::all_of(session.begin(), session.end(), [](unsigned char ch) {
                              return std::isalnum(ch) || ch == '.' || ch == '@' || ch == '-' || ch == '_';
                            });
          if (!session_ok) {
            body = error(400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.");
          } else if (r == nullptr) {
            body = error(404, "EntityNotExist.Role", "The role not exists: " + arn + ".");
          } else if (std::find(r->trusted.begin(), r->trusted.end(), account) == r->trusted.end() ||
                     (!r->external_id.empty() && get("ExternalId") != r->external_id)) {
            body = error(403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM.");
          } else if (duration < 900 || duration > r->max_session_s) {
            body = error(400, "InvalidParameter.DurationSeconds",
                         "The Min/Max value of DurationSeconds is 15min/" + std::to_string(r->max_session_s / 60) + "min.");
          } else {
            Issued i{Random(30), "CAIS" + Random(200), r->account_id, r->name,
                     now + duration};
            std::string temp_id = "STS.NT" + Random(20);
            issued_[temp_id] = i;
            body = nlohmann::json{{"RequestId", "REQ-" + Random(8)},
                                  {"AssumedRoleUser",
                                   {{"Arn", "acs:ram::" + r->account_id + ":role/" + r->name + "/" + session},
                                    {"AssumedRoleId", "3" + Random(16) + ":" + session}}},
                                  {"Credentials",
                                   {{"SecurityToken", i.token},
                                    {"AccessKeyId", temp_id},
                                    {"AccessKeySecret", i.secret},
                                    {"Expiration", FormatTime(i.expires)}}}}
                       .dump();
          }
        }
      } else if (get("Action") == "DescribeDBInstanceNetInfo") {
        const Role* r = nullptr;
        for (const auto& candidate : roles_) {
          if (!role.empty() && candidate.name == role && candidate.account_id == account) r = &candidate;
        }
        auto inst = instances_.find(get("DBInstanceId"));
        if (get("Version") != "2014-08-15") {
          body = error(400, "InvalidVersion", "Specified parameter Version is not valid.");
        } else if (r != nullptr && !r->may_describe_rds) {
          body = error(403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.");
        } else if (inst == instances_.end() || inst->second.account_id != account) {
          body = error(404, "InvalidDBInstanceId.NotFound", "The specified instance is not found.");
        } else {
          nlohmann::json infos = nlohmann::json::array();
          for (const auto& a : inst->second.addresses) {
            infos.push_back({{"ConnectionString", a.connection_string},
                             {"Port", a.port},
                             {"IPType", a.ip_type},
                             {"IPAddress", "127.0.0.1"},
                             {"ConnectionStringType", a.type},
                             {"Upgradeable", "Disabled"},
                             {"VPCId", a.ip_type == "Private" ? "vpc-test" : ""},
                             {"VSwitchId", a.ip_type == "Private" ? "vsw-test" : ""}});
          }
          body = nlohmann::json{{"RequestId", "REQ-" + Random(8)},
                                {"InstanceNetworkType", "VPC"},
                                {"SecurityIPMode", "normal"},
                                {"DBInstanceNetInfos", {{"DBInstanceNetInfo", infos}}}}
                     .dump();
        }
      } else {
        body = error(400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
      }
    }
    seen_.push_back({get("Action"), params, code});
  }
  return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
         "\r\nContent-Type: application/json;charset=utf-8\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace ferry::testing
