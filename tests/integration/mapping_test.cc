// Selection and mapping against a live catalog: renames of schema, table and column, glob
// renames, excludes, capitalization, type overrides, filters — and a type no rule maps,
// which is an error naming the column and the type.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

const nlohmann::json* FindTable(const nlohmann::json& dry, const std::string& source) {
  for (const auto& t : dry["dry_runs"][0]["tables"]) {
    if (t["source"] == source) return &t;
  }
  return nullptr;
}

const nlohmann::json* FindColumn(const nlohmann::json& table, const std::string& source) {
  for (const auto& c : table["columns"]) {
    if (c["source"] == source) return &c;
  }
  return nullptr;
}

TEST(Mapping, RulesApplyToTheLiveCatalog) {
  Server src = Mariadb(), dst = Postgres();
  FreshDatabase(src, "it_map_src");
  auto s = Admin(src, "it_map_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE Orders (Id int PRIMARY KEY, CustId int, Secret varchar(10), Total decimal(10,2))",
            "CREATE TABLE audit_2023 (id int PRIMARY KEY)", "CREATE TABLE audit_2024 (id int PRIMARY KEY)",
            "CREATE TABLE tmp_x (id int PRIMARY KEY)", "CREATE TABLE Customers (Id int PRIMARY KEY, Name text)"});
  FreshDatabase(dst, "it_map_dst");
  std::string plan = WritePlan(
      "mapping", Endpoint("src", src, "") + Endpoint("dst", dst, "it_map_dst") +
                     "migration m {\n  from = src\n  to = dst\n  stages = [schema]\n  capitalization = lower\n"
                     "  objects {\n    schema it_map_src -> it_map_dst {\n"
                     "      table Orders -> orders_2024 {\n        where = \"Id > 0\"\n"
                     "        column CustId -> customer_id\n        exclude column Secret\n"
                     "        column Total {\n          type = \"numeric(14,2)\"\n        }\n      }\n"
                     "      table \"audit_*\" -> \"archive_*\"\n      exclude table \"tmp_*\"\n      table \"*\"\n"
                     "    }\n  }\n}\n");
  auto r = RunFerry({"plan", plan, "--dry-run", "--format", "json"});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  auto dry = nlohmann::json::parse(r.out);
  const auto* orders = FindTable(dry, "it_map_src.Orders");
  ASSERT_NE(orders, nullptr) << dry.dump(2);
  EXPECT_EQ((*orders)["destination"], "it_map_dst.orders_2024");
  EXPECT_EQ((*orders)["where"], "Id > 0");
  EXPECT_EQ(FindColumn(*orders, "Secret"), nullptr) << "an excluded column is mapped";
  ASSERT_NE(FindColumn(*orders, "CustId"), nullptr);
  EXPECT_EQ((*FindColumn(*orders, "CustId"))["destination"], "customer_id");
  EXPECT_EQ((*FindColumn(*orders, "Id"))["destination"], "id") << "capitalization = lower";
  const auto& total = *FindColumn(*orders, "Total");
  EXPECT_EQ(total["type"], "numeric(14,2)");
  EXPECT_NE(total["rule"].get<std::string>().find("type override at " + plan + ":"), std::string::npos) << total;
  ASSERT_NE(FindTable(dry, "it_map_src.audit_2023"), nullptr);
  EXPECT_EQ((*FindTable(dry, "it_map_src.audit_2023"))["destination"], "it_map_dst.archive_2023");
  EXPECT_EQ((*FindTable(dry, "it_map_src.audit_2024"))["destination"], "it_map_dst.archive_2024");
  EXPECT_EQ(FindTable(dry, "it_map_src.tmp_x"), nullptr) << "an excluded table is selected";
  ASSERT_NE(FindTable(dry, "it_map_src.Customers"), nullptr);
  EXPECT_EQ((*FindTable(dry, "it_map_src.Customers"))["destination"], "it_map_dst.customers");
  // The DAG has one chain per table: 4 tables × (schema.pre, schema.post) + precheck.
  EXPECT_EQ(dry["dry_runs"][0]["dag"].size(), 9u) << dry["dry_runs"][0]["dag"].dump(2);

  auto run = RunFerry({"apply", plan});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  auto d = Admin(dst, "it_map_dst");
  ASSERT_NE(d, nullptr);
  auto cols = d->Query(
      "SELECT column_name, data_type, numeric_precision FROM information_schema.columns WHERE table_schema = "
      "'it_map_dst' AND table_name = 'orders_2024' ORDER BY ordinal_position");
  ASSERT_TRUE(cols.ok());
  ASSERT_EQ(cols->rows.size(), 3u);
  EXPECT_EQ(cols->rows[1][0], "customer_id");
  EXPECT_EQ(cols->rows[2][0], "total");
  EXPECT_EQ(cols->rows[2][2], "14");
}

TEST(Mapping, AnUnmappedTypeOrAMissingTableIsAnErrorAndNothingIsWritten) {
  Server src = Postgres(), dst = MariadbPlain();
  FreshDatabase(src, "it_map_bad");
  auto s = Admin(src, "it_map_bad");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE public.t (id int PRIMARY KEY, labels text[], spot point)"});
  auto d = Admin(dst);
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_map_bad"});
  std::string plan = WritePlan("unmapped", Endpoint("src", src, "it_map_bad") + Endpoint("dst", dst, "") +
                                               "migration m {\n  from = src\n  to = dst\n  stages = [schema]\n"
                                               "  objects {\n    schema public -> it_map_bad {\n      table t\n"
                                               "      table missing_one\n    }\n  }\n}\n");
  auto r = RunFerry({"plan", plan, "--dry-run"});
  EXPECT_EQ(r.exit, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("error[M010] column public.t.labels: column labels has type `text[]`, which no rule of type "
                       "map postgres_to_mariadb maps"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("column spot has type `point`"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error[M002] table public.missing_one"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("at " + plan + ":"), std::string::npos) << "no plan line: " << r.out;

  auto run = RunFerry({"apply", plan});
  EXPECT_EQ(run.exit, 1) << run.out << run.err;
  auto schemas = d->Query("SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'it_map_bad'");
  ASSERT_TRUE(schemas.ok());
  EXPECT_EQ(schemas->rows[0][0], "0") << "a failed precheck created the schema";
}

}  // namespace
}  // namespace ferry::testing
