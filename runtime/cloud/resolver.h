// Cross-account access: an endpoint given by `instance` is resolved to a host and port
// through the cloud API, as DESIGN.md's "Cross-account access" describes.
//
//   1. The migrating account's keys (its `access_key_id` / `access_key_secret` secrets) are
//      used as they are when the instance is that account's own. When it is another
//      account's, they assume the endpoint's `assume` role through STS AssumeRole
//      (RoleArn acs:ram::<owner id>:role/<name>, RoleSessionName ferry-<migration>,
//      DurationSeconds from the role's `session`, ExternalId when it has one).
//   2. Those credentials ask RDS DescribeDBInstanceNetInfo for the instance's addresses,
//      and the one `Normal` address of the plan's `network` is taken (private: IPType
//      Private (VPC) or Inner (classic); public: Public).
//
// Temporary credentials are kept in memory only, reused while they are valid, and renewed
// before they expire (a quarter of their lifetime before, at most five minutes), so a long
// run's reconnects resolve again with fresh ones. An address is reused for a minute; when
// the API cannot be reached, the last address found is used. No key, secret or token is
// ever in a message: failures name the plan line and the fix, in the user's terms.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "compiler/ir.h"
#include "runtime/cloud/api.h"
#include "runtime/status.h"

namespace ferry::runtime::cloud {

// One step of a resolution that failed: what is wrong, the fix, and the plan line.
struct StepError {
  Status status;
  std::string hint;
  std::string loc;
  std::string Message() const;  // status and hint in one line, for errors outside precheck
};

struct Resolution {
  std::string role_arn;       // the role assumed; empty for the migrating account's own instance
  std::string session;        // the RoleSessionName used
  TimePoint expires{};        // when the role's credentials expire
  std::optional<StepError> role_error;     // the role could not be assumed
  std::optional<StepError> address_error;  // the address could not be found (or not tried)
  std::string host;
  int port = 0;
  std::string ip_type;        // Private, Inner or Public, as the cloud names it
  bool stale = false;         // the API did not answer; this is the last address found

  bool ok() const { return !role_error && !address_error; }
  // "instance rm-bp1… (Private address, via role ram-for-dts)"
  std::string Describe(const ir::Endpoint& e) const;
};

class Resolver {
 public:
  using Clock = std::function<TimePoint()>;
  explicit Resolver(Clock now = [] { return std::chrono::system_clock::now(); });

  // Resolves endpoint `e` (given by `instance`) for migration `m` of `plan`.
  Resolution Resolve(const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint& e);

  // How many times the role's credentials were fetched (tests: renewal, reuse).
  int assumed() const;

 private:
  struct Cached {
    Credentials credentials;
    std::string session;
  };
  struct Address {
    Resolution resolution;
    TimePoint found{};
  };

  static std::string AddressKey(const ir::Migration& m, const ir::Endpoint& e);
  std::optional<Resolution> Fresh(const ir::Migration& m, const ir::Endpoint& e);
  Resolution Fetch(const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint& e, bool renewed);

  Clock now_;
  std::mutex fetch_mu_;       // one resolution at a time talks to the cloud
  mutable std::mutex mu_;     // the two caches; never held while the cloud is asked
  std::map<std::string, Cached> roles_;        // by runner|arn|external id|duration|session name
  std::map<std::string, Address> addresses_;   // by runner|owner|role|migration|instance|region|network
  int assumed_ = 0;
};

// The process's resolver: OptionsFor (connection.h) resolves through it.
Resolver& ProcessResolver();

// The public endpoints, used when the account gives none.
inline constexpr const char* kDefaultStsEndpoint = "https://sts.aliyuncs.com";
std::string DefaultRdsEndpoint(const std::string& region);  // https://rds.<region>.aliyuncs.com

}  // namespace ferry::runtime::cloud
