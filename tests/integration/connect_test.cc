// Connectors against the real servers: TLS modes (with the CA and certificates
// scripts/servers generated), authentication, secrets, and the mapping of native errors to
// runtime codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "runtime/connection.h"
#include "runtime/secrets.h"
#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

using runtime::Code;

class Connectors : public ::testing::TestWithParam<Server (*)()> {};

runtime::StatusOr<std::unique_ptr<runtime::Connection>> Try(runtime::ConnectOptions o) { return runtime::Connect(o); }

TEST_P(Connectors, DisableMeansPlaintext) {
  auto o = Options(GetParam()());
  o.tls = ir::Tls::kDisable;
  auto c = Try(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->server().tls, "");
}

TEST_P(Connectors, PreferAndRequireEncrypt) {
  for (auto mode : {ir::Tls::kPrefer, ir::Tls::kRequire}) {
    auto o = Options(GetParam()());
    o.tls = mode;
    auto c = Try(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_NE((*c)->server().tls, "") << "mode " << static_cast<int>(mode) << " did not encrypt";
  }
}

TEST_P(Connectors, VerifyCaAcceptsTheRightCaAndRefusesAnother) {
  auto o = Options(GetParam()());
  o.tls = ir::Tls::kVerifyCa;
  o.ca = CaFile();
  auto good = Try(o);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_NE((*good)->server().tls, "");
  o.ca = OtherCaFile();
  auto bad = Try(o);
  ASSERT_FALSE(bad.ok()) << "verify_ca accepted a certificate its CA did not sign";
  EXPECT_EQ(bad.status().code(), Code::kTlsFailure) << bad.status().ToString();
}

TEST_P(Connectors, VerifyFullChecksTheHostName) {
  // The server certificate names `localhost` only.
  auto o = Options(GetParam()());
  o.tls = ir::Tls::kVerifyFull;
  o.ca = CaFile();
  o.host = "localhost";
  auto good = Try(o);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_NE((*good)->server().tls, "");

  o.host = "127.0.0.1";  // the right server, a certificate with a wrong host name
  auto bad = Try(o);
  ASSERT_FALSE(bad.ok()) << "verify_full accepted a certificate for another host name";
  EXPECT_EQ(bad.status().code(), Code::kTlsFailure) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("cannot connect to endpoint"), std::string::npos);

  o.tls = ir::Tls::kVerifyCa;  // the same certificate passes when only the chain is checked
  EXPECT_TRUE(Try(o).ok());
}

TEST_P(Connectors, WrongPasswordIsUnauthenticatedAndNeverShown) {
  auto o = Options(GetParam()());
  o.password = "not-the-password-8213";
  auto c = Try(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated) << c.status().ToString();
  EXPECT_EQ(c.status().ToString().find("not-the-password-8213"), std::string::npos);
  EXPECT_NE(c.status().message().find("password secret"), std::string::npos) << "no hint: " << c.status().ToString();
}

TEST_P(Connectors, ClosedPortIsUnavailable) {
  auto o = Options(GetParam()());
  o.port = 1;  // nothing listens on port 1
  auto c = Try(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable) << c.status().ToString();
}

TEST_P(Connectors, NativeErrorsMapToCodes) {
  Server s = GetParam()();
  std::string db = "it_errors";
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  std::string t = s.engine == ir::Engine::kPostgres ? "public.t" : "t";
  Exec(*c, {"CREATE TABLE " + t + " (id int PRIMARY KEY)"});
  EXPECT_EQ(c->Execute("CREATE TABLE " + t + " (id int)").code(), Code::kAlreadyExists);
  EXPECT_EQ(c->Execute("SELECT * FROM no_such_table_here").code(), Code::kNotFound);
  EXPECT_EQ(c->Execute("SELEKT 1").code(), Code::kInvalidArgument);
  auto st = c->Execute("INSERT INTO " + t + " VALUES (1), (1)");
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.native(), "") << "the engine's own code is kept for the reader";
  // A second statement smuggled after a `;` never runs.
  EXPECT_FALSE(c->Execute("SELECT 1; DROP TABLE " + t).ok());
  EXPECT_TRUE(c->Query("SELECT count(*) FROM " + t).ok()) << "the table was dropped";
  // A read-only session refuses writes.
  ASSERT_TRUE(c->SetReadOnly().ok());
  auto ro = c->Execute("INSERT INTO " + t + " VALUES (2)");
  EXPECT_FALSE(ro.ok());
}

TEST_P(Connectors, PermissionDeniedIsItsOwnCode) {
  Server s = GetParam()();
  std::string db = "it_perm";
  FreshDatabase(s, db);
  auto admin = Admin(s, db);
  ASSERT_NE(admin, nullptr);
  if (s.engine == ir::Engine::kPostgres) {
    Exec(*admin, {"DROP ROLE IF EXISTS it_reader", "CREATE ROLE it_reader LOGIN PASSWORD '" + Password() + "'",
                  "CREATE TABLE public.secret_t (id int)"});
  } else {
    Exec(*admin, {"DROP USER IF EXISTS 'it_reader'@'%'", "CREATE USER 'it_reader'@'%' IDENTIFIED BY '" + Password() + "'",
                  "CREATE TABLE secret_t (id int)"});
  }
  auto o = Options(s, s.engine == ir::Engine::kPostgres ? db : "");
  o.user = "it_reader";
  auto c = Try(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string t = s.engine == ir::Engine::kPostgres ? "public.secret_t" : "it_perm.secret_t";
  EXPECT_EQ((*c)->Execute("SELECT * FROM " + t).code(), Code::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Engines, Connectors, ::testing::Values(&Mariadb, &Postgres),
                         [](const auto& p) { return std::string(p.param().name); });

// Bulk loads into the MySQL family use LOAD DATA LOCAL, served from memory: a server (or a
// statement) asking for a file outside a bulk load is refused, and the bulk load's own input
// is all a server ever gets, whatever file name it asks for.
TEST(LocalInfile, OnlyTheBulkLoadInProgressIsServedNeverAFile) {
  Server s = Mariadb();
  std::string db = "it_infile";
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"CREATE TABLE t (line text)"});
  std::string file = ScratchPath("readable.txt");
  { std::ofstream(file) << "a line Ferry must never send\n"; }
  auto st = c->Execute("LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE t");
  EXPECT_FALSE(st.ok()) << "a file was read from disk";
  struct Piece : runtime::ByteSource {
    bool sent = false;
    runtime::StatusOr<bool> Read(std::string* out) override {
      if (sent) return false;
      sent = true;
      out->append("from memory\n");
      return true;
    }
  } piece;
  EXPECT_TRUE(c->BulkLoad("LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE t", piece).ok());
  auto rows = c->Query("SELECT line FROM t");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0], "from memory");
}

// The binary protocol's cursor gives every value as the text protocol prints it: integers of
// every width (unsigned, ZEROFILL, YEAR), dates, datetimes and times with and without a
// fraction (zero dates, negative and long times), decimals, strings and bytes longer than its
// first buffer, and NULLs; doubles as the same double (the two may print it differently:
// 1e15 and 1e+15).
TEST(BinaryCursor, GivesWhatTheTextProtocolGives) {
  Server s = Mariadb();
  std::string db = "it_binary_cursor";
  FreshDatabase(s, db);
  auto c = Admin(s, db);
  ASSERT_NE(c, nullptr);
  Exec(*c, {"SET SESSION sql_mode = ''",
            "CREATE TABLE t (k int PRIMARY KEY, ti tinyint, tu tinyint unsigned, si smallint, mi mediumint unsigned, "
            "i int, z int(6) zerofill, bi bigint, bu bigint unsigned, y year, d double, f float, dec1 decimal(30,10), "
            "dt date, dtt datetime, dt3 datetime(3), dt6 datetime(6), ts6 timestamp(6) NULL, tm time, tm6 time(6), "
            "v varchar(300), b blob, lb longblob, bits bit(10), e enum('a','b'), st set('x','y'), j json)",
            "INSERT INTO t VALUES (1, -128, 255, -32768, 16777215, -2147483648, 42, -9223372036854775808, "
            "18446744073709551615, 2155, 1e15, 1.5, -12345678901234567890.0123456789, '1000-01-01', "
            "'9999-12-31 23:59:59', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.000001', "
            "'2038-01-19 03:14:07.999999', '-838:59:59', '123:04:05.5', REPEAT('é', 300), "
            "REPEAT(x'00ff', 200), REPEAT('long ', 40000), b'1010101010', 'b', 'x,y', '{\"a\": [1, 2.50, null]}')",
            "INSERT INTO t VALUES (2, 127, 0, 32767, 0, 2147483647, 0, 9223372036854775807, 0, 0, -0.000001, 0, 0, "
            "'0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2024-01-01 00:00:00', '1970-01-01 00:00:01', "
            "'00:00:00', '-00:00:00.000001', '', '', '', b'0', 'a', '', '[]')",
            "INSERT INTO t (k) VALUES (3)"});
  const std::string sql = "SELECT *, CAST(d AS DOUBLE), CAST(f AS DOUBLE), 'const', NULL FROM t ORDER BY k";
  auto text = c->OpenCursor(sql, true);
  ASSERT_TRUE(text.ok()) << text.status().message();
  std::vector<std::vector<std::optional<std::string>>> expected;
  while (true) {
    auto more = (*text)->Next();
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (!*more) break;
    std::vector<std::optional<std::string>> row;
    for (size_t i = 0; i < 31; ++i) {
      auto v = (*text)->Get(i);
      row.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
    }
    expected.push_back(std::move(row));
  }
  text->reset();
  ASSERT_EQ(expected.size(), 3u);
  const std::set<size_t> doubles = {10, 11, 27, 28};  // d, f and the two casts
  for (int round = 0; round < 2; ++round) {  // twice: a cursor's statement is closed with it
    auto bin = c->OpenBinaryCursor(sql);
    ASSERT_TRUE(bin.ok()) << bin.status().message();
    for (size_t r = 0; r < expected.size(); ++r) {
      auto more = (*bin)->Next();
      ASSERT_TRUE(more.ok()) << more.status().message();
      ASSERT_TRUE(*more);
      for (size_t i = 0; i < 31; ++i) {
        auto v = (*bin)->Get(i);
        const auto& want = expected[r][i];
        ASSERT_EQ(v.has_value(), want.has_value()) << "row " << r << " column " << i;
        if (!v) continue;
        if (doubles.count(i) > 0 && i != 11) {  // FLOAT itself prints 6 digits as text
          EXPECT_EQ(std::strtod(std::string(*v).c_str(), nullptr), std::strtod(want->c_str(), nullptr))
              << "row " << r << " column " << i << ": " << *v << " vs " << *want;
        } else if (i != 11) {
          EXPECT_EQ(std::string(*v), *want) << "row " << r << " column " << i;
        }
      }
    }
    auto end = (*bin)->Next();
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(*end);
  }
  // A cursor left early leaves the connection usable, and errors come as the server's.
  {
    auto bin = c->OpenBinaryCursor(sql);
    ASSERT_TRUE(bin.ok());
    ASSERT_TRUE((*bin)->Next().ok());
  }
  auto after = c->Query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(after->rows[0][0], "3");
  auto bad = c->OpenBinaryCursor("SELECT nope FROM t");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nope"), std::string::npos) << bad.status().message();
  // An error while the rows stream (here the query killed) is the server's, with its code.
  auto many = c->OpenBinaryCursor("SELECT a.seq, REPEAT('x', 200) FROM seq_1_to_3000 a, seq_1_to_1000 b");
  ASSERT_TRUE(many.ok()) << many.status().message();
  ASSERT_TRUE((*many)->Next().ok());
  ASSERT_TRUE(c->Cancel().ok());
  runtime::Status failed;
  for (int i = 0; i < 3000000 && failed.ok(); ++i) {
    auto more = (*many)->Next();
    if (!more.ok()) failed = more.status();
    else if (!*more) break;
  }
  ASSERT_FALSE(failed.ok()) << "the killed query's rows all came";
  EXPECT_EQ(failed.code(), Code::kCancelled) << failed.message();
  EXPECT_NE(failed.message().find("interrupted"), std::string::npos) << failed.message();
}

TEST(Secrets, EnvAndFile) {
  setenv("FERRY_IT_SECRET", "s3cr3t-value", 1);
  auto env = runtime::ResolveSecret({"env", "FERRY_IT_SECRET"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, "s3cr3t-value");
  auto file = runtime::ResolveSecret({"file", PasswordFile()});
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, Password());
  auto missing = runtime::ResolveSecret({"env", "FERRY_IT_NOT_SET_ANYWHERE"});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("FERRY_IT_NOT_SET_ANYWHERE"), std::string::npos);
  auto nofile = runtime::ResolveSecret({"file", "/nonexistent/ferry/secret"});
  EXPECT_EQ(nofile.status().code(), Code::kNotFound);
}

TEST(Secrets, ConnectingReadsThePasswordFromTheSecret) {
  ir::Endpoint ep;
  ep.name = "src";
  ep.engine = ir::Engine::kPostgres;
  ep.host = "127.0.0.1";
  ep.port = Postgres().port;
  ep.database = "postgres";
  ep.user = "postgres";
  ep.tls = ir::Tls::kDisable;
  setenv("FERRY_IT_PG_PASSWORD", Password().c_str(), 1);
  ep.password = ir::Secret{"env", "FERRY_IT_PG_PASSWORD"};
  auto o = runtime::OptionsFor(ir::Plan{}, ir::Migration{}, ep);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(runtime::Connect(*o).ok());
  unsetenv("FERRY_IT_PG_PASSWORD");
  auto again = runtime::OptionsFor(ir::Plan{}, ir::Migration{}, ep);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("endpoint src"), std::string::npos);
}

}  // namespace
}  // namespace ferry::testing
