// Hostile input: every prefix of every example and thousands of random byte mutations must
// give diagnostics — never a crash, a hang or a sanitizer report (CI runs this under ASan and
// UBSan). A truncated plan that leaves a block open must be reported as an error.
#include <gtest/gtest.h>

#include <random>

#include "compiler/emit.h"
#include "tests/test_util.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// Checks one input: errors have spans inside the file and a message; a clean result lowers
// and emits.
void CheckOne(const fs::path& dir, const std::string& text, const std::string& what) {
  auto c = InDir(dir, [&] { return CompileText("input.ferry", text); });
  for (const Diagnostic& d : c->diags.all()) {
    ASSERT_FALSE(d.message.empty()) << what;
    if (d.span.file == c->program.root) {
      ASSERT_LE(d.span.begin, text.size()) << what;
      ASSERT_LE(d.span.end, text.size()) << what;
      ASSERT_LE(d.span.begin, d.span.end) << what;
    }
    ASSERT_FALSE(RenderText(c->program.sources, d, RenderOptions{false}).empty());
  }
  if (c->ok()) {
    ASSERT_FALSE(EmitText(c->plan).empty());
    ASSERT_FALSE(EmitJson(c->plan).empty());
  }
}

// Unclosed `{` outside strings and comments, by a simple scan of the source.
int OpenBraces(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"' || c == '\n') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '#' || (c == '/' && i + 1 < text.size() && text[i + 1] == '/')) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      const size_t end = text.find("*/", i + 2);
      if (end == std::string::npos) return -1;  // unterminated comment: an error anyway
      i = end + 1;
    } else if (c == '{') ++depth;
    else if (c == '}') --depth;
  }
  return depth;
}

TEST(Robustness, EveryPrefixOfEveryExample) {
  for (const std::string& e : ExamplePlans()) {
    const fs::path p = SourceDir() / e;
    const std::string text = ReadFile(p);
    for (size_t n = 0; n <= text.size(); ++n) {
      const std::string prefix = text.substr(0, n);
      SCOPED_TRACE(e + " prefix " + std::to_string(n));
      CheckOne(p.parent_path(), prefix, e);
      if (HasFatalFailure()) return;
      if (OpenBraces(prefix) != 0) {
        auto c = InDir(p.parent_path(), [&] { return CompileText("input.ferry", prefix); });
        ASSERT_TRUE(c->diags.has_errors()) << "a plan cut inside a block compiled without error";
      }
    }
  }
}

TEST(Robustness, RandomByteMutations) {
  std::mt19937 rng(20261126);  // fixed: a failure reproduces
  const std::vector<std::string> examples = ExamplePlans();
  const std::string alphabet = "{}[]()=,;\"\\#/*-> \n\tax0_9$@\xff\xc3";
  for (int round = 0; round < 3000; ++round) {
    const std::string& e = examples[static_cast<size_t>(round) % examples.size()];
    const fs::path p = SourceDir() / e;
    std::string text = ReadFile(p);
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: text.insert(at, text.substr(rng() % text.size(), rng() % 40)); break;
      }
    }
    SCOPED_TRACE(e + " mutation round " + std::to_string(round));
    CheckOne(p.parent_path(), text, e);
    if (HasFatalFailure()) return;
  }
}

TEST(Robustness, DeepNestingIsAnErrorNotACrash) {
  for (const char* open : {"[", "{", "("}) {
    std::string text = "migration m { workers = ";
    for (int i = 0; i < 100000; ++i) text += open;
    auto c = CompileText("deep.ferry", text);
    EXPECT_TRUE(c->diags.has_errors());
    bool nesting = false;
    for (const Diagnostic& d : c->diags.all()) nesting |= d.kind == DiagKind::kNestingTooDeep;
    EXPECT_TRUE(nesting) << open;
  }
}

}  // namespace
}  // namespace ferry::testing
