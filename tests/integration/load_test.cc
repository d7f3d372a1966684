// The full load against real servers, for every engine pair: rows compared one by one with
// the source through the tests' own queries (each side normalised in SQL, not by Ferry's
// code); a run killed with SIGKILL again and again that still ends with exactly the source's
// rows; a second apply refused while one runs; SIGINT stopping at a chunk boundary.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "runtime/sql.h"
#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

using ir::Engine;

// Rows of a query as text, NULL as "<null>".
std::vector<std::vector<std::string>> Rows(runtime::Connection& c, const std::string& sql) {
  auto r = c.Query(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  std::vector<std::vector<std::string>> out;
  if (!r.ok()) return out;
  for (const auto& row : r->rows) {
    std::vector<std::string> v;
    for (const auto& x : row) v.push_back(x.value_or("<null>"));
    out.push_back(std::move(v));
  }
  return out;
}

// Each side's columns as comparable text, written for that engine and that pair.
struct Side {
  Server server;
  std::string db;  // PostgreSQL database, or "" for the MySQL family
  std::string table;
  std::string columns;
};

std::string MariadbColumns() {
  return "id, flag, BIN(b), REPLACE(s, ',', '|'), e, JSON_COMPACT(j), LOWER(HEX(bin)), d, dt, ts, "
         "CAST(f AS DOUBLE), CAST(dd AS CHAR), dec1, u, txt, LOWER(HEX(blb)), nn";
}
std::string PostgresColumns(bool from_mysql) {
  // from MySQL: flag boolean, b bit varying, s text[], j jsonb, bin bytea …
  if (from_mysql) {
    return "id, CASE WHEN flag THEN 1 ELSE 0 END, ltrim(b::text, '0'), array_to_string(s, '|'), e, j::text, "
           "encode(bin, 'hex'), d, to_char(dt, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), "
           "f::text, dd::text, dec1, u, txt, encode(blb, 'hex'), nn";
  }
  return "id, flag, b::text, j::text, encode(bin, 'hex'), d, dt, tstz, f::text, dd::text, dec1, txt, u, nn";
}

void CreateMariadbSource(const Server& s, const std::string& schema, int rows) {
  FreshDatabase(s, schema);
  auto c = Admin(s, schema);
  ASSERT_NE(c, nullptr);
  Exec(*c, {
      "CREATE TABLE t (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, flag tinyint(1), b bit(5),"
      " s set('a','b','c'), e enum('x','y'), j json, bin varbinary(10), d date, dt datetime(6), ts timestamp NULL,"
      " f float, dd double, dec1 decimal(20,5), u bigint unsigned, txt text, blb blob, nn int)",
      "INSERT INTO t (flag, b, s, e, j, bin, d, dt, ts, f, dd, dec1, u, txt, blb, nn) VALUES"
      " (1, b'10101', 'a,c', 'y', '{\"k\": [1, 2], \"a\": \"\\u00e9\"}', x'00ff10', '2024-02-29',"
      " '2024-01-01 10:11:12.123456', '2038-01-19 03:14:07', 16777217, 0.30000000000000004, 12345.12345,"
      " 18446744073709551615, 'tab\\there\\nnew line back\\\\slash \\'quote\\' 😀 \\\\N', x'000102fffe', NULL),"
      " (0, b'0', '', 'x', '[]', '', '1000-01-01', '9999-12-31 23:59:59.999999', NULL, -3.4e38,"
      " 2.2250738585072014e-308, -99999999999999.99999, 0, '', '', -2147483648)",
      "INSERT INTO t (flag, txt, nn) SELECT seq % 2, CONCAT('row ', seq), seq FROM seq_1_to_" + std::to_string(rows),
      "CREATE TABLE nokey (a int, b varchar(20))",
      "INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, NULL)",
      "CREATE TABLE `we``ird \"names\"` (`select` int PRIMARY KEY, `ünï 表` varchar(10))",
      "INSERT INTO `we``ird \"names\"` VALUES (1, 'a'), (2, 'b'), (3, '表')",
  });
}

void CreatePostgresSource(const Server& s, const std::string& db, int rows) {
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  Exec(*c, {
      "CREATE SCHEMA app",
      "CREATE TABLE app.t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, flag boolean, b bit(5), j jsonb,"
      " bin bytea, d date, dt timestamp(6), tstz timestamptz, f real, dd double precision, dec1 numeric(20,5),"
      " txt text, u uuid, nn int)",
      "INSERT INTO app.t (flag, b, j, bin, d, dt, tstz, f, dd, dec1, txt, u, nn) VALUES"
      " (true, B'10101', '{\"k\": [1, 2], \"a\": \"é\"}', '\\x00ff10', '2024-02-29', '2024-01-01 10:11:12.123456',"
      " '2024-06-01 12:00:00.5+02', 1.2345678, 0.30000000000000004, 12345.12345, E'tab\\there\\nnew line back\\\\slash "
      "''quote'' 😀 \\\\N', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL),"
      " (false, B'00000', '[]', '', '1000-01-01', '9999-12-31 23:59:59.999999', NULL, 3.4028235e38,"
      " 2.2250738585072014e-308, -99999999999999.99999, '', NULL, -2147483648)",
      "INSERT INTO app.t (flag, txt, nn) SELECT g % 2 = 0, 'row ' || g, g FROM generate_series(1, " +
          std::to_string(rows) + ") g",
      "CREATE TABLE app.nokey (a int, b varchar(20))",
      "INSERT INTO app.nokey VALUES (1, 'x'), (1, 'x'), (2, NULL)",
      "CREATE TABLE app.\"we`ird \"\"names\"\"\" (\"select\" int PRIMARY KEY, \"ünï 表\" varchar(10))",
      "INSERT INTO app.\"we`ird \"\"names\"\"\" VALUES (1, 'a'), (2, 'b'), (3, '表')",
  });
}

std::string LoadPlan(const Server& src, const std::string& src_db, const std::string& src_schema, const Server& dst,
                     const std::string& dst_db, const std::string& dst_schema) {
  return Endpoint("src", src, src_db) + Endpoint("dst", dst, dst_db) +
         "migration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n  workers = 3\n  objects {\n    schema " +
         src_schema + " -> " + dst_schema + "\n  }\n}\n";
}

struct Pair {
  const char* name;
  Server (*src)();
  Server (*dst)();
};

class Load : public ::testing::TestWithParam<Pair> {};

TEST_P(Load, RowsArriveExactlyAsInTheSource) {
  const Pair& p = GetParam();
  Server src = p.src(), dst = p.dst();
  std::string tag = p.name;
  bool src_pg = src.engine == Engine::kPostgres, dst_pg = dst.engine == Engine::kPostgres;
  std::string src_db = src_pg ? "it_load_" + tag + "_src" : "";
  std::string src_schema = src_pg ? "app" : "it_load_" + tag + "_src";
  std::string dst_db = dst_pg ? "it_load_" + tag + "_dst" : "";
  std::string dst_schema = "it_load_" + tag + "_dst";
  if (src_pg) CreatePostgresSource(src, src_db, 3000);
  else CreateMariadbSource(src, src_schema, 3000);
  if (dst_pg) {
    FreshDatabase(dst, dst_db);
  } else {
    auto d = Admin(dst);
    ASSERT_NE(d, nullptr);
    Exec(*d, {"DROP DATABASE IF EXISTS " + dst_schema});
  }
  std::string plan = WritePlan("load_" + tag, LoadPlan(src, src_db, src_schema, dst, dst_db, dst_schema));
  auto run = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=700"});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;

  auto s = Admin(src, src_db);
  auto d = Admin(dst, dst_db);
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  std::string src_t = runtime::QuoteName(src.engine, src_schema, "t");
  std::string dst_t = runtime::QuoteName(dst.engine, dst_schema, "t");
  std::vector<std::vector<std::string>> want, got;
  if (!src_pg && !dst_pg) {
    want = Rows(*s, "SELECT " + MariadbColumns() + " FROM " + src_t + " ORDER BY id");
    got = Rows(*d, "SELECT " + MariadbColumns() + " FROM " + dst_t + " ORDER BY id");
  } else if (src_pg && dst_pg) {
    want = Rows(*s, "SELECT " + PostgresColumns(false) + " FROM " + src_t + " ORDER BY id");
    got = Rows(*d, "SELECT " + PostgresColumns(false) + " FROM " + dst_t + " ORDER BY id");
  } else if (!src_pg) {  // MariaDB → PostgreSQL
    want = Rows(*s, "SELECT id, flag, TRIM(LEADING '0' FROM BIN(b)), REPLACE(s, ',', '|'), e, j, LOWER(HEX(bin)), d,"
                    " DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s'), CAST(f AS DOUBLE),"
                    " CAST(dd AS CHAR), dec1, u, txt, LOWER(HEX(blb)), nn FROM " + src_t + " ORDER BY id");
    got = Rows(*d, "SELECT " + PostgresColumns(true) + " FROM " + dst_t + " ORDER BY id");
    for (auto* side : {&want, &got}) {  // JSON compared as JSON: jsonb orders keys its own way
      for (auto& row : *side) {
        if (row[5] != "<null>") row[5] = nlohmann::json::parse(row[5]).dump();
        // floats compared as numbers, each at its own width: each engine prints them its own way
        if (row[10] != "<null>") row[10] = fmt::format("{}", std::strtof(row[10].c_str(), nullptr));
        if (row[11] != "<null>") row[11] = fmt::format("{}", std::strtod(row[11].c_str(), nullptr));
        if (row[2].empty()) row[2] = "0";  // bit 0 prints as "" once its zeros are trimmed
      }
    }
  } else {  // PostgreSQL → MariaDB
    want = Rows(*s, "SELECT id, CASE WHEN flag THEN 1 ELSE 0 END, b::text, j::text, encode(bin, 'hex'), d,"
                    " to_char(dt, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(tstz, 'YYYY-MM-DD HH24:MI:SS.US'), f::text,"
                    " dd::text, dec1, txt, u, nn FROM " + src_t + " ORDER BY id");
    got = Rows(*d, "SELECT id, flag, LPAD(BIN(b), 5, '0'), j, LOWER(HEX(bin)), d,"
                   " DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(tstz, '%Y-%m-%d %H:%i:%s.%f'),"
                   " CAST(f AS DOUBLE), CAST(dd AS CHAR), dec1, txt, u, nn FROM " + dst_t + " ORDER BY id");
    for (auto* side : {&want, &got}) {
      for (auto& row : *side) {
        if (row[3] != "<null>") row[3] = nlohmann::json::parse(row[3]).dump();
        // floats compared as numbers, each at its own width
        if (row[8] != "<null>") row[8] = fmt::format("{}", std::strtof(row[8].c_str(), nullptr));
        if (row[9] != "<null>") row[9] = fmt::format("{}", std::strtod(row[9].c_str(), nullptr));
      }
    }
  }
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(got.size(), 3002u);
  for (size_t r = 0; r < want.size(); ++r) {
    ASSERT_EQ(got[r], want[r]) << "row " << r << " differs";
  }
  // The keyless table: copied as a multiset.
  auto nk_want = Rows(*s, "SELECT a, b FROM " + runtime::QuoteName(src.engine, src_schema, "nokey") + " ORDER BY a, b");
  auto nk_got = Rows(*d, "SELECT a, b FROM " + runtime::QuoteName(dst.engine, dst_schema, "nokey") + " ORDER BY a, b");
  EXPECT_EQ(nk_got, nk_want);
  // The table with a hostile name, and its hostile columns.
  std::string hostile = "we`ird \"names\"";
  auto h_want = Rows(*s, "SELECT " + runtime::QuoteIdent(src.engine, "select") + ", " +
                             runtime::QuoteIdent(src.engine, "ünï 表") + " FROM " +
                             runtime::QuoteName(src.engine, src_schema, hostile) + " ORDER BY 1");
  auto h_got = Rows(*d, "SELECT " + runtime::QuoteIdent(dst.engine, "select") + ", " +
                            runtime::QuoteIdent(dst.engine, "ünï 表") + " FROM " +
                            runtime::QuoteName(dst.engine, dst_schema, hostile) + " ORDER BY 1");
  EXPECT_EQ(h_got, h_want);
  EXPECT_EQ(h_got.size(), 3u);

  // Running it again copies nothing twice.
  auto again = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=700"});
  ASSERT_EQ(again.exit, 0) << again.out << again.err;
  EXPECT_EQ(Rows(*d, "SELECT count(*) FROM " + dst_t)[0][0], "3002");
  auto status = RunFerry({"status", plan, "--format", "json"});
  ASSERT_EQ(status.exit, 0) << status.err;
  auto js = nlohmann::json::parse(status.out);
  EXPECT_EQ(js["status"][0]["state"], "done");
  int64_t rows = 0;
  for (const auto& t : js["status"][0]["tables"]) rows += t["rows"].get<int64_t>();
  EXPECT_EQ(rows, 3008);
}

// Chunks cut by arithmetic on an integer key's range (extremes, negatives, sparse values and
// values a double cannot tell apart), by the leading integer column of a composite key, and by
// walking a text key: every row arrives once.
TEST_P(Load, KeysOfEveryShapeAreChunkedWithoutGapsOrOverlaps) {
  const Pair& p = GetParam();
  Server src = p.src(), dst = p.dst();
  bool src_pg = src.engine == Engine::kPostgres, dst_pg = dst.engine == Engine::kPostgres;
  std::string tag = std::string("keys_") + p.name;
  std::string src_db = src_pg ? "it_" + tag + "_src" : "";
  std::string src_schema = src_pg ? "app" : "it_" + tag + "_src";
  std::string dst_db = dst_pg ? "it_" + tag + "_dst" : "";
  std::string dst_schema = "it_" + tag + "_dst";
  std::vector<std::string> tables = {"sparse", "composite", "textkey", "textfirst"};
  if (src_pg) {
    FreshDatabase(src, src_db);
    auto s = Admin(src, src_db);
    ASSERT_NE(s, nullptr);
    Exec(*s, {"CREATE SCHEMA app", "CREATE TABLE app.sparse (id bigint PRIMARY KEY, v int)",
              "INSERT INTO app.sparse VALUES (-9223372036854775808, 1), (-5, 2), (0, 3), (1000, 4), "
              "(1000000000000000, 5), (9223372036854775807, 6), (9007199254740992, 7), (9007199254740993, 8)",
              "INSERT INTO app.sparse SELECT g, g FROM generate_series(1, 200) g",
              "CREATE TABLE app.composite (a int, b varchar(10), v int, PRIMARY KEY (a, b))",
              "INSERT INTO app.composite SELECT g % 50, 'k' || g, g FROM generate_series(1, 400) g",
              "CREATE TABLE app.textkey (k varchar(40) PRIMARY KEY, v int)",
              "INSERT INTO app.textkey SELECT md5(g::text), g FROM generate_series(1, 300) g",
              "CREATE TABLE app.textfirst (b varchar(10), a int, v int, PRIMARY KEY (b, a))",
              "INSERT INTO app.textfirst SELECT 'k' || (g % 9), g, g FROM generate_series(1, 300) g",
              "ANALYZE"});
  } else {
    FreshDatabase(src, src_schema);
    auto s = Admin(src, src_schema);
    ASSERT_NE(s, nullptr);
    Exec(*s, {"CREATE TABLE sparse (id bigint unsigned PRIMARY KEY, v int)",
              "INSERT INTO sparse VALUES (0, 1), (18446744073709551615, 2), (18446744073709551614, 3), "
              "(9007199254740992, 4), (9007199254740993, 5), (9007199254740994, 6), (1000, 7)",
              "INSERT INTO sparse SELECT seq, seq FROM seq_1_to_200",
              "CREATE TABLE composite (a int, b varchar(10), v int, PRIMARY KEY (a, b))",
              "INSERT INTO composite SELECT seq % 50, CONCAT('k', seq), seq FROM seq_1_to_400",
              "CREATE TABLE textkey (k varchar(40) PRIMARY KEY, v int)",
              "INSERT INTO textkey SELECT MD5(seq), seq FROM seq_1_to_300",
              "CREATE TABLE textfirst (b varchar(10), a int, v int, PRIMARY KEY (b, a))",
              "INSERT INTO textfirst SELECT CONCAT('k', seq % 9), seq, seq FROM seq_1_to_300",
              "ANALYZE TABLE sparse, composite, textkey, textfirst"});
  }
  if (dst_pg) {
    FreshDatabase(dst, dst_db);
  } else {
    auto d = Admin(dst);
    ASSERT_NE(d, nullptr);
    Exec(*d, {"DROP DATABASE IF EXISTS " + dst_schema});
  }
  std::string plan = WritePlan(tag, LoadPlan(src, src_db, src_schema, dst, dst_db, dst_schema));
  auto run = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=7"});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  auto s = Admin(src, src_db);
  auto d = Admin(dst, dst_db);
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  const char* order[] = {"id", "a, b", "k", "b, a"};
  const char* cols[] = {"id, v", "a, b, v", "k, v", "b, a, v"};
  for (size_t i = 0; i < tables.size(); ++i) {
    // Sorted by the tests' side, as text: each engine's collation may order text its own way.
    auto want = Rows(*s, fmt::format("SELECT {} FROM {} ORDER BY {}", cols[i],
                                     runtime::QuoteName(src.engine, src_schema, tables[i]), order[i]));
    auto got = Rows(*d, fmt::format("SELECT {} FROM {} ORDER BY {}", cols[i],
                                    runtime::QuoteName(dst.engine, dst_schema, tables[i]), order[i]));
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got.size(), want.size()) << tables[i];
    EXPECT_EQ(got, want) << tables[i];
  }
  if (dst_pg) {
    // Into PostgreSQL the primary keys are added after the load: they are there at the end.
    auto keys = Rows(*d, "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                         "WHERE c.contype = 'p' AND n.nspname = " + runtime::QuoteLiteral(dst.engine, dst_schema));
    EXPECT_EQ(keys[0][0], "4");
  }
  // The chunks were many: the test tested chunking.
  auto status = RunFerry({"status", plan, "--format", "json"});
  ASSERT_EQ(status.exit, 0) << status.err;
  auto js = nlohmann::json::parse(status.out);
  for (const auto& t : js["status"][0]["tables"]) EXPECT_GE(t["chunks"].get<int>(), 10) << t.dump();
}

INSTANTIATE_TEST_SUITE_P(Pairs, Load,
                         ::testing::Values(Pair{"m2m", &Mariadb, &MariadbPlain}, Pair{"p2p", &Postgres, &PostgresPlain},
                                           Pair{"m2p", &Mariadb, &Postgres}, Pair{"p2m", &Postgres, &MariadbPlain}),
                         [](const auto& i) { return std::string(i.param.name); });

// Killed with SIGKILL at random moments, again and again, then run to the end: exactly the
// source's rows, none lost, none doubled.
TEST(LoadResume, SigkillAnywhereLosesAndDoublesNothing) {
  Server src = Mariadb(), dst = Postgres();
  CreateMariadbSource(src, "it_kill_src", 600000);
  FreshDatabase(dst, "it_kill_dst");
  std::string plan = WritePlan("kill", LoadPlan(src, "", "it_kill_src", dst, "it_kill_dst", "it_kill_dst"));
  std::vector<std::string> env = {"FERRY_CHUNK_ROWS=2000"};
  std::mt19937 rng(20261126);
  int killed_mid_run = 0, killed_while_loading = 0, last_done = 0;
  auto chunks_done = [&](int* total) {
    auto st = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out, nullptr, false);
    int done = 0;
    *total = 0;
    if (st.is_discarded()) return 0;
    for (const auto& t : st["status"][0]["tables"]) {
      done += t["chunks_done"].get<int>();
      *total += t["chunks"].get<int>();
    }
    return done;
  };
  for (int i = 0; i < 25 && killed_mid_run < 10; ++i) {
    pid_t pid = StartFerry({"apply", plan}, env);
    // Half the kills land anywhere (precheck, schema, planning); the others once rows are
    // moving again, a little after the next chunk commits.
    if (i % 2 == 1) {
      int total = 0;
      for (int w = 0; w < 400 && chunks_done(&total) <= last_done; ++w) {
        if (waitpid(pid, nullptr, WNOHANG) == pid) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) break;  // it finished before the kill: the load is complete
    ++killed_mid_run;
    int total = 0;
    int done = chunks_done(&total);
    if (done > last_done && done < total) ++killed_while_loading;
    last_done = done;
  }
  EXPECT_GE(killed_mid_run, 5) << "the runs finished before they could be killed; the test proves little";
  EXPECT_GE(killed_while_loading, 3) << "too few kills landed while rows were being copied";
  auto last = RunFerry({"apply", plan}, env);
  ASSERT_EQ(last.exit, 0) << last.out << last.err;
  auto s = Admin(src, "");
  auto d = Admin(dst, "it_kill_dst");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  auto want = Rows(*s, "SELECT count(*), SUM(id), SUM(nn), SUM(LENGTH(txt)) FROM it_kill_src.t");
  auto got = Rows(*d, "SELECT count(*), SUM(id), SUM(nn), SUM(octet_length(txt)) FROM it_kill_dst.t");
  EXPECT_EQ(got, want);
  EXPECT_EQ(Rows(*d, "SELECT count(*) FROM it_kill_dst.nokey")[0][0], "3");
  // Every id once: a doubled chunk would break the primary key, or show here.
  EXPECT_EQ(Rows(*d, "SELECT count(DISTINCT id) FROM it_kill_dst.t")[0][0], want[0][0]);
  // Its primary key (a unique index built beside the load, then made the key), whichever
  // step the kills interrupted.
  EXPECT_EQ(Rows(*d, "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 'it_kill_dst.t'::regclass")[0][0],
            "1");
}

// One apply at a time; SIGINT stops at a chunk boundary and the next apply resumes.
TEST(LoadResume, LeaseRefusesASecondApplyAndSigintStopsCleanly) {
  Server src = Mariadb(), dst = MariadbPlain();
  CreateMariadbSource(src, "it_lease_src", 80000);
  auto d = Admin(dst);
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_lease_dst"});
  // Throttled to 20,000 rows a second, so that the load is still running when SIGINT comes,
  // however fast the machine (it once finished first under CI).
  std::string text = LoadPlan(src, "", "it_lease_src", dst, "", "it_lease_dst");
  text.replace(text.find("  workers = 3\n"), 14, "  workers = 3\n  throttle full {\n    rows_per_s = 20000\n  }\n");
  std::string plan = WritePlan("lease", text);
  std::vector<std::string> env = {"FERRY_CHUNK_ROWS=1000"};
  pid_t first = StartFerry({"apply", plan}, env);
  // Wait until the first one holds the lease and loads.
  bool loading = false;
  for (int i = 0; i < 100 && !loading; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto st = RunFerry({"status", plan, "--format", "json"});
    auto j = nlohmann::json::parse(st.out, nullptr, false);
    loading = !j.is_discarded() && j["status"][0]["state"] == "running" && j["status"][0]["stage"] == "load";
  }
  ASSERT_TRUE(loading) << "the first apply never reached the load";
  auto second = RunFerry({"apply", plan}, env);
  EXPECT_EQ(second.exit, 3) << second.out << second.err;
  EXPECT_NE(second.err.find("another ferry apply of this migration is running"), std::string::npos) << second.err;

  kill(first, SIGINT);
  int status = 0;
  waitpid(first, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  auto st = RunFerry({"status", plan, "--format", "json"});
  auto j = nlohmann::json::parse(st.out);
  EXPECT_EQ(j["status"][0]["state"], "stopped") << j.dump(2);
  int done = 0, total = 0;
  for (const auto& t : j["status"][0]["tables"]) {
    done += t["chunks_done"].get<int>();
    total += t["chunks"].get<int>();
  }
  EXPECT_LT(done, total) << "it finished before SIGINT; the test proves little";

  auto last = RunFerry({"apply", plan}, env);
  ASSERT_EQ(last.exit, 0) << last.out << last.err;
  EXPECT_EQ(Rows(*d, "SELECT count(*) FROM it_lease_dst.t")[0][0], "80002");
}

// Ctrl-C while an index build runs does not wait for it (one may take hours): the build is
// cancelled and rolled back, the run is recorded as stopped, and the next apply builds the
// index and finishes. The test holds a lock the build waits for and releases it only after
// ferry has exited, so that a build that is not cancelled keeps ferry from ever exiting.
TEST(LoadResume, SigintCancelsAnIndexBuildUnderWay) {
  for (bool pg : {true, false}) {
    SCOPED_TRACE(pg ? "into PostgreSQL" : "into MariaDB");
    Server src = Mariadb(), dst = pg ? Postgres() : MariadbPlain();
    FreshDatabase(src, "it_cancel_src");
    auto s = Admin(src, "it_cancel_src");
    ASSERT_NE(s, nullptr);
    Exec(*s, {"CREATE TABLE c (id int PRIMARY KEY, v int, KEY (v))",
              "INSERT INTO c SELECT seq, seq % 97 FROM seq_1_to_9000"});
    if (pg) FreshDatabase(dst, "it_cancel_dst");
    auto admin = Admin(dst);
    ASSERT_NE(admin, nullptr);
    if (!pg) Exec(*admin, {"DROP DATABASE IF EXISTS it_cancel_dst"});
    std::string text = LoadPlan(src, "", "it_cancel_src", dst, pg ? "it_cancel_dst" : "", "it_cancel_dst");
    // Slow enough that the test takes its lock before the load has ended.
    text.replace(text.find("  workers = 3\n"), 14, "  workers = 3\n  throttle full {\n    rows_per_s = 3000\n  }\n");
    std::string plan = WritePlan(pg ? "cancel_pg" : "cancel_maria", text);
    std::vector<std::string> env = {"FERRY_CHUNK_ROWS=500"};
    Started ferry{StartFerry({"apply", plan}, env)};
    auto d = Admin(dst, pg ? "it_cancel_dst" : "");
    ASSERT_NE(d, nullptr);
    auto poll = [&](const std::string& sql) { return BecomesNonZero(*d, sql); };
    // A lock the load's writes share and the index build waits for.
    ASSERT_TRUE(poll(pg ? "SELECT count(*) FROM pg_tables WHERE schemaname = 'it_cancel_dst' AND tablename = 'c'"
                        : "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'it_cancel_dst' AND "
                          "TABLE_NAME = 'c'"));
    Exec(*d, pg ? std::vector<std::string>{"BEGIN", "LOCK TABLE it_cancel_dst.c IN ROW EXCLUSIVE MODE"}
                : std::vector<std::string>{"START TRANSACTION", "SELECT id FROM it_cancel_dst.c LIMIT 1"});
    auto other = Admin(dst, pg ? "it_cancel_dst" : "");
    ASSERT_NE(other, nullptr);
    d.swap(other);  // polls on a connection of their own; `other` keeps the lock
    bool waiting = poll(pg ? "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE%INDEX%' AND "
                             "wait_event_type = 'Lock'"
                           : "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'ALTER TABLE%' AND "
                             "STATE LIKE '%metadata lock%'");
    auto st = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out, nullptr, false);
    ASSERT_TRUE(waiting) << "no index build waits for the lock; status: " << st.dump(2);
    int status = 0;
    bool exited = InterruptedExits(ferry, &status);  // an uncancelled build never ends
    Exec(*other, {"ROLLBACK"});
    ASSERT_TRUE(exited) << "ferry apply did not stop while its index build waited";
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3);
    std::string err = StartedErr();
    EXPECT_NE(err.find("stopped: cancelled the build of index"), std::string::npos) << err;
    auto j = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out, nullptr, false);
    EXPECT_EQ(j["status"][0]["state"], "stopped") << j.dump(2);

    auto last = RunFerry({"apply", plan}, env);
    ASSERT_EQ(last.exit, 0) << last.out << last.err;
    EXPECT_EQ(Rows(*d, "SELECT count(*) FROM it_cancel_dst.c")[0][0], "9000");
    EXPECT_EQ(Rows(*d, pg ? "SELECT count(*) FROM pg_indexes WHERE schemaname = 'it_cancel_dst' AND tablename = 'c'"
                          : "SELECT count(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE "
                            "TABLE_SCHEMA = 'it_cancel_dst' AND TABLE_NAME = 'c'")[0][0],
              "2");
  }
}

// Nor for the statements of schema.post after the index builds: attaching a primary key (or
// validating a foreign key) that waits is cancelled too, and the next apply finishes.
TEST(LoadResume, SigintCancelsASchemaPostStatementUnderWay) {
  Server src = Mariadb(), dst = Postgres();
  FreshDatabase(src, "it_cpost_src");
  auto s = Admin(src, "it_cpost_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE c (id int PRIMARY KEY, v int)", "INSERT INTO c SELECT seq, seq % 97 FROM seq_1_to_6000"});
  FreshDatabase(dst, "it_cpost_dst");
  std::string text = LoadPlan(src, "", "it_cpost_src", dst, "it_cpost_dst", "it_cpost_dst");
  // Slow enough that the test takes its lock before schema.post has begun.
  text.replace(text.find("  workers = 3\n"), 14, "  workers = 3\n  throttle full {\n    rows_per_s = 3000\n  }\n");
  std::string plan = WritePlan("cancel_post", text);
  Started ferry{StartFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=500"})};
  auto d = Admin(dst, "it_cpost_dst"), other = Admin(dst, "it_cpost_dst");
  ASSERT_NE(d, nullptr);
  ASSERT_NE(other, nullptr);
  // ROW SHARE: the load's COPY and the index build go by; ADD PRIMARY KEY waits.
  ASSERT_TRUE(BecomesNonZero(*d, "SELECT count(*) FROM pg_tables WHERE schemaname = 'it_cpost_dst' AND tablename = 'c'"));
  Exec(*other, {"BEGIN", "LOCK TABLE it_cpost_dst.c IN ROW SHARE MODE"});
  ASSERT_TRUE(BecomesNonZero(*d, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE%PRIMARY KEY%' "
                                 "AND wait_event_type = 'Lock'"));
  int status = 0;
  bool exited = InterruptedExits(ferry, &status);  // an uncancelled statement never ends
  Exec(*other, {"ROLLBACK"});
  ASSERT_TRUE(exited) << "ferry apply did not stop while schema.post waited";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  std::string err = StartedErr();
  EXPECT_NE(err.find("stopped on request: schema.post failed creating primary key c_pkey"), std::string::npos) << err;
  auto j = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out, nullptr, false);
  EXPECT_EQ(j["status"][0]["state"], "stopped") << j.dump(2);
  auto last = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=500"});
  ASSERT_EQ(last.exit, 0) << last.out << last.err;
  EXPECT_EQ(Rows(*d, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'it_cpost_dst.c'::regclass AND "
                     "contype = 'p'")[0][0],
            "1");
}

// The destination restarted in the middle of the load: the lost connections are retried
// within `retry.connection`, and the load ends with exactly the source's rows. The
// destination is a PostgreSQL of this test's own, so that restarting it disturbs no other test.
TEST(LoadResume, DestinationRestartedMidLoadIsRetried) {
  int port = 0;
  {  // a free port
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    close(fd);
  }
  std::string dir = "/tmp/ferry-it-restart-" + std::to_string(getpid());
  std::string env = "FERRY_SERVERS_DIR=" + dir + " FERRY_SERVERS_ONLY=postgres FERRY_PG_PORT=" + std::to_string(port);
  ASSERT_EQ(std::system((env + " scripts/servers start >/dev/null 2>&1").c_str()), 0);
  struct Stop {
    std::string env;
    ~Stop() { (void)std::system((env + " scripts/servers stop >/dev/null 2>&1").c_str()); }
  } stop{env};
  Server dst{Engine::kPostgres, port, "postgres"};
  // Its password is its own.
  std::string password;
  {
    std::ifstream in(dir + "/password");
    std::getline(in, password);
  }
  Server src = Mariadb();
  CreateMariadbSource(src, "it_restart_src", 300000);
  std::string dst_ep = "endpoint dst {\n  engine = postgres\n  host = \"127.0.0.1\"\n  port = " + std::to_string(port) +
                       "\n  database = \"postgres\"\n  user = \"postgres\"\n  password = secret(\"file:" + dir +
                       "/password\")\n}\n";
  std::string plan = WritePlan("restart", Endpoint("src", src, "") + dst_ep +
                                              "migration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n"
                                              "  workers = 2\n  retry {\n    connection = 10m\n    other = 5m\n  }\n"
                                              "  objects {\n    schema it_restart_src\n  }\n}\n");
  pid_t pid = StartFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=1500"});
  bool loading = false;
  for (int i = 0; i < 200 && !loading; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    auto j = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out, nullptr, false);
    if (j.is_discarded()) continue;
    int done = 0;
    for (const auto& t : j["status"][0]["tables"]) done += t["chunks_done"].get<int>();
    loading = j["status"][0]["stage"] == "load" && done > 2;
  }
  ASSERT_TRUE(loading) << "the load never started";
  ASSERT_EQ(std::system((env + " scripts/servers restart postgres >/dev/null 2>&1").c_str()), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the load did not survive the restart: " << StartedErr();
  auto s = Admin(src, "");
  runtime::ConnectOptions o = Options(dst, "postgres");
  o.password = password;
  auto d = runtime::Connect(o);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto want = Rows(*s, "SELECT count(*), SUM(id), SUM(nn) FROM it_restart_src.t");
  auto got = Rows(**d, "SELECT count(*), SUM(id), SUM(nn) FROM it_restart_src.t");
  EXPECT_EQ(got, want);
  EXPECT_EQ(Rows(**d, "SELECT count(*) FROM it_restart_src.nokey")[0][0], "3");
}

}  // namespace
}  // namespace ferry::testing
