// Precheck items made to fail for real, each checked by its code: a missing privilege, the
// binary log off, wal_level too low, no free replication slot, an existing table, a missing
// table, a table without a key, a filter that does not plan, bad credentials. And a failed
// precheck writes nothing to the destination.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/sql.h"
#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

using ir::Engine;

// The result of item `code` in a JSON precheck report ("" when the item is absent).
std::string ItemResult(const nlohmann::json& report, const std::string& code, std::string* detail = nullptr) {
  std::string result;
  for (const auto& i : report["prechecks"][0]["items"]) {
    if (i["code"] != code) continue;
    // The worst result among items with this code.
    std::string r = i["result"];
    if (result.empty() || r == "failure" || (r == "warning" && result != "failure")) {
      result = r;
      if (detail != nullptr) *detail = i["detail"];
    }
  }
  return result;
}

nlohmann::json Precheck(const std::string& plan, int* exit = nullptr) {
  auto r = RunFerry({"precheck", plan, "--format", "json"});
  if (exit != nullptr) *exit = r.exit;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

std::string Migration(const std::string& stages, const std::string& objects, const std::string& extra = "") {
  return "migration m {\n  from = src\n  to = dst\n  stages = " + stages + "\n" + extra + "  objects {\n" + objects +
         "  }\n}\n";
}

void SetupMariadbShop(const Server& s, const std::string& db) {
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"CREATE TABLE orders (id int PRIMARY KEY, total decimal(10,2), created date)",
            "CREATE TABLE log_lines (line text)",  // no key at all
            "CREATE VIEW v AS SELECT id FROM orders"});
}

TEST(Precheck, PassesOnAHealthySetupWithASuccessRateAndCodes) {
  SetupMariadbShop(Mariadb(), "it_pc_ok");
  FreshDatabase(Postgres(), "it_pc_ok_dst");
  std::string plan = WritePlan("ok", Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_ok_dst") +
                                         Migration("[schema, full, incremental]", "    schema it_pc_ok\n",
                                                   "  triggers = with_schema\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 0) << j.dump(2);
  EXPECT_EQ(j["prechecks"][0]["passed"], true);
  for (const char* code : {"P101", "P102", "P103", "P104", "P110", "P111", "P120", "P121", "P122", "P123", "P124",
                           "P130", "P131"}) {
    EXPECT_EQ(ItemResult(j, code), "pass") << code << "\n" << j.dump(2);
  }
  // log_lines has no key and incremental is staged: a warning, which costs success rate.
  EXPECT_EQ(ItemResult(j, "P133"), "warning");
  EXPECT_LT(j["prechecks"][0]["success_rate"].get<int>(), 100);
  EXPECT_GT(j["prechecks"][0]["success_rate"].get<int>(), 80);

  auto text = RunFerry({"precheck", plan});
  EXPECT_NE(text.out.find("success rate"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("WARN P133"), std::string::npos) << text.out;
}

TEST(Precheck, EveryBinlogSettingFailsIncremental) {
  SetupMariadbShop(MariadbPlain(), "it_pc_nobinlog");
  FreshDatabase(Postgres(), "it_pc_nobinlog_dst");
  std::string plan = WritePlan("nobinlog", Endpoint("src", MariadbPlain(), "") +
                                               Endpoint("dst", Postgres(), "it_pc_nobinlog_dst") +
                                               Migration("[schema, full, incremental]", "    schema it_pc_nobinlog\n",
                                                         "  triggers = with_schema\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P120", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("log_bin = OFF"), std::string::npos) << detail;
  // mariadb_plain is started with binlog_format=STATEMENT and binlog_row_image=MINIMAL.
  // (P123, server_id = 0, cannot fail here: MariaDB raises a 0 to 1; MySQL 5.7 keeps it.)
  EXPECT_EQ(ItemResult(j, "P121", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("STATEMENT"), std::string::npos) << detail;
  EXPECT_EQ(ItemResult(j, "P122", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("MINIMAL"), std::string::npos) << detail;
  EXPECT_EQ(ItemResult(j, "P124"), "warning") << j.dump(2);
  // Without incremental, the binary log does not matter.
  std::string full = WritePlan("nobinlog_full", Endpoint("src", MariadbPlain(), "") +
                                                    Endpoint("dst", Postgres(), "it_pc_nobinlog_dst") +
                                                    Migration("[schema, full]", "    schema it_pc_nobinlog\n"));
  auto j2 = Precheck(full, &exit);
  EXPECT_EQ(ItemResult(j2, "P120"), "");
  EXPECT_EQ(exit, 0) << j2.dump(2);
}

TEST(Precheck, WalLevelAndSlotsFailIncrementalFromPostgres) {
  FreshDatabase(PostgresPlain(), "it_pc_wal");
  auto c = Admin(PostgresPlain(), "it_pc_wal");
  ASSERT_NE(c, nullptr);
  Exec(*c, {"CREATE TABLE public.t (id int PRIMARY KEY)"});
  FreshDatabase(Postgres(), "it_pc_wal_dst");
  std::string plan = WritePlan("wal", Endpoint("src", PostgresPlain(), "it_pc_wal") +
                                          Endpoint("dst", Postgres(), "it_pc_wal_dst") +
                                          Migration("[schema, full, incremental]", "    schema public\n",
                                                    "  triggers = with_schema\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  EXPECT_EQ(ItemResult(j, "P125"), "failure") << j.dump(2);
  EXPECT_EQ(ItemResult(j, "P126"), "failure") << j.dump(2);
  EXPECT_EQ(ItemResult(j, "P127"), "failure") << j.dump(2);
}

TEST(Precheck, MissingSourcePrivilegeNamesTheGrant) {
  Server s = Mariadb();
  SetupMariadbShop(s, "it_pc_priv");
  auto admin = Admin(s);
  ASSERT_NE(admin, nullptr);
  // A user that may read the catalog but not select from the tables, nor read the binlog.
  Exec(*admin, {"DROP USER IF EXISTS 'it_weak'@'%'", "CREATE USER 'it_weak'@'%' IDENTIFIED BY '" + Password() + "'",
                "GRANT SHOW VIEW ON `it_pc_priv`.* TO 'it_weak'@'%'"});
  FreshDatabase(Postgres(), "it_pc_priv_dst");
  std::string src = Endpoint("src", s, "");
  src.replace(src.find("user = \"ferry\""), 14, "user = \"it_weak\"");
  std::string plan = WritePlan("priv", src + Endpoint("dst", Postgres(), "it_pc_priv_dst") +
                                           Migration("[schema, full, incremental]", "    schema it_pc_priv\n",
                                                     "  triggers = with_schema\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P110", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("SELECT"), std::string::npos) << detail;
  EXPECT_NE(detail.find("REPLICATION SLAVE"), std::string::npos) << detail;
  EXPECT_NE(detail.find("REPLICATION CLIENT"), std::string::npos) << detail;
}

TEST(Precheck, PrivilegesHeldThroughADefaultRoleCount) {
  Server s = Mariadb();
  SetupMariadbShop(s, "it_pc_role");
  auto admin = Admin(s);
  ASSERT_NE(admin, nullptr);
  Exec(*admin, {"DROP USER IF EXISTS 'it_roled'@'%'", "DROP ROLE IF EXISTS it_pc_reader",
                "CREATE ROLE it_pc_reader", "GRANT SELECT, SHOW VIEW ON `it_pc_role`.* TO it_pc_reader",
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO it_pc_reader",
                "CREATE USER 'it_roled'@'%' IDENTIFIED BY '" + Password() + "'",
                "GRANT it_pc_reader TO 'it_roled'@'%'", "SET DEFAULT ROLE it_pc_reader FOR 'it_roled'@'%'"});
  FreshDatabase(Postgres(), "it_pc_role_dst");
  std::string src = Endpoint("src", s, "");
  src.replace(src.find("user = \"ferry\""), 14, "user = \"it_roled\"");
  std::string plan = WritePlan("role", src + Endpoint("dst", Postgres(), "it_pc_role_dst") +
                                           Migration("[schema, full, incremental]", "    schema it_pc_role\n",
                                                     "  triggers = with_schema\n"));
  auto j = Precheck(plan);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P110", &detail), "pass") << detail;
}

TEST(Precheck, MissingDestinationPrivilege) {
  Server d = Postgres();
  SetupMariadbShop(Mariadb(), "it_pc_dpriv");
  FreshDatabase(d, "it_pc_dpriv_dst");
  auto admin = Admin(d, "it_pc_dpriv_dst");
  ASSERT_NE(admin, nullptr);
  Exec(*admin, {"DROP ROLE IF EXISTS it_weak_dst", "CREATE ROLE it_weak_dst LOGIN PASSWORD '" + Password() + "'",
                "REVOKE CREATE ON DATABASE it_pc_dpriv_dst FROM PUBLIC"});
  std::string dst = Endpoint("dst", d, "it_pc_dpriv_dst");
  dst.replace(dst.find("user = \"postgres\""), 17, "user = \"it_weak_dst\"");
  std::string plan = WritePlan("dpriv", Endpoint("src", Mariadb(), "") + dst +
                                            Migration("[schema]", "    schema it_pc_dpriv\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P111", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("CREATE on the database"), std::string::npos) << detail;

  // A schema that exists, where the user has USAGE but not CREATE.
  Exec(*admin, {"CREATE SCHEMA it_pc_dpriv", "GRANT USAGE ON SCHEMA it_pc_dpriv TO it_weak_dst"});
  auto j2 = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  EXPECT_EQ(ItemResult(j2, "P111", &detail), "failure") << j2.dump(2);
  EXPECT_NE(detail.find("CREATE on schema it_pc_dpriv"), std::string::npos) << detail;
}

TEST(Precheck, ExistingTableFailsUnderReportAndAFailedApplyWritesNothing) {
  SetupMariadbShop(Mariadb(), "it_pc_exists");
  FreshDatabase(Postgres(), "it_pc_exists_dst");
  auto d = Admin(Postgres(), "it_pc_exists_dst");
  ASSERT_NE(d, nullptr);
  Exec(*d, {"CREATE SCHEMA it_pc_exists", "CREATE TABLE it_pc_exists.orders (id int)"});
  std::string plan = WritePlan("exists", Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_exists_dst") +
                                             Migration("[schema]", "    schema it_pc_exists\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P131", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("it_pc_exists.orders"), std::string::npos);

  auto apply = RunFerry({"apply", plan});
  EXPECT_EQ(apply.exit, 1) << apply.out << apply.err;
  EXPECT_NE(apply.out.find("nothing was written"), std::string::npos) << apply.out;
  auto r = d->Query("SELECT count(*) FROM pg_tables WHERE schemaname = 'it_pc_exists'");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0][0], "1") << "a failed precheck created tables";
}

// A verify stage in checksum mode needs PostgreSQL 13 or later: an older destination fails
// precheck at the verify block's line, before the load writes anything; count is fine.
TEST(Precheck, VerifyStageNeedsPostgres13) {
  SetupMariadbShop(Mariadb(), "it_pc_verify");
  FreshDatabase(Postgres(), "it_pc_verify_dst");
  std::string endpoints = Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_verify_dst");
  std::string plan = WritePlan(
      "verify_old", endpoints + Migration("[schema, full]", "    schema it_pc_verify\n",
                                          "  verify {\n    mode = checksum\n    after = full\n  }\n"));
  auto r = RunFerry({"precheck", plan, "--format", "json"}, {"FERRY_VERIFY_PG_MAJOR=12"});
  EXPECT_EQ(r.exit, 1) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P104", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("which the plan's verify stage (mode = checksum) needs"), std::string::npos) << detail;
  auto apply = RunFerry({"apply", plan}, {"FERRY_VERIFY_PG_MAJOR=12"});
  EXPECT_EQ(apply.exit, 1) << apply.out << apply.err;
  auto d = Admin(Postgres(), "it_pc_verify_dst");
  ASSERT_NE(d, nullptr);
  auto tables = d->Query("SELECT count(*) FROM pg_tables WHERE schemaname = 'it_pc_verify'");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->rows[0][0], "0") << "a failed precheck created tables";
  std::string counted = WritePlan(
      "verify_count", endpoints + Migration("[schema, full]", "    schema it_pc_verify\n",
                                            "  verify {\n    mode = count\n    after = full\n  }\n"));
  auto c = RunFerry({"precheck", counted, "--format", "json"}, {"FERRY_VERIFY_PG_MAJOR=12"});
  auto cj = nlohmann::json::parse(c.out, nullptr, false);
  ASSERT_FALSE(cj.is_discarded()) << c.out;
  EXPECT_EQ(ItemResult(cj, "P104"), "pass") << cj.dump(2);
}

// A PostgreSQL database not encoded in UTF8 beside MySQL is no obstacle: verify hashes its
// text as UTF-8 (it.Verify.TextIsComparedAsUtf8WhateverTheEncoding).
TEST(Precheck, VerifyStageComparesALatin1DatabaseBesideMysql) {
  SetupMariadbShop(Mariadb(), "it_pc_venc");
  FreshDatabase(Postgres(), "it_pc_venc_dst", "LATIN1");
  std::string plan = WritePlan(
      "verify_latin1", Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_venc_dst") +
                           Migration("[schema, full]", "    schema it_pc_venc\n",
                                     "  verify {\n    mode = rows\n    after = full\n  }\n"));
  auto r = RunFerry({"precheck", plan, "--format", "json"});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(ItemResult(j, "P104"), "pass") << j.dump(2);
  EXPECT_EQ(ItemResult(j, "P103"), "pass") << j.dump(2);
}

TEST(Precheck, MissingDestinationTableWhenSchemaIsNotStaged) {
  SetupMariadbShop(Mariadb(), "it_pc_missing");
  FreshDatabase(Postgres(), "it_pc_missing_dst");
  std::string plan = WritePlan("missing", Endpoint("src", Mariadb(), "") +
                                              Endpoint("dst", Postgres(), "it_pc_missing_dst") +
                                              Migration("[full]", "    schema it_pc_missing {\n      table orders\n    }\n"));
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P132", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("it_pc_missing.orders"), std::string::npos) << detail;
}

// Into PostgreSQL, a column whose destination type the database does not have fails precheck,
// naming the type, the column and the extension to create, and apply creates nothing: here
// PostGIS's geometry, where the type map puts MySQL's POINT, on a server without PostGIS, and a
// type an override names. Once the column is given a type the destination has, the item passes.
TEST(Precheck, MissingDestinationTypeNamesTheExtensionAndWritesNothing) {
  FreshDatabase(Mariadb(), "it_pc_types");
  auto s = Admin(Mariadb(), "it_pc_types");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE places (id int PRIMARY KEY, pos point, name varchar(20))",
            "CREATE TABLE notes (id int PRIMARY KEY, body text)",
            "INSERT INTO places VALUES (1, POINT(1.5, 2), 'a')", "INSERT INTO notes VALUES (1, 'n')"});
  FreshDatabase(Postgres(), "it_pc_types_dst");
  auto d = Admin(Postgres(), "it_pc_types_dst");
  ASSERT_NE(d, nullptr);
  std::string endpoints = Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_types_dst");
  auto plan_with = [&](const std::string& columns) {
    return WritePlan("types", endpoints + Migration("[schema, full]", "    schema it_pc_types {\n      table places {\n" +
                                                                          columns + "      }\n      table notes\n    }\n"));
  };

  std::string plan = plan_with("        column name { type = \"nosuchtype(20)\" }\n");
  int exit = -1;
  auto j = Precheck(plan, &exit);
  EXPECT_EQ(exit, 1);
  std::string detail, hint;
  EXPECT_EQ(ItemResult(j, "P138", &detail), "failure") << j.dump(2);
  for (const auto& i : j["prechecks"][0]["items"]) {
    if (i["code"] == "P138") hint = i["hint"];
  }
  EXPECT_NE(detail.find("geometry (column it_pc_types.places.pos)"), std::string::npos) << detail;
  EXPECT_NE(detail.find("nosuchtype(20) (column it_pc_types.places.name)"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("notes"), std::string::npos) << detail;
  EXPECT_NE(hint.find("CREATE EXTENSION postgis in database it_pc_types_dst"), std::string::npos) << hint;

  auto apply = RunFerry({"apply", plan});
  EXPECT_EQ(apply.exit, 1) << apply.out << apply.err;
  EXPECT_NE(apply.out.find("P138"), std::string::npos) << apply.out;
  EXPECT_EQ(One(*d, "SELECT count(*) FROM pg_tables WHERE schemaname = 'it_pc_types'"), "0")
      << "a failed precheck created tables";

  // Types the destination has: the item passes and the rows arrive.
  plan = plan_with("        column pos { type = \"bytea\" }\n");
  j = Precheck(plan, &exit);
  EXPECT_EQ(ItemResult(j, "P138"), "pass") << j.dump(2);
  apply = RunFerry({"apply", plan});
  EXPECT_EQ(apply.exit, 0) << apply.out << apply.err;
  EXPECT_EQ(One(*d, "SELECT name || ':' || upper(encode(pos, 'hex')) FROM it_pc_types.places"),
            "a:" + One(*s, "SELECT HEX(pos) FROM places"));
  for (const char* mode : {"rows", "checksum"}) {
    auto verify = RunFerry({"verify", plan, "--mode", mode});
    EXPECT_EQ(verify.exit, 0) << mode << verify.out << verify.err;
  }
  // The bytes are compared, not skipped: one changed byte is a difference.
  Exec(*d, {"UPDATE it_pc_types.places SET pos = overlay(pos placing '\\xff'::bytea from 25)"});
  for (const char* mode : {"rows", "checksum"}) {
    auto verify = RunFerry({"verify", plan, "--mode", mode});
    EXPECT_EQ(verify.exit, 1) << mode << verify.out << verify.err;
    EXPECT_NE(verify.out.find("pos"), std::string::npos) << mode << verify.out;
  }
}

TEST(Precheck, FilterThatDoesNotPlanFailsAndNeverRuns) {
  SetupMariadbShop(Mariadb(), "it_pc_filter");
  FreshDatabase(Postgres(), "it_pc_filter_dst");
  auto objects = [](const std::string& where) {
    return "    schema it_pc_filter {\n      table orders {\n        where = \"" + where + "\"\n      }\n    }\n";
  };
  std::string good = WritePlan("filter_good", Endpoint("src", Mariadb(), "") +
                                                  Endpoint("dst", Postgres(), "it_pc_filter_dst") +
                                                  Migration("[schema, full]", objects("created >= '2024-01-01'")));
  auto j = Precheck(good);
  EXPECT_EQ(ItemResult(j, "P134"), "pass") << j.dump(2);

  std::string bad = WritePlan("filter_bad", Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_filter_dst") +
                                                Migration("[schema, full]", objects("no_such_column > 1")));
  int exit = -1;
  auto j2 = Precheck(bad, &exit);
  EXPECT_EQ(exit, 1);
  EXPECT_EQ(ItemResult(j2, "P134"), "failure") << j2.dump(2);

  // Filters that try to smuggle in a statement are refused (by the compiler, or by the
  // source, which runs one statement only) and run nothing.
  for (const char* evil : {"1=1); DROP TABLE orders; SELECT (1", "id > 0; DROP TABLE orders"}) {
    std::string p = WritePlan("filter_evil", Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_filter_dst") +
                                                 Migration("[schema, full]", objects(evil)));
    auto r = RunFerry({"precheck", p});
    EXPECT_EQ(r.exit, 1) << evil << "\n" << r.out << r.err;
    EXPECT_TRUE(r.out.find("FAIL P134") != std::string::npos || r.err.find("error[E07") != std::string::npos)
        << evil << "\n" << r.out << r.err;
  }
  auto c = Admin(Mariadb(), "it_pc_filter");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Query("SELECT count(*) FROM orders").ok()) << "the filter dropped the table";
}

TEST(Precheck, BadCredentialsFailConnectivityWithoutShowingThePassword) {
  SetupMariadbShop(Mariadb(), "it_pc_auth");
  std::string src = Endpoint("src", Mariadb(), "");
  src.replace(src.find("secret(\"file:"), std::string("secret(\"file:").size() + PasswordFile().size() + 2,
              "secret(\"env:FERRY_IT_WRONG_PW\")");
  std::string plan = WritePlan("auth", src + Endpoint("dst", Postgres(), "postgres") +
                                           Migration("[schema]", "    schema it_pc_auth\n"));
  auto r = RunFerry({"precheck", plan, "--format", "json"}, {"FERRY_IT_WRONG_PW=wrong-pw-7731"});
  EXPECT_EQ(r.exit, 1);
  auto j = nlohmann::json::parse(r.out);
  std::string detail;
  EXPECT_EQ(ItemResult(j, "P101", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("Access denied"), std::string::npos) << detail;
  EXPECT_EQ(r.out.find("wrong-pw-7731"), std::string::npos);
  EXPECT_EQ(r.err.find("wrong-pw-7731"), std::string::npos);
}

TEST(Precheck, AssessmentListsWhatCannotBeMigratedAsItIs) {
  SetupMariadbShop(Mariadb(), "it_pc_assess");
  FreshDatabase(Postgres(), "it_pc_assess_dst");
  auto plan = [](bool assessment) {
    return WritePlan(assessment ? "assess_on" : "assess_off",
                     Endpoint("src", Mariadb(), "") + Endpoint("dst", Postgres(), "it_pc_assess_dst") +
                         Migration("[schema, full]", "    schema it_pc_assess\n",
                                   assessment ? "  assessment = true\n" : ""));
  };
  std::string detail;
  auto on = Precheck(plan(true));
  EXPECT_EQ(ItemResult(on, "P150", &detail), "info") << on.dump(2);
  EXPECT_NE(detail.find("(v)"), std::string::npos) << "the view that cannot be translated is not named: " << detail;
  EXPECT_EQ(on["prechecks"][0]["passed"], true) << "assessment items are informational";
  auto off = Precheck(plan(false));
  EXPECT_EQ(ItemResult(off, "P150"), "");

  // A key longer than InnoDB allows (varchar(1000) is 4000 bytes in utf8mb4) fails, with its code.
  FreshDatabase(Postgres(), "it_pc_keylen");
  auto c = Admin(Postgres(), "it_pc_keylen");
  ASSERT_NE(c, nullptr);
  Exec(*c, {"CREATE TABLE public.k (id int PRIMARY KEY, v varchar(1000) UNIQUE)"});
  auto d = Admin(MariadbPlain());
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_pc_keylen"});
  std::string keylen = WritePlan("keylen", Endpoint("src", Postgres(), "it_pc_keylen") + Endpoint("dst", MariadbPlain(), "") +
                                               Migration("[schema]", "    schema public -> it_pc_keylen\n",
                                                         "  assessment = true\n"));
  int exit = -1;
  auto j = Precheck(keylen, &exit);
  EXPECT_EQ(exit, 1);
  EXPECT_EQ(ItemResult(j, "P130", &detail), "failure") << j.dump(2);
  EXPECT_NE(detail.find("[D005]"), std::string::npos) << detail;
}

TEST(Precheck, APlanWithErrorsNeverConnects) {
  // A listener the plan points at: if ferry connected despite the plan's error, it would
  // be waiting in the accept queue.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  std::string plan = WritePlan("bad_plan", "endpoint src {\n  engine = mariadb\n  host = \"127.0.0.1\"\n  port = " +
                                               std::to_string(port) +
                                               "\n  user = \"u\"\n  password = \"literal\"\n}\n"
                                               "endpoint dst {\n  engine = mariadb\n  host = \"127.0.0.1\"\n  port = " +
                                               std::to_string(port) +
                                               "\n  user = \"u\"\n  password = secret(\"env:X\")\n}\n"
                                               "migration m {\n  from = src\n  to = dst\n  objects {\n"
                                               "    schema s\n  }\n}\n");
  for (const char* command : {"precheck", "apply"}) {
    auto r = RunFerry({command, plan});
    EXPECT_EQ(r.exit, 1) << command;
    EXPECT_NE(r.err.find("E0401"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was connected to"), std::string::npos) << r.err;
  }
  auto dry = RunFerry({"plan", plan, "--dry-run"});
  EXPECT_EQ(dry.exit, 1);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 100), 0) << "ferry connected although the plan has errors";
  close(fd);
}

}  // namespace
}  // namespace ferry::testing
