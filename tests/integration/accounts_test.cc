// accounts = true: the source's accounts, roles, password hashes and grants are recreated in
// the destination, following the plan's renames, and the password still works there.
#include <gtest/gtest.h>

#include "tests/integration/servers.h"

namespace ferry::testing {
namespace {

TEST(Accounts, MigratedWithTheirHashesAndRenamedGrants) {
  Server src = Mariadb(), dst = MariadbPlain();
  FreshDatabase(src, "it_acc_src");
  auto s = Admin(src, "it_acc_src");
  ASSERT_NE(s, nullptr);
  Exec(*s, {"CREATE TABLE t (id int PRIMARY KEY, note varchar(20))",
            "DROP USER IF EXISTS 'it_app'@'%'", "DROP ROLE IF EXISTS it_role",
            "CREATE ROLE it_role", "GRANT SELECT ON `it_acc_src`.* TO it_role",
            "CREATE USER 'it_app'@'%' IDENTIFIED BY 'app-pw-4471'",
            "GRANT SELECT ON `it_acc_src`.* TO 'it_app'@'%'",
            "GRANT INSERT (note) ON `it_acc_src`.`t` TO 'it_app'@'%'",
            "GRANT SELECT ON `some_other_db`.* TO 'it_app'@'%'",
            "GRANT it_role TO 'it_app'@'%'"});
  auto d = Admin(dst);
  ASSERT_NE(d, nullptr);
  Exec(*d, {"DROP DATABASE IF EXISTS it_acc_dst", "DROP USER IF EXISTS 'it_app'@'%'", "DROP ROLE IF EXISTS it_role",
            "CREATE USER 'it_app'@'%' IDENTIFIED BY 'someone-elses-pw'"});
  auto plan_with = [&](const std::string& conflicts) {
    return WritePlan("accounts_" + conflicts,
                     Endpoint("src", src, "") + Endpoint("dst", dst, "") +
                         "migration m {\n  from = src\n  to = dst\n  stages = [schema]\n  conflicts = " + conflicts +
                         "\n  accounts = true\n  objects {\n    schema it_acc_src -> it_acc_dst {\n"
                         "      table t -> t2 {\n        column note -> remark\n      }\n    }\n  }\n}\n");
  };
  // An account of the same name in the destination is someone else's: report stops.
  auto clash = RunFerry({"precheck", plan_with("report")});
  EXPECT_EQ(clash.exit, 1) << clash.out;
  EXPECT_NE(clash.out.find("objects: account it_app@%\n         [A001] already exists in the destination"), std::string::npos)
      << clash.out;
  Exec(*d, {"DROP USER 'it_app'@'%'"});
  // Other tests create accounts on the same servers; `ignore` keeps whatever is there.
  std::string plan = plan_with("ignore");
  auto dry = RunFerry({"plan", plan, "--dry-run"});
  ASSERT_EQ(dry.exit, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("CREATE USER IF NOT EXISTS `it_app`@`%`"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("<credential from the source>"), std::string::npos) << dry.out;
  auto hash = s->Query("SELECT authentication_string FROM mysql.user WHERE User = 'it_app'");
  ASSERT_TRUE(hash.ok() && !hash->rows.empty() && hash->rows[0][0]);
  ASSERT_FALSE(hash->rows[0][0]->empty());
  EXPECT_EQ(dry.out.find(*hash->rows[0][0]), std::string::npos) << "the dry run shows a password hash";

  auto pre = RunFerry({"precheck", plan});
  EXPECT_NE(pre.out.find("pass P140"), std::string::npos) << pre.out;

  auto run = RunFerry({"apply", plan});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find(*hash->rows[0][0]), std::string::npos) << "apply printed a password hash";
  EXPECT_EQ(run.err.find(*hash->rows[0][0]), std::string::npos) << "apply printed a password hash";
  EXPECT_NE(run.out.find("some_other_db"), std::string::npos) << "the grant left out is not reported:\n" << run.out;

  // The account works in the destination with its source password.
  auto o = Options(dst);
  o.user = "it_app";
  o.password = "app-pw-4471";
  auto app = runtime::Connect(o);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  auto grants = (*app)->Query("SHOW GRANTS FOR CURRENT_USER()");
  ASSERT_TRUE(grants.ok());
  std::string all;
  for (const auto& r : grants->rows) all += r[0].value_or("") + "\n";
  EXPECT_NE(all.find("GRANT SELECT ON `it_acc_dst`.* TO `it_app`@`%`"), std::string::npos) << all;
  EXPECT_NE(all.find("INSERT (`remark`) ON `it_acc_dst`.`t2`"), std::string::npos) << all;
  EXPECT_NE(all.find("GRANT `it_role` TO `it_app`@`%`"), std::string::npos) << all;
  EXPECT_EQ(all.find("some_other_db"), std::string::npos) << all;
  EXPECT_TRUE((*app)->Query("SELECT count(*) FROM it_acc_dst.t2").ok());
}

}  // namespace
}  // namespace ferry::testing
