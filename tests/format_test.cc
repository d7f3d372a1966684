// `ferry fmt`: idempotent, keeps every comment, and never changes what a plan means.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "compiler/emit.h"
#include "compiler/format.h"
#include "tests/test_util.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// The plan's JSON without source positions (formatting moves lines).
nlohmann::json WithoutOrigins(nlohmann::json j) {
  if (j.is_object()) {
    j.erase("origin");
    j.erase("plan");
    for (auto& [k, v] : j.items()) v = WithoutOrigins(v);
  } else if (j.is_array()) {
    for (auto& v : j) v = WithoutOrigins(v);
  }
  return j;
}

std::string FormatText(const fs::path& dir, const std::string& name, const std::string& text) {
  auto c = InDir(dir, [&] { return CompileText(name, text); });
  return Format(c->program.sources, c->program.files[c->program.root].ast);
}

// The comments of a plan, trimmed, in order.
std::vector<std::string> Comments(const fs::path& dir, const std::string& name, const std::string& text) {
  auto c = InDir(dir, [&] { return CompileText(name, text); });
  std::vector<std::string> out;
  for (const ast::Comment& cm : c->program.files[c->program.root].ast.comments) {
    std::string t = cm.text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    out.push_back(t);
  }
  return out;
}

// Plans to format: the examples and every golden input that parses.
std::vector<fs::path> Inputs() {
  std::vector<fs::path> out;
  for (const std::string& e : ExamplePlans()) out.push_back(SourceDir() / e);
  for (const fs::path& p : FilesIn(SourceDir() / "tests" / "diagnostics", ".ferry")) out.push_back(p);
  return out;
}

TEST(Format, IdempotentKeepsCommentsAndMeaning) {
  size_t checked = 0;
  for (const fs::path& p : Inputs()) {
    const std::string text = ReadFile(p);
    const fs::path dir = p.parent_path();
    const std::string name = p.filename().string();
    auto before = InDir(dir, [&] { return CompileText(name, text); });
    if (before->program.files[before->program.root].ast.has_syntax_errors) continue;
    ++checked;
    const std::string once = FormatText(dir, name, text);
    const std::string twice = FormatText(dir, name, once);
    EXPECT_EQ(once, twice) << p << ": fmt is not idempotent";
    EXPECT_EQ(Comments(dir, name, text), Comments(dir, name, once)) << p << ": fmt lost or changed a comment";
    auto after = InDir(dir, [&] { return CompileText(name, once); });
    // Same diagnostics (by code) and, when it compiles, the same plan.
    EXPECT_EQ(Codes(*before), Codes(*after)) << p << "\n" << once;
    if (before->ok()) {
      ASSERT_TRUE(after->ok()) << p;
      EXPECT_EQ(WithoutOrigins(nlohmann::json::parse(EmitJson(before->plan))),
                WithoutOrigins(nlohmann::json::parse(EmitJson(after->plan))))
          << p << ": fmt changed the plan's meaning";
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(Format, CanonicalLayout) {
  const std::string messy =
      "# header\n"
      "import \"std/typemaps\"\n"
      "endpoint src{engine=mysql;host=\"h\",port=3306 # trailing\n"
      "}\n\n\n\n"
      "migration m { from = src\n"
      "  to = src   objects{schema \"a b\" -> c { table t { where = \"x > 1\"  ops=[insert,update] } }\n"
      "  /* block\n     comment */\n"
      "  } }\n";
  const std::string expected =
      "# header\n"
      "import \"std/typemaps\"\n"
      "\n"
      "endpoint src {\n"
      "  engine = mysql\n"
      "  host   = \"h\"\n"
      "  port   = 3306  # trailing\n"
      "}\n"
      "\n"
      "migration m {\n"
      "  from = src\n"
      "  to   = src\n"
      "  objects {\n"
      "    schema \"a b\" -> c {\n"
      "      table t {\n"
      "        where = \"x > 1\"\n"
      "        ops   = [insert, update]\n"
      "      }\n"
      "    }\n"
      "    /* block\n     comment */\n"
      "  }\n"
      "}\n";
  EXPECT_EQ(FormatText(SourceDir(), "messy.ferry", messy), expected);
}

TEST(Format, KeepsEmptyBlocksWhichMeanSomething) {
  // `schema shop {}` selects no table of `shop`; `schema shop` selects all of it.
  const std::string text = "migration m {\n  objects {\n    schema shop {}\n    schema crm\n  }\n}\n";
  EXPECT_EQ(FormatText(SourceDir(), "x.ferry", text), text);
}

TEST(Format, EscapesStringsCanonically) {
  const std::string text = "account a {\n  id = \"\\u{41}\\t\\\"q\\\"\"\n}\n";
  EXPECT_EQ(FormatText(SourceDir(), "x.ferry", text), "account a {\n  id = \"A\\t\\\"q\\\"\"\n}\n");
}

}  // namespace
}  // namespace ferry::testing
