// LANGUAGE.md §1, through the parser: comments, strings and escapes, numbers, durations,
// sizes, separators, UTF-8.
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace ferry {
namespace {

// Lexical and syntax diagnostics only (E00xx): the snippets below are not valid plans.
std::vector<const Diagnostic*> Lexical(const Compilation& c) {
  std::vector<const Diagnostic*> out;
  for (const Diagnostic& d : c.diags.all()) {
    if (Info(d.kind).code < "E0100") out.push_back(&d);
  }
  return out;
}

// Parses `account a { <body> }` and returns the value of its first attribute.
ast::Value FirstValue(const std::string& attr_value, Compilation** keep = nullptr) {
  static std::vector<std::unique_ptr<Compilation>> alive;
  alive.push_back(CompileText("lex.ferry", "account a { x = " + attr_value + " }\n"));
  Compilation& c = *alive.back();
  if (keep != nullptr) *keep = &c;
  const auto& decl = std::get<ast::Declaration>(c.program.files[c.program.root].ast.items.at(0));
  return std::get<ast::Attribute>(decl.body.members.at(0).node).value;
}

std::vector<std::string> ParseCodes(const std::string& text) {
  auto c = CompileText("lex.ferry", text);
  std::vector<std::string> out;
  for (const Diagnostic& d : c->diags.Sorted()) {
    if (Info(d.kind).code < "E0100") out.emplace_back(Info(d.kind).code);
  }
  return out;
}

TEST(Lexical, Durations) {
  const struct {
    const char* text;
    int64_t ms;
  } cases[] = {{"500ms", 500}, {"30s", 30000}, {"10m", 600000}, {"12h", 43200000}, {"1d", 86400000}, {"1.5h", 5400000}};
  for (const auto& c : cases) {
    const ast::Value v = FirstValue(c.text);
    EXPECT_EQ(v.kind, ast::ValueKind::kDuration) << c.text;
    EXPECT_EQ(v.millis, c.ms) << c.text;
  }
}

TEST(Lexical, Sizes) {
  const struct {
    const char* text;
    int64_t bytes;
  } cases[] = {{"512KB", 512000}, {"40MB", 40000000}, {"2GB", 2000000000},
               {"1KiB", 1024},    {"3MiB", 3145728},  {"2GiB", 2147483648}};
  for (const auto& c : cases) {
    const ast::Value v = FirstValue(c.text);
    EXPECT_EQ(v.kind, ast::ValueKind::kSize) << c.text;
    EXPECT_EQ(v.bytes, c.bytes) << c.text;
  }
}

TEST(Lexical, UnknownUnitSuggestsTheRightCase) {
  Compilation* c = nullptr;
  EXPECT_EQ(FirstValue("10mb", &c).kind, ast::ValueKind::kError);
  ASSERT_EQ(Lexical(*c).size(), 1u);
  EXPECT_EQ(Lexical(*c)[0]->kind, DiagKind::kUnknownUnit);
  EXPECT_EQ(Lexical(*c)[0]->hint, "did you mean `10MB`?");
}

TEST(Lexical, Numbers) {
  ast::Value v = FirstValue("42");
  EXPECT_EQ(v.kind, ast::ValueKind::kNumber);
  EXPECT_TRUE(v.integral);
  EXPECT_EQ(v.number, 42);
  v = FirstValue("3.5");
  EXPECT_FALSE(v.integral);
  EXPECT_EQ(v.number, 3.5);
}

TEST(Lexical, StringEscapes) {
  EXPECT_EQ(FirstValue(R"("a\"b\\c\nd\te")").text, "a\"b\\c\nd\te");
  EXPECT_EQ(FirstValue(R"("\u{41}\u{e9}\u{1F600}")").text, "A\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(FirstValue("\"d\xc3\xa9j\xc3\xa0 vu \xe2\x9c\x93\"").text, "d\xc3\xa9j\xc3\xa0 vu \xe2\x9c\x93");
}

TEST(Lexical, BadEscapesAreReportedAtTheirPosition) {
  Compilation* c = nullptr;
  FirstValue(R"("ok \q ok")", &c);
  ASSERT_EQ(Lexical(*c).size(), 1u);
  const Diagnostic& d = *Lexical(*c)[0];
  EXPECT_EQ(d.kind, DiagKind::kInvalidEscape);
  EXPECT_EQ(c->program.sources.Location(d.span), "lex.ferry:1:21");
  for (const char* bad : {R"("\u{110000}")", R"("\u{}")", R"("\u{D800}")", R"("\u41")"}) {
    FirstValue(bad, &c);
    ASSERT_EQ(Lexical(*c).size(), 1u) << bad;
    EXPECT_EQ(Lexical(*c)[0]->kind, DiagKind::kInvalidEscape) << bad;
  }
}

TEST(Lexical, CommentsAndSeparators) {
  const std::string text =
      "# hash\n// slashes\n/* block\n spanning */ account a { id = \"1\"; x = 2, y = 3 } // end\n";
  EXPECT_TRUE(ParseCodes(text).empty());
  auto c = CompileText("lex.ferry", text);
  EXPECT_EQ(c->program.files[c->program.root].ast.comments.size(), 4u);
}

TEST(Lexical, ErrorsAreCodedAndAllReported) {
  EXPECT_EQ(ParseCodes("account a { x = $ }"), (std::vector<std::string>{"E0002", "E0001"}));
  EXPECT_EQ(ParseCodes("account a { x = \"abc\n}"), std::vector<std::string>{"E0003"});
  EXPECT_EQ(ParseCodes("/* open"), std::vector<std::string>{"E0008"});
  EXPECT_EQ(ParseCodes("account a { x = \"\xff\" }"), std::vector<std::string>{"E0005"});
  EXPECT_EQ(ParseCodes("account a { x = 99999999999999999999 }"), std::vector<std::string>{"E0009"});
  // Two broken blocks: both reported.
  EXPECT_EQ(ParseCodes("account a { x = }\naccount b { y = }\n"), (std::vector<std::string>{"E0001", "E0001"}));
}

TEST(Lexical, Utf8ColumnsCountCharacters) {
  auto c = CompileText("lex.ferry", "account \"é\" { x = \"é\" y = $ }");
  const Diagnostic* stray = nullptr;
  for (const Diagnostic& d : c->diags.all()) {
    if (d.kind == DiagKind::kInvalidCharacter) stray = &d;
  }
  ASSERT_NE(stray, nullptr);
  EXPECT_EQ(c->program.sources.Location(stray->span), "lex.ferry:1:27");
}

}  // namespace
}  // namespace ferry
