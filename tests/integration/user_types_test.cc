// PostgreSQL's own kinds of types against real servers: arrays, and the enums, domains,
// composite and range types a schema defines. Into PostgreSQL they are created in the
// destination (under a renamed schema), the rows are loaded and verified; into MariaDB an
// enum becomes an ENUM and a domain its base type. A type the plan cannot create, or one
// whose name the destination already uses, stops the run before anything is written. The
// data is compared through each server's own text of the rows, not through Ferry.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

std::string Migration(const std::string& objects, const std::string& extra = "") {
  return "migration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n" + extra + "  objects {\n" + objects +
         "  }\n}\n";
}

// The source: schema `app` with every kind of user-defined type, used by columns, by each
// other (a domain over an enum, a composite of a domain and an enum array) and by defaults;
// schema `other` holds a type that app.v uses.
void CreateSource(const Server& s, const std::string& db) {
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  Exec(*c, {
      "CREATE SCHEMA app",
      "CREATE SCHEMA other",
      "CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy', 'it''s \"odd\"')",
      "COMMENT ON TYPE app.mood IS 'how it feels'",
      "CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0)",
      "CREATE DOMAIN app.moodish AS app.mood NOT NULL DEFAULT 'ok' CHECK (VALUE <> 'sad')",
      "CREATE TYPE app.pair AS (p app.posint, moods app.mood[], note text COLLATE \"C\")",
      "CREATE TYPE app.floatrange AS RANGE (SUBTYPE = float8)",
      "CREATE TYPE other.color AS ENUM ('red', 'green')",
      "CREATE TABLE app.t (id int PRIMARY KEY, m app.mood DEFAULT 'happy', ms app.mood[], d app.moodish, "
      "p app.posint, pr app.pair, fr app.floatrange, ia int[], grid int[][], ta text[], dm app.posint[], "
      "vc varchar(8)[])",
      "INSERT INTO app.t SELECT g, (ARRAY['sad', 'ok', 'happy', 'it''s \"odd\"'])[1 + g % 4]::app.mood, "
      "ARRAY['ok', NULL, 'it''s \"odd\"']::app.mood[], 'happy', g, ROW(g, ARRAY['sad']::app.mood[], 'n' || g)::app.pair, "
      "app.floatrange(g, g + 0.5), ARRAY[g, NULL, -g], ARRAY[[g, 1], [2, 3]], "
      "ARRAY['a b', '\"q\"', NULL, '{x}', 'back\\slash', 'NULL', ''], ARRAY[g, g + 1]::app.posint[], "
      "ARRAY['é', 'x,y'] FROM generate_series(1, 300) g",
      "UPDATE app.t SET ms = '{}', ia = NULL, pr = NULL WHERE id = 7",
      "CREATE TABLE app.v (id int PRIMARY KEY, c other.color)",
      // Keys of a domain and of an enum, cut into chunks by their own order.
      "CREATE TABLE app.k (id app.posint PRIMARY KEY, v text)",
      "INSERT INTO app.k SELECT g, 'v' || g FROM generate_series(1, 400) g",
      "CREATE TABLE app.e (m app.mood, n int, PRIMARY KEY (m, n))",
      "INSERT INTO app.e SELECT l, g FROM unnest(enum_range(NULL::app.mood)) l, generate_series(1, 100) g",
  });
}

// Each row as the server prints it, in the text's order: equal text is equal values.
std::string RowsText(runtime::Connection& c, const std::string& table) {
  return One(c, "SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) || ' ' || count(*) FROM " + table + " r");
}

TEST(PostgresTypes, ArraysAndUserTypesAreCreatedLoadedAndVerifiedUnderARenamedSchema) {
  Server pg = Postgres();
  CreateSource(pg, "it_ut_src");
  FreshDatabase(pg, "it_ut_dst");
  auto src = Admin(pg, "it_ut_src");
  auto dst = Admin(pg, "it_ut_dst");
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dst, nullptr);
  std::string endpoints = Endpoint("src", pg, "it_ut_src") + Endpoint("dst", pg, "it_ut_dst");

  // app.v uses a type of a schema the plan does not move: the plan is refused, nothing written.
  auto refused = RunFerry({"apply", WritePlan("ut_refused", endpoints + Migration("    schema app -> app2\n"))});
  EXPECT_NE(refused.exit, 0);
  EXPECT_NE(refused.out.find("M012"), std::string::npos) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("other.color"), std::string::npos) << refused.out;
  EXPECT_EQ(One(*dst, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app2'"), "0");

  std::string plan = WritePlan(
      "ut", endpoints + Migration("    schema app -> app2 {\n      exclude table v\n      table \"*\"\n    }\n",
                                  "  verify {\n    mode  = rows\n    after = full\n  }\n"));
  auto r = RunFerry({"apply", plan}, {"FERRY_CHUNK_ROWS=64"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_EQ(RowsText(*src, "app.t"), RowsText(*dst, "app2.t"));
  EXPECT_NE(RowsText(*dst, "app2.t").find(" 300"), std::string::npos);
  EXPECT_EQ(RowsText(*src, "app.k"), RowsText(*dst, "app2.k"));
  EXPECT_EQ(RowsText(*src, "app.e"), RowsText(*dst, "app2.e"));
  EXPECT_EQ(One(*dst, "SELECT count(*) > 5 FROM ferry_meta.chunks WHERE src_table = 'app.e'"), "t")
      << "the enum key was not cut into chunks";

  // The types are the source's, in the renamed schema, and they still check their values.
  EXPECT_EQ(One(*dst, "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
                      "WHERE enumtypid = 'app2.mood'::regtype"),
            "sad,ok,happy,it's \"odd\"");
  EXPECT_EQ(One(*dst, "SELECT obj_description('app2.mood'::regtype, 'pg_type')"), "how it feels");
  EXPECT_EQ(One(*dst, "SELECT format_type(typbasetype, typtypmod) FROM pg_type WHERE oid = 'app2.moodish'::regtype"),
            "app2.mood");
  EXPECT_EQ(One(*dst, "SELECT format_type(rngsubtype, NULL) FROM pg_range WHERE rngtypid = 'app2.floatrange'::regtype"),
            "double precision");
  EXPECT_EQ(One(*dst, "SELECT format_type(atttypid, atttypmod) || ' ' || attcollation::regcollation::text "
                      "FROM pg_attribute WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'app2.pair'::regtype) "
                      "AND attname = 'note'"),
            "text \"C\"");
  EXPECT_EQ(One(*dst, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'"), "0")
      << "a default or a domain's CHECK still names the source schema";
  EXPECT_NE(One(*dst, "INSERT INTO app2.t (id, p) VALUES (1000, 0) RETURNING id").find("(error)"), std::string::npos)
      << "the domain's CHECK was not carried over";
  EXPECT_NE(One(*dst, "INSERT INTO app2.t (id, d) VALUES (1001, 'sad') RETURNING id").find("(error)"), std::string::npos)
      << "the domain over the enum lost its CHECK";
  EXPECT_EQ(One(*dst, "INSERT INTO app2.t (id) VALUES (1002) RETURNING m::text || ' ' || d::text"), "happy ok");
  Exec(*dst, {"DELETE FROM app2.t WHERE id >= 1000"});

  // A changed array element, enum label and composite field are each found by verify.
  Exec(*dst, {"UPDATE app2.t SET ia[3] = 0 WHERE id = 11", "UPDATE app2.t SET ms = '{sad}' WHERE id = 12",
              "UPDATE app2.t SET pr.note = 'changed' WHERE id = 13"});
  auto v = RunFerry({"verify", plan});
  EXPECT_EQ(v.exit, 1) << v.out << v.err;
  for (const char* key : {"id = '11'", "id = '12'", "id = '13'"}) {
    EXPECT_NE(v.out.find(key), std::string::npos) << key << " not reported:\n" << v.out;
  }
  EXPECT_NE(v.out.find("3 rows differ"), std::string::npos) << v.out;
}

TEST(PostgresTypes, ATypeNameTheDestinationUsesStopsTheRunBeforeAnythingIsWritten) {
  Server pg = Postgres();
  CreateSource(pg, "it_ut2_src");
  FreshDatabase(pg, "it_ut2_dst");
  auto dst = Admin(pg, "it_ut2_dst");
  ASSERT_NE(dst, nullptr);
  Exec(*dst, {"CREATE SCHEMA app", "CREATE TYPE app.posint AS (x int)"});
  std::string plan = WritePlan(
      "ut2", Endpoint("src", pg, "it_ut2_src") + Endpoint("dst", pg, "it_ut2_dst") +
                 Migration("    schema app {\n      exclude table v\n      table \"*\"\n    }\n"));
  auto r = RunFerry({"apply", plan});
  EXPECT_NE(r.exit, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("P137"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("type app.posint"), std::string::npos) << r.out;
  EXPECT_EQ(One(*dst, "SELECT count(*) FROM pg_type WHERE typnamespace = 'app'::regnamespace AND typname = 'mood'"), "0")
      << "a failed precheck wrote to the destination";
}

TEST(PostgresTypes, EnumsAndDomainsBecomeTheirMysqlCounterparts) {
  Server pg = Postgres(), my = MariadbPlain();
  FreshDatabase(pg, "it_ut3_src");
  auto src = Admin(pg, "it_ut3_src");
  auto dst = Admin(my);
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dst, nullptr);
  Exec(*dst, {"DROP DATABASE IF EXISTS it_ut3", "SET SESSION group_concat_max_len = 1000000"});
  // The enum lives in a schema the plan does not move: into MariaDB nothing is created from it.
  Exec(*src, {"CREATE SCHEMA kinds", "CREATE TYPE kinds.mood AS ENUM ('sad', 'ok', 'it''s')",
              "CREATE SCHEMA it_ut3", "CREATE DOMAIN it_ut3.flag AS boolean",
              "CREATE DOMAIN it_ut3.amount AS numeric(10,2) CHECK (VALUE >= 0)",
              "CREATE DOMAIN it_ut3.mood2 AS kinds.mood", "CREATE TYPE it_ut3.pair AS (a int, b text)",
              "CREATE TABLE it_ut3.x (id int PRIMARY KEY, m kinds.mood, f it_ut3.flag, a it_ut3.amount, "
              "md it_ut3.mood2, pr it_ut3.pair)",
              "INSERT INTO it_ut3.x SELECT g, (ARRAY['sad', 'ok', 'it''s'])[1 + g % 3]::kinds.mood, g % 2 = 0, "
              "g * 1.25, 'ok', ROW(g, 'b' || g)::it_ut3.pair FROM generate_series(1, 90) g"});
  std::string endpoints = Endpoint("src", pg, "it_ut3_src") + Endpoint("dst", my, "");
  std::string verify = "  verify {\n    mode  = rows\n    after = full\n  }\n";

  // A composite type has no MySQL counterpart: refused with the column's name and a way out.
  auto refused = RunFerry({"apply", WritePlan("ut3_refused", endpoints + Migration("    schema it_ut3\n"))});
  EXPECT_NE(refused.exit, 0);
  EXPECT_NE(refused.out.find("column pr has the PostgreSQL composite type it_ut3.pair"), std::string::npos)
      << refused.out << refused.err;
  EXPECT_EQ(One(*dst, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'it_ut3'"), "0");

  std::string plan = WritePlan(
      "ut3", endpoints + Migration("    schema it_ut3 {\n      table x {\n        column pr { type = \"varchar(40)\" "
                                   "}\n      }\n    }\n",
                                   verify));
  auto r = RunFerry({"apply", plan});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_EQ(One(*dst, "SELECT GROUP_CONCAT(CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE) ORDER BY ORDINAL_POSITION SEPARATOR "
                      "'; ') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'it_ut3' AND TABLE_NAME = 'x'"),
            "id int(11); m enum('sad','ok','it''s'); f tinyint(1); a decimal(10,2); md enum('sad','ok','it''s'); "
            "pr varchar(40)");
  EXPECT_EQ(One(*src, "SELECT string_agg(concat_ws(',', id, m, f::int, a, md, pr), '|' ORDER BY id) FROM it_ut3.x"),
            One(*dst, "SELECT GROUP_CONCAT(CONCAT_WS(',', id, m, f, a, md, pr) ORDER BY id SEPARATOR '|') "
                      "FROM it_ut3.x"));
  Exec(*dst, {"UPDATE it_ut3.x SET f = 1 - f WHERE id = 5", "UPDATE it_ut3.x SET m = 'sad' WHERE id = 7"});
  auto v = RunFerry({"verify", plan});
  EXPECT_EQ(v.exit, 1) << v.out << v.err;
  EXPECT_NE(v.out.find("id = '5': f"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("id = '7': m"), std::string::npos) << v.out;
}

}  // namespace
}  // namespace ferry::testing
