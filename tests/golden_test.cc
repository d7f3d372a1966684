// Golden tests, in the style of Carbon's file tests and Terraform's show-json fixtures.
//
// tests/diagnostics/*.ferry: a plan, then its expected `ferry check` output inline after a
// marker line. The `fail_` prefix is used exactly when the file has errors. Every registered
// diagnostic code must appear in some golden output.
//
// tests/plans/<example>.{txt,json,dot}: `ferry plan` of each example in each format.
//
// FERRY_UPDATE_GOLDEN=1 rewrites the expectations from the current output; review the diff.
#include <gtest/gtest.h>

#include <set>

#include "compiler/emit.h"
#include "tests/test_util.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMarker = "# ---- expected output (FERRY_UPDATE_GOLDEN=1 regenerates it) ----\n";

fs::path DiagDir() { return SourceDir() / "tests" / "diagnostics"; }

struct Golden {
  std::string plan;      // the text before the marker: what is compiled
  std::string expected;  // the expected output, unprefixed
};

Golden Split(const std::string& text) {
  Golden g;
  const size_t at = text.find(kMarker);
  if (at == std::string::npos) {
    g.plan = text;
    return g;
  }
  g.plan = text.substr(0, at);
  if (!g.plan.empty() && g.plan.back() == '\n') g.plan.pop_back();  // the blank line before the marker
  std::string_view rest = std::string_view(text).substr(at + kMarker.size());
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (line.rfind("# ", 0) == 0) line.remove_prefix(2);
    else if (line == "#") line = "";
    g.expected += std::string(line) + "\n";
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return g;
}

std::string Join(const Golden& g, const std::string& actual) {
  std::string out = g.plan + "\n" + std::string(kMarker);
  std::string_view rest = actual;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    out += line.empty() ? "#\n" : "# " + std::string(line) + "\n";
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

std::vector<std::string> DiagnosticFiles() {
  std::vector<std::string> out;
  for (const fs::path& p : FilesIn(DiagDir(), ".ferry")) out.push_back(p.filename().string());
  return out;
}

class GoldenDiagnostics : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenDiagnostics, MatchesExpectedOutput) {
  const std::string name = GetParam();
  const std::string text = ReadFile(DiagDir() / name);
  const Golden g = Split(text);
  auto c = InDir(DiagDir(), [&] { return CompileText(name, g.plan); });
  const std::string actual = RenderAll(*c);

  EXPECT_EQ(name.rfind("fail_", 0) == 0, c->diags.has_errors())
      << name << ": the `fail_` prefix must be used exactly when the file has errors\n" << actual;
  EXPECT_FALSE(actual.empty()) << name << " produces no diagnostic at all";
  if (UpdateGolden()) {
    if (Join(g, actual) != text) WriteFile(DiagDir() / name, Join(g, actual));
    return;
  }
  ASSERT_NE(text.find(kMarker), std::string::npos) << name << " has no expected output; run with FERRY_UPDATE_GOLDEN=1";
  EXPECT_EQ(g.expected, actual) << name;
  // A file named for a code must show that code.
  const std::string bare = name.rfind("fail_", 0) == 0 ? name.substr(5) : name;
  if (bare.size() > 5 && std::isupper(static_cast<unsigned char>(bare[0])) && std::isdigit(static_cast<unsigned char>(bare[1]))) {
    EXPECT_NE(actual.find("[" + bare.substr(0, 5) + "]"), std::string::npos) << name << " does not produce " << bare.substr(0, 5);
  }
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenDiagnostics, ::testing::ValuesIn(DiagnosticFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param.substr(0, param_info.param.size() - 6);
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(GoldenDiagnosticsCoverage, EveryCodeHasAGoldenCase) {
  std::set<std::string> seen;
  for (const std::string& name : DiagnosticFiles()) {
    const Golden g = Split(ReadFile(DiagDir() / name));
    for (const DiagKindInfo& k : AllDiagKinds()) {
      if (g.expected.find("[" + std::string(k.code) + "]") != std::string::npos) seen.insert(std::string(k.code));
    }
  }
  for (const DiagKindInfo& k : AllDiagKinds()) {
    EXPECT_TRUE(seen.count(std::string(k.code)) > 0)
        << "diagnostic " << k.code << " (" << k.summary << ") has no golden case in tests/diagnostics/";
  }
}

// -- Plans -----------------------------------------------------------------------------------

class GoldenPlans : public ::testing::TestWithParam<std::string> {};

std::string PlanStem(const std::string& example) {
  std::string stem = fs::path(example).lexically_relative("examples").replace_extension("").generic_string();
  for (char& ch : stem) {
    if (ch == '/') ch = '_';
  }
  return stem;
}

TEST_P(GoldenPlans, MatchesTextJsonAndDot) {
  const std::string example = GetParam();
  auto c = InDir(SourceDir(), [&] { return Compile(example); });
  ASSERT_TRUE(c->ok()) << RenderAll(*c);
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"txt", EmitText(c->plan)}, {"json", EmitJson(c->plan)}, {"dot", EmitDot(c->plan)}};
  for (const auto& [ext, actual] : forms) {
    const fs::path golden = SourceDir() / "tests" / "plans" / (PlanStem(example) + "." + ext);
    if (UpdateGolden()) {
      if (!fs::exists(golden) || ReadFile(golden) != actual) WriteFile(golden, actual);
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with FERRY_UPDATE_GOLDEN=1";
    EXPECT_EQ(ReadFile(golden), actual) << golden;
  }
  // Deterministic: compiling again gives the same bytes.
  auto again = InDir(SourceDir(), [&] { return Compile(example); });
  EXPECT_EQ(EmitJson(c->plan), EmitJson(again->plan));
}

INSTANTIATE_TEST_SUITE_P(Examples, GoldenPlans, ::testing::ValuesIn(ExamplePlans()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return PlanStem(param_info.param); });

// Every example compiles without errors or warnings (notes are allowed).
TEST(Examples, CompileWithoutWarnings) {
  const std::vector<std::string> examples = ExamplePlans();
  ASSERT_GE(examples.size(), 5u);
  for (const std::string& e : examples) {
    auto c = InDir(SourceDir(), [&] { return Compile(e); });
    EXPECT_TRUE(c->ok()) << e << "\n" << RenderAll(*c);
    EXPECT_EQ(c->diags.warning_count(), 0u) << e << "\n" << RenderAll(*c);
  }
}

}  // namespace
}  // namespace ferry::testing
