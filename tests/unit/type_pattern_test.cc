#include <gtest/gtest.h>

#include "compiler/type_pattern.h"
#include "tests/test_util.h"

namespace ferry {
namespace {

TEST(SqlType, Normalises) {
  auto t = ParseSqlType("  INT(10)   UNSIGNED ZEROFILL ");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "int");
  EXPECT_TRUE(t->is_unsigned);
  EXPECT_EQ(t->args, std::vector<std::string>{"10"});

  t = ParseSqlType("timestamp(3) without time zone");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "timestamp without time zone");
  EXPECT_EQ(t->args, std::vector<std::string>{"3"});

  t = ParseSqlType("enum('a','b,c','d)')");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "enum");
  EXPECT_EQ(t->args, (std::vector<std::string>{"'a'", "'b,c'", "'d)'"}));

  t = ParseSqlType("integer[]");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "integer[]");
}

TEST(SqlType, RejectsWhatIsNotAType) {
  for (const char* bad : {"", "int(", "enum('a)", "numeric(1,,2)", "in$t", "varchar(10) ; drop"}) {
    std::string error;
    EXPECT_FALSE(ParseSqlType(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

struct MatchCase {
  const char* pattern;
  const char* target;
  const char* type;
  const char* expected;  // nullptr: no match
};

TEST(TypePattern, MatchesAndSubstitutes) {
  const MatchCase cases[] = {
      {"decimal(p,s)", "numeric(p,s)", "decimal(12,2)", "numeric(12,2)"},
      {"tinyint(1)", "boolean", "tinyint(1)", "boolean"},
      {"tinyint(1)", "boolean", "tinyint(4)", nullptr},
      {"int", "integer", "int(11)", "integer"},
      {"int", "integer", "int(10) unsigned", nullptr},
      {"int unsigned", "bigint", "int(10) unsigned", "bigint"},
      {"enum(*)", "enum(*)", "enum('a','b')", "enum('a','b')"},
      {"varchar(max)", "nvarchar(max)", "varchar(max)", "nvarchar(max)"},
      {"varchar(max)", "nvarchar(max)", "varchar(10)", nullptr},
      {"varchar(n)", "character varying(n)", "VARCHAR(255)", "character varying(255)"},
      {"timestamp(p) without time zone", "datetime(p)", "timestamp(3) without time zone", "datetime(3)"},
      {"datetime", "timestamp", "datetime(6)", "timestamp"},
  };
  for (const MatchCase& c : cases) {
    auto p = ParseTypePattern(c.pattern);
    ASSERT_TRUE(p) << c.pattern;
    auto t = ParseSqlType(c.type);
    ASSERT_TRUE(t) << c.type;
    auto out = Match(*p, c.target, *t);
    if (c.expected == nullptr) {
      EXPECT_FALSE(out) << c.pattern << " should not match " << c.type;
    } else {
      ASSERT_TRUE(out) << c.pattern << " should match " << c.type;
      EXPECT_EQ(*out, c.expected);
    }
  }
}

TEST(TypePattern, Subsumes) {
  auto p = [](const char* s) { return *ParseTypePattern(s); };
  EXPECT_TRUE(Subsumes(p("datetime"), p("datetime(p)")));
  EXPECT_FALSE(Subsumes(p("datetime(p)"), p("datetime")));
  EXPECT_TRUE(Subsumes(p("tinyint(n)"), p("tinyint(1)")));
  EXPECT_FALSE(Subsumes(p("tinyint(1)"), p("tinyint(n)")));
  EXPECT_FALSE(Subsumes(p("int"), p("int unsigned")));
  EXPECT_TRUE(Subsumes(p("enum(*)"), p("enum(a)")));
}

TEST(TypePattern, TargetParameters) {
  EXPECT_EQ(TargetParameters("numeric(p,s)"), (std::vector<std::string>{"p", "s"}));
  EXPECT_EQ(TargetParameters("nvarchar(max)"), std::vector<std::string>{});
  EXPECT_EQ(TargetParameters("enum(*)"), std::vector<std::string>{"*"});
  EXPECT_EQ(TargetParameters("text"), std::vector<std::string>{});
}

// The stdlib maps, checked by what they promise (issue: pgloader's casts are the floor).
class Stdlib : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    compilation_ = CompileText("stdlib_check.ferry", "import \"std/typemaps\"\n").release();
  }
  static void TearDownTestSuite() { delete compilation_; }

  static std::optional<std::string> MapVia(const std::string& map, const std::string& type) {
    auto t = ParseSqlType(type);
    if (!t) return std::nullopt;
    return MapType(compilation_->plan.EffectiveRules(map), *t);
  }

  static Compilation* compilation_;
};
Compilation* Stdlib::compilation_ = nullptr;

TEST_F(Stdlib, CompilesWithoutAnyDiagnostic) {
  EXPECT_TRUE(compilation_->diags.all().empty()) << testing::RenderAll(*compilation_);
}

TEST_F(Stdlib, HasAMapForEveryOrderedPair) {
  for (const char* from : {"mysql", "mariadb", "postgres", "sqlserver"}) {
    for (const char* to : {"mysql", "mariadb", "postgres", "sqlserver"}) {
      const std::string name = std::string(from) + "_to_" + to;
      const ir::TypeMap* m = compilation_->plan.FindTypeMap(name);
      ASSERT_NE(m, nullptr) << name;
      EXPECT_EQ(ir::Name(m->from), from);
      EXPECT_EQ(ir::Name(m->to), to);
      EXPECT_FALSE(m->rules.empty()) << name;
      EXPECT_EQ(m->zero_dates != ir::ZeroDates::kUnset, ir::IsMysqlFamily(m->from))
          << name << ": maps from MySQL-family sources set `zero_dates` explicitly, others do not";
    }
  }
}

TEST_F(Stdlib, MysqlToPostgresBeatsPgloaderDefaults) {
  const struct {
    const char* type;
    const char* expected;
  } cases[] = {
      {"bigint(20) unsigned", "numeric(20,0)"}, {"bigint(20)", "bigint"},     {"int(10) unsigned", "bigint"},
      {"tinyint(1)", "boolean"},                {"json", "jsonb"},            {"decimal(12,2)", "numeric(12,2)"},
      {"varchar(255)", "varchar(255)"},         {"smallint unsigned", "integer"},
  };
  for (const auto& c : cases) {
    auto out = MapVia("mysql_to_postgres", c.type);
    ASSERT_TRUE(out) << c.type << " is not mapped";
    EXPECT_EQ(*out, c.expected) << c.type;
  }
  EXPECT_TRUE(MapVia("mysql_to_postgres", "enum('a','b')"));
  EXPECT_TRUE(MapVia("mysql_to_postgres", "set('a','b')"));
  EXPECT_EQ(compilation_->plan.FindTypeMap("mysql_to_postgres")->zero_dates, ir::ZeroDates::kNull);
}

TEST_F(Stdlib, IdentityMapsKeepArguments) {
  EXPECT_EQ(MapVia("mysql_to_mysql", "decimal(12,2)"), "decimal(12,2)");
  EXPECT_EQ(MapVia("mysql_to_mysql", "int(10) unsigned"), "int(10) unsigned");
  EXPECT_EQ(MapVia("mysql_to_mysql", "enum('a','b')"), "enum('a','b')");
  EXPECT_EQ(MapVia("postgres_to_postgres", "character varying(40)"), "character varying(40)");
  EXPECT_EQ(MapVia("postgres_to_postgres", "numeric(10,3)"), "numeric(10,3)");
}

}  // namespace
}  // namespace ferry
