#include "runtime/cloud/resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "runtime/secrets.h"

namespace ferry::runtime::cloud {

namespace {

using std::chrono::seconds;

constexpr auto kAddressReuse = seconds(60);
constexpr int kAttempts = 3;  // throttling and server errors are tried again, 1 s and 2 s apart

std::string SecretRef(const std::optional<ir::Secret>& s) {
  if (!s) return "its secret";
  return "secret(\"" + s->ToString() + "\")";
}

// The renewal point: a quarter of the credentials' lifetime before they expire, at most
// five minutes before. `expires` is on this machine's clock (see Fetch).
TimePoint RenewAt(const Credentials& c) {
  if (c.expires == TimePoint::max()) return c.expires;
  auto life = std::max<std::chrono::system_clock::duration>(c.expires - c.issued, seconds(0));
  auto margin = std::min<std::chrono::system_clock::duration>(life / 4, std::chrono::minutes(5));
  return c.expires - margin;
}

// "ferry-<migration>", in the characters and length RoleSessionName allows.
std::string SessionName(const std::string& migration) {
  std::string s = "ferry-";
  for (char c : migration) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '@' || c == '-' || c == '_';
    s += ok ? c : '-';
  }
  if (s.size() > 64) s.resize(64);
  return s;
}

StatusOr<nlohmann::json> CallWithRetry(const Request& r, const Credentials& c, ApiError* error) {
  for (int attempt = 1;; ++attempt) {
    auto j = Call(r, c, error);
    if (j.ok() || j.status().code() != Code::kUnavailable || attempt == kAttempts) return j;
    std::this_thread::sleep_for(seconds(attempt));
  }
}

bool Starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Explanations for the errors of the account's own keys, whichever call met them.
bool ExplainKeys(const ApiError& e, const ir::Account& runner, StepError* out) {
  const std::string who = fmt::format("account `{}` ({})", runner.name, runner.id);
  if (Starts(e.code, "InvalidAccessKeyId.NotFound")) {
    out->status = Status(Code::kUnauthenticated, fmt::format("the cloud does not know the access key id of {}", who));
    out->hint = fmt::format("check the value `access_key_id = {}` reads: a RAM user's AccessKey ID, with no spaces "
                            "(create a new AccessKey in the RAM console if it was deleted)",
                            SecretRef(runner.access_key_id));
  } else if (Starts(e.code, "InvalidAccessKeyId.Inactive")) {
    out->status = Status(Code::kUnauthenticated, fmt::format("the access key of {} is disabled", who));
    out->hint = "enable the AccessKey in the RAM console (Users → the user → AccessKey), or give another";
  } else if (Starts(e.code, "SignatureDoesNotMatch") || Starts(e.code, "IncompleteSignature")) {
    out->status =
        Status(Code::kUnauthenticated, fmt::format("the access key secret of {} does not match its access key id", who));
    out->hint = fmt::format("check the value `access_key_secret = {}` reads: the secret created with that AccessKey ID",
                            SecretRef(runner.access_key_secret));
  } else if (Starts(e.code, "InvalidTimeStamp")) {
    out->status = Status(Code::kUnauthenticated,
                         "the cloud refused the request's time stamp: this machine's clock is more than 15 minutes off");
    out->hint = "synchronise this machine's clock (NTP)";
  } else {
    return false;
  }
  out->loc = runner.origin.loc;
  return true;
}

}  // namespace

std::string StepError::Message() const {
  std::string m = status.message();
  if (!loc.empty()) m += " (" + loc + ")";
  if (!hint.empty()) m += "; " + hint;
  return m;
}

std::string Resolution::Describe(const ir::Endpoint& e) const {
  std::string s = fmt::format("instance {} ({} address", e.instance, ip_type.empty() ? "unknown" : ip_type);
  if (!role_arn.empty()) s += ", via role " + role_arn.substr(role_arn.rfind('/') + 1);
  if (stale) s += ", last known: the cloud API did not answer";
  return s + ")";
}

std::string DefaultRdsEndpoint(const std::string& region) {
  // The regions the RDS API reference serves from its central endpoint; the others have
  // their own.
  static const char* const kCentral[] = {"cn-qingdao", "cn-beijing",  "cn-hangzhou", "cn-shanghai", "cn-shenzhen",
                                         "cn-heyuan",  "cn-hongkong", "us-east-1",   "us-west-1"};
  for (const char* c : kCentral) {
    if (region == c) return "https://rds.aliyuncs.com";
  }
  return "https://rds." + region + ".aliyuncs.com";
}

Resolver::Resolver(Clock now) : now_(std::move(now)) {}

int Resolver::assumed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return assumed_;
}

Resolver& ProcessResolver() {
  static Resolver resolver;
  return resolver;
}

std::string Resolver::AddressKey(const ir::Migration& m, const ir::Endpoint& e) {
  return m.account + "|" + (e.account.empty() ? m.account : e.account) + "|" + e.assume + "|" + m.name + "|" +
         e.instance + "|" + e.region + "|" + (e.network == ir::Network::kPublic ? "public" : "private");
}

std::optional<Resolution> Resolver::Fresh(const ir::Migration& m, const ir::Endpoint& e) {
  std::lock_guard<std::mutex> lock(mu_);
  auto known = addresses_.find(AddressKey(m, e));
  if (known == addresses_.end()) return std::nullopt;
  auto age = now_() - known->second.found;
  if (age < seconds(0) || age >= kAddressReuse) return std::nullopt;  // a clock stepped back: ask again
  return known->second.resolution;
}

Resolution Resolver::Resolve(const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint& e) {
  // A fresh address is handed out at once. Otherwise one resolution at a time talks to the
  // cloud (so that one apply assumes a role once, whatever its number of workers), without
  // holding up the threads whose address is fresh.
  if (auto fresh = Fresh(m, e)) return *fresh;
  std::lock_guard<std::mutex> fetching(fetch_mu_);
  if (auto fresh = Fresh(m, e)) return *fresh;
  return Fetch(plan, m, e, false);
}

Resolution Resolver::Fetch(const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint& e, bool renewed) {
  Resolution res;
  const std::string endpoint_where = fmt::format("endpoint `{}`", e.name);
  auto fail_address = [&](Status st, std::string hint, std::string loc) {
    res.address_error = StepError{std::move(st), std::move(hint), std::move(loc)};
    return res;
  };

  // ---- the migrating account's own keys ----
  const ir::Account* runner = plan.FindAccount(m.account);
  if (runner == nullptr || !runner->access_key_id || !runner->access_key_secret) {
    return fail_address(Status(Code::kInvalidArgument,
                               fmt::format("{} is given by instance \"{}\", but the account that runs migration `{}` "
                                           "has no API keys to resolve it with",
                                           endpoint_where, e.instance, m.name)),
                        "give the migration's account `access_key_id` and `access_key_secret`, or give the endpoint a "
                        "`host`",
                        e.origin.loc);
  }
  Credentials keys;
  {
    auto id = ResolveSecret(*runner->access_key_id);
    auto secret = id.ok() ? ResolveSecret(*runner->access_key_secret) : StatusOr<std::string>(id.status());
    if (!secret.ok()) {
      Status st = secret.status();
      return fail_address(st.Prefix(fmt::format("account `{}`", runner->name)),
                          "set the variable or file the secret names", runner->origin.loc);
    }
    keys.access_key_id = *id;
    keys.access_key_secret = *secret;
  }

  // ---- the role, when the instance is another account's ----
  const std::string owner_name = e.account.empty() ? m.account : e.account;
  const ir::Account* owner = plan.FindAccount(owner_name);
  if (owner == nullptr) owner = runner;
  Credentials creds = keys;  // a copy: the cache may change while the cloud is asked
  std::string cache_key;
  const std::string address_key = AddressKey(m, e);
  // The last address found, for when the cloud API does not answer.
  auto last_known = [&]() -> std::optional<Resolution> {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = addresses_.find(address_key);
    if (known == addresses_.end()) return std::nullopt;
    Resolution stale = known->second.resolution;
    stale.stale = true;
    return stale;
  };
  if (!e.assume.empty() && owner_name != m.account) {
    const ir::Role* role = plan.FindRole(e.assume);
    if (role == nullptr) {
      return fail_address(Status(Code::kInternal, "role " + e.assume + " is not in the plan"), "", e.origin.loc);
    }
    const ir::Account* role_owner = role->account.empty() ? owner : plan.FindAccount(role->account);
    if (role_owner == nullptr) role_owner = owner;
    res.role_arn = "acs:ram::" + role_owner->id + ":role/" + role->role_name;
    res.session = SessionName(m.name);
    const int64_t duration_s = role->session_ms / 1000;
    cache_key = runner->name + "|" + res.role_arn + "|" + role->external_id + "|" + std::to_string(duration_s) + "|" +
                res.session;
    std::optional<Credentials> cached;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = roles_.find(cache_key);
      if (it != roles_.end() && now_() < RenewAt(it->second.credentials)) cached = it->second.credentials;
    }
    if (!cached) {
      Request r;
      r.endpoint = runner->sts_endpoint.empty() ? kDefaultStsEndpoint : runner->sts_endpoint;
      r.action = "AssumeRole";
      r.version = "2015-04-01";
      r.params = {{"RoleArn", res.role_arn},
                  {"RoleSessionName", res.session},
                  {"DurationSeconds", std::to_string(duration_s)}};
      if (!role->external_id.empty()) r.params["ExternalId"] = role->external_id;
      ApiError err;
      TimePoint asked = now_();
      auto j = CallWithRetry(r, keys, &err);
      StepError se;
      if (!j.ok()) {
        const std::string role_text = fmt::format("role \"{}\" of account {}", role->role_name, role_owner->id);
        if (ExplainKeys(err, *runner, &se)) {
          // the message and hint say it
        } else if (Starts(err.code, "EntityNotExist")) {
          se.status = Status(Code::kNotFound, fmt::format("{} does not exist", role_text));
          se.hint = fmt::format("create the RAM role \"{}\" in account {} (trusted entity: Alibaba Cloud account {}), "
                                "or correct `name` on role `{}`",
                                role->role_name, role_owner->id, runner->id, role->name);
          se.loc = role->origin.loc;
        } else if (err.message.find("root account") != std::string::npos) {
          se.status = Status(Code::kPermissionDenied,
                             fmt::format("the keys of account `{}` are the account's own root keys, which may not "
                                         "assume a role",
                                         runner->name));
          se.hint = fmt::format("give account `{}` the keys of a RAM user of account {} that has the "
                                "AliyunSTSAssumeRoleAccess policy",
                                runner->name, runner->id);
          se.loc = runner->origin.loc;
        } else if (j.status().code() == Code::kPermissionDenied) {
          se.status = Status(Code::kPermissionDenied, fmt::format("account {} may not assume {} (cloud code {}{})",
                                                                  runner->id, role_text, err.code,
                                                                  err.request_id.empty() ? "" : ", request id " + err.request_id));
          std::string trust = fmt::format("in account {}'s RAM console, the role's trust policy must name account {} "
                                          "as a principal (\"RAM\": [\"acs:ram::{}:root\"])",
                                          role_owner->id, runner->id, runner->id);
          if (!role->external_id.empty()) {
            trust += fmt::format(", and its sts:ExternalId condition must equal the `external_id` of role `{}`",
                                 role->name);
          } else {
            trust += fmt::format("; if the policy has an sts:ExternalId condition, set `external_id` on role `{}` "
                                 "to its value",
                                 role->name);
          }
          se.hint = trust + fmt::format("; and the RAM user whose keys account `{}` gives needs the "
                                        "AliyunSTSAssumeRoleAccess policy",
                                        runner->name);
          se.loc = role->origin.loc;
        } else if (err.code.find("DurationSeconds") != std::string::npos) {
          se.status = Status(Code::kInvalidArgument,
                             fmt::format("{} refuses a session of {} s: its maximum session duration is shorter",
                                         role_text, duration_s));
          se.hint = fmt::format("shorten `session` on role `{}`, or raise the role's maximum session duration in the "
                                "RAM console of account {}",
                                role->name, role_owner->id);
          se.loc = role->origin.loc;
        } else if (err.code.find("ExternalId") != std::string::npos) {
          se.status = Status(Code::kInvalidArgument, fmt::format("{} refused the external id: {}", role_text,
                                                                 j.status().message()));
          se.hint = fmt::format("set `external_id` on role `{}` to the value of the role's sts:ExternalId condition",
                                role->name);
          se.loc = role->origin.loc;
        } else {
          se.status = j.status();
          se.hint = j.status().code() == Code::kUnavailable
                        ? "the cloud API did not answer; check this machine's access to " + r.endpoint +
                              " (DNS, proxy, firewall)"
                        : "see the cloud's error code in the message";
          se.loc = role->origin.loc;
        }
        if (se.status.code() == Code::kUnavailable) {
          if (auto stale = last_known()) return *stale;
        }
        res.role_error = se;
        return res;
      }
      const nlohmann::json c = j->is_object() && j->contains("Credentials") ? (*j)["Credentials"] : nlohmann::json();
      Credentials got;
      got.access_key_id = JsonText(c, "AccessKeyId");
      got.access_key_secret = JsonText(c, "AccessKeySecret");
      got.security_token = JsonText(c, "SecurityToken");
      got.issued = asked;
      TimePoint cloud_expiry;
      if (got.access_key_id.empty() || got.access_key_secret.empty() || got.security_token.empty() ||
          !ParseIsoTimestamp(JsonText(c, "Expiration"), &cloud_expiry)) {
        res.role_error = StepError{Status(Code::kUnavailable, fmt::format("STS AssumeRole at {} answered without "
                                                                          "complete credentials",
                                                                          r.endpoint)),
                                   "check that sts_endpoint is Alibaba Cloud's STS", runner->origin.loc};
        return res;
      }
      // The expiry on this machine's clock: the cloud's, unless the two clocks disagree by
      // more than the session (then the session's length from when it was asked for).
      got.expires = asked + std::clamp<std::chrono::system_clock::duration>(cloud_expiry - asked, seconds(60),
                                                                              seconds(duration_s));
      std::lock_guard<std::mutex> lock(mu_);
      ++assumed_;
      roles_.insert_or_assign(cache_key, Cached{got, res.session});
      cached = got;
    }
    res.expires = cached->expires;
    creds = *cached;
  }

  // ---- the address ----
  Request r;
  r.endpoint = !owner->rds_endpoint.empty()    ? owner->rds_endpoint
               : !runner->rds_endpoint.empty() ? runner->rds_endpoint
                                               : DefaultRdsEndpoint(e.region);
  r.action = "DescribeDBInstanceNetInfo";
  r.version = "2014-08-15";
  r.params = {{"DBInstanceId", e.instance}};
  ApiError err;
  auto j = CallWithRetry(r, creds, &err);
  if (!j.ok() && Starts(err.code, "InvalidSecurityToken") && !cache_key.empty() && !renewed) {
    // Ended early (revoked, or the clocks disagree): assume the role again, once.
    {
      std::lock_guard<std::mutex> lock(mu_);
      roles_.erase(cache_key);
    }
    return Fetch(plan, m, e, true);
  }
  const std::string owner_text = owner == runner ? fmt::format("account `{}` ({})", runner->name, runner->id)
                                                 : fmt::format("account {}", owner->id);
  if (!j.ok()) {
    StepError se;
    if (cache_key.empty() && ExplainKeys(err, *runner, &se)) {
      res.address_error = se;
      return res;
    }
    if (j.status().code() == Code::kUnavailable) {
      if (auto stale = last_known()) return *stale;
    }
    if (j.status().code() == Code::kNotFound) {
      return fail_address(Status(Code::kNotFound, fmt::format("instance \"{}\" is not found in {}, region {}",
                                                              e.instance, owner_text, e.region)),
                          fmt::format("check `instance` and `region` of {}: the instance id as account {}'s RDS "
                                      "console shows it, and the region the instance is in",
                                      endpoint_where, owner->id),
                          e.origin.loc);
    }
    if (j.status().code() == Code::kPermissionDenied) {
      std::string who = res.role_arn.empty() ? fmt::format("the RAM user whose keys account `{}` gives", runner->name)
                                             : fmt::format("role \"{}\" in account {}", res.role_arn.substr(res.role_arn.rfind('/') + 1), owner->id);
      return fail_address(Status(Code::kPermissionDenied,
                                 fmt::format("{} may not read the addresses of instance \"{}\" (cloud code {})",
                                             res.role_arn.empty() ? "account `" + runner->name + "`"
                                                                  : "role \"" + res.role_arn.substr(res.role_arn.rfind('/') + 1) + "\"",
                                             e.instance, err.code)),
                          fmt::format("grant {} rds:DescribeDBInstanceNetInfo (the AliyunRDSReadOnlyAccess policy "
                                      "has it)",
                                      who),
                          e.origin.loc);
    }
    return fail_address(j.status(),
                        j.status().code() == Code::kUnavailable
                            ? "the cloud API did not answer; check this machine's access to " + r.endpoint +
                                  " (DNS, proxy, firewall)"
                            : "see the cloud's error code in the message",
                        e.origin.loc);
  }

  // Every Normal address of the plan's network.
  const bool want_public = e.network == ir::Network::kPublic;
  struct Candidate {
    std::string host, port, ip_type;
  };
  std::vector<Candidate> all, wanted;
  const nlohmann::json* infos = nullptr;
  if (j->is_object() && j->contains("DBInstanceNetInfos") && (*j)["DBInstanceNetInfos"].is_object() &&
      (*j)["DBInstanceNetInfos"].contains("DBInstanceNetInfo")) {
    infos = &(*j)["DBInstanceNetInfos"]["DBInstanceNetInfo"];
  }
  if (infos != nullptr && infos->is_array()) {
    for (const auto& n : *infos) {
      if (!n.is_object()) continue;
      std::string type = JsonText(n, "ConnectionStringType");
      if (!type.empty() && type != "Normal") continue;  // older answers leave the type out
      Candidate c{JsonText(n, "ConnectionString"), JsonText(n, "Port"), JsonText(n, "IPType")};
      all.push_back(c);
      bool is_public = c.ip_type == "Public";
      bool is_private = c.ip_type == "Private" || c.ip_type == "Inner";
      if ((want_public && is_public) || (!want_public && is_private)) wanted.push_back(c);
    }
  }
  const char* network = want_public ? "public" : "private";
  auto list = [](const std::vector<Candidate>& cs) {
    std::string s;
    for (const auto& c : cs) s += (s.empty() ? "" : ", ") + c.host + ":" + c.port + " (" + c.ip_type + ")";
    return s.empty() ? std::string("none") : s;
  };
  if (wanted.empty()) {
    return fail_address(
        Status(Code::kNotFound, fmt::format("instance \"{}\" has no {} address (its addresses: {})", e.instance,
                                            network, list(all))),
        want_public ? fmt::format("apply for a public endpoint in the RDS console of account {}, or set `network = "
                                  "private` on {} when Ferry runs inside the instance's VPC",
                                  owner->id, endpoint_where)
                    : fmt::format("set `network = public` on {}, or run Ferry where the instance's private network "
                                  "reaches",
                                  endpoint_where),
        e.origin.loc);
  }
  if (wanted.size() > 1) {
    return fail_address(Status(Code::kInvalidArgument, fmt::format("instance \"{}\" has {} {} addresses: {}",
                                                                   e.instance, wanted.size(), network, list(wanted))),
                        fmt::format("give {} the one to use as `host` and `port` (keep `instance` for reference)",
                                    endpoint_where),
                        e.origin.loc);
  }
  const Candidate& c = wanted.front();
  int port = 0;
  for (char ch : c.port) {
    if (ch < '0' || ch > '9' || port > 65535) {
      port = -1;
      break;
    }
    port = port * 10 + (ch - '0');
  }
  if (c.host.empty() || port <= 0 || port > 65535) {
    return fail_address(Status(Code::kUnavailable, fmt::format("the cloud answered instance \"{}\"'s {} address "
                                                               "without a valid host and port (\"{}\", port \"{}\")",
                                                               e.instance, network, c.host, c.port)),
                        "give the endpoint `host` and `port`", e.origin.loc);
  }
  res.host = c.host;
  res.port = port;
  res.ip_type = c.ip_type;
  std::lock_guard<std::mutex> lock(mu_);
  addresses_[address_key] = Address{res, now_()};
  return res;
}

}  // namespace ferry::runtime::cloud
