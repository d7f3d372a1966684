// A local stand-in for the cloud API that cross-account endpoints call (STS AssumeRole and
// RDS DescribeDBInstanceNetInfo), for the tests: an HTTP server on 127.0.0.1 that checks each
// request the way the cloud does (common parameters, time stamp, nonce, access key and
// security token, and the HMAC-SHA1 signature, computed here independently of Ferry's own
// code), and answers as the cloud documents, errors included.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ferry::testing {

class FakeCloud {
 public:
  struct Key {
    std::string secret;
    std::string account_id;
    bool active = true;
    bool root = false;  // an account's root keys, which may not assume a role
  };
  struct Role {
    std::string account_id;
    std::string name;
    std::vector<std::string> trusted;  // account ids its trust policy names
    std::string external_id;           // its sts:ExternalId condition; empty: none
    bool may_describe_rds = true;      // its permission policy allows DescribeDBInstanceNetInfo
    int max_session_s = 3600;
  };
  struct Address {
    std::string connection_string;
    std::string port;     // a string, as the cloud sends it
    std::string ip_type;  // Private, Inner, Public
    std::string type = "Normal";
  };
  struct Instance {
    std::string account_id;
    std::vector<Address> addresses;
  };
  struct Seen {
    std::string action;
    std::map<std::string, std::string> params;  // as received, Signature included
    std::string answer_code;                    // the error code answered; empty on success
  };

  FakeCloud();
  ~FakeCloud();
  FakeCloud(const FakeCloud&) = delete;
  FakeCloud& operator=(const FakeCloud&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT

  void AddKey(const std::string& id, const Key& key);
  void AddRole(const Role& role);
  void AddInstance(const std::string& id, const Instance& instance);
  // Ends every session issued so far, whatever Expiration it was given.
  void EndIssuedSessions();
  // Answers `action` with this status and body (once its signature checked out), as a
  // misbehaving endpoint or gateway might.
  void SetAnswer(const std::string& action, int status, const std::string& body);

  std::vector<Seen> requests() const;
  int Count(const std::string& action, bool ok_only = true) const;
  // Every temporary secret and token it handed out: none may appear in Ferry's output.
  std::vector<std::string> issued() const;

 private:
  struct Issued {
    std::string secret, token, account_id, role;
    long expires = 0;  // unix seconds
  };
  void Serve();
  std::string Handle(const std::string& method, const std::map<std::string, std::string>& params);

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, Key> keys_;
  std::vector<Role> roles_;
  std::map<std::string, Instance> instances_;
  std::map<std::string, Issued> issued_;  // by temporary access key id
  std::set<std::string> nonces_;
  std::vector<Seen> seen_;
  std::map<std::string, std::pair<int, std::string>> answers_;
};

}  // namespace ferry::testing
