#include <gtest/gtest.h>

#include "compiler/diagnostics.h"
#include "tests/test_util.h"

namespace ferry {
namespace {

TEST(DidYouMean, SuggestsCloseNamesOnly) {
  const std::vector<std::string> names = {"workers", "stages", "conflicts", "typemap"};
  EXPECT_EQ(DidYouMean("wokers", names), "did you mean `workers`?");
  EXPECT_EQ(DidYouMean("stagse", names), "did you mean `stages`?");
  EXPECT_EQ(DidYouMean("zzz", names), "");
  EXPECT_EQ(DidYouMean("workers", names), "");  // an exact name is not a suggestion
}

TEST(Diagnostics, RegistryCodesAreUniqueAndMatchSeverity) {
  std::set<std::string_view> codes;
  for (const DiagKindInfo& k : AllDiagKinds()) {
    EXPECT_TRUE(codes.insert(k.code).second) << k.code << " is registered twice";
    ASSERT_EQ(k.code.size(), 5u) << k.code;
    const char letter = k.severity == Severity::kError ? 'E' : k.severity == Severity::kWarning ? 'W' : 'N';
    EXPECT_EQ(k.code[0], letter) << k.code << ": the letter must say the severity";
  }
}

TEST(Diagnostics, TextFormHasLocationCodeSnippetCaretAndHint) {
  auto c = CompileText("r.ferry",
                       "account a { id = \"1\" }\nrole r {\n  account = a\n  name = \"AliyunDTSDefaultRole\"\n  trusts = [a]\n}\n");
  ASSERT_EQ(c->diags.all().size(), 1u);
  EXPECT_EQ(testing::RenderAll(*c),
            "r.ferry:4:10: error[E0301]: role name \"AliyunDTSDefaultRole\" is the service's default role\n"
            "    4 |   name = \"AliyunDTSDefaultRole\"\n"
            "      |          ^~~~~~~~~~~~~~~~~~~~~~\n"
            "      = hint: create a dedicated role in the source account (e.g. \"ram-for-dts\") and name it here\n");
}

TEST(Diagnostics, SecretsWrittenIntoAPlanAreNeverEchoed) {
  auto c = CompileText("s.ferry",
                       "endpoint e { engine = mysql host = \"h\" password = \"hunter2\" }\n"
                       "account a { id = \"1\" access_key_secret = \"AKSECRET\" access_key_id = plainword }\n");
  const std::string text = testing::RenderAll(*c);
  EXPECT_NE(text.find("E0401"), std::string::npos);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("AKSECRET"), std::string::npos) << text;
  EXPECT_EQ(text.find("plainword"), std::string::npos) << text;
  const std::string json = RenderJson(c->program.sources, c->diags.Sorted());
  EXPECT_EQ(json.find("hunter2"), std::string::npos);
}

// Every way a user may write a secret into a plan by mistake: neither the text nor the JSON
// form of any diagnostic may contain it.
TEST(Diagnostics, NoSecretLeaksThroughAnyDiagnostic) {
  const char* plans[] = {
      "endpoint e { engine = mysql host = \"h\" password: \"Hunter2x\" }\n",          // YAML habit
      "endpoint e { engine = mysql host = \"h\" password \"Hunter2x\" }\n",           // missing `=`
      "endpoint e {\n  engine = mysql\n  host = \"h\"\n  password =\n    \"Hunter2x\"\n}\n",  // next line
      "endpoint e { engine = mysql host = \"h\" passwd = \"Hunter2x\" }\n",            // misspelled key
      "endpoint e { engine = mysql host = \"h\" password = secret(\"Hunter2x\") }\n",  // pasted into secret()
      "endpoint e { engine = mysql host = \"h\" password = secret(\"Hun:ter2x\") }\n", // looks like a scheme
      "endpoint e { engine = mysql host = \"h\" password = Hunter2x }\n",              // bare word
      "endpoint e { engine = mysql host = \"h\" password = \"Hunter2x }\n",            // unterminated
      "account a { id = \"1\" access_key_secret = \"Hunter2x\" }\n",
  };
  for (const char* plan : plans) {
    auto c = CompileText("leak.ferry", plan);
    EXPECT_FALSE(c->diags.all().empty()) << plan;
    const std::string text = testing::RenderAll(*c);
    const std::string json = RenderJson(c->program.sources, c->diags.Sorted());
    for (const char* fragment : {"Hunter2x", "Hunter", "ter2x"}) {
      EXPECT_EQ(text.find(fragment), std::string::npos) << plan << "\n" << text;
      EXPECT_EQ(json.find(fragment), std::string::npos) << plan << "\n" << json;
    }
  }
}

TEST(Diagnostics, SafeLinesAreNotMasked) {
  EXPECT_FALSE(LineMayHoldSecret("  password = secret(\"env:SRC_PASSWORD\")"));
  EXPECT_FALSE(LineMayHoldSecret("  host = \"db.internal\" port = 3306"));
  EXPECT_TRUE(LineMayHoldSecret("  password = \"x\""));
  EXPECT_TRUE(LineMayHoldSecret("  secret(\"vault:x\")"));
  // A useful snippet stays useful: a host error on an ordinary line shows the host.
  auto c = CompileText("h.ferry", "endpoint e { engine = mysql host = \"a b\" }\n");
  EXPECT_NE(testing::RenderAll(*c).find("\"a b\""), std::string::npos);
}

TEST(Diagnostics, ColourOnlyWhenAsked) {
  auto c = CompileText("c.ferry", "acount a {}\n");
  ASSERT_FALSE(c->diags.all().empty());
  const Diagnostic& d = c->diags.all()[0];
  EXPECT_EQ(RenderText(c->program.sources, d, {false}).find('\x1b'), std::string::npos);
  EXPECT_NE(RenderText(c->program.sources, d, {true}).find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace ferry
