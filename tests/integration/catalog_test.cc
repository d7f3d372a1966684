// The catalog readers against real servers: every detail the model promises (catalog.h),
// for each engine.
#include <gtest/gtest.h>

#include "runtime/catalog.h"
#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

const runtime::Column& Col(const runtime::Table& t, const char* name) {
  static const runtime::Column missing = [] {
    runtime::Column m;
    m.name = "<missing>";
    return m;
  }();
  const runtime::Column* c = t.FindColumn(name);
  EXPECT_NE(c, nullptr) << name;
  return c != nullptr ? *c : missing;
}

const runtime::Index* Idx(const runtime::Table& t, const std::string& name) {
  for (const auto& i : t.indexes) {
    if (i.name == name) return &i;
  }
  ADD_FAILURE() << "no index " << name << " on " << t.name;
  return nullptr;
}

TEST(Catalog, MariadbReadsEveryDetail) {
  Server s = Mariadb();
  FreshDatabase(s, "it_cat_m");
  auto c = Admin(s, "it_cat_m");
  ASSERT_NE(c, nullptr);
  Exec(*c, {
      "CREATE TABLE p (id int unsigned NOT NULL AUTO_INCREMENT, code char(4) NOT NULL, PRIMARY KEY (id), "
      "UNIQUE KEY uq (code)) COMMENT 'parent table'",
      "CREATE TABLE t (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, p_id int unsigned,"
      " price decimal(10,3) NOT NULL DEFAULT 0.000, name varchar(40) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT 'n''a',"
      " doc json, created datetime(6) DEFAULT current_timestamp(6), twice int AS (p_id * 2) STORED,"
      " body text COMMENT 'the body', KEY idx_p (p_id), KEY idx_name (name(8), price DESC), FULLTEXT KEY ft (body),"
      " CONSTRAINT fk_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE, CONSTRAINT pos CHECK (price >= 0))",
      "CREATE VIEW v AS SELECT id, price FROM t WHERE price > 0 WITH CASCADED CHECK OPTION",
      "CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW SET NEW.price = ABS(NEW.price)",
      "CREATE PROCEDURE proc(IN x int) SELECT x",
      "CREATE FUNCTION fn(x int) RETURNS int DETERMINISTIC RETURN x + 1",
      "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DO DELETE FROM t WHERE price < 0",
  });
  auto cat = runtime::ReadCatalog(*c, {"it_cat_m", "it_cat_does_not_exist"});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  ASSERT_EQ(cat->schemas.size(), 1u);
  const runtime::Schema& sch = cat->schemas[0];
  EXPECT_EQ(sch.charset, "utf8mb4");
  const runtime::Table* t = sch.FindTable("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Col(*t, "id").type, "bigint(20) unsigned");
  EXPECT_TRUE(Col(*t, "id").auto_increment);
  EXPECT_FALSE(Col(*t, "id").nullable);
  EXPECT_EQ(Col(*t, "price").type, "decimal(10,3)");
  EXPECT_EQ(Col(*t, "price").default_expr, "0.000");
  EXPECT_EQ(Col(*t, "name").charset, "latin1");
  EXPECT_EQ(Col(*t, "name").collation, "latin1_bin");
  EXPECT_EQ(Col(*t, "name").default_expr, "'n''a'");
  EXPECT_TRUE(Col(*t, "doc").json_alias);
  EXPECT_EQ(Col(*t, "created").default_expr, "current_timestamp(6)");
  EXPECT_EQ(Col(*t, "twice").generated, "`p_id` * 2");
  EXPECT_TRUE(Col(*t, "twice").generated_stored);
  EXPECT_EQ(Col(*t, "body").comment, "the body");
  ASSERT_NE(t->PrimaryKey(), nullptr);
  EXPECT_EQ(t->PrimaryKey()->columns, std::vector<std::string>{"id"});
  if (const auto* i = Idx(*t, "idx_name")) {
    EXPECT_EQ(i->columns, (std::vector<std::string>{"name", "price"}));
    EXPECT_EQ(i->prefix, (std::vector<int>{8, 0}));
    EXPECT_EQ(i->descending, (std::vector<bool>{false, true}));
  }
  if (const auto* i = Idx(*t, "ft")) {
    EXPECT_EQ(i->method, "fulltext");
  }
  ASSERT_EQ(t->foreign_keys.size(), 1u);
  EXPECT_EQ(t->foreign_keys[0].ref_table, "p");
  EXPECT_EQ(t->foreign_keys[0].on_delete, "CASCADE");
  ASSERT_EQ(t->checks.size(), 1u) << "the JSON check of `doc` must not be listed";
  EXPECT_EQ(t->checks[0].name, "pos");
  const runtime::Table* p = sch.FindTable("p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->comment, "parent table");
  if (const auto* i = Idx(*p, "uq")) {
    EXPECT_TRUE(i->unique);
  }
  ASSERT_NE(sch.FindView("v"), nullptr);
  EXPECT_EQ(sch.FindView("v")->check_option, "CASCADED");
  ASSERT_EQ(sch.triggers.size(), 1u);
  EXPECT_EQ(sch.triggers[0].timing, "BEFORE");
  EXPECT_EQ(sch.triggers[0].events, "UPDATE");
  EXPECT_EQ(sch.triggers[0].table, "t");
  ASSERT_EQ(sch.routines.size(), 2u);
  for (const auto& r : sch.routines) EXPECT_EQ(r.definition.find("DEFINER"), std::string::npos) << r.definition;
  ASSERT_EQ(sch.events.size(), 1u);
  EXPECT_NE(sch.events[0].definition.find("EVERY 1 DAY"), std::string::npos);
}

TEST(Catalog, PostgresReadsEveryDetail) {
  Server s = Postgres();
  FreshDatabase(s, "it_cat_p");
  auto c = Admin(s, "it_cat_p");
  ASSERT_NE(c, nullptr);
  Exec(*c, {
      "CREATE SCHEMA app",
      "CREATE TABLE app.p (id serial PRIMARY KEY, code char(4) NOT NULL UNIQUE)",
      "COMMENT ON TABLE app.p IS 'parent table'",
      "CREATE TABLE app.t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, p_id int REFERENCES app.p (id) ON DELETE "
      "CASCADE, price numeric(10,3) NOT NULL DEFAULT 0, name varchar(40) COLLATE \"C\" DEFAULT 'n''a', doc jsonb,"
      " created timestamp(6) with time zone DEFAULT now(), twice int GENERATED ALWAYS AS (p_id * 2) STORED, body text,"
      " CONSTRAINT pos CHECK (price >= 0))",
      "COMMENT ON COLUMN app.t.body IS 'the body'",
      "CREATE INDEX idx_name ON app.t (name, price DESC) WHERE price > 1",
      "CREATE INDEX idx_expr ON app.t (lower(name))",
      "CREATE VIEW app.v AS SELECT id, price FROM app.t WHERE price > 0 WITH CASCADED CHECK OPTION",
      "CREATE MATERIALIZED VIEW app.mv AS SELECT count(*) FROM app.t",
      "CREATE FUNCTION app.f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
      "CREATE TRIGGER trg BEFORE UPDATE ON app.t FOR EACH ROW EXECUTE FUNCTION app.f()",
      "CREATE SEQUENCE app.seq START 5 INCREMENT 5",
  });
  auto cat = runtime::ReadCatalog(*c, {"app"});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  ASSERT_EQ(cat->schemas.size(), 1u);
  const runtime::Schema& sch = cat->schemas[0];
  const runtime::Table* t = sch.FindTable("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Col(*t, "id").type, "bigint");
  EXPECT_EQ(Col(*t, "id").identity, "always");
  EXPECT_TRUE(Col(*t, "id").auto_increment);
  EXPECT_EQ(Col(*t, "price").type, "numeric(10,3)");
  EXPECT_FALSE(Col(*t, "price").nullable);
  EXPECT_EQ(Col(*t, "name").type, "character varying(40)");
  EXPECT_EQ(Col(*t, "name").collation, "C");
  EXPECT_EQ(Col(*t, "created").type, "timestamp(6) with time zone");
  EXPECT_EQ(Col(*t, "created").default_expr, "now()");
  EXPECT_EQ(Col(*t, "twice").generated, "(p_id * 2)");
  EXPECT_EQ(Col(*t, "body").comment, "the body");
  const runtime::Table* p = sch.FindTable("p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(Col(*p, "id").identity, "serial");
  EXPECT_FALSE(Col(*p, "id").default_expr.has_value());
  EXPECT_EQ(p->comment, "parent table");
  if (const auto* i = Idx(*t, "idx_name")) {
    EXPECT_EQ(i->predicate, "(price > (1)::numeric)");
    EXPECT_EQ(i->descending, (std::vector<bool>{false, true}));
  }
  if (const auto* i = Idx(*t, "idx_expr")) {
    EXPECT_TRUE(i->has_expression);
  }
  ASSERT_EQ(t->foreign_keys.size(), 1u);
  EXPECT_EQ(t->foreign_keys[0].on_delete, "CASCADE");
  ASSERT_EQ(t->checks.size(), 1u);
  EXPECT_EQ(t->checks[0].expression, "(price >= (0)::numeric)");
  ASSERT_NE(sch.FindView("v"), nullptr);
  EXPECT_EQ(sch.FindView("v")->check_option, "CASCADED");
  ASSERT_NE(sch.FindView("mv"), nullptr);
  EXPECT_TRUE(sch.FindView("mv")->materialized);
  ASSERT_EQ(sch.triggers.size(), 1u);
  EXPECT_EQ(sch.triggers[0].events, "UPDATE");
  ASSERT_EQ(sch.routines.size(), 1u);
  EXPECT_EQ(sch.routines[0].language, "plpgsql");
  bool standalone = false;
  for (const auto& q : sch.sequences) {
    if (q.name == "seq") {
      standalone = true;
      EXPECT_EQ(q.start, 5);
      EXPECT_EQ(q.increment, 5);
      EXPECT_TRUE(q.owned_by_table.empty());
    }
    if (q.name == "p_id_seq") {
      EXPECT_EQ(q.owned_by_table, "p");
    }
  }
  EXPECT_TRUE(standalone);
}

}  // namespace
}  // namespace ferry::testing
