// `ferry verify` against real servers, for every engine pair: a migrated dataset (renamed
// schema, table and column; a table without a key; a text key that the two engines order
// differently) verifies equal in every mode; then deliberate corruptions of the destination
// are each found with their key, and equal values that merely print differently are not.
// Also: the verify stage of apply, count with a `where` filter, and a killed verify that
// resumes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "runtime/verify/normalize.h"
#include "runtime/verify/row_hash.h"
#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

using ir::Engine;

struct Pair {
  const char* name;
  Server (*src)();
  Server (*dst)();
};

bool Pg(const Server& s) { return s.engine == Engine::kPostgres; }

// The source: `shop.items` (every kind of value the issue names), `shop.tags` (no key, with
// duplicate rows) and `shop.words` (a text key in mixed case, accents and punctuation).
void CreateSource(const Server& s, const std::string& db) {
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  std::string sch = Pg(s) ? "shop" : db;
  std::vector<std::string> sql;
  if (Pg(s)) {
    sql = {"CREATE SCHEMA shop",
           "CREATE TABLE shop.items (id int PRIMARY KEY, v int, txt varchar(20), dbl double precision, ts timestamp(6), "
           "ch char(5), dec numeric(10,3), js jsonb, bin bytea, flag boolean, f real, tz timestamptz(3), "
           "d0 timestamp(0))",
           "INSERT INTO shop.items SELECT g, g * 10, 'row ' || g, g / 7.0, '2024-01-01'::timestamp + g * interval "
           "'1.000001 second', 'c' || (g % 10), g / 8.0, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g)), "
           "decode(lpad(to_hex(g), 4, '0'), 'hex'), g % 2 = 0, g / 3.0, '2024-06-30 23:59:59+00'::timestamptz + g * "
           "interval '0.25 second', '2024-01-01 10:00:00'::timestamp + g * interval '10 minutes' "
           "FROM generate_series(1, 60) g",
           "UPDATE shop.items SET txt = '' WHERE id = 3",
           "UPDATE shop.items SET dbl = 0.30000000000000004 WHERE id = 4",
           "UPDATE shop.items SET ts = '2024-01-01 10:00:00.123456' WHERE id = 5",
           "UPDATE shop.items SET txt = 'abc' WHERE id = 6",
           "UPDATE shop.items SET dbl = 0 WHERE id = 7",
           "UPDATE shop.items SET ch = 'ab', js = '{\"b\": 1.50, \"a\": [1e2, \"\\u00e9\"]}' WHERE id = 8",
           "UPDATE shop.items SET txt = NULL, js = NULL, bin = NULL WHERE id = 9",
           // Timestamps on a whole second and with a fraction that ends in zeros.
           "UPDATE shop.items SET ts = '2024-01-01 10:00:00', tz = NULL WHERE id = 11",
           "UPDATE shop.items SET ts = '2024-01-01 10:00:00.5' WHERE id = 12",
           "CREATE TABLE shop.tags (name varchar(10), n int)",
           "INSERT INTO shop.tags VALUES ('a', 1), ('a', 1), ('b', 2), (NULL, 3)",
           "CREATE TABLE shop.words (w varchar(20) PRIMARY KEY, n int)"};
  } else {
    sql = {"CREATE TABLE " + sch + ".items (id int PRIMARY KEY, v int, txt varchar(20), dbl double, ts datetime(6), "
           "ch char(5), `dec` decimal(10,3), js json, bin varbinary(8), flag tinyint(1), f float, tz timestamp(3) NULL, "
           "d0 datetime)",
           "INSERT INTO " + sch + ".items SELECT seq, seq * 10, CONCAT('row ', seq), seq / 7e0, '2024-01-01' + INTERVAL "
           "seq * 1000001 MICROSECOND, CONCAT('c', seq % 10), seq / 8, JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', seq)), "
           "UNHEX(LPAD(HEX(seq), 4, '0')), seq % 2 = 0, seq / 3e0, TIMESTAMP'2024-06-30 23:59:59' + INTERVAL seq * 250000 "
           "MICROSECOND, TIMESTAMP'2024-01-01 10:00:00' + INTERVAL seq * 10 MINUTE FROM seq_1_to_60",
           "UPDATE " + sch + ".items SET txt = '' WHERE id = 3",
           "UPDATE " + sch + ".items SET dbl = 0.30000000000000004e0 WHERE id = 4",
           "UPDATE " + sch + ".items SET ts = '2024-01-01 10:00:00.123456' WHERE id = 5",
           "UPDATE " + sch + ".items SET txt = 'abc' WHERE id = 6",
           "UPDATE " + sch + ".items SET dbl = 0 WHERE id = 7",
           "UPDATE " + sch + ".items SET ch = 'ab', js = '{\"b\": 1.50, \"a\": [1e2, \"\\\\u00e9\"]}' WHERE id = 8",
           "UPDATE " + sch + ".items SET txt = NULL, js = NULL, bin = NULL WHERE id = 9",
           "UPDATE " + sch + ".items SET ts = '2024-01-01 10:00:00', tz = NULL WHERE id = 11",
           "UPDATE " + sch + ".items SET ts = '2024-01-01 10:00:00.5' WHERE id = 12",
           "CREATE TABLE " + sch + ".tags (name varchar(10), n int)",
           "INSERT INTO " + sch + ".tags VALUES ('a', 1), ('a', 1), ('b', 2), (NULL, 3)",
           "CREATE TABLE " + sch + ".words (w varchar(20) PRIMARY KEY, n int)"};
  }
  // A key with a datetime whose fraction MySQL prints with trailing zeros ('….500000') and
  // PostgreSQL without ('….5'), and a double beside it; more rows than a chunk lists, so that
  // keys hashed apart on the two sides could not be reconciled from the lists.
  sql.push_back("CREATE TABLE " + sch + ".stamps (at " + std::string(Pg(s) ? "timestamp(6)" : "datetime(6)") +
                " NOT NULL, n int NOT NULL, v " + std::string(Pg(s) ? "double precision" : "double") +
                ", PRIMARY KEY (at, n))");
  sql.push_back(Pg(s) ? "INSERT INTO shop.stamps SELECT '2024-01-01 10:00:00'::timestamp + g * interval '0.5 second', "
                        "g % 3, g / 7.0 FROM generate_series(1, 1200) g"
                      : "INSERT INTO " + sch + ".stamps SELECT TIMESTAMP'2024-01-01 10:00:00' + INTERVAL seq * 500000 "
                        "MICROSECOND, seq % 3, seq / 7e0 FROM seq_1_to_1200");
  // Floats at the ends of the range, which both engines print in their own ways.
  sql.push_back("CREATE TABLE " + sch + ".floats (id int PRIMARY KEY, d " + std::string(Pg(s) ? "double precision" : "double") + ")");
  sql.push_back("INSERT INTO " + sch +
                ".floats VALUES (1, 1e300), (2, -1.7976931348623157e308), (3, 5e-324), (4, 2.2250738585072014e-308), "
                "(5, 1e15), (6, 123456789012345680000), (7, 0.00001), (8, 1.5e-14), (9, -0.0001), (10, 1e34), "
                "(11, 9.999999999999999e33), (12, 1e-13), (13, 62598224030586416), (14, -26950520650324128)");
  // Without a key, doubles whose shortest decimal lies exactly halfway to the next double: the
  // two engines' SQL prints other digits for them (6.259822403058642e16, 6.2598224030586416e+16).
  std::string dbl = Pg(s) ? "double precision" : "double";
  sql.push_back("CREATE TABLE " + sch + ".measures (name varchar(10), v " + dbl + ")");
  sql.push_back("INSERT INTO " + sch +
                ".measures VALUES ('x', 62598224030586416), ('x', 62598224030586416), ('y', -26950520650324128), "
                "('y', 0.5), (NULL, NULL)");
  sql.push_back("INSERT INTO " + sch +
                ".words VALUES ('apple', 1), ('Banana', 2), ('cherry', 3), ('Äpfel', 4), ('_under', 5), ('Zebra', 6), "
                "('zeta', 7), ('a b', 8), ('a-b', 9), ('ß', 10), ('Ω', 11), ('0zero', 12)");
  Exec(*c, sql);
}

std::string Plan(const Pair& p, const std::string& src_db, const std::string& dst_db, const std::string& extra = "") {
  Server src = p.src(), dst = p.dst();
  std::string src_schema = Pg(src) ? "shop" : src_db;
  std::string dst_schema = Pg(dst) ? "shop2" : dst_db;
  return Endpoint("src", src, Pg(src) ? src_db : "") + Endpoint("dst", dst, Pg(dst) ? dst_db : "") +
         "migration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n  workers = 2\n" + extra +
         "  objects {\n    schema " + src_schema + " -> " + dst_schema +
         " {\n      table items -> goods {\n        column v -> v2\n      }\n      table \"*\"\n    }\n  }\n}\n";
}

// A plan that migrates one schema, schema and rows, from src to dst.
std::string OneSchemaPlan(const std::string& name, const Server& src, const std::string& src_db, const Server& dst,
                          const std::string& dst_db, const std::string& schema) {
  return WritePlan(name, Endpoint("src", src, src_db) + Endpoint("dst", dst, dst_db) +
                             "migration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n"
                             "  objects {\n    schema " + schema + "\n  }\n}\n");
}

nlohmann::json Verify(const std::string& plan, int want_exit, const std::vector<std::string>& extra = {},
                      const std::vector<std::string>& env = {"FERRY_CHUNK_ROWS=10"}) {
  std::vector<std::string> args = {"verify", plan, "--format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = RunFerry(args, env);
  EXPECT_EQ(r.exit, want_exit) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  if (j.is_discarded()) return nlohmann::json::object();
  return j["verify"][0];
}

const nlohmann::json* Table(const nlohmann::json& report, const std::string& suffix) {
  for (const auto& t : report["tables"]) {
    std::string s = t["source"];
    if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) return &t;
  }
  ADD_FAILURE() << "no table " << suffix << " in " << report.dump();
  static nlohmann::json none = nlohmann::json::object();
  return &none;
}

class VerifyPairs : public ::testing::TestWithParam<Pair> {};

TEST_P(VerifyPairs, EqualDataIsEqualAndEachCorruptionIsFoundByKey) {
  const Pair& p = GetParam();
  Server src = p.src(), dst = p.dst();
  std::string tag = p.name;
  std::string src_db = "it_v_" + tag + "_src", dst_db = "it_v_" + tag + "_dst";
  CreateSource(src, src_db);
  if (Pg(dst)) FreshDatabase(dst, dst_db);
  else {
    auto c = Admin(dst);
    ASSERT_NE(c, nullptr);
    Exec(*c, {"DROP DATABASE IF EXISTS " + dst_db});
  }
  std::string plan = WritePlan("verify_" + tag, Plan(p, src_db, dst_db));
  auto applied = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=10"});
  ASSERT_EQ(applied.exit, 0) << applied.out << applied.err;

  for (const char* mode : {"count", "checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(plan, 0, {"--mode", mode});
    EXPECT_EQ(report["equal"], true) << report.dump(2);
    EXPECT_EQ(report["mode"], mode);
    EXPECT_EQ((*Table(report, ".items"))["source_rows"], 60);
    EXPECT_EQ((*Table(report, ".tags"))["destination_rows"], 4);
    EXPECT_EQ((*Table(report, ".words"))["source_rows"], 12);
    EXPECT_EQ((*Table(report, ".floats"))["equal"], true) << Table(report, ".floats")->dump(2);
    EXPECT_EQ((*Table(report, ".stamps"))["equal"], true) << Table(report, ".stamps")->dump(2);
    EXPECT_EQ((*Table(report, ".measures"))["equal"], true) << Table(report, ".measures")->dump(2);
    EXPECT_EQ((*Table(report, ".measures"))["source_rows"], 5);
  }

  // Corrupt the destination.
  std::string goods = Pg(dst) ? "shop2.goods" : dst_db + ".goods";
  std::string tags = Pg(dst) ? "shop2.tags" : dst_db + ".tags";
  std::string measures = Pg(dst) ? "shop2.measures" : dst_db + ".measures";
  auto c = Admin(dst, Pg(dst) ? dst_db : "");
  ASSERT_NE(c, nullptr);
  Exec(*c, {
      "UPDATE " + goods + " SET v2 = v2 + 1 WHERE id = 1",  // a changed value
      "DELETE FROM " + goods + " WHERE id = 2",             // a missing row
      "INSERT INTO " + goods + " (id, v2) VALUES (0, 5)",  // an extra row (in the first chunk)
      "UPDATE " + goods + " SET txt = NULL WHERE id = 3",   // NULL instead of ''
      "UPDATE " + goods + " SET dbl = 0.3 WHERE id = 4",    // a float's last digit
      Pg(dst) ? "UPDATE " + goods + " SET ts = ts + interval '1 microsecond' WHERE id = 5"
              : "UPDATE " + goods + " SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = 5",
      "UPDATE " + goods + " SET txt = 'abc ' WHERE id = 6",  // a trailing space
      "UPDATE " + goods + " SET js = '{\"n\": 99}' WHERE id = 10",  // a JSON document
      // Alone in the last chunk, so that the chunk's hash alone must see it.
      "UPDATE " + goods + " SET " + (Pg(dst) ? "\"dec\"" : "`dec`") + " = 7.001 WHERE id = 55",
      // Not differences: -0 where the source has 0; CHAR padding written out.
      Pg(dst) ? "UPDATE " + goods + " SET dbl = '-0'::float8 WHERE id = 7"
              : "UPDATE " + goods + " SET dbl = -0e0 WHERE id = 7",
      "UPDATE " + goods + " SET ch = 'ab   ' WHERE id = 8",
      "UPDATE " + (Pg(dst) ? std::string("shop2") : dst_db) + ".floats SET d = 1.0000000000000002e300 WHERE id = 1",
      "UPDATE " + (Pg(dst) ? std::string("shop2") : dst_db) + ".stamps SET v = 1 WHERE at = '2024-01-01 10:00:07.5'",
      // One of two equal rows of the table without a key.
      Pg(dst) ? "DELETE FROM " + tags + " WHERE ctid = (SELECT min(ctid) FROM " + tags + " WHERE name = 'a')"
              : "DELETE FROM " + tags + " WHERE name = 'a' LIMIT 1",
      // Without a key, a double one step from the source's (…416 -> …424).
      Pg(dst) ? "UPDATE " + measures + " SET v = 62598224030586424 WHERE ctid = (SELECT min(ctid) FROM " + measures +
                    " WHERE name = 'x')"
              : "UPDATE " + measures + " SET v = 62598224030586424 WHERE name = 'x' LIMIT 1",
  });

  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(plan, 1, {"--mode", mode});
    EXPECT_EQ(report["equal"], false);
    const nlohmann::json& items = *Table(report, ".items");
    EXPECT_EQ(items["equal"], false);
    EXPECT_EQ(items["differences"], 9) << items.dump(2);
    std::map<std::string, std::pair<std::string, std::set<std::string>>> found;  // id -> kind, columns
    for (const auto& d : items["listed"]) {
      std::set<std::string> cols;
      if (d.contains("columns")) {
        for (const auto& col : d["columns"]) cols.insert(col["column"].get<std::string>());
      }
      found[d["key"]["id"].get<std::string>()] = {d["kind"], cols};
    }
    using Cols = std::set<std::string>;
    std::map<std::string, std::pair<std::string, Cols>> want = {
        {"1", {"differs", Cols{"v"}}},   {"2", {"missing", Cols{}}},     {"0", {"extra", Cols{}}},
        {"3", {"differs", Cols{"txt"}}}, {"4", {"differs", Cols{"dbl"}}}, {"5", {"differs", Cols{"ts"}}},
        {"6", {"differs", Cols{"txt"}}}, {"10", {"differs", Cols{"js"}}},
        {"55", {"differs", Cols{"dec"}}},
    };
    EXPECT_EQ(found, want) << items.dump(2);
    for (const auto& d : items["listed"]) {
      if (d["key"]["id"] == "3") {
        EXPECT_EQ(d["columns"][0]["source"], "");
        EXPECT_TRUE(d["columns"][0]["destination"].is_null());
      }
      if (d["key"]["id"] == "6") {
        EXPECT_EQ(d["columns"][0]["destination"], "abc ");
      }
    }
    const nlohmann::json& t = *Table(report, ".tags");
    EXPECT_EQ(t["differences"], 1) << t.dump(2);
    ASSERT_EQ(t["listed"].size(), 1u);
    EXPECT_EQ(t["listed"][0]["kind"], "missing");
    EXPECT_EQ(t["listed"][0]["row"]["name"], "a");
    EXPECT_EQ((*Table(report, ".words"))["equal"], true);
    EXPECT_EQ((*Table(report, ".floats"))["differences"], 1) << Table(report, ".floats")->dump(2);
    const nlohmann::json& me = *Table(report, ".measures");
    std::multiset<std::string> kinds;
    for (const auto& d : me["listed"]) kinds.insert(d["kind"].get<std::string>());
    EXPECT_EQ(kinds, (std::multiset<std::string>{"extra", "missing"})) << me.dump(2);
    const nlohmann::json& st = *Table(report, ".stamps");
    ASSERT_EQ(st["listed"].size(), 1u) << st.dump(2);
    EXPECT_EQ(st["listed"][0]["kind"], "differs") << st.dump(2);
    // As PostgreSQL prints it between engines; MySQL's own print between two MySQL servers.
    std::string at = st["listed"][0]["key"]["at"];
    EXPECT_TRUE(at == "2024-01-01 10:00:07.5" || at == "2024-01-01 10:00:07.500000") << st.dump(2);
  }
  // The text report names the key and the column, for a person.
  auto text = RunFerry({"verify", plan});
  EXPECT_EQ(text.exit, 1);
  EXPECT_NE(text.out.find("missing  id = '2': in the source, not in the destination"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("differs  id = '6': txt 'abc' -> 'abc '"), std::string::npos) << text.out;
  // Counts see the missing and the extra row cancel out, and the keyless table's lost row.
  auto counts = Verify(plan, 1, {"--mode", "count"});
  EXPECT_EQ((*Table(counts, ".items"))["equal"], true);
  EXPECT_EQ((*Table(counts, ".tags"))["equal"], false);
}

INSTANTIATE_TEST_SUITE_P(Pairs, VerifyPairs,
                         ::testing::Values(Pair{"m2m", Mariadb, MariadbPlain}, Pair{"m2p", Mariadb, Postgres},
                                           Pair{"p2p", Postgres, PostgresPlain}, Pair{"p2m", Postgres, MariadbPlain}),
                         [](const ::testing::TestParamInfo<Pair>& pair) { return std::string(pair.param.name); });

// Values swapped between two rows of one chunk: each column holds the same values as a set,
// only the rows they are in differ. Between two PostgreSQL servers a row's hash is made of its
// columns' hashes, and a sum of such rows must still see the swap.
TEST(Verify, ValuesSwappedBetweenRowsAreFound) {
  Server src = Postgres(), dst = PostgresPlain();
  FreshDatabase(src, "it_swap_src");
  FreshDatabase(dst, "it_swap_dst");
  auto s = Admin(src, "it_swap_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE SCHEMA sw", "CREATE TABLE sw.t (id int PRIMARY KEY, v int, w text)",
            "INSERT INTO sw.t SELECT g, g * 10, 'w' || g FROM generate_series(1, 100) g"});
  std::string plan = OneSchemaPlan("swap", src, "it_swap_src", dst, "it_swap_dst", "sw");
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=10"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto d = Admin(dst, "it_swap_dst");
  ASSERT_NE(d, nullptr);
  Exec(*d, {"UPDATE sw.t SET v = CASE id WHEN 45 THEN 460 ELSE 450 END WHERE id IN (45, 46)",
            "UPDATE sw.t SET w = CASE id WHEN 47 THEN 'w48' ELSE 'w47' END WHERE id IN (47, 48)"});
  auto report = Verify(plan, 1, {"--mode", "checksum"});
  const nlohmann::json& t = *Table(report, ".t");
  EXPECT_EQ(t["differences"], 4) << t.dump(2);
}

// Between two PostgreSQL servers some types' own hashes do not tell every two values apart:
// bigint's folds 64 bits into 32 (0 and 4294967297 hash alike), a float's zero and jsonb's
// empty containers hash as NULL does, and jsonb's [] as its {}. Each change is still found.
TEST(Verify, BetweenPostgresServersValuesWhoseTypeHashesCollideAreFound) {
  Server src = Postgres(), dst = PostgresPlain();
  FreshDatabase(src, "it_vh_src");
  FreshDatabase(dst, "it_vh_dst");
  auto s = Admin(src, "it_vh_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE SCHEMA h",
            "CREATE TABLE h.t (id int PRIMARY KEY, big bigint, f double precision, r real, j jsonb, ts timestamp)",
            "INSERT INTO h.t SELECT g, 0, 0, 0, '{}', '2024-01-01' FROM generate_series(1, 48) g"});
  std::string plan = OneSchemaPlan("collide", src, "it_vh_src", dst, "it_vh_dst", "h");
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=10"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_EQ(Verify(plan, 0, {"--mode", "checksum"})["equal"], true);
  auto d = Admin(dst, "it_vh_dst");
  ASSERT_NE(d, nullptr);
  // Each change alone in its chunk of 8 rows, so that the chunk's hash alone must see it.
  // 4294967297 is 2^32 + 1: the same 32 bits as 0 once folded.
  Exec(*d, {"UPDATE h.t SET big = 4294967297 WHERE id = 5", "UPDATE h.t SET f = NULL WHERE id = 13",
            "UPDATE h.t SET r = NULL WHERE id = 21", "UPDATE h.t SET j = NULL WHERE id = 29",
            "UPDATE h.t SET ts = ts + interval '4294967297 microseconds' WHERE id = 37",
            "UPDATE h.t SET j = '[]' WHERE id = 43"});
  auto report = Verify(plan, 1, {"--mode", "checksum"}, {"FERRY_CHUNK_ROWS=2"});
  const nlohmann::json& t = *Table(report, ".t");
  EXPECT_GE(t["chunks"], 6) << t.dump(2);
  std::set<std::string> ids;
  for (const auto& x : t["listed"]) ids.insert(x["key"]["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"5", "13", "21", "29", "37", "43"})) << t.dump(2);
}

// Checksum and rows need PostgreSQL 13 or later (trim_scale, shortest floats): an older server
// is refused before anything is compared, saying which and what still works; count works.
TEST(Verify, AnOlderPostgresIsRefusedClearlyAndCountStillWorks) {
  Server src = Mariadb(), dst = Postgres();
  auto c = Admin(src);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"DROP DATABASE IF EXISTS it_vo_src", "CREATE DATABASE it_vo_src",
            "CREATE TABLE it_vo_src.t (id int PRIMARY KEY, v double)", "INSERT INTO it_vo_src.t VALUES (1, 0.5)"});
  FreshDatabase(dst, "it_vo_dst");
  std::string plan = OneSchemaPlan("older_pg", src, "", dst, "it_vo_dst", "it_vo_src");
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto refused = RunFerry({"verify", plan, "--mode", "checksum"}, {"FERRY_VERIFY_PG_MAJOR=12"});
  EXPECT_EQ(refused.exit, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("verify --mode checksum needs PostgreSQL 13 or later, and the destination (dst) is "
                             "PostgreSQL 15"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("--mode count works with any version"), std::string::npos) << refused.err;
  auto counted = RunFerry({"verify", plan, "--mode", "count"}, {"FERRY_VERIFY_PG_MAJOR=12"});
  EXPECT_EQ(counted.exit, 0) << counted.out << counted.err;
}

// A PostgreSQL database not encoded in UTF8 beside MySQL, or beside a PostgreSQL database in
// another encoding: its text is hashed as UTF-8 (read by Ferry, keys through convert_to), so
// equal non-ASCII text compares equal and a changed letter is found. Between two LATIN1
// databases both hash in SQL, as they are.
TEST(Verify, TextIsComparedAsUtf8WhateverTheEncoding) {
  Server src = Mariadb(), dst = Postgres();
  auto c = Admin(src);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"DROP DATABASE IF EXISTS it_ve_src", "CREATE DATABASE it_ve_src",
            "CREATE TABLE it_ve_src.w (id int PRIMARY KEY, s varchar(20))",
            "INSERT INTO it_ve_src.w VALUES (1, 'Äpfel'), (2, 'ß'), (3, 'plain')",
            "CREATE TABLE it_ve_src.k (name varchar(20) PRIMARY KEY, v int)",
            "INSERT INTO it_ve_src.k SELECT CONCAT('Ä', seq), seq FROM it_ve_src.seq_1_to_1200"});
  FreshDatabase(dst, "it_ve_dst", "LATIN1");
  std::string plan = OneSchemaPlan("latin", src, "", dst, "it_ve_dst", "it_ve_src");
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto ld = Admin(dst, "it_ve_dst");
  ASSERT_NE(ld, nullptr);
  for (const char* mode : {"checksum", "rows", "count"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(plan, 0, {"--mode", mode});
    EXPECT_EQ(report["equal"], true) << report.dump(2);
    EXPECT_EQ((*Table(report, ".k"))["source_rows"], 1200);
  }
  // A changed letter in a value, and a key that lost its umlaut: each found with its key.
  Exec(*ld, {"UPDATE it_ve_src.w SET s = 'Äpfel' || chr(233) WHERE id = 1",
             "UPDATE it_ve_src.k SET name = 'A17' WHERE name = 'Ä17'"});
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(plan, 1, {"--mode", mode});
    const nlohmann::json& w = *Table(report, ".w");
    ASSERT_EQ(w["listed"].size(), 1u) << w.dump(2);
    EXPECT_EQ(w["listed"][0]["key"]["id"], "1");
    EXPECT_EQ(w["listed"][0]["columns"][0]["destination"], "Äpfelé");
    const nlohmann::json& k = *Table(report, ".k");
    ASSERT_EQ(k["listed"].size(), 2u) << k.dump(2);
    std::set<std::string> keys;
    for (const auto& l : k["listed"]) keys.insert(l["key"]["name"].get<std::string>() + " " + l["kind"].get<std::string>());
    EXPECT_EQ(keys, (std::set<std::string>{"A17 extra", "Ä17 missing"})) << k.dump(2);
  }

  FreshDatabase(Postgres(), "it_ve_psrc", "LATIN1");
  FreshDatabase(PostgresPlain(), "it_ve_pdst", "LATIN1");
  auto p = Admin(Postgres(), "it_ve_psrc");
  ASSERT_NE(p, nullptr);
  Exec(*p, {"CREATE SCHEMA lat", "CREATE TABLE lat.w (id int PRIMARY KEY, s varchar(20), t text)",
            "INSERT INTO lat.w SELECT g, 'Äpfel ' || g, repeat('ßé', g % 5) FROM generate_series(1, 50) g",
            "CREATE TABLE lat.k (name text PRIMARY KEY, v int)",
            "INSERT INTO lat.k SELECT 'Ä' || g, g FROM generate_series(1, 1200) g"});
  std::string pg_plan = OneSchemaPlan("latin_pg", Postgres(), "it_ve_psrc", PostgresPlain(), "it_ve_pdst", "lat");
  r = RunFerry({"apply", pg_plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  // Into UTF8 instead: the source's LATIN1 bytes are not the destination's, and yet equal.
  FreshDatabase(PostgresPlain(), "it_ve_pdst8");
  std::string to_utf8 = OneSchemaPlan("latin_to_utf8", Postgres(), "it_ve_psrc", PostgresPlain(), "it_ve_pdst8", "lat");
  r = RunFerry({"apply", to_utf8});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto d8 = Admin(PostgresPlain(), "it_ve_pdst8");
  ASSERT_NE(d8, nullptr);
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(to_utf8, 0, {"--mode", mode});
    EXPECT_EQ(report["equal"], true) << report.dump(2);
    EXPECT_EQ((*Table(report, ".k"))["source_rows"], 1200);
  }
  Exec(*d8, {"UPDATE lat.k SET v = 0 WHERE name = 'Ä900'"});
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(to_utf8, 1, {"--mode", mode});
    const nlohmann::json& k = *Table(report, ".k");
    ASSERT_EQ(k["listed"].size(), 1u) << k.dump(2);
    EXPECT_EQ(k["listed"][0]["key"]["name"], "Ä900");
  }
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(pg_plan, 0, {"--mode", mode});
    EXPECT_EQ(report["equal"], true) << report.dump(2);
    EXPECT_EQ((*Table(report, ".w"))["source_rows"], 50);
    EXPECT_EQ((*Table(report, ".k"))["source_rows"], 1200);
  }
  auto d = Admin(PostgresPlain(), "it_ve_pdst");
  ASSERT_NE(d, nullptr);
  Exec(*d, {"UPDATE lat.w SET s = 'Äpfel 7' || chr(233) WHERE id = 7"});
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(pg_plan, 1, {"--mode", mode});
    const nlohmann::json& t = *Table(report, ".w");
    ASSERT_EQ(t["listed"].size(), 1u) << t.dump(2);
    EXPECT_EQ(t["listed"][0]["key"]["id"], "7");
    EXPECT_EQ(t["listed"][0]["columns"][0]["destination"], "Äpfel 7é");
  }
}

// Between MySQL and PostgreSQL, Ferry hashes the MySQL side's rows as PostgreSQL's
// hashtextextended does: the server's own answers for texts of every length up to 300 bytes,
// ASCII and multibyte, with and without a seed.
TEST(Verify, FerryHashesTextAsPostgresDoes) {
  auto c = Admin(Postgres());
  ASSERT_NE(c, nullptr);
  auto q = c->Query(
      "SELECT s, hashtextextended(s, 0)::text, hashtextextended(s, 7)::text FROM (SELECT g, "
      "left(repeat(md5(g::text) || '|Äß€🚢 ', 12), g % 150) AS s FROM generate_series(0, 1999) g) t");
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->rows.size(), 2000u);
  size_t multibyte = 0;
  for (const auto& r : q->rows) {
    const std::string& s = *r[0];
    multibyte += s.size() != static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
    ASSERT_EQ(std::to_string(static_cast<int64_t>(runtime::PgHashTextExtended(s))), *r[1]) << s;
    ASSERT_EQ(std::to_string(static_cast<int64_t>(runtime::PgHashTextExtended(s, 7))), *r[2]) << s;
  }
  EXPECT_GT(multibyte, 1000u);  // the texts did reach past ASCII
}

// A row Ferry hashes (a MySQL side beside PostgreSQL) is hashed column by column as
// ColumnsHashSql has PostgreSQL do it: NULLs, empty texts, multibyte and long values, one
// column and several; integers (booleans as 0/1) and doubles as numbers, from the text a side
// Ferry hashes reads, at the edges of their ranges.
TEST(Verify, FerryHashesRowsColumnByColumnAsPostgresDoes) {
  auto c = Admin(Postgres());
  ASSERT_NE(c, nullptr);
  using runtime::HashAs;
  const std::string rows =
      "(SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE left(repeat(md5(g::text) || 'Äß€🚢', 9), g % 90) END AS a, "
      "CASE WHEN g % 7 = 0 THEN NULL WHEN g % 3 = 0 THEN '' ELSE g::text END AS b, "
      "CASE WHEN g % 11 = 0 THEN NULL ELSE repeat('x', g % 30) END AS c, "
      "CASE WHEN g % 13 = 0 THEN NULL ELSE (ARRAY[0, -1, 1, 4294967297, -4294967297, 9223372036854775807, "
      "'-9223372036854775808', 2147483648, g * 7919 - 3000000]::bigint[])[1 + g % 9] END AS n, "
      "CASE WHEN g % 17 = 0 THEN NULL ELSE g % 2 = 0 END AS t, "
      "CASE WHEN g % 19 = 0 THEN NULL ELSE (ARRAY[0, '-0', 1.5, 5e-324, 1.7976931348623157e308, 1/3.0, -1e22, "
      "(g - 500) * 1e-7])[1 + g % 8]::float8 END AS d FROM generate_series(0, 999) g) t";
  const std::vector<runtime::HashedColumn> all = {
      {"a", HashAs::kText}, {"b", HashAs::kText}, {"c", HashAs::kText},
      {"n", HashAs::kInteger}, {"t::int", HashAs::kInteger}, {"d", HashAs::kDouble}};
  // The texts Ferry reads of the same columns, as a MySQL side sends them.
  auto q = c->Query(fmt::format(
      "SELECT a, b, c, n::text, t::int::text, CASE WHEN d = 0 THEN '0' ELSE d::text END, ({})::text, ({})::text, "
      "({})::text FROM {} ORDER BY g",
      runtime::ColumnsHashSql(all), runtime::ColumnsHashSql({{"b", HashAs::kText}}),
      runtime::ColumnsHashSql({{"d", HashAs::kDouble}, {"n", HashAs::kInteger}}), rows));
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->rows.size(), 1000u);
  auto value = [](const std::optional<std::string>& v) {
    return v ? std::optional<std::string_view>(*v) : std::nullopt;
  };
  std::set<std::string> distinct;
  size_t zeros = 0, extremes = 0;
  for (const auto& r : q->rows) {
    runtime::ColumnsHash h;
    for (size_t i = 0; i < all.size(); ++i) h.Add(all[i].as, value(r[i]));
    ASSERT_EQ(std::to_string(static_cast<int64_t>(h.Take())), *r[6])
        << r[0].value_or("NULL") << "|" << r[1].value_or("NULL") << "|" << r[3].value_or("NULL") << "|"
        << r[5].value_or("NULL");
    h.Add(value(r[1]));
    ASSERT_EQ(std::to_string(static_cast<int64_t>(h.Take())), *r[7]) << r[1].value_or("NULL");
    h.Add(HashAs::kDouble, value(r[5]));
    h.Add(HashAs::kInteger, value(r[3]));
    ASSERT_EQ(std::to_string(static_cast<int64_t>(h.Take())), *r[8]) << r[5].value_or("NULL") << "|" << r[3].value_or("NULL");
    distinct.insert(*r[6]);
    zeros += r[5] == "0";
    extremes += r[3] == "9223372036854775807" || r[3] == "-9223372036854775808";
  }
  EXPECT_GT(zeros, 50u);  // 0 and -0 were reached, which hash as their position
  EXPECT_GT(extremes, 0u);  // and the ends of bigint's range
  std::set<std::vector<std::optional<std::string>>> rows_seen;
  for (const auto& r : q->rows) rows_seen.insert({r[0], r[1], r[2], r[3], r[4], r[5]});
  EXPECT_EQ(distinct.size(), rows_seen.size());  // rows that differ hash differently
  EXPECT_GT(rows_seen.size(), 900u);
  // NULL and the empty text are different values, and NULL and 0 too; 0 and 4294967297, whose
  // hashint8extended(value, seed) would be alike, are not.
  auto n = c->Query(fmt::format(
      "SELECT ({}) <> ({}), ({}) <> ({}), ({}) <> ({}), ({}) <> ({})", runtime::ColumnsHashSql({{"NULL::text", HashAs::kText}}),
      runtime::ColumnsHashSql({{"''", HashAs::kText}}), runtime::ColumnsHashSql({{"NULL::int", HashAs::kInteger}}),
      runtime::ColumnsHashSql({{"0", HashAs::kInteger}}), runtime::ColumnsHashSql({{"NULL::float8", HashAs::kDouble}}),
      runtime::ColumnsHashSql({{"0", HashAs::kDouble}}), runtime::ColumnsHashSql({{"0", HashAs::kInteger}}),
      runtime::ColumnsHashSql({{"4294967297", HashAs::kInteger}})));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->rows[0], (runtime::Row{"t", "t", "t", "t"}));
  // A zero double hashes as its seed: seeded with their bare positions, zeros in columns 2 to 5
  // would XOR to 0, as NULLs do, and a NULL loaded as 0 would go unseen.
  std::vector<runtime::HashedColumn> nulls = {{"1", HashAs::kInteger}}, zeroes = nulls;
  for (int i = 0; i < 4; ++i) {
    nulls.push_back({"NULL::float8", HashAs::kDouble});
    zeroes.push_back({"'-0'::float8", HashAs::kDouble});
  }
  auto z = c->Query(fmt::format("SELECT ({})::text, ({})::text", runtime::ColumnsHashSql(nulls), runtime::ColumnsHashSql(zeroes)));
  ASSERT_TRUE(z.ok()) << z.status().message();
  EXPECT_NE(z->rows[0][0], z->rows[0][1]);
  runtime::ColumnsHash h;
  h.AddInteger(1);
  for (int i = 0; i < 4; ++i) h.Add(HashAs::kDouble, std::nullopt);
  EXPECT_EQ(std::to_string(static_cast<int64_t>(h.Take())), z->rows[0][0]);
  h.AddInteger(1);
  for (int i = 0; i < 4; ++i) h.AddDouble(-0.0);
  EXPECT_EQ(std::to_string(static_cast<int64_t>(h.Take())), z->rows[0][1]);
}

// Ferry prints MySQL's doubles as PostgreSQL prints the same double (float8out's shortest
// digits, plain or d.ddde+XX), which PostgreSQL's side of verify reads as it is: the server's
// own text for doubles of every magnitude, subnormals and the edges where the form changes.
TEST(Verify, FerryPrintsDoublesAsPostgresDoes) {
  auto c = Admin(Postgres());
  ASSERT_NE(c, nullptr);
  auto q = c->Query(
      "SELECT x::text FROM (SELECT (random() * 2 - 1) * 10::float8 ^ (g % 616 - 308) AS x FROM generate_series(0, 4999) g "
      // Large doubles, where a decimal of 17 digits or fewer can lie exactly halfway between two.
      "UNION ALL SELECT round(random() * 10::float8 ^ (15 + g % 8)) FROM generate_series(0, 19999) g "
      "UNION ALL SELECT unnest(ARRAY[1e-4, 9.999999999999999e-5, 0.00010000000000000002, 1e15, 999999999999999, "
      "999999999999999.9, 1e15 + 2, 9007199254740993, 123456789012345678, 1e100, 1.5e-100, 5e-324, "
      "2.2250738585072014e-308, 1.7976931348623157e308, -1e22, 100, 0.1, 1/3.0, -2/3.0]::float8[])) t");
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->rows.size(), 25019u);
  std::string buf;
  size_t halfway = 0;  // where PostgreSQL's digits are not std::to_chars' shortest
  for (const auto& r : q->rows) {
    const std::string& pg = *r[0];
    if (pg == "0" || pg == "-0") continue;  // 10^-308 underflows for some
    double d = std::strtod(pg.c_str(), nullptr);  // PostgreSQL's shortest text reads back as the same double
    // MySQL prints the double its own way (%.17g here); Ferry reads it and prints PostgreSQL's text.
    std::string mysql = fmt::format("{:.17g}", d);
    auto v = runtime::FinishValue(runtime::Finish::kFloat, mysql, &buf);
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(std::string(*v), pg) << mysql;
    char shortest[32];
    auto end = std::to_chars(shortest, shortest + sizeof shortest, std::fabs(d), std::chars_format::scientific).ptr;
    std::string digits(shortest, static_cast<size_t>(std::find(shortest, end, 'e') - shortest));
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    halfway += pg.find(digits) == std::string::npos && pg.find(digits.substr(0, 1) + "." + digits.substr(1)) == std::string::npos;
  }
  EXPECT_GT(halfway, 0u);  // the test reached the doubles where the two differ
}

// MySQL's zero dates, which the type map's zero_dates = null made NULL in PostgreSQL, are
// equal to those NULLs; a date written where the source has a zero date is a difference.
TEST(Verify, ZeroDatesTheLoadMadeNullAreEqual) {
  Server src = Mariadb(), dst = Postgres();
  auto c = Admin(src);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"DROP DATABASE IF EXISTS it_vz_src", "CREATE DATABASE it_vz_src",
            "CREATE TABLE it_vz_src.z (id int PRIMARY KEY, d date, dt datetime(3))", "SET SESSION sql_mode = ''",
            "INSERT INTO it_vz_src.z VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), "
            "(2, '2024-00-10', '2024-05-00 10:00:00.500'), (3, '2024-01-01', '2024-01-01 10:00:00.000'), "
            "(4, NULL, NULL), (5, '2024-02-29', '2024-02-29 23:59:59.999')"});
  FreshDatabase(dst, "it_vz_dst");
  std::string plan = OneSchemaPlan("zero_dates", src, "", dst, "it_vz_dst", "it_vz_src");
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(plan, 0, {"--mode", mode});
    EXPECT_EQ(report["equal"], true) << report.dump(2);
    EXPECT_EQ((*Table(report, ".z"))["source_rows"], 5);
  }
  auto d = Admin(dst, "it_vz_dst");
  ASSERT_NE(d, nullptr);
  Exec(*d, {"UPDATE it_vz_src.z SET d = '2024-01-01' WHERE id = 1"});
  for (const char* mode : {"checksum", "rows"}) {
    SCOPED_TRACE(mode);
    auto report = Verify(plan, 1, {"--mode", mode});
    const nlohmann::json& t = *Table(report, ".z");
    ASSERT_EQ(t["listed"].size(), 1u) << t.dump(2);
    EXPECT_EQ(t["listed"][0]["key"]["id"], "1");
    EXPECT_EQ(t["listed"][0]["columns"][0]["column"], "d");
    EXPECT_TRUE(t["listed"][0]["columns"][0]["source"].is_null()) << t.dump(2);
  }
}

// A PostgreSQL table of many chunks is read by one sequential scan that counts and sums every
// chunk (not one index range per chunk, which reads through the whole buffer pool): the
// server's own statistics count one sequential scan of the table and no index scan. Differences
// in several chunks are still each found by key, the differing chunks then read by key range.
// `key`: the MySQL type of the key; bigint unsigned becomes numeric(20) in PostgreSQL.
void ReadByOneScan(const std::string& key, const std::string& db) {
  Server src = Mariadb(), dst = Postgres();
  auto c = Admin(src);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db,
            "CREATE TABLE " + db + ".t (id " + key + " PRIMARY KEY, v varchar(20), d double)",
            "INSERT INTO " + db + ".t SELECT seq, CONCAT('v', seq), seq / 3e0 FROM " + db + ".seq_1_to_500",
            "ANALYZE TABLE " + db + ".t"});
  FreshDatabase(dst, db + "_dst");
  std::string plan = OneSchemaPlan(db, src, "", dst, db + "_dst", db);
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto d = Admin(dst, db + "_dst");
  ASSERT_NE(d, nullptr);
  // Each reading is from a new session, which sees what ended backends flushed.
  auto scans = [&]() -> std::pair<int64_t, int64_t> {
    auto s = Admin(dst, db + "_dst");
    auto q = s->Query("SELECT seq_scan, COALESCE(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 't'");
    EXPECT_TRUE(q.ok() && q->rows.size() == 1u);
    if (!q.ok() || q->rows.empty()) return {-1, -1};
    return {std::stoll(*q->rows[0][0]), std::stoll(*q->rows[0][1])};
  };
  auto before = scans();
  auto report = Verify(plan, 0, {"--mode", "checksum"});  // chunks of about 40 rows
  const nlohmann::json& t = *Table(report, ".t");
  EXPECT_EQ(t["equal"], true) << t.dump(2);
  EXPECT_GE(t["chunks"], 10) << t.dump(2);
  // The verify's backends write their statistics as they exit, after the client has gone.
  auto after = scans();
  for (int i = 0; i < 50 && after == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = scans();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  after = scans();
  EXPECT_EQ(after.first - before.first, 1);
  EXPECT_EQ(after.second - before.second, 0);

  Exec(*d, {"UPDATE " + db + ".t SET v = 'changed' WHERE id = 3", "DELETE FROM " + db + ".t WHERE id = 250",
            "INSERT INTO " + db + ".t VALUES (501, 'extra', 0)", "UPDATE " + db + ".t SET d = 1e9 WHERE id = 499"});
  report = Verify(plan, 1, {"--mode", "checksum"});
  const nlohmann::json& u = *Table(report, ".t");
  std::map<std::string, std::string> found;
  for (const auto& x : u["listed"]) found[x["key"]["id"].get<std::string>()] = x["kind"];
  EXPECT_EQ(found, (std::map<std::string, std::string>{{"3", "differs"}, {"250", "missing"}, {"501", "extra"}, {"499", "differs"}}))
      << u.dump(2);
  EXPECT_GE(u["chunks_differ"], 3) << u.dump(2);  // 499 and 501 may share the last chunk
}

TEST(Verify, APostgresTableIsReadByOneScanForAllItsChunks) { ReadByOneScan("int", "it_vscan"); }

// The same for a key of MySQL's bigint unsigned, a numeric(20) in PostgreSQL.
TEST(Verify, APostgresTableWithANumericKeyIsReadByOneScan) { ReadByOneScan("bigint unsigned", "it_vscan_u"); }

// Ctrl-C does not wait for a table's scan under way (one reads up to a GiB): the scan is
// cancelled, the verify stops (exit 3), and the next one compares the chunks it left. The test
// holds a lock the scan waits for and releases it only after ferry has exited, so that a scan
// that is not cancelled keeps ferry from ever exiting.
TEST(Verify, SigintCancelsATableScanUnderWay) {
  Server src = Mariadb(), dst = Postgres();
  auto c = Admin(src);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"DROP DATABASE IF EXISTS it_vstop_src", "CREATE DATABASE it_vstop_src",
            "CREATE TABLE it_vstop_src.t (id int PRIMARY KEY, v varchar(20))",
            "INSERT INTO it_vstop_src.t SELECT seq, CONCAT('v', seq) FROM it_vstop_src.seq_1_to_2000",
            "ANALYZE TABLE it_vstop_src.t"});
  FreshDatabase(dst, "it_vstop_dst");
  std::string plan = OneSchemaPlan("vstop", src, "", dst, "it_vstop_dst", "it_vstop_src");
  auto applied = RunFerry({"apply", plan});
  ASSERT_EQ(applied.exit, 0) << applied.out << applied.err;
  Verify(plan, 0, {"--mode", "checksum"}, {"FERRY_CHUNK_ROWS=100"});  // leaves the verify's run row
  // The table lock must come after the verify has read the catalog (table sizes lock the table
  // too): the verify is held at its lease, whose row the test locks, until the table is locked.
  auto lease = Admin(dst, "it_vstop_dst"), locker = Admin(dst, "it_vstop_dst"), d = Admin(dst, "it_vstop_dst");
  ASSERT_TRUE(lease && locker && d);
  Exec(*lease, {"BEGIN", "SELECT run_key FROM ferry_meta.runs WHERE migration LIKE '%(verify)' FOR UPDATE"});
  Started ferry{StartFerry({"verify", plan, "--mode", "checksum"}, {"FERRY_CHUNK_ROWS=100"})};
  ASSERT_TRUE(BecomesNonZero(*d, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%lease_owner%FOR UPDATE%' "
                                 "AND wait_event_type = 'Lock'"))
      << "the verify did not wait for its lease: " << StartedErr();
  Exec(*locker, {"BEGIN", "LOCK TABLE it_vstop_src.t IN ACCESS EXCLUSIVE MODE"});
  Exec(*lease, {"COMMIT"});
  bool waiting = BecomesNonZero(*d, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%width_bucket%' AND "
                                    "wait_event_type = 'Lock'");
  ASSERT_TRUE(waiting) << "no table scan waits for the lock: " << StartedErr();
  int status = 0;
  bool exited = InterruptedExits(ferry, &status);  // an uncancelled scan never ends
  Exec(*locker, {"ROLLBACK"});
  ASSERT_TRUE(exited) << "ferry verify did not stop while its table scan waited";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << StartedErr();
  EXPECT_NE(StartedErr().find("stopped"), std::string::npos) << StartedErr();
  auto report = Verify(plan, 0, {"--mode", "checksum"}, {"FERRY_CHUNK_ROWS=100"});
  EXPECT_EQ(report["resumed"], true) << report.dump(2);
  const nlohmann::json& t = *Table(report, ".t");
  EXPECT_EQ(t["equal"], true) << t.dump(2);
  EXPECT_EQ(t["source_rows"], 2000) << t.dump(2);
}

TEST(Verify, TheVerifyStageOfApplyAndCountWithAFilter) {
  Server src = Mariadb(), dst = Postgres();
  CreateSource(src, "it_vs_src");
  FreshDatabase(dst, "it_vs_dst");
  std::string plan = WritePlan(
      "verify_stage", Endpoint("src", src, "") + Endpoint("dst", dst, "it_vs_dst") +
                          "migration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n"
                          "  verify {\n    mode = checksum\n    after = full\n  }\n"
                          "  objects {\n    schema it_vs_src {\n      table items {\n        where = \"id <= 20\"\n"
                          "      }\n      table \"*\"\n    }\n  }\n}\n");
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=10"});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verify m (checksum, 6 tables): equal"), std::string::npos) << r.out;
  // Only the filtered rows count.
  auto report = Verify(plan, 0, {"--mode", "count"});
  EXPECT_EQ((*Table(report, ".items"))["source_rows"], 20);
  // The stage fails the apply when the data differs.
  auto c = Admin(dst, "it_vs_dst");
  ASSERT_NE(c, nullptr);
  Exec(*c, {"UPDATE it_vs_src.items SET v = 0 WHERE id = 20"});
  auto again = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=10"});
  EXPECT_EQ(again.exit, 1) << again.out << again.err;
  EXPECT_NE(again.out.find("differs  id = '20': v '200' -> '0'"), std::string::npos) << again.out;
  auto status = RunFerry({"status", plan});
  EXPECT_NE(status.out.find("failed"), std::string::npos) << status.out;
  // ferry status shows the last verify: its mode, its result and its chunks.
  EXPECT_NE(status.out.find("verify   checksum: differs ("), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(" chunks compared, 1 differing)"), std::string::npos) << status.out;
  auto json = nlohmann::json::parse(RunFerry({"status", plan, "--format", "json"}).out, nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  const nlohmann::json& v = json["status"][0]["verify"];
  EXPECT_EQ(v["mode"], "checksum") << json.dump(2);
  EXPECT_EQ(v["state"], "differs") << json.dump(2);
  EXPECT_EQ(v["chunks_differing"], 1) << json.dump(2);
  EXPECT_EQ(v["chunks_compared"], v["chunks"]) << json.dump(2);
}

TEST(Verify, AKilledVerifyResumesAndAFinishedOneIsNotReused) {
  Server src = Postgres(), dst = MariadbPlain();
  FreshDatabase(src, "it_vk_src");
  auto s = Admin(src, "it_vk_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE public.t (id int PRIMARY KEY, v text)",
            "INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 6000) g"});
  {
    auto d = Admin(dst);
    ASSERT_NE(d, nullptr);
    Exec(*d, {"DROP DATABASE IF EXISTS it_vk_dst"});
  }
  // 6,000 rows read at 1,500 a second: about 4 seconds of verify.
  std::string plan = WritePlan("verify_kill", Endpoint("src", src, "it_vk_src") + Endpoint("dst", dst, "") +
                                                  "migration m {\n  from = src\n  to = dst\n  workers = 1\n"
                                                  "  throttle full {\n    rows_per_s = 1500\n  }\n"
                                                  "  objects {\n    schema public -> it_vk_dst\n  }\n}\n");
  auto applied = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=500"});
  ASSERT_EQ(applied.exit, 0) << applied.out << applied.err;
  // Killed once it has compared a chunk (a fixed wait lost the race under the sanitizers on CI):
  // a chunk of this migration's, since tests running beside it write verify chunks of their own
  // into the same ferry_meta; those an earlier run of this test left are deleted first (a new
  // verify deletes them only once it has started).
  auto meta = Admin(dst);
  ASSERT_NE(meta, nullptr);
  Exec(*meta, {"DELETE FROM ferry_meta.verify_chunks WHERE migration LIKE '% into it_vk_dst'"});
  auto compared = [&] {
    auto r = meta->Query(
        "SELECT COUNT(*) FROM ferry_meta.verify_chunks WHERE state <> 'pending' AND migration LIKE '% into it_vk_dst'");
    return r.ok() && !r->rows.empty() && r->rows[0][0] ? std::stoll(*r->rows[0][0]) : -1;
  };
  const long long before = compared();
  pid_t pid = StartFerry({"verify", plan, "--format", "json"}, {"FERRY_CHUNK_ROWS=500"}, ScratchPath("vk.out"),
                         ScratchPath("vk.err"));
  for (int i = 0; i < 600 && compared() <= before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "verify ended before it was killed";
  auto first = Verify(plan, 0, {});
  EXPECT_EQ(first["resumed"], true) << first.dump(2);
  EXPECT_EQ(first["equal"], true);
  EXPECT_EQ(first["tables"][0]["source_rows"], 6000);
  auto second = Verify(plan, 0, {});
  EXPECT_EQ(second["resumed"], false) << "a finished verify was reused";
}

}  // namespace
}  // namespace ferry::testing
