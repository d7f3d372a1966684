// Cross-account endpoints against a local stand-in for the cloud API (fake_cloud.h), which
// checks every request's signature as the cloud does: a plan whose source instance belongs
// to another account runs precheck, the dry run and a full migration end to end; every
// failure a user meets is explained by precheck, which writes nothing; credentials are
// reused, renewed before they expire, and never appear in any output or in ferry_meta.
#include <gtest/gtest.h>

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/driver.h"
#include "runtime/cloud/resolver.h"
#include "tests/integration/fake_cloud.h"
#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

constexpr const char* kMigrating = "1688000033334444";
constexpr const char* kOwner = "1688000011112222";
constexpr const char* kKeyId = "LTAI5tFerryTestKey01";
constexpr const char* kKeySecret = "ferry-test-secret-9f8e7d6c5b4a";
constexpr const char* kExternalId = "ferry-ext-42";

struct PlanOptions {
  std::string role_name = "ram-for-dts";
  std::string external_id = kExternalId;
  std::string source_instance = "rm-src";
  std::string network = "private";
  std::string database = "cloud_src";      // the source schema (each test has its own)
  std::string destination = "cloud_dst";   // the destination database
};

// The cloud the tests run against: the migrating account's RAM user, the source account's
// role that trusts it, and one instance in each account pointing at the local servers.
void Populate(FakeCloud& cloud) {
  cloud.AddKey(kKeyId, {kKeySecret, kMigrating});
  cloud.AddKey("LTAI5tRootKeysOfTheAccount", {"root-secret", kMigrating, true, true});
  cloud.AddKey("LTAI5tDisabledKey000000", {"disabled-secret", kMigrating, false});
  cloud.AddRole({kOwner, "ram-for-dts", {kMigrating}, kExternalId});
  cloud.AddRole({kOwner, "ram-trusts-someone-else", {"1688000099990000"}, ""});
  cloud.AddRole({kOwner, "ram-without-rds", {kMigrating}, "", false});
  const std::string mariadb_port = std::to_string(Mariadb().port);
  cloud.AddInstance("rm-src", {kOwner,
                               {{"127.0.0.1", mariadb_port, "Private"},
                                {"rm-src.mysql.rds.example.com", "3306", "Public"},
                                {"rm-src-rw.mysql.rds.example.com", "3306", "Private", "ReadWriteSplitting"}}});
  cloud.AddInstance("rm-two", {kOwner, {{"127.0.0.1", mariadb_port, "Private"}, {"10.1.2.3", "3306", "Inner"}}});
  cloud.AddInstance("pgm-dst", {kMigrating, {{"127.0.0.1", std::to_string(Postgres().port), "Private"}}});
}

std::string CloudPlan(const FakeCloud& cloud, const PlanOptions& o) {
  std::string ext = o.external_id.empty() ? "" : "  external_id = \"" + o.external_id + "\"\n";
  return "account migrating {\n"
         "  id = \"" + std::string(kMigrating) + "\"\n"
         "  access_key_id = secret(\"env:FERRY_IT_AK\")\n"
         "  access_key_secret = secret(\"env:FERRY_IT_SK\")\n"
         "  sts_endpoint = \"" + cloud.url() + "\"\n"
         "  rds_endpoint = \"" + cloud.url() + "\"\n"
         "}\n"
         "account source_owner {\n  id = \"" + std::string(kOwner) + "\"\n}\n"
         "role src_role {\n  account = source_owner\n  name = \"" + o.role_name + "\"\n  trusts = [migrating]\n" + ext +
         "  session = 1h\n}\n"
         "endpoint src {\n  engine = mariadb\n  instance = \"" + o.source_instance + "\"\n  region = \"cn-hangzhou\"\n"
         "  network = " + o.network + "\n  account = source_owner\n  assume = src_role\n  user = \"" + AdminUser(Mariadb()) +
         "\"\n  password = secret(\"file:" + PasswordFile() + "\")\n}\n"
         "endpoint dst {\n  engine = postgres\n  instance = \"pgm-dst\"\n  region = \"cn-shanghai\"\n  account = migrating\n"
         "  database = \"" + o.destination + "\"\n  user = \"" + AdminUser(Postgres()) + "\"\n  password = secret(\"file:" +
         PasswordFile() + "\")\n}\n"
         "migration to_new_account {\n  from = src\n  to = dst\n  account = migrating\n  stages = [schema, full]\n"
         "  objects {\n    schema " + o.database + "\n  }\n}\n";
}

std::vector<std::string> Keys(const std::string& id = kKeyId, const std::string& secret = kKeySecret) {
  return {"FERRY_IT_AK=" + id, "FERRY_IT_SK=" + secret};
}

// "plan.ferry:LINE" of the first line of `plan` that contains `text`.
std::string LineOf(const std::string& path, const std::string& plan, const std::string& text) {
  size_t at = plan.find(text);
  EXPECT_NE(at, std::string::npos) << text;
  int line = 1 + static_cast<int>(std::count(plan.begin(), plan.begin() + static_cast<long>(at), '\n'));
  return path.substr(path.rfind('/') + 1) + ":" + std::to_string(line) + ":";
}

void SetupSource(const std::string& db) {
  FreshDatabase(Mariadb(), db);
  auto c = Admin(Mariadb(), db);
  ASSERT_NE(c, nullptr);
  std::vector<std::string> sql = {"CREATE TABLE customers (id int PRIMARY KEY, name varchar(40), joined datetime(3))",
                                  "CREATE TABLE orders (id bigint PRIMARY KEY, customer int, total decimal(12,2))"};
  std::string values;
  for (int i = 1; i <= 500; ++i) {
    values += (i > 1 ? "," : "") + fmt::format("({}, 'customer {}', '2024-01-02 03:04:05.{:03d}')", i, i, i % 1000);
  }
  sql.push_back("INSERT INTO customers VALUES " + values);
  values.clear();
  for (int i = 1; i <= 3000; ++i) values += (i > 1 ? "," : "") + fmt::format("({}, {}, {}.25)", i, i % 500 + 1, i);
  sql.push_back("INSERT INTO orders VALUES " + values);
  Exec(*c, sql);
}

int64_t Count(runtime::Connection& c, const std::string& sql) {
  auto r = c.Query(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return -1;
  return std::stoll(*r->rows[0][0]);
}

// Everything in the destination's ferry_meta, as text.
std::string MetaText(const std::string& db) {
  auto c = Admin(Postgres(), db);
  if (c == nullptr) return "";
  auto tables = c->Query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'ferry_meta'");
  EXPECT_TRUE(tables.ok());
  std::string all;
  for (const auto& row : tables->rows) {
    auto r = c->Query("SELECT string_agg(t::text, E'\\n') FROM ferry_meta.\"" + *row[0] + "\" t");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok() && !r->rows.empty() && r->rows[0][0]) all += *r->rows[0][0] + "\n";
  }
  return all;
}

void ExpectNoSecret(const std::string& text, const FakeCloud& cloud, const std::string& what) {
  std::vector<std::string> secrets = {kKeyId, kKeySecret, "ferry-test-secret", Password()};
  for (const auto& s : cloud.issued()) secrets.push_back(s);
  for (const auto& r : cloud.requests()) {
    auto id = r.params.find("AccessKeyId");
    if (id != r.params.end()) secrets.push_back(id->second);
  }
  for (const auto& s : secrets) {
    EXPECT_EQ(text.find(s), std::string::npos) << what << " holds a secret (" << s.substr(0, 6) << "…)";
  }
}

TEST(CrossAccount, PrecheckDryRunAndAFullMigrationThroughAnAssumedRole) {
  FakeCloud cloud;
  Populate(cloud);
  SetupSource("cloud_src");
  FreshDatabase(Postgres(), "cloud_dst");
  const std::string plan_text = CloudPlan(cloud, {});
  const std::string plan = WritePlan("cross", plan_text);

  auto pre = RunFerry({"precheck", plan}, Keys());
  EXPECT_EQ(pre.exit, 0) << pre.out << pre.err;
  EXPECT_NE(pre.out.find("source: role ram-for-dts assumable"), std::string::npos) << pre.out;
  EXPECT_NE(pre.out.find("assumed acs:ram::1688000011112222:role/ram-for-dts as session ferry-to_new_account"),
            std::string::npos)
      << pre.out;
  EXPECT_NE(pre.out.find("source: instance rm-src resolvable"), std::string::npos) << pre.out;
  EXPECT_NE(pre.out.find("127.0.0.1:" + std::to_string(Mariadb().port) + ", its Private address in cn-hangzhou"),
            std::string::npos)
      << pre.out;
  EXPECT_NE(pre.out.find("destination: instance pgm-dst resolvable"), std::string::npos) << pre.out;
  // The destination is the migrating account's own: no role for it.
  EXPECT_EQ(pre.out.find("destination: role"), std::string::npos) << pre.out;

  auto dry = RunFerry({"plan", plan, "--dry-run"}, Keys());
  EXPECT_EQ(dry.exit, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("resolved from instance rm-src (Private address, via role ram-for-dts)"), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("resolved from instance pgm-dst (Private address)"), std::string::npos) << dry.out;

  const int assumed_before = cloud.Count("AssumeRole");
  auto apply = RunFerry({"apply", plan}, Keys());
  ASSERT_EQ(apply.exit, 0) << apply.out << apply.err;
  // One role assumption for the whole apply: its workers and stages reuse the credentials.
  EXPECT_EQ(cloud.Count("AssumeRole") - assumed_before, 1);

  auto src = Admin(Mariadb(), "cloud_src");
  auto dst = Admin(Postgres(), "cloud_dst");
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(Count(*dst, "SELECT count(*) FROM cloud_src.orders"), 3000);
  EXPECT_EQ(Count(*dst, "SELECT count(*) FROM cloud_src.customers"), 500);
  EXPECT_EQ(Count(*dst, "SELECT sum(total * 100)::bigint FROM cloud_src.orders"),
            Count(*src, "SELECT CAST(sum(total * 100) AS SIGNED) FROM orders"));

  // Each request as the cloud documents it.
  bool saw_assume = false, saw_src = false, saw_dst = false;
  std::string temp_key;
  for (const auto& r : cloud.requests()) {
    ASSERT_EQ(r.answer_code, "") << r.action;
    EXPECT_EQ(r.params.at("Format"), "JSON");
    EXPECT_EQ(r.params.at("SignatureMethod"), "HMAC-SHA1");
    if (r.action == "AssumeRole") {
      saw_assume = true;
      EXPECT_EQ(r.params.at("Version"), "2015-04-01");
      EXPECT_EQ(r.params.at("RoleArn"), "acs:ram::1688000011112222:role/ram-for-dts");
      EXPECT_EQ(r.params.at("RoleSessionName"), "ferry-to_new_account");
      EXPECT_EQ(r.params.at("DurationSeconds"), "3600");
      EXPECT_EQ(r.params.at("ExternalId"), kExternalId);
      EXPECT_EQ(r.params.at("AccessKeyId"), kKeyId);
      EXPECT_EQ(r.params.count("SecurityToken"), 0u);
    } else if (r.action == "DescribeDBInstanceNetInfo") {
      EXPECT_EQ(r.params.at("Version"), "2014-08-15");
      if (r.params.at("DBInstanceId") == "rm-src") {
        saw_src = true;
        EXPECT_EQ(r.params.at("AccessKeyId").rfind("STS.", 0), 0u) << "the source is read with the role's credentials";
        EXPECT_EQ(r.params.count("SecurityToken"), 1u);
      } else {
        saw_dst = true;
        EXPECT_EQ(r.params.at("DBInstanceId"), "pgm-dst");
        EXPECT_EQ(r.params.at("AccessKeyId"), kKeyId) << "the migrating account's own instance uses its own keys";
        EXPECT_EQ(r.params.count("SecurityToken"), 0u);
      }
    }
  }
  EXPECT_TRUE(saw_assume && saw_src && saw_dst);
  std::set<std::string> nonces;
  for (const auto& r : cloud.requests()) nonces.insert(r.params.at("SignatureNonce"));
  EXPECT_EQ(nonces.size(), cloud.requests().size()) << "every request has a fresh nonce";

  auto status = RunFerry({"status", plan}, Keys());
  EXPECT_EQ(status.exit, 0) << status.out << status.err;
  auto verify = RunFerry({"verify", plan}, Keys());
  EXPECT_EQ(verify.exit, 0) << verify.out << verify.err;
  for (const auto* r : {&pre, &dry, &apply, &status, &verify}) {
    ExpectNoSecret(r->out + r->err, cloud, "ferry's output");
  }
  const std::string meta = MetaText("cloud_dst");
  EXPECT_NE(meta.find("rm-src"), std::string::npos) << "ferry_meta names the source by its instance";
  ExpectNoSecret(meta, cloud, "ferry_meta");
}

struct FailureCase {
  const char* name;
  PlanOptions plan;
  std::vector<std::string> env;
  const char* code;                    // the failing precheck item
  std::vector<std::string> expect;     // phrases of the message and hint
  const char* line_of;                 // the plan line named: the first line holding this text
};

TEST(CrossAccount, EveryFailureIsExplainedByPrecheckWithThePlanLineAndNothingIsWritten) {
  FakeCloud cloud;
  Populate(cloud);
  SetupSource("cloud_fail_src");
  FreshDatabase(Postgres(), "cloud_fail_dst");
  PlanOptions base;
  base.database = "cloud_fail_src";
  base.destination = "cloud_fail_dst";
  PlanOptions no_role = base, no_trust = base, wrong_ext = base, unknown = base, ambiguous = base, no_public = base,
              no_rds = base;
  no_role.role_name = "ram-for-dts-typo";
  no_trust.role_name = "ram-trusts-someone-else";
  no_trust.external_id = "";
  wrong_ext.external_id = "not-the-right-one";
  unknown.source_instance = "rm-nope";
  ambiguous.source_instance = "rm-two";
  no_public.network = "public";
  no_public.source_instance = "rm-two";
  no_rds.role_name = "ram-without-rds";
  no_rds.external_id = "";
  const std::vector<FailureCase> cases = {
      {"role missing", no_role, Keys(), "P105",
       {"role \"ram-for-dts-typo\" of account 1688000011112222 does not exist", "create the RAM role"}, "role src_role"},
      {"trust policy without the account", no_trust, Keys(), "P105",
       {"account 1688000033334444 may not assume role \"ram-trusts-someone-else\"",
        "trust policy must name account 1688000033334444", "if the policy has an sts:ExternalId condition",
        "AliyunSTSAssumeRoleAccess"},
       "role src_role"},
      {"wrong external id", wrong_ext, Keys(), "P105",
       {"may not assume role \"ram-for-dts\"", "its sts:ExternalId condition must equal the `external_id` of role `src_role`"},
       "role src_role"},
      {"unknown key", base, Keys("LTAI5tNoSuchKeyAnywhere", kKeySecret), "P105",
       {"the cloud does not know the access key id of account `migrating`", "secret(\"env:FERRY_IT_AK\")"},
       "account migrating"},
      {"disabled key", base, Keys("LTAI5tDisabledKey000000", "disabled-secret"), "P105",
       {"the access key of account `migrating` (1688000033334444) is disabled"}, "account migrating"},
      {"wrong secret", base, Keys(kKeyId, "not-the-secret"), "P105",
       {"the access key secret of account `migrating` (1688000033334444) does not match its access key id",
        "secret(\"env:FERRY_IT_SK\")"},
       "account migrating"},
      {"root keys", base, Keys("LTAI5tRootKeysOfTheAccount", "root-secret"), "P105",
       {"are the account's own root keys", "RAM user"}, "account migrating"},
      {"unknown instance", unknown, Keys(), "P107",
       {"instance \"rm-nope\" is not found in account 1688000011112222, region cn-hangzhou", "check `instance` and `region`"},
       "endpoint src"},
      {"two private addresses", ambiguous, Keys(), "P107",
       {"instance \"rm-two\" has 2 private addresses", "10.1.2.3:3306 (Inner)", "as `host` and `port`"}, "endpoint src"},
      {"no public address", no_public, Keys(), "P107",
       {"instance \"rm-two\" has no public address", "apply for a public endpoint"}, "endpoint src"},
      {"role without RDS permission", no_rds, Keys(), "P107",
       {"role \"ram-without-rds\" may not read the addresses of instance \"rm-src\"", "AliyunRDSReadOnlyAccess"}, "endpoint src"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string text = CloudPlan(cloud, c.plan);
    const std::string plan = WritePlan("cross", text);
    auto r = RunFerry({"precheck", plan, "--format", "json"}, c.env);
    EXPECT_EQ(r.exit, 1) << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
    std::string item;
    for (const auto& i : j["prechecks"][0]["items"]) {
      if (i["code"] == c.code) item = i.dump();
      if (i["code"] == "P101") {
        EXPECT_EQ(i["result"], "failure");
        EXPECT_NE(i["detail"].get<std::string>().find(std::string("(") + c.code + " says why)"), std::string::npos)
            << i.dump();
      }
    }
    ASSERT_NE(item, "") << r.out;
    auto parsed = nlohmann::json::parse(item);
    EXPECT_EQ(parsed["result"], "failure") << item;
    auto text_of = [&](const char* k) { return parsed[k].is_string() ? parsed[k].get<std::string>() : std::string(); };
    const std::string said = text_of("detail") + " | " + text_of("hint");
    for (const auto& phrase : c.expect) EXPECT_NE(said.find(phrase), std::string::npos) << phrase << "\n" << said;
    EXPECT_NE(text_of("location").find(LineOf(plan, text, c.line_of)), std::string::npos) << item;
    ExpectNoSecret(r.out + r.err, cloud, c.name);
  }
  // apply refuses the same way, before anything is written.
  auto apply = RunFerry({"apply", WritePlan("cross", CloudPlan(cloud, no_role))}, Keys());
  EXPECT_EQ(apply.exit, 1) << apply.out << apply.err;
  auto dst = Admin(Postgres(), "cloud_fail_dst");
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(Count(*dst, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('ferry_meta', 'cloud_fail_src')"), 0);
}

// The plan, compiled in this process, with the migrating account's keys where its secrets
// point (for tests that resolve in-process).
std::unique_ptr<Compilation> CompilePlan(const FakeCloud& cloud, const PlanOptions& o) {
  setenv("FERRY_IT_AK", kKeyId, 1);
  setenv("FERRY_IT_SK", kKeySecret, 1);
  auto c = CompileText("cross.ferry", CloudPlan(cloud, o));
  EXPECT_TRUE(c->ok());
  return c;
}

TEST(CrossAccount, CredentialsAreReusedAndRenewedBeforeTheyExpire) {
  FakeCloud cloud;
  Populate(cloud);
  auto compiled = CompilePlan(cloud, {});
  const ir::Plan& plan = compiled->plan;
  const ir::Migration& m = plan.migrations.at(0);
  const ir::Endpoint& src = *plan.FindEndpoint("src");

  auto t = std::chrono::system_clock::now();
  runtime::cloud::Resolver r([&] { return t; });
  auto first = r.Resolve(plan, m, src);
  ASSERT_TRUE(first.ok()) << (first.role_error ? first.role_error->Message() : first.address_error->Message());
  EXPECT_EQ(first.host, "127.0.0.1");
  EXPECT_EQ(first.port, Mariadb().port);
  EXPECT_EQ(r.assumed(), 1);
  EXPECT_EQ(cloud.Count("DescribeDBInstanceNetInfo"), 1);

  // Within a minute, both the credentials and the address are reused.
  t += std::chrono::seconds(30);
  EXPECT_TRUE(r.Resolve(plan, m, src).ok());
  EXPECT_EQ(cloud.Count("AssumeRole"), 1);
  EXPECT_EQ(cloud.Count("DescribeDBInstanceNetInfo"), 1);

  // Later, the address is asked for again with the same credentials.
  t += std::chrono::minutes(10);
  EXPECT_TRUE(r.Resolve(plan, m, src).ok());
  EXPECT_EQ(r.assumed(), 1);
  EXPECT_EQ(cloud.Count("DescribeDBInstanceNetInfo"), 2);

  // Five minutes before the one-hour credentials expire, they are renewed before use.
  t = first.expires - std::chrono::minutes(4);
  auto renewed = r.Resolve(plan, m, src);
  EXPECT_TRUE(renewed.ok());
  EXPECT_EQ(r.assumed(), 2);
  std::vector<std::string> keys;
  for (const auto& q : cloud.requests()) {
    if (q.action == "DescribeDBInstanceNetInfo") keys.push_back(q.params.at("AccessKeyId"));
  }
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_NE(keys[1], keys[2]) << "the renewed credentials sign the request";

  // Credentials the cloud ends early (its clock ahead, the session revoked) are replaced
  // once, on the cloud's word.
  cloud.EndIssuedSessions();
  t += std::chrono::minutes(2);
  auto again = r.Resolve(plan, m, src);
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(r.assumed(), 3);
  auto seen = cloud.requests();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[seen.size() - 3].answer_code, "InvalidSecurityToken.Expired");
  EXPECT_EQ(seen[seen.size() - 2].action, "AssumeRole");
  EXPECT_EQ(seen[seen.size() - 1].answer_code, "");
}

TEST(CrossAccount, TheLastAddressIsUsedWhenTheCloudApiDoesNotAnswer) {
  auto t = std::chrono::system_clock::now();
  runtime::cloud::Resolver r([&] { return t; });
  std::unique_ptr<Compilation> compiled;
  {
    FakeCloud cloud;
    Populate(cloud);
    compiled = CompilePlan(cloud, {});
    ASSERT_TRUE(r.Resolve(compiled->plan, compiled->plan.migrations.at(0), *compiled->plan.FindEndpoint("dst")).ok());
    ASSERT_TRUE(r.Resolve(compiled->plan, compiled->plan.migrations.at(0), *compiled->plan.FindEndpoint("src")).ok());
  }
  // The cloud is gone; a reconnect two minutes later still finds the instance.
  const ir::Migration& m = compiled->plan.migrations.at(0);
  t += std::chrono::minutes(2);
  auto stale = r.Resolve(compiled->plan, m, *compiled->plan.FindEndpoint("dst"));
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale.stale);
  EXPECT_EQ(stale.port, Postgres().port);
  EXPECT_NE(stale.Describe(*compiled->plan.FindEndpoint("dst")).find("last known"), std::string::npos);
  // So does one through the role, an hour later, when its credentials cannot be renewed.
  t += std::chrono::hours(1);
  auto through_role = r.Resolve(compiled->plan, m, *compiled->plan.FindEndpoint("src"));
  ASSERT_TRUE(through_role.ok()) << (through_role.role_error ? through_role.role_error->Message() : "");
  EXPECT_TRUE(through_role.stale);
  EXPECT_EQ(through_role.port, Mariadb().port);
}

// Whatever a misconfigured endpoint or a gateway answers, Ferry reports it and goes on: a
// field of the wrong type is never a crash, and nothing the answer echoes is passed on raw.
TEST(CrossAccount, AnswersOfAnUnexpectedShapeAreErrorsNotCrashes) {
  FakeCloud cloud;
  Populate(cloud);
  auto compiled = CompilePlan(cloud, {});
  const ir::Plan& plan = compiled->plan;
  const ir::Migration& m = plan.migrations.at(0);
  auto resolve = [&](const char* endpoint) {
    runtime::cloud::Resolver r;
    return r.Resolve(plan, m, *plan.FindEndpoint(endpoint));
  };
  auto message = [](const runtime::cloud::Resolution& r) {
    return r.role_error ? r.role_error->Message() : r.address_error ? r.address_error->Message() : std::string();
  };

  cloud.SetAnswer("AssumeRole", 400, R"({"Code": 404, "RequestId": null, "Message": 5})");
  auto wrong_types = resolve("src");
  ASSERT_TRUE(wrong_types.role_error);
  EXPECT_NE(message(wrong_types).find("HTTP 400"), std::string::npos) << message(wrong_types);

  cloud.SetAnswer("AssumeRole", 200,
                  R"({"Credentials": {"AccessKeyId": 1, "AccessKeySecret": null, "SecurityToken": [], "Expiration": 7}})");
  auto incomplete = resolve("src");
  ASSERT_TRUE(incomplete.role_error);
  EXPECT_NE(message(incomplete).find("without complete credentials"), std::string::npos) << message(incomplete);

  cloud.SetAnswer("AssumeRole", 200, "[1, 2]");
  EXPECT_TRUE(resolve("src").role_error);
  cloud.SetAnswer("AssumeRole", 200, "not json");
  EXPECT_TRUE(resolve("src").role_error);

  // A number for the port, and no connection-string type, are taken as meant.
  cloud.SetAnswer("DescribeDBInstanceNetInfo", 200,
                  R"({"DBInstanceNetInfos": {"DBInstanceNetInfo": [{"ConnectionString": "127.0.0.1", "Port": 5433,
                      "IPType": "Private", "ConnectionStringType": null}]}})");
  auto numeric_port = resolve("dst");
  ASSERT_TRUE(numeric_port.ok()) << message(numeric_port);
  EXPECT_EQ(numeric_port.port, 5433);

  cloud.SetAnswer("DescribeDBInstanceNetInfo", 200, R"({"DBInstanceNetInfos": "none"})");
  auto no_list = resolve("dst");
  ASSERT_TRUE(no_list.address_error);
  EXPECT_NE(message(no_list).find("has no private address (its addresses: none)"), std::string::npos)
      << message(no_list);

  cloud.SetAnswer("DescribeDBInstanceNetInfo", 200,
                  R"({"DBInstanceNetInfos": {"DBInstanceNetInfo": [{"ConnectionString": "h", "Port": "99999",
                      "IPType": "Private"}]}})");
  EXPECT_TRUE(resolve("dst").address_error);

  // An error answer that echoes the request's key id in its code and message.
  cloud.SetAnswer("DescribeDBInstanceNetInfo", 400,
                  std::string(R"({"Code": ")") + kKeyId + R"(", "RequestId": "a b", "Message": "echo )" + kKeyId + R"("})");
  auto echo = resolve("dst");
  ASSERT_TRUE(echo.address_error);
  EXPECT_EQ(message(echo).find(kKeyId), std::string::npos) << message(echo);
  EXPECT_NE(message(echo).find("[redacted]"), std::string::npos) << message(echo);
}

// The cloud's own error messages may quote credentials (a signature mismatch quotes the
// string it signed; a token mismatch names the key and the token): none reaches a message.
TEST(CrossAccount, TheCloudsErrorMessagesNeverCarryCredentials) {
  FakeCloud cloud;
  Populate(cloud);
  runtime::cloud::Request assume{cloud.url(), "AssumeRole", "2015-04-01",
                                 {{"RoleArn", "acs:ram::1688000011112222:role/ram-for-dts"},
                                  {"RoleSessionName", "ferry-test"},
                                  {"ExternalId", kExternalId}}};
  runtime::cloud::Credentials wrong;
  wrong.access_key_id = kKeyId;
  wrong.access_key_secret = "not-the-secret";
  runtime::cloud::ApiError e;
  auto refused = runtime::cloud::Call(assume, wrong, &e);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), runtime::Code::kUnauthenticated);
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(refused.status().message().find(kKeyId), std::string::npos) << refused.status().message();
  EXPECT_EQ(e.message.find(kKeyId), std::string::npos) << e.message;

  runtime::cloud::Credentials keys;
  keys.access_key_id = kKeyId;
  keys.access_key_secret = kKeySecret;
  auto got = runtime::cloud::Call(assume, keys, &e);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  runtime::cloud::Credentials temp;
  temp.access_key_id = (*got)["Credentials"]["AccessKeyId"];
  temp.access_key_secret = (*got)["Credentials"]["AccessKeySecret"];
  temp.security_token = "CAISnotthetokenthecloudgaveforthiskey";
  auto mismatch = runtime::cloud::Call({cloud.url(), "DescribeDBInstanceNetInfo", "2014-08-15", {{"DBInstanceId", "rm-src"}}},
                                       temp, &e);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(e.code, "InvalidSecurityToken.MismatchWithAccessKey");
  const std::string said = mismatch.status().message() + e.message;
  EXPECT_NE(said.find("[redacted]"), std::string::npos) << said;
  EXPECT_EQ(said.find(temp.access_key_id), std::string::npos) << said;
  EXPECT_EQ(said.find(temp.security_token), std::string::npos) << said;

  // Credentials never travel over plain http to anything but a loopback address.
  auto refused_http = runtime::cloud::Call({"http://sts.aliyuncs.com", "AssumeRole", "2015-04-01", {}}, keys, &e);
  ASSERT_FALSE(refused_http.ok());
  EXPECT_NE(refused_http.status().message().find("use an https:// endpoint"), std::string::npos);
}

}  // namespace
}  // namespace ferry::testing
