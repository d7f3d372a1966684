#include <gtest/gtest.h>

#include "compiler/analyze.h"

namespace ferry {
namespace {

TEST(Glob, Match) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  } cases[] = {
      {"*", "", true},          {"*", "orders", true},        {"tmp_*", "tmp_", true},
      {"tmp_*", "tmp_x", true}, {"tmp_*", "tmpx", false},     {"a?c", "abc", true},
      {"a?c", "ac", false},     {"*_log", "audit_log", true}, {"*_log", "audit_logs", false},
      {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false}, {"orders", "Orders", false},
  };
  for (const Case& c : cases) EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " " << c.text;
}

TEST(Glob, Subsumes) {
  struct Case {
    const char* earlier;
    const char* later;
    bool subsumes;
  } cases[] = {
      {"*", "orders", true},        {"*", "tmp_*", true},          {"tmp_*", "*", false},
      {"tmp_*", "tmp_a*", true},    {"tmp_a*", "tmp_*", false},    {"sys*", "sys", true},
      {"?", "a", true},             {"a", "?", false},             {"*", "*", true},
      {"orders", "orders", true},   {"orders", "order?", false},   {"*_2024", "audit_*", false},
      {"a*", "a?", true},           {"a?", "a*", false},           {"*a*", "xa*", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobSubsumes(c.earlier, c.later), c.subsumes) << c.earlier << " ⊇ " << c.later;
  }
}

}  // namespace
}  // namespace ferry
