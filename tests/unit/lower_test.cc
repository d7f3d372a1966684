// The DAG of DESIGN.md for each combination of staged migration types.
#include <gtest/gtest.h>

#include "compiler/lower.h"
#include "tests/test_util.h"

namespace ferry {
namespace {

std::string Dag(const std::string& stages, const std::string& extra = "") {
  const std::string text =
      "endpoint a { engine = mysql host = \"h1\" }\n"
      "endpoint b { engine = mysql host = \"h2\" }\n"
      "migration m {\n from = a\n to = b\n stages = " + stages + "\n" + extra +
      " objects {\n  schema s { table t1\n table t2 }\n  schema w\n }\n}\n";
  auto c = CompileText("dag.ferry", text);
  EXPECT_TRUE(c->ok()) << testing::RenderAll(*c);
  std::string out;
  for (const ir::Stage& s : c->plan.migrations.at(0).stages) {
    out += std::to_string(s.id) + ":" + std::string(ir::Name(s.kind));
    if (!s.object.empty()) out += "(" + s.object + ")";
    std::string after;
    for (int a : s.after) after += (after.empty() ? "" : ",") + std::to_string(a);
    if (!after.empty()) out += "<" + after;
    out += " ";
  }
  return out;
}

TEST(Lower, SchemaAndFull) {
  EXPECT_EQ(Dag("[schema, full]"),
            "1:precheck 2:schema.pre(s.t1)<1 3:load(s.t1)<2 4:schema.post(s.t1)<3 "
            "5:schema.pre(s.t2)<1 6:load(s.t2)<5 7:schema.post(s.t2)<6 "
            "8:schema.pre(w.*)<1 9:load(w.*)<8 10:schema.post(w.*)<9 ");
}

TEST(Lower, SchemaOnly) {
  EXPECT_EQ(Dag("[schema]"),
            "1:precheck 2:schema.pre(s.t1)<1 3:schema.post(s.t1)<2 4:schema.pre(s.t2)<1 "
            "5:schema.post(s.t2)<4 6:schema.pre(w.*)<1 7:schema.post(w.*)<6 ");
}

TEST(Lower, FullOnlyHasNoSchemaStages) {
  EXPECT_EQ(Dag("[full]"), "1:precheck 2:load(s.t1)<1 3:load(s.t2)<1 4:load(w.*)<1 ");
}

TEST(Lower, IncrementalOnlyCapturesFirst) {
  EXPECT_EQ(Dag("[incremental]"), "1:precheck 2:capture<1 3:incremental<2 ");
}

TEST(Lower, AllThreeWithTriggersAfterFullAndVerifyBoth) {
  EXPECT_EQ(Dag("[schema, full, incremental]", " verify { mode = rows after = both }\n"),
            "1:precheck 2:capture<1 3:schema.pre(s.t1)<2 4:load(s.t1)<3 5:schema.post(s.t1)<4 "
            "6:schema.pre(s.t2)<2 7:load(s.t2)<6 8:schema.post(s.t2)<7 "
            "9:schema.pre(w.*)<2 10:load(w.*)<9 11:schema.post(w.*)<10 "
            "12:schema.post(triggers (after full load))<5,8,11 13:incremental<12 "
            "14:verify(after full load)<12 15:verify(after incremental catch-up)<13 ");
}

TEST(Lower, TriggersWithSchemaAddNoSeparateStage) {
  const std::string dag = Dag("[schema, full, incremental]", " triggers = with_schema\n");
  EXPECT_EQ(dag.find("triggers"), std::string::npos) << dag;
  EXPECT_NE(dag.find("incremental<5,8,11"), std::string::npos) << dag;
}

TEST(Lower, DescribeObjectShowsRenames) {
  ir::SchemaRule s;
  s.source = "shop";
  s.target = "shop_v2";
  ir::TableRule t;
  t.source = "audit_*";
  t.target = "archive_*";
  EXPECT_EQ(DescribeObject(s, &t), "shop.audit_* -> shop_v2.archive_*");
  s.target = "";
  s.source = "my shop";
  EXPECT_EQ(DescribeObject(s, nullptr), "\"my shop\".*");
}

}  // namespace
}  // namespace ferry
