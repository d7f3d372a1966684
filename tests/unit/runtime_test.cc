// Runtime pieces that need no server: quoting, glob captures, default translation, type
// comparison.
#include <gtest/gtest.h>

#include <cstring>

#include "runtime/cloud/api.h"
#include "runtime/cloud/resolver.h"
#include "runtime/cloud/signature.h"
#include "runtime/http.h"
#include "runtime/ddl.h"
#include "runtime/dry_run.h"
#include "runtime/load/values.h"
#include "runtime/mapping.h"
#include "runtime/sql.h"
#include "runtime/verify/normalize.h"
#include "runtime/verify/row_hash.h"

namespace ferry::runtime {
namespace {

using ir::Engine;

TEST(Quoting, IdentifiersSurviveEveryQuote) {
  EXPECT_EQ(QuoteIdent(Engine::kMariadb, "a`b"), "`a``b`");
  EXPECT_EQ(QuoteIdent(Engine::kPostgres, "a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdent(Engine::kSqlserver, "a]b"), "[a]]b]");
  EXPECT_EQ(QuoteName(Engine::kMysql, "s", "t`"), "`s`.`t```");
  EXPECT_EQ(QuoteIdent(Engine::kPostgres, "ünï 表"), "\"ünï 表\"");
}

TEST(Quoting, Literals) {
  EXPECT_EQ(QuoteLiteral(Engine::kMysql, "it's \\ ok"), "'it''s \\\\ ok'");
  EXPECT_EQ(QuoteLiteral(Engine::kPostgres, "it's \\ ok"), "'it''s \\ ok'");
  EXPECT_EQ(QuoteLiteral(Engine::kMariadb, std::string("a\0b", 3)), "'a\\0b'");
}

TEST(Globs, CapturesCarryIntoTargets) {
  std::vector<std::string> stars;
  ASSERT_TRUE(GlobCapture("audit_*", "audit_2024", &stars));
  EXPECT_EQ(ApplyGlobTarget("archive_*", stars), "archive_2024");
  ASSERT_TRUE(GlobCapture("a_*_*", "a_b_c_d", &stars));
  EXPECT_EQ(stars, (std::vector<std::string>{"b", "c_d"}));
  EXPECT_FALSE(GlobCapture("x?", "x", &stars));
  ASSERT_TRUE(GlobCapture("t?_*", "t1_rest", &stars));
  EXPECT_EQ(ApplyGlobTarget("new_*", stars), "new_rest");
}

std::optional<std::string> Tr(Engine from, Engine to, const std::string& expr, const std::string& type) {
  std::string why;
  return TranslateDefault(from, to, expr, type, &why);
}

TEST(Defaults, MysqlToPostgres) {
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "'it''s'", "text"), "'it''s'");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "'a\\\\b'", "text"), "'a\\b'");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "1", "boolean"), "true");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "0", "boolean"), "false");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "1.50", "numeric(5,2)"), "1.50");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "current_timestamp(6)", "timestamp(6)"), "CURRENT_TIMESTAMP");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "b'101'", "bit varying(5)"), "B'101'");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "'a,b'", "text[]"), "'{\"a\",\"b\"}'");
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "'0000-00-00'", "date"), std::nullopt);
  EXPECT_EQ(Tr(Engine::kMariadb, Engine::kPostgres, "(rand() * 10)", "integer"), std::nullopt);
}

TEST(Defaults, PostgresToMysql) {
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "'abc'::character varying", "varchar(10)"), "'abc'");
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "false", "tinyint(1)"), "0");
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "42", "int"), "42");
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "(0)::numeric", "decimal(5,2)"), "0");
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "now()", "datetime(6)"), "CURRENT_TIMESTAMP(6)");
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "'a\\b'::text", "longtext"), "'a\\\\b'");
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kMariadb, "nextval('s'::regclass) + 1", "int"), std::nullopt);
}

TEST(Defaults, SameEngineKeepsTheExpression) {
  EXPECT_EQ(Tr(Engine::kPostgres, Engine::kPostgres, "(random() * 10)", "integer"), "(random() * 10)");
}

TEST(Types, SameTypeKnowsSpellings) {
  EXPECT_TRUE(SameType(Engine::kPostgres, "character varying(5)", "varchar(5)"));
  EXPECT_TRUE(SameType(Engine::kPostgres, "timestamp(3) with time zone", "timestamptz(3)"));
  EXPECT_TRUE(SameType(Engine::kPostgres, "integer", "int4"));
  EXPECT_FALSE(SameType(Engine::kPostgres, "integer", "bigint"));
  EXPECT_FALSE(SameType(Engine::kPostgres, "varchar(5)", "varchar(6)"));
  EXPECT_TRUE(SameType(Engine::kMariadb, "int(11)", "int"));
  EXPECT_TRUE(SameType(Engine::kMariadb, "int(10) unsigned", "int unsigned"));
  EXPECT_FALSE(SameType(Engine::kMariadb, "int unsigned", "int"));
  EXPECT_TRUE(SameType(Engine::kMariadb, "tinyint(1)", "boolean"));
  EXPECT_FALSE(SameType(Engine::kMariadb, "tinyint(1)", "tinyint(4)"));
}

// COPY's binary form, built by hand after the documentation's layout: a header with a 4-byte
// extension, then tuples of two fields (one NULL), none, one empty, one of 300 bytes.
std::string BinaryCopyStream() {
  auto be = [](std::string* s, uint32_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  std::string s("PGCOPY\n\377\r\n\0", 11);
  be(&s, 0, 4);  // flags
  be(&s, 4, 4);  // extension length
  s += "ext!";
  be(&s, 2, 2);
  be(&s, 4, 4);
  be(&s, 42, 4);
  be(&s, 0xffffffff, 4);  // NULL
  be(&s, 0, 2);
  be(&s, 1, 2);
  be(&s, 0, 4);  // empty
  be(&s, 1, 2);
  be(&s, 300, 4);
  s += std::string(300, '\xff');  // bytes that look like a trailer and a NULL
  be(&s, 0xffff, 2);  // trailer
  return s;
}

TEST(BinaryCopyRows, CountsTuplesWhereverThePiecesEnd) {
  const std::string stream = BinaryCopyStream();
  auto count = [](const std::vector<std::string_view>& pieces) {
    BinaryCopyRows rows;
    int64_t n = 0;
    for (auto p : pieces) {
      auto fed = rows.Feed(p);
      EXPECT_TRUE(fed.ok()) << fed.status().ToString();
      if (fed.ok()) n += *fed;
    }
    EXPECT_TRUE(rows.ended());
    return n;
  };
  EXPECT_EQ(count({stream}), 4);
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < stream.size(); ++i) bytes.push_back(std::string_view(stream).substr(i, 1));
  EXPECT_EQ(count(bytes), 4);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    std::string_view v(stream);
    ASSERT_EQ(count({v.substr(0, cut), v.substr(cut)}), 4) << "cut at " << cut;
  }
}

TEST(BinaryCopyRows, WhatIsNotTheFormatIsAnError) {
  const std::string good = BinaryCopyStream();
  std::string unsigned_stream = good;
  unsigned_stream[0] = 'X';
  EXPECT_FALSE(BinaryCopyRows().Feed(unsigned_stream).ok());
  EXPECT_FALSE(BinaryCopyRows().Feed(good + "x").ok()) << "bytes after the trailer";
  std::string negative = good.substr(0, 23) + std::string("\xff\xfe", 2);  // field count -2
  EXPECT_FALSE(BinaryCopyRows().Feed(negative).ok());
}

TEST(BinaryCopyRows, OnlyBuiltInTypesTheDestinationSharesTravelInBinary) {
  Column src;
  ColumnMapping c;
  c.source = &src;
  auto safe = [&](const std::string& from, const std::string& to) {
    src.type = from;
    c.type = to;
    return PgBinaryCopySafe(c);
  };
  EXPECT_TRUE(safe("integer", "integer"));
  EXPECT_TRUE(safe("numeric(12,2)", "numeric(12,2)"));
  EXPECT_TRUE(safe("timestamp(3) with time zone", "timestamp(3) with time zone"));
  EXPECT_TRUE(safe("character varying(40)[]", "character varying(40)[]"));
  EXPECT_TRUE(safe("interval day to second(3)", "interval day to second(3)"));
  EXPECT_FALSE(safe("intervals", "intervals")) << "a user's type whose name starts like a built-in one";
  EXPECT_FALSE(safe("integer", "bigint")) << "a binary int4 is no int8";
  EXPECT_FALSE(safe("mood", "mood")) << "a user's type";
  EXPECT_FALSE(safe("public.mood[]", "public.mood[]")) << "an array names its element type's OID";
  EXPECT_FALSE(safe("geometry(Point,4326)", "geometry(Point,4326)")) << "an extension's type";
}

// MySQL values in PostgreSQL's binary COPY form, each after its 4-byte length.
std::string Binary(ValuePlan::Binary kind, std::optional<std::string_view> value, Status* st = nullptr) {
  ValuePlan p;
  p.binary = kind;
  std::string out;
  Status s = AppendValue(p, value, Format::kCopyBinary, &out);
  if (st != nullptr) *st = s;
  else EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// Which MySQL columns go in binary into PostgreSQL: a table goes in binary only when all of
// its columns do, so one type wrongly left out sends the whole table back to text.
TEST(BinaryCopyValues, MysqlTypesWithABinaryForm) {
  auto binary = [](const std::string& from, const std::string& to) {
    Column src;
    src.name = "c";
    src.type = from;
    ColumnMapping c;
    c.source = &src;
    c.name = "c";
    c.type = to;
    return PlanValue(Engine::kMariadb, Engine::kPostgres, c, ir::ZeroDates::kNull).binary != ValuePlan::Binary::kNone;
  };
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"bigint(20) unsigned", "numeric(20,0)"}, {"int(11)", "integer"}, {"smallint(6)", "smallint"},
           {"bigint(20)", "bigint"}, {"tinyint(4)", "smallint"}, {"decimal(12,2)", "numeric(12,2)"},
           {"float", "real"}, {"double", "double precision"}, {"tinyint(1)", "boolean"},
           {"varchar(10)", "character varying(10)"}, {"char(5)", "character(5)"}, {"text", "text"},
           {"enum('x','y')", "text"}, {"json", "jsonb"}, {"blob", "bytea"}, {"varbinary(8)", "bytea"}, {"date", "date"},
           {"datetime(3)", "timestamp(3) without time zone"}, {"timestamp(6)", "timestamp(6) with time zone"}}) {
    EXPECT_TRUE(binary(from, to)) << from << " -> " << to;
  }
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"bit(5)", "bit varying(5)"}, {"set('a','b')", "text[]"}, {"time", "time without time zone"},
           {"double", "numeric"}, {"varchar(10)", "integer"}}) {
    EXPECT_FALSE(binary(from, to)) << from << " -> " << to;
  }
}

TEST(BinaryCopyValues, NumbersDatesAndTimesAsPostgresReadsThem) {
  using B = ValuePlan::Binary;
  EXPECT_EQ(Binary(B::kInt4, std::nullopt), Bytes({0xff, 0xff, 0xff, 0xff})) << "NULL is length -1";
  EXPECT_EQ(Binary(B::kInt2, "-2"), Bytes({0, 0, 0, 2, 0xff, 0xfe}));
  EXPECT_EQ(Binary(B::kInt4, "2147483647"), Bytes({0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff}));
  EXPECT_EQ(Binary(B::kInt8, "-9223372036854775808"), Bytes({0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  Status st;
  Binary(B::kInt2, "32768", &st);
  EXPECT_FALSE(st.ok()) << "out of range for smallint";
  // numeric: digit count, weight, sign, display scale, then base-10000 digits.
  EXPECT_EQ(Binary(B::kNumeric, "-12.50"), Bytes({0, 0, 0, 12, 0, 2, 0, 0, 0x40, 0, 0, 2, 0, 12, 0x13, 0x88}));
  EXPECT_EQ(Binary(B::kNumeric, "0.0001"), Bytes({0, 0, 0, 10, 0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 1}));
  EXPECT_EQ(Binary(B::kNumeric, "10000"), Bytes({0, 0, 0, 10, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Binary(B::kNumeric, "-0.00"), Bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2})) << "zero has no sign";
  EXPECT_EQ(Binary(B::kNumeric, "18446744073709551615"),
            Bytes({0, 0, 0, 18, 0, 5, 0, 4, 0, 0, 0, 0, 0x07, 0x34, 0x1a, 0x58, 0x02, 0xe1, 0x03, 0xbb, 0x06, 0x4f}));
  Binary(B::kNumeric, "1e5", &st);
  EXPECT_FALSE(st.ok());
  double d = 0.30000000000000004;
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  std::string want = Bytes({0, 0, 0, 8});
  for (int i = 7; i >= 0; --i) want.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  EXPECT_EQ(Binary(B::kFloat8, "0.30000000000000004"), want);
  // dates: days since 2000-01-01; timestamps: microseconds since its midnight.
  EXPECT_EQ(Binary(B::kDate, "2000-01-01"), Bytes({0, 0, 0, 4, 0, 0, 0, 0}));
  EXPECT_EQ(Binary(B::kDate, "1999-12-31"), Bytes({0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(Binary(B::kDate, "2024-02-29"), Bytes({0, 0, 0, 4, 0, 0, 0x22, 0x79}));  // 8825
  EXPECT_EQ(Binary(B::kTimestamp, "2000-01-01 00:00:00.000001"), Bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Binary(B::kTimestamp, "1999-12-31 23:59:59.5"),
            Bytes({0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8, 0x5e, 0xe0}));  // -500000
  for (const char* bad : {"2024-13-01 00:00:00", "2021-02-29 00:00:00", "2021-04-31 10:00:00", "2024-01-01 24:00:00",
                          "2024-01-01 10:60:00"}) {
    Binary(B::kTimestamp, bad, &st);
    EXPECT_NE(st.message().find("not a date PostgreSQL can hold"), std::string::npos) << bad << ": " << st.ToString();
  }
  EXPECT_EQ(Binary(B::kDate, "2000-02-29"), Bytes({0, 0, 0, 4, 0, 0, 0, 59})) << "a leap day";
  Binary(B::kDate, "1900-02-29", &st);
  EXPECT_FALSE(st.ok()) << "1900 was not a leap year";
  Binary(B::kInt4, "2147483648", &st);
  EXPECT_NE(st.message().find("out of range for PostgreSQL integer"), std::string::npos) << st.ToString();
  Binary(B::kFloat4, "1e39", &st);
  EXPECT_NE(st.message().find("PostgreSQL's real"), std::string::npos) << st.ToString();
  // booleans, text, json and bytes.
  EXPECT_EQ(Binary(B::kBool, "1"), Bytes({0, 0, 0, 1, 1}));
  Binary(B::kBool, "2", &st);
  EXPECT_NE(st.message().find("cannot become a boolean"), std::string::npos) << st.ToString();
  EXPECT_EQ(Binary(B::kJsonb, "[]"), Bytes({0, 0, 0, 3, 1, '[', ']'})) << "jsonb's format version first";
  EXPECT_EQ(Binary(B::kText, ""), Bytes({0, 0, 0, 0}));
  Binary(B::kText, std::string_view("a\0b", 3), &st);
  EXPECT_NE(st.message().find("NUL byte"), std::string::npos);
  EXPECT_EQ(Binary(B::kBytea, std::string_view("\0\xff", 2)), Bytes({0, 0, 0, 2, 0, 0xff}));
}

}  // namespace
// verify's JSON from MySQL, printed as PostgreSQL prints jsonb (checked against the server in
// it.Pairs/VerifyPairs).
TEST(Normalize, JsonbTextIsHowPostgresPrintsJsonb) {
  EXPECT_EQ(JsonbText(R"({"tags": ["a", 1], "n": 1, "bb": {"y": true, "x": null}})"),
            R"({"n": 1, "bb": {"x": null, "y": true}, "tags": ["a", 1]})");
  EXPECT_EQ(JsonbText(R"({"b":1.50,"a":[1e2,1E+2,1.5e1,1.25e-1,-0,-0.0,1e-2,"\u00e9\n\/"]})"),
            "{\"a\": [100, 100, 15, 0.125, 0, 0.0, 0.01, \"\xC3\xA9\\n/\"], \"b\": 1.50}");
  EXPECT_EQ(JsonbText(R"({"a": 1, "a": 2})"), R"({"a": 2})");
  EXPECT_EQ(JsonbText(R"(["\ud83d\ude00", "\u0001"])"), "[\"\xF0\x9F\x98\x80\", \"\\u0001\"]");
  EXPECT_EQ(JsonbText("  {}  "), "{}");
  EXPECT_EQ(JsonbText("{not json"), "invalid json: {not json");
  EXPECT_NE(JsonbText(R"({"a": 1})"), JsonbText(R"({"a": "1"})"));
}

// The values Ferry finishes on a MySQL side compared with PostgreSQL: the same text the SQL
// of normalize.cc gives on the other side (checked against the servers in it.Pairs/VerifyPairs).
TEST(Normalize, FinishedValuesAreTheCanonicalText) {
  std::string buf;
  auto f = [&](Finish how, std::string_view raw) -> std::string {
    auto v = FinishValue(how, raw, &buf);
    return v ? std::string(*v) : std::string("NULL");
  };
  // Floats: as PostgreSQL prints a double (the shortest round-trip digits, plain from 1e-4 to
  // below 1e15, else d.ddde+XX); -0 is 0. it.Verify.FerryPrintsDoublesAsPostgresDoes holds
  // these to the server's own text for many more.
  EXPECT_EQ(f(Finish::kFloat, "0"), "0");
  EXPECT_EQ(f(Finish::kFloat, "-0"), "0");
  EXPECT_EQ(f(Finish::kFloat, "142.85714285714286"), "142.85714285714286");
  EXPECT_EQ(f(Finish::kFloat, "0.30000000000000004"), "0.30000000000000004");
  EXPECT_EQ(f(Finish::kFloat, "100"), "100");
  EXPECT_EQ(f(Finish::kFloat, "1e14"), "100000000000000");
  EXPECT_EQ(f(Finish::kFloat, "1e15"), "1e+15");
  EXPECT_EQ(f(Finish::kFloat, "1234567890123456"), "1.234567890123456e+15");
  EXPECT_EQ(f(Finish::kFloat, "-0.0001"), "-0.0001");
  EXPECT_EQ(f(Finish::kFloat, "0.00001"), "1e-05");
  EXPECT_EQ(f(Finish::kFloat, "-1.5e-14"), "-1.5e-14");
  EXPECT_EQ(f(Finish::kFloat, "-1.7976931348623157e308"), "-1.7976931348623157e+308");
  EXPECT_EQ(f(Finish::kFloat, "5e-324"), "5e-324");
  EXPECT_EQ(f(Finish::kFloat, "not a number"), "not a number");
  // Dates and datetimes: the fraction without its trailing zeros; zero dates NULL only when asked.
  EXPECT_EQ(f(Finish::kDateTime, "2024-01-01 10:00:00.500000"), "2024-01-01 10:00:00.5");
  EXPECT_EQ(f(Finish::kDateTime, "2024-01-01 10:00:00.000"), "2024-01-01 10:00:00");
  EXPECT_EQ(f(Finish::kDateTime, "2024-01-01 10:20:00"), "2024-01-01 10:20:00");
  EXPECT_EQ(f(Finish::kDateTime, "0000-00-00 00:00:00"), "0000-00-00 00:00:00");
  EXPECT_EQ(f(Finish::kDateTimeZeroNull, "0000-00-00 00:00:00.000"), "NULL");
  EXPECT_EQ(f(Finish::kDateTimeZeroNull, "2024-00-10"), "NULL");
  EXPECT_EQ(f(Finish::kDateTimeZeroNull, "2024-05-00 10:00:00"), "NULL");
  EXPECT_EQ(f(Finish::kDateTimeZeroNull, "2024-05-10 10:00:00.120"), "2024-05-10 10:00:00.12");
  EXPECT_EQ(f(Finish::kJsonb, R"({"b":1,"a":2})"), R"({"a": 2, "b": 1})");
  EXPECT_EQ(f(Finish::kNone, "as it is "), "as it is ");
}

// What PostgreSQL 15 (x86-64) answered to `SELECT hashtextextended(s, 0), hashtextextended(s, 42)`:
// every length of lookup3's tail (0 to 11 bytes past a 12-byte block), and multibyte UTF-8.
// it.Verify.FerryHashesTextAsPostgresDoes checks many more against the live server.
TEST(RowHash, PgHashTextExtendedIsWhatPostgresComputes) {
  struct Case {
    const char* text;
    int64_t seed0, seed42;
  };
  const Case cases[] = {
      {"", -6939563903564495251, 6158832220375811857},
      {"a", 3591986179850072241, 6942402718208252407},
      {"abc", -6747756470228489321, 4423357919252764502},
      {"abcd", -1038429303365892052, 8078444844130423812},
      {"abcdefgh", -8882191227074733005, -6100851256988995111},
      {"abcdefghi", -3278210106038014113, -2685125201776515235},
      {"abcdefghijk", 3112909444737856467, 82226251194666265},
      {"abcdefghijkl", -7556637188122330412, 6421059121120153082},
      {"abcdefghijklm", 8871624171452417744, -1560994830268275841},
      {"Ferry|12:row text|N|2024-01-01 00:00:01.5", -324579504026675047, 1246701049177911953},
      {"\xC3\x84pfel \xCE\xA9 \xC3\x9F \xF0\x9F\x9A\xA2", -1860587763430960510, -5378888004646639136},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(static_cast<int64_t>(PgHashTextExtended(c.text)), c.seed0);
    EXPECT_EQ(static_cast<int64_t>(PgHashTextExtended(c.text, 42)), c.seed42);
  }
}

// The known answer of Alibaba Cloud's signature documentation (RPC style, HMAC-SHA1, 1.0).
TEST(CloudSignature, KnownAnswerFromTheDocumentation) {
  cloud::Params p = {{"AccessKeyId", "testid"},
                     {"Action", "DescribeRegions"},
                     {"Format", "XML"},
                     {"SignatureMethod", "HMAC-SHA1"},
                     {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
                     {"SignatureVersion", "1.0"},
                     {"Timestamp", "2016-02-23T12:46:24Z"},
                     {"Version", "2014-05-26"}};
  const std::string sts = cloud::StringToSign("GET", p);
  EXPECT_EQ(sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26"
            "SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-"
            "23T12%253A46%253A24Z%26Version%3D2014-05-26");
  EXPECT_EQ(cloud::Sign(sts, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  EXPECT_NE(cloud::Sign(sts, "testsecreT"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
}

TEST(CloudSignature, PercentEncodingIsRfc3986) {
  EXPECT_EQ(cloud::PercentEncode("a b*c~d+e/f:g=h&i"), "a%20b%2Ac~d%2Be%2Ff%3Ag%3Dh%26i");
  EXPECT_EQ(cloud::PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(cloud::PercentEncode("\xC3\xA9"), "%C3%A9");
  // Names sort by byte order, so upper case comes before lower case.
  EXPECT_EQ(cloud::CanonicalQuery({{"b", "1"}, {"B", "2"}, {"a", "x y"}}), "B=2&a=x%20y&b=1");
}

TEST(CloudSignature, TimestampsAreUtcIso8601) {
  std::chrono::system_clock::time_point t;
  ASSERT_TRUE(cloud::ParseIsoTimestamp("2016-02-23T12:46:24Z", &t));
  EXPECT_EQ(cloud::IsoTimestamp(t), "2016-02-23T12:46:24Z");
  ASSERT_TRUE(cloud::ParseIsoTimestamp("2016-02-23T12:46:24.250Z", &t));
  EXPECT_EQ(cloud::IsoTimestamp(t), "2016-02-23T12:46:24Z");
  EXPECT_FALSE(cloud::ParseIsoTimestamp("2016-02-23 12:46:24", &t));
  EXPECT_FALSE(cloud::ParseIsoTimestamp("2016-02-23T12:46:24+08:00", &t));
  EXPECT_NE(cloud::NewNonce(), cloud::NewNonce());
  EXPECT_EQ(cloud::NewNonce().size(), 36u);
}

// Plain http carries credentials only to this machine: by address, not by how a name begins.
TEST(CloudApi, PlainHttpOnlyToALoopbackAddress) {
  EXPECT_TRUE(ir::IsLoopbackUrl("http://127.0.0.1:8080/"));
  EXPECT_TRUE(ir::IsLoopbackUrl("http://127.1.2.3"));
  EXPECT_TRUE(ir::IsLoopbackUrl("http://localhost:9/x"));
  EXPECT_TRUE(ir::IsLoopbackUrl("http://[::1]:8080"));
  EXPECT_FALSE(ir::IsLoopbackUrl("http://127.example.com"));
  EXPECT_FALSE(ir::IsLoopbackUrl("http://127.0.0.1.attacker.example"));
  EXPECT_FALSE(ir::IsLoopbackUrl("http://user@10.0.0.1/"));
  EXPECT_FALSE(ir::IsLoopbackUrl("http://localhost.example.com"));
  EXPECT_FALSE(ir::IsLoopbackUrl("https://sts.aliyuncs.com"));
}

TEST(CloudApi, RedactRemovesCredentialsInEveryEncoding) {
  cloud::Credentials c;
  c.access_key_id = "STS.NTabc";
  c.access_key_secret = "edac";  // overlaps "[redacted]" itself
  c.security_token = "CAIS a/b+c=";
  EXPECT_EQ(cloud::Redact("id STS.NTabc token CAIS%20a%2Fb%2Bc%3D twice CAIS%2520a%252Fb%252Bc%253D edac", c),
            "id [redacted] token [redacted] twice [redacted] [redacted]");
  EXPECT_EQ(cloud::Redact("nothing here", c), "nothing here");
}

TEST(CloudApi, JsonTextReadsStringsAndNumbersOnly) {
  auto j = nlohmann::json::parse(R"({"s": "x", "n": 3306, "z": null, "a": [1], "o": {}})");
  EXPECT_EQ(cloud::JsonText(j, "s"), "x");
  EXPECT_EQ(cloud::JsonText(j, "n"), "3306");
  EXPECT_EQ(cloud::JsonText(j, "z"), "");
  EXPECT_EQ(cloud::JsonText(j, "a"), "");
  EXPECT_EQ(cloud::JsonText(j, "o"), "");
  EXPECT_EQ(cloud::JsonText(j, "missing"), "");
  EXPECT_EQ(cloud::JsonText(nlohmann::json::parse("[1]"), "s"), "");
}

TEST(CloudApi, DefaultRdsEndpointFollowsTheApiReference) {
  EXPECT_EQ(cloud::DefaultRdsEndpoint("cn-hangzhou"), "https://rds.aliyuncs.com");
  EXPECT_EQ(cloud::DefaultRdsEndpoint("cn-shanghai"), "https://rds.aliyuncs.com");
  EXPECT_EQ(cloud::DefaultRdsEndpoint("eu-central-1"), "https://rds.eu-central-1.aliyuncs.com");
  EXPECT_EQ(cloud::DefaultRdsEndpoint("cn-zhangjiakou"), "https://rds.cn-zhangjiakou.aliyuncs.com");
}

}  // namespace ferry::runtime
