// What surrounds the load: `throttle full`, Prometheus metrics while it runs, JSON progress
// lines, the failure webhook, `conflicts = ignore` keeping the destination's rows, and a
// dropped destination table loaded again.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(fd, 4);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

int FreePort() {
  int port = 0;
  close(Listen(&port));
  return port;
}

// GET http://127.0.0.1:port/path; "" when nothing answers.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)send(fd, req.data(), req.size(), 0);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string Migration(const std::string& body) { return "migration m {\n  from = src\n  to = dst\n" + body + "}\n"; }

TEST(LoadFeatures, ThrottleMetricsAndJsonProgress) {
  Server src = Mariadb(), dst = Postgres();
  FreshDatabase(src, "it_thr_src");
  auto s = Admin(src, "it_thr_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE t (id int PRIMARY KEY, v varchar(20))",
            "INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_30000"});
  FreshDatabase(dst, "it_thr_dst");
  std::string plan = WritePlan("throttle", Endpoint("src", src, "") + Endpoint("dst", dst, "it_thr_dst") +
                                               Migration("  stages = [schema, full]\n  workers = 2\n"
                                                         "  throttle full {\n    rows_per_s = 10000\n  }\n"
                                                         "  objects {\n    schema it_thr_src\n  }\n"));
  int port = FreePort();
  std::string out = ScratchPath("throttle.out");
  auto began = std::chrono::steady_clock::now();
  pid_t pid = StartFerry({"apply", plan, "--format", "json", "--metrics", "127.0.0.1:" + std::to_string(port)}, {},
                         out, "/dev/null");
  std::string scraped;
  for (int i = 0; i < 100 && scraped.find("ferry_rows_copied_total{") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    scraped = HttpGet(port, "/metrics");
  }
  int status = 0;
  waitpid(pid, &status, 0);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(scraped.find("HTTP/1.1 200 OK"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("ferry_rows_copied_total{migration=\"m\",table=\"it_thr_src.t\"}"), std::string::npos)
      << scraped;
  EXPECT_NE(scraped.find("ferry_stage_info{migration=\"m\",stage=\"load\"} 1"), std::string::npos) << scraped;
  // 30,000 rows at 10,000 a second, one second's worth allowed at once: at least 2 seconds.
  EXPECT_GE(secs, 1.9) << "the throttle did not hold the load back";
  // Everything on standard output is a JSON line: the precheck, the schema statements, the
  // progress, the end of the load and of the run.
  std::ifstream in(out);
  std::string line;
  std::vector<std::string> events;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    events.push_back(j["event"]);
    if (events.back() == "load_done") {
      EXPECT_EQ(j["tables"][0]["rows"], 30000);
    }
    if (events.back() == "precheck") {
      EXPECT_EQ(j["report"]["passed"], true) << line;
    }
    if (events.back() == "schema" && j["object"] == "table it_thr_src.t") {
      EXPECT_EQ(j["action"], "create") << line;
    }
  }
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.front(), "precheck");
  EXPECT_NE(std::find(events.begin(), events.end(), "schema"), events.end());
  EXPECT_GE(std::count(events.begin(), events.end(), "progress"), 1);
  EXPECT_EQ(std::count(events.begin(), events.end(), "load_done"), 1);
  EXPECT_EQ(events.back(), "done");
}

TEST(LoadFeatures, FailureIsPostedToTheWebhookWithoutSecrets) {
  Server src = Mariadb(), dst = Postgres();
  FreshDatabase(src, "it_hook_src");
  auto s = Admin(src, "it_hook_src");
  ASSERT_NE(s, nullptr);
  // tinyint(1) maps to boolean; a 2 cannot be one.
  Exec(*s, {"CREATE TABLE flags (id int PRIMARY KEY, f tinyint(1))", "INSERT INTO flags VALUES (1, 1), (2, 2)"});
  FreshDatabase(dst, "it_hook_dst");
  int port = 0;
  int fd = Listen(&port);
  std::string body;
  std::thread server([&] {
    int c = accept(fd, nullptr, nullptr);
    std::string req;
    char buf[4096];
    ssize_t n;
    size_t want = std::string::npos;
    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
      req.append(buf, static_cast<size_t>(n));
      size_t head = req.find("\r\n\r\n");
      if (head != std::string::npos && want == std::string::npos) {
        size_t cl = req.find("Content-Length: ");
        want = head + 4 + (cl != std::string::npos ? std::stoul(req.substr(cl + 16)) : 0);
      }
      if (want != std::string::npos && req.size() >= want) break;
    }
    std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)send(c, ok.data(), ok.size(), 0);
    close(c);
    body = req.substr(req.find("\r\n\r\n") + 4);
  });
  std::string plan = WritePlan("hook", Endpoint("src", src, "") + Endpoint("dst", dst, "it_hook_dst") +
                                           Migration("  stages = [schema, full]\n  tag = \"it\"\n"
                                                     "  objects {\n    schema it_hook_src\n  }\n"
                                                     "  alert {\n    on_failure = true\n    webhook = \"http://127.0.0.1:" +
                                                     std::to_string(port) + "/hook\"\n  }\n"));
  auto r = RunFerry({"apply", plan});
  server.join();
  close(fd);
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("load of it_hook_src.flags"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column f of the row id = 2"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << body;
  EXPECT_EQ(j["event"], "migration_failed");
  EXPECT_EQ(j["migration"], "m");
  EXPECT_EQ(j["stage"], "load");
  EXPECT_EQ(j["tag"], "it");
  EXPECT_NE(j["error"].get<std::string>().find("cannot become a boolean"), std::string::npos) << body;
  EXPECT_EQ(body.find(Password()), std::string::npos) << "the alert holds the password";
  auto st = RunFerry({"status", plan, "--format", "json"});
  auto sj = nlohmann::json::parse(st.out);
  EXPECT_EQ(sj["status"][0]["state"], "failed");
}

TEST(LoadFeatures, ConflictsIgnoreKeepsTheDestinationsRows) {
  for (Server dst : {Postgres(), MariadbPlain()}) {
    Server src = Mariadb();
    FreshDatabase(src, "it_ign_src");
    auto s = Admin(src, "it_ign_src");
    ASSERT_NE(s, nullptr);
    Exec(*s, {"CREATE TABLE t (id int PRIMARY KEY, v varchar(20))",
              "INSERT INTO t VALUES (1, 'from source'), (2, 'from source'), (3, 'from source')"});
    bool pg = dst.engine == ir::Engine::kPostgres;
    std::string db = pg ? "it_ign_dst" : "";
    if (pg) FreshDatabase(dst, db);
    auto d = Admin(dst, db);
    ASSERT_NE(d, nullptr);
    if (pg) {
      // The user's own table settings are left as they are.
      Exec(*d, {"CREATE SCHEMA it_ign_src",
                "CREATE TABLE it_ign_src.t (id int PRIMARY KEY, v varchar(20)) WITH (autovacuum_enabled = false)",
                "INSERT INTO it_ign_src.t VALUES (2, 'kept')"});
    } else {
      Exec(*d, {"DROP DATABASE IF EXISTS it_ign_src", "CREATE DATABASE it_ign_src",
                "CREATE TABLE it_ign_src.t (id int PRIMARY KEY, v varchar(20))",
                "INSERT INTO it_ign_src.t VALUES (2, 'kept')"});
    }
    std::string plan = WritePlan("ignore", Endpoint("src", src, "") + Endpoint("dst", dst, db) +
                                               Migration("  stages = [schema, full]\n  conflicts = ignore\n"
                                                         "  objects {\n    schema it_ign_src\n  }\n"));
    auto r = RunFerry({"apply", plan});
    ASSERT_EQ(r.exit, 0) << r.out << r.err;
    auto rows = d->Query("SELECT id, v FROM it_ign_src.t ORDER BY id");
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->rows.size(), 3u);
    EXPECT_EQ(rows->rows[0][1], "from source");
    EXPECT_EQ(rows->rows[1][1], "kept") << "the destination's row was overwritten";
    EXPECT_EQ(rows->rows[2][1], "from source");
    if (pg) {
      auto options = d->Query("SELECT reloptions::text FROM pg_class WHERE oid = 'it_ign_src.t'::regclass");
      ASSERT_TRUE(options.ok());
      EXPECT_EQ(options->rows[0][0], "{autovacuum_enabled=false}");
    }
  }
}

// A destination table dropped after a finished load is created again by the next apply, and
// its rows loaded again: the chunks an earlier run marked done no longer hold them. A table
// still there keeps its rows and is not loaded twice.
TEST(LoadFeatures, ADroppedDestinationTableIsLoadedAgain) {
  for (Server dst : {Postgres(), MariadbPlain()}) {
    Server src = Mariadb();
    FreshDatabase(src, "it_again_src");
    auto s = Admin(src, "it_again_src");
    ASSERT_NE(s, nullptr);
    Exec(*s, {"CREATE TABLE a (id int PRIMARY KEY, v varchar(20))", "CREATE TABLE b (id int PRIMARY KEY)",
              "INSERT INTO a SELECT seq, CONCAT('row ', seq) FROM seq_1_to_500",
              "INSERT INTO b SELECT seq FROM seq_1_to_70"});
    bool pg = dst.engine == ir::Engine::kPostgres;
    std::string db = pg ? "it_again_dst" : "";
    if (pg) FreshDatabase(dst, db);
    auto d = Admin(dst, db);
    ASSERT_NE(d, nullptr);
    if (!pg) Exec(*d, {"DROP DATABASE IF EXISTS it_again_src"});
    std::string plan = WritePlan("again", Endpoint("src", src, "") + Endpoint("dst", dst, db) +
                                              Migration("  stages = [schema, full]\n"
                                                        "  objects {\n    schema it_again_src\n  }\n"));
    auto first = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=100"});
    ASSERT_EQ(first.exit, 0) << first.out << first.err;
    Exec(*d, {"DROP TABLE it_again_src.a"});
    auto again = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=100"});
    ASSERT_EQ(again.exit, 0) << again.out << again.err;
    for (const char* table : {"a", "b"}) {
      std::string sql = std::string("SELECT count(*), SUM(id) FROM it_again_src.") + table;
      auto want = s->Query(sql);
      auto got = d->Query(sql);
      ASSERT_TRUE(want.ok() && got.ok());
      EXPECT_EQ(got->rows, want->rows) << "table " << table << " into " << dst.name;
    }
  }
}

// A table's indexes are built as soon as its own rows are in (the DAG's load(t) →
// schema.post(t)), while another table still loads; the largest table loads first. PostgreSQL
// to PostgreSQL, the rows travel in COPY's binary form where every column's type allows it
// (a_small), and as text where one does not (b_big: a range and a point, outside the types
// that go in binary).
TEST(LoadFeatures, AnIndexIsBuiltOnceItsTableIsLoadedWhileOthersLoad) {
  Server src = Postgres(), dst = PostgresPlain();
  FreshDatabase(src, "it_overlap_src");
  FreshDatabase(dst, "it_overlap_dst");
  auto s = Admin(src, "it_overlap_src");
  auto d = Admin(dst, "it_overlap_dst");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  Exec(*s, {"CREATE SCHEMA ovl",
            "CREATE TABLE ovl.a_small (id int PRIMARY KEY, v text, n numeric(10,2), at timestamptz, raw bytea)",
            "CREATE INDEX a_small_v_idx ON ovl.a_small (v)",
            "INSERT INTO ovl.a_small SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'v' || g END, g / 3.0,"
            " '2024-01-01'::timestamptz + g * interval '1 minute', int4send(g) FROM generate_series(1, 10000) g",
            "INSERT INTO ovl.a_small VALUES (0, '', NULL, NULL, '')",
            "CREATE TABLE ovl.b_big (id bigint PRIMARY KEY, r int4range, p point, note varchar(20))",
            "CREATE INDEX b_big_note_idx ON ovl.b_big (note)",
            "INSERT INTO ovl.b_big SELECT g, int4range(g, g + 10), point(g, -g), 'n' || g FROM generate_series(1, 30000) g",
            "ANALYZE ovl.a_small, ovl.b_big"});
  // Held to 10,000 rows a second: b_big (first, the larger) loads for 3 seconds, then a_small for 1.
  std::string plan = WritePlan("overlap", Endpoint("src", src, "it_overlap_src") + Endpoint("dst", dst, "it_overlap_dst") +
                                              Migration("  stages = [schema, full]\n  workers = 2\n"
                                                        "  throttle full {\n    rows_per_s = 10000\n  }\n"
                                                        "  objects {\n    schema ovl\n  }\n"));
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=1000"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;

  // When: b_big's index was done before a_small's last chunk began.
  auto when = d->Query(
      "SELECT o.updated_at < (SELECT max(c.updated_at) FROM ferry_meta.chunks c WHERE c.src_table = 'ovl.a_small'),"
      " o.state FROM ferry_meta.schema_objects o WHERE o.object = 'index b_big_note_idx on ovl.b_big'");
  ASSERT_TRUE(when.ok()) << when.status().ToString();
  ASSERT_EQ(when->rows.size(), 1u);
  EXPECT_EQ(when->rows[0][1], "done");
  EXPECT_EQ(when->rows[0][0], "t") << "b_big's index waited for a_small's load";

  // What: every row as the source has it, every index, and the primary keys.
  for (const char* sql : {"SELECT id, v, n::text, at::text, encode(raw, 'hex') FROM ovl.a_small ORDER BY id",
                          "SELECT id, r::text, p::text, note FROM ovl.b_big ORDER BY id",
                          "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'ovl' ORDER BY 1, 2",
                          "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'p' AND"
                          " connamespace = 'ovl'::regnamespace ORDER BY 1"}) {
    auto want = s->Query(sql);
    auto got = d->Query(sql);
    ASSERT_TRUE(want.ok() && got.ok()) << sql;
    EXPECT_EQ(got->rows, want->rows) << sql;
    EXPECT_FALSE(got->rows.empty()) << sql;
  }
  // Autovacuum, held off the new tables during the load, is theirs again.
  auto options = d->Query("SELECT count(*) FROM pg_class WHERE relnamespace = 'ovl'::regnamespace AND reloptions IS NOT NULL");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->rows[0][0], "0") << "a table was left with autovacuum_enabled = false";
  // A setting its owner gives a table afterwards is not reset by the next apply.
  Exec(*d, {"ALTER TABLE ovl.b_big SET (autovacuum_enabled = false)"});
  auto again = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=1000"});
  ASSERT_EQ(again.exit, 0) << again.out << again.err;
  auto kept = d->Query("SELECT reloptions::text FROM pg_class WHERE oid = 'ovl.b_big'::regclass");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->rows[0][0], "{autovacuum_enabled=false}") << "a later apply reset its owner's setting";
  // The rows counted as they went by, from binary (a_small) and text (b_big) alike.
  auto st = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out);
  std::map<std::string, int64_t> rows;
  for (const auto& t : st["status"][0]["tables"]) rows[t["table"].get<std::string>()] = t["rows"].get<int64_t>();
  EXPECT_EQ(rows["ovl.a_small"], 10001);
  EXPECT_EQ(rows["ovl.b_big"], 30000);
}
// A run that fails after the load (here in schema.post: a trigger calls a function the
// destination lacks) gives the tables it created autovacuum back all the same.
TEST(LoadFeatures, ARunThatFailsAfterTheLoadGivesAutovacuumBack) {
  Server src = Postgres(), dst = PostgresPlain();
  FreshDatabase(src, "it_avac_src");
  FreshDatabase(dst, "it_avac_dst");
  auto s = Admin(src, "it_avac_src");
  auto d = Admin(dst, "it_avac_dst");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  Exec(*s, {"CREATE SCHEMA a", "CREATE SCHEMA b",
            "CREATE FUNCTION b.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "CREATE TABLE a.o (id int PRIMARY KEY, v int)", "INSERT INTO a.o SELECT g, g FROM generate_series(1, 500) g",
            "CREATE TRIGGER o_stamp BEFORE INSERT ON a.o FOR EACH ROW EXECUTE FUNCTION b.stamp()"});
  std::string plan = WritePlan("avac", Endpoint("src", src, "it_avac_src") + Endpoint("dst", dst, "it_avac_dst") +
                                           Migration("  stages = [schema, full]\n  objects {\n    schema a\n  }\n"));
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("schema.post failed creating trigger o_stamp on a.o"), std::string::npos) << r.err;
  auto options = d->Query("SELECT reloptions IS NULL, (SELECT count(*) FROM a.o) FROM pg_class WHERE oid = 'a.o'::regclass");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->rows[0][0], "t") << "the failed run left autovacuum off";
  EXPECT_EQ(options->rows[0][1], "500");
}

// MySQL values that Ferry writes in PostgreSQL's binary COPY form (every column of this table
// has one): the extremes of each type, NULLs and empties, compared with the source through each
// side's own text, not Ferry's.
TEST(LoadFeatures, MysqlValuesReachPostgresExactlyInBinaryCopy) {
  Server src = Mariadb(), dst = Postgres();
  FreshDatabase(src, "it_bin_src");
  FreshDatabase(dst, "it_bin_dst");
  auto s = Admin(src, "it_bin_src");
  auto d = Admin(dst, "it_bin_dst");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  Exec(*s, {"CREATE TABLE v (id int PRIMARY KEY, u bigint unsigned, b bigint, i int, sm smallint, ti tinyint,"
            " d decimal(30,10), d0 decimal(5,0), f float, dd double, flag tinyint(1), vc varchar(20), c char(5),"
            " e enum('x','y'), t text, j json, bl blob, dt date, ts datetime(6), tz timestamp(3) NULL)",
            "INSERT INTO v VALUES (1, 18446744073709551615, -9223372036854775808, 2147483647, -32768, 127,"
            " 99999999999999999999.9999999999, -99999, 3.40282e38, 1.7976931348623157e308, 1, 'héllo 😀', 'ab', 'y',"
            " 'tab\\there\\nnew line', '{\"k\": [1, 2.5, \"é\"], \"a\": null}', x'00ff10', '9999-12-31',"
            " '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999')",
            "INSERT INTO v VALUES (2, 0, 9223372036854775807, -2147483648, 32767, -128, -0.0000000001, 0,"
            " -1.17549e-38, 4.9406564584124654e-324, 0, '', '', 'x', '', '[]', '', '1000-01-01',"
            " '1000-01-01 00:00:00', '1970-01-01 00:00:01')",
            "INSERT INTO v (id) VALUES (3)",
            "INSERT INTO v SELECT 3 + seq, seq * 1000003, -seq, seq, seq % 30000, seq % 100, seq * 1.0001 - 500,"
            " seq % 2 * 10000, seq / 3e0, seq / 7e0, seq % 2, CONCAT('v', seq), CONCAT('c', seq % 10),"
            " ELT(1 + seq % 2, 'x', 'y'), REPEAT('t', seq % 50), JSON_OBJECT('n', seq), UNHEX(HEX(seq)),"
            " '2024-01-01' + INTERVAL seq DAY, '2024-01-01' + INTERVAL seq * 1000001 MICROSECOND,"
            " '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_2000"});
  std::string plan = WritePlan("binary", Endpoint("src", src, "") + Endpoint("dst", dst, "it_bin_dst") +
                                             Migration("  stages = [schema, full]\n  workers = 2\n"
                                                       "  objects {\n    schema it_bin_src\n  }\n"));
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=500"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto want = s->Query(
      "SELECT id, u, b, i, sm, ti, CAST(d AS CHAR), d0, CAST(f AS DOUBLE), CAST(dd AS CHAR), flag, vc, c, e, t, j,"
      " LOWER(HEX(bl)), DATE_FORMAT(dt, '%Y-%m-%d'), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'),"
      " DATE_FORMAT(tz, '%Y-%m-%d %H:%i:%s.%f') FROM v ORDER BY id");
  auto got = d->Query(
      "SELECT id, u, b, i, sm, ti, d::text, d0, f::text, dd::text, CASE WHEN flag THEN 1 WHEN NOT flag THEN 0 END, vc, c::text, e, t,"
      " j::text, encode(bl, 'hex'), to_char(dt, 'YYYY-MM-DD'), to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'),"
      " to_char(tz, 'YYYY-MM-DD HH24:MI:SS.US') FROM it_bin_src.v ORDER BY id");
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->rows.size(), 2003u);
  ASSERT_EQ(want->rows.size(), got->rows.size());
  for (size_t i = 0; i < want->rows.size(); ++i) {
    auto a = want->rows[i], b = got->rows[i];
    for (auto* row : {&a, &b}) {
      auto& x = *row;
      // floats as numbers, each at its own width; JSON as JSON (jsonb orders keys its own way)
      if (x[8]) x[8] = fmt::format("{}", std::strtof(x[8]->c_str(), nullptr));
      if (x[9]) x[9] = fmt::format("{}", std::strtod(x[9]->c_str(), nullptr));
      if (x[15]) x[15] = nlohmann::json::parse(*x[15]).dump();
    }
    ASSERT_EQ(b, a) << "row " << i;
  }
}

// An index that cannot be built fails the run once the load is done, naming the stage, the
// index, the plan line and the SQL; the rows stay, and the run can be resumed once the data is
// fixed. Here the destination kept a row of its own (conflicts = ignore) that duplicates a
// source row's unique email. The source's emails that differ only by a trailing space stay
// distinct in MariaDB, as in PostgreSQL (a NO PAD collation).
TEST(LoadFeatures, AnIndexBuildFailingBesideTheLoadNamesItsStageAndPlanLine) {
  Server src = Postgres(), dst = MariadbPlain();
  FreshDatabase(src, "it_idxfail_src");
  auto s = Admin(src, "it_idxfail_src");
  auto d = Admin(dst, "");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_idxfail", "CREATE DATABASE it_idxfail",
            "CREATE TABLE it_idxfail.a (id int PRIMARY KEY, email varchar(40)) COLLATE utf8mb4_nopad_bin",
            "INSERT INTO it_idxfail.a VALUES (3, 'ann@example.com')"});
  Exec(*s, {"CREATE SCHEMA it_idxfail", "CREATE TABLE it_idxfail.a (id int PRIMARY KEY, email varchar(40) UNIQUE)",
            "INSERT INTO it_idxfail.a VALUES (1, 'ann@example.com'), (2, 'ann@example.com ')",
            "CREATE TABLE it_idxfail.b (id int PRIMARY KEY, v text)",
            "INSERT INTO it_idxfail.b SELECT g, 'v' || g FROM generate_series(1, 20000) g"});
  std::string plan = WritePlan("idxfail", Endpoint("src", src, "it_idxfail_src") + Endpoint("dst", dst, "") +
                                              Migration("  stages = [schema, full]\n  workers = 2\n  conflicts = ignore\n"
                                                        "  objects {\n    schema it_idxfail\n  }\n"));
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=1000"});
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("schema.post failed creating index a_email_key on it_idxfail.a"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(selected at " + plan + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Duplicate entry 'ann@example.com'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the statement was: ALTER TABLE"), std::string::npos) << r.err;
  auto status = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out);
  EXPECT_EQ(status["status"][0]["state"], "failed");
  EXPECT_EQ(status["status"][0]["stage"], "schema.post");
  auto rows = d->Query("SELECT (SELECT COUNT(*) FROM it_idxfail.a), (SELECT COUNT(*) FROM it_idxfail.b)");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows[0][0], "3");
  EXPECT_EQ(rows->rows[0][1], "20000");

  // Fixed in the destination, and run again: the index is built, nothing is copied twice.
  Exec(*d, {"DELETE FROM it_idxfail.a WHERE id = 3"});
  auto again = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=1000"});
  ASSERT_EQ(again.exit, 0) << again.out << again.err;
  auto idx = d->Query("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'it_idxfail' AND"
                      " TABLE_NAME = 'a' AND INDEX_NAME = 'a_email_key'");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->rows[0][0], "1");
  auto count = d->Query("SELECT COUNT(*) FROM it_idxfail.b");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->rows[0][0], "20000");
}

// An index build whose connection is lost (a destination restarted, here the session
// terminated) is retried within `retry.connection` on a new connection, and the run ends well.
TEST(LoadFeatures, AnIndexBuildWhoseConnectionIsLostIsRetried) {
  Server src = Postgres(), dst = PostgresPlain();
  FreshDatabase(src, "it_idxretry_src");
  FreshDatabase(dst, "it_idxretry_dst");
  auto s = Admin(src, "it_idxretry_src");
  auto d = Admin(dst, "it_idxretry_dst");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  // A function slow enough to keep the index build running while the test cuts its session.
  for (auto* c : {s.get(), d.get()}) {
    Exec(*c, {"CREATE FUNCTION public.slow(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS "
              "$$ BEGIN PERFORM pg_sleep(0.001); RETURN v; END $$"});
  }
  Exec(*s, {"CREATE SCHEMA ir", "CREATE TABLE ir.t (id int PRIMARY KEY, v int)",
            "INSERT INTO ir.t SELECT g, g FROM generate_series(1, 2000) g", "CREATE INDEX t_slow ON ir.t (public.slow(v))"});
  std::string plan = WritePlan("idxretry", Endpoint("src", src, "it_idxretry_src") +
                                               Endpoint("dst", dst, "it_idxretry_dst") +
                                               Migration("  stages = [schema, full]\n  retry {\n    connection = 20m\n  }\n"
                                                         "  objects {\n    schema ir\n  }\n"));
  pid_t pid = StartFerry({"apply", plan}, {}, ScratchPath("idxretry.out"), ScratchPath("idxretry.err"));
  bool cut = false;
  for (int i = 0; i < 600 && !cut; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto r = d->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX%t_slow%' "
                      "AND pid <> pg_backend_pid()");
    cut = r.ok() && !r->rows.empty();
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream out(ScratchPath("idxretry.out")), err(ScratchPath("idxretry.err"));
  std::string said((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  std::string why((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(cut) << "the index build was never seen running:\n" << said << why;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the run did not survive the lost session: " << why;
  auto idx = d->Query("SELECT count(*) FROM pg_indexes WHERE schemaname = 'ir' AND indexname = 't_slow'");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->rows[0][0], "1");
}

// PostgreSQL strings that differ only by trailing spaces stay two keys in a MariaDB table
// Ferry creates (NO PAD binary collation), as they are in PostgreSQL.
TEST(LoadFeatures, TrailingSpacesKeepKeysApartInMariadb) {
  Server src = Postgres(), dst = MariadbPlain();
  FreshDatabase(src, "it_nopad_src");
  auto s = Admin(src, "it_nopad_src");
  auto d = Admin(dst, "");
  ASSERT_NE(s, nullptr);
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_nopad"});
  Exec(*s, {"CREATE SCHEMA it_nopad", "CREATE TABLE it_nopad.k (code varchar(10) PRIMARY KEY, n int)",
            "INSERT INTO it_nopad.k VALUES ('a', 1), ('a ', 2), ('a  ', 3)"});
  std::string plan = WritePlan("nopad", Endpoint("src", src, "it_nopad_src") + Endpoint("dst", dst, "") +
                                            Migration("  stages = [schema, full]\n  objects {\n    schema it_nopad\n  }\n"));
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto rows = d->Query("SELECT CONCAT('[', code, ']'), n FROM it_nopad.k ORDER BY n");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 3u);
  EXPECT_EQ(rows->rows[1][0], "[a ]");
  EXPECT_EQ(rows->rows[2][0], "[a  ]");
}

// Into the MySQL family the load streams LOAD DATA LOCAL INFILE, which turns the server's data
// errors into warnings; Ferry treats them as errors, as a strict INSERT would: a value the
// destination cannot hold fails the chunk and nothing of it is kept.
TEST(LoadFeatures, ValuesTheMysqlDestinationRejectsFailTheChunk) {
  Server src = Mariadb(), dst = MariadbPlain();
  FreshDatabase(src, "it_rej_src");
  auto s = Admin(src, "it_rej_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE t (id int PRIMARY KEY, v varchar(20))",
            "INSERT INTO t VALUES (1, 'short'), (2, 'much too long'), (3, 'ok')"});
  auto d = Admin(dst, "");
  ASSERT_NE(d, nullptr);
  // ferry_meta is shared with the tests running beside this one: only this test's schema goes.
  Exec(*d, {"DROP DATABASE IF EXISTS it_rej_src"});
  std::string plan = WritePlan("reject", Endpoint("src", src, "") + Endpoint("dst", dst, "") +
                                             Migration("  stages = [schema, full]\n"
                                                       "  objects {\n    schema it_rej_src {\n"
                                                       "      table t {\n        column v { type = \"varchar(5)\" }\n"
                                                       "      }\n    }\n  }\n"));
  auto r = RunFerry({"apply", plan});
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("load of it_rej_src.t"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'v'"), std::string::npos) << "the error names the column: " << r.err;
  auto rows = d->Query("SELECT COUNT(*) FROM it_rej_src.t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows[0][0], "0") << "rows of the failed chunk were kept";
}

// A destination that refuses LOAD DATA LOCAL (local_infile = OFF, MySQL 8's default) is loaded
// with multi-row INSERTs instead, and the run says so once.
TEST(LoadFeatures, MysqlDestinationWithoutLocalInfileIsLoadedWithInserts) {
  Server src = Mariadb(), dst = MariadbPlain();
  FreshDatabase(src, "it_noinfile_src");
  auto s = Admin(src, "it_noinfile_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE t (id int PRIMARY KEY, v varchar(20), b varbinary(8))",
            "INSERT INTO t SELECT seq, CONCAT('v\\t', seq), UNHEX(HEX(seq)) FROM seq_1_to_5000"});
  auto d = Admin(dst, "");
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_noinfile_src",
            "SET GLOBAL local_infile = 0"});
  std::string plan = WritePlan("noinfile", Endpoint("src", src, "") + Endpoint("dst", dst, "") +
                                               Migration("  stages = [schema, full]\n  workers = 2\n"
                                                         "  objects {\n    schema it_noinfile_src\n  }\n"));
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=1000"});
  Exec(*d, {"SET GLOBAL local_infile = 1"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  size_t said = r.err.find("refuses LOAD DATA LOCAL INFILE");
  EXPECT_NE(said, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("refuses LOAD DATA LOCAL INFILE", said + 1), std::string::npos) << "said more than once: " << r.err;
  auto want = s->Query("SELECT COUNT(*), SUM(CRC32(CONCAT(id, v, HEX(b)))) FROM it_noinfile_src.t");
  auto got = d->Query("SELECT COUNT(*), SUM(CRC32(CONCAT(id, v, HEX(b)))) FROM it_noinfile_src.t");
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(got->rows[0], want->rows[0]);
  EXPECT_EQ(got->rows[0][0], "5000");
}

}  // namespace
}  // namespace ferry::testing
