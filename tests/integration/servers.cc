#include "tests/integration/servers.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/sql.h"

namespace ferry::testing {

namespace {
std::string Dir() { return FERRY_TEST_SERVERS_DIR; }

// This process's scratch directory (plans, command output), removed when the process ends.
std::filesystem::path Scratch() {
  struct Owned {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("ferry-it-" + std::to_string(getpid()));
    ~Owned() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Owned owned;
  std::filesystem::create_directories(owned.path);
  return owned.path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

Server Mariadb() { return {ir::Engine::kMariadb, FERRY_TEST_MARIADB_PORT, "mariadb"}; }
Server MariadbPlain() { return {ir::Engine::kMariadb, FERRY_TEST_MARIADB2_PORT, "mariadb_plain"}; }
Server Postgres() { return {ir::Engine::kPostgres, FERRY_TEST_PG_PORT, "postgres"}; }
Server PostgresPlain() { return {ir::Engine::kPostgres, FERRY_TEST_PG2_PORT, "postgres_plain"}; }

std::string PasswordFile() { return Dir() + "/password"; }
std::string Password() {
  std::string p = Slurp(PasswordFile());
  while (!p.empty() && p.back() == '\n') p.pop_back();
  return p;
}
std::string CaFile() { return Dir() + "/tls/ca.pem"; }
std::string OtherCaFile() { return Dir() + "/tls/other_ca.pem"; }
std::string AdminUser(const Server& s) { return s.engine == ir::Engine::kPostgres ? "postgres" : "ferry"; }

runtime::ConnectOptions Options(const Server& s, const std::string& database) {
  runtime::ConnectOptions o;
  o.engine = s.engine;
  o.host = "127.0.0.1";
  o.port = s.port;
  o.user = AdminUser(s);
  o.password = Password();
  o.database = database.empty() && s.engine == ir::Engine::kPostgres ? "postgres" : database;
  o.tls = ir::Tls::kDisable;
  o.label = s.name;
  return o;
}

std::unique_ptr<runtime::Connection> Admin(const Server& s, const std::string& database) {
  auto c = runtime::Connect(Options(s, database));
  EXPECT_TRUE(c.ok()) << "cannot reach the test server " << s.name << " (started by ctest's servers fixture): "
                      << c.status().ToString();
  if (!c.ok()) return nullptr;
  return std::move(c).value();
}

void Exec(runtime::Connection& c, const std::vector<std::string>& statements) {
  for (const auto& sql : statements) {
    runtime::Status st = c.Execute(sql);
    ASSERT_TRUE(st.ok()) << sql << "\n  -> " << st.ToString();
  }
}

std::string One(runtime::Connection& c, const std::string& sql) {
  auto r = c.Query(sql);
  if (!r.ok()) return "(error) " + r.status().ToString();
  if (r->rows.empty() || r->rows[0].empty()) return "(none)";
  return r->rows[0][0].value_or("NULL");
}

void FreshDatabase(const Server& s, const std::string& name, const std::string& pg_encoding) {
  auto c = Admin(s);
  ASSERT_NE(c, nullptr);
  std::string q = runtime::QuoteIdent(s.engine, name);
  if (s.engine == ir::Engine::kPostgres) {
    std::string with = pg_encoding.empty() ? "" : " TEMPLATE template0 ENCODING '" + pg_encoding + "' LOCALE 'C'";
    Exec(*c, {"DROP DATABASE IF EXISTS " + q + " WITH (FORCE)", "CREATE DATABASE " + q + with});
  } else {
    Exec(*c, {"DROP DATABASE IF EXISTS " + q, "CREATE DATABASE " + q});
  }
}

std::string Endpoint(const std::string& name, const Server& s, const std::string& database, const std::string& extra) {
  std::string db = s.engine == ir::Engine::kPostgres ? "  database = \"" + database + "\"\n" : "";
  return "endpoint " + name + " {\n  engine = " + std::string(ir::Name(s.engine)) + "\n  host = \"127.0.0.1\"\n  port = " +
         std::to_string(s.port) + "\n" + db + "  user = \"" + AdminUser(s) + "\"\n  password = secret(\"file:" +
         PasswordFile() + "\")\n" + extra + "}\n";
}

pid_t StartFerry(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& out,
                 const std::string& err) {
  pid_t pid = fork();
  if (pid == 0) {
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    setenv("NO_COLOR", "1", 1);
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(127);
    std::vector<char*> argv;
    std::string bin = FERRY_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

CommandResult RunFerry(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string tag = info != nullptr ? std::string(info->name()) : "run";
  for (char& ch : tag) {
    if (ch == '/') ch = '_';
  }
  std::string out = ScratchPath(tag + ".out"), err = ScratchPath(tag + ".err");
  pid_t pid = StartFerry(args, env, out, err);
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

std::string ScratchPath(const std::string& name) { return (Scratch() / name).string(); }

pid_t StartFerry(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  return StartFerry(args, env, "/dev/null", ScratchPath("started.err"));
}

std::string StartedErr() {
  std::ifstream in(ScratchPath("started.err"));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Started::~Started() {
  if (!reaped) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

bool InterruptedExits(Started& ferry, int* status) {
  kill(ferry.pid, SIGINT);
  ferry.reaped = true;
  for (int i = 0; i < 300; ++i) {
    if (waitpid(ferry.pid, status, WNOHANG) == ferry.pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(ferry.pid, SIGKILL);
  waitpid(ferry.pid, status, 0);
  return false;
}

bool BecomesNonZero(runtime::Connection& c, const std::string& sql) {
  for (int i = 0; i < 300; ++i) {
    auto r = c.Query(sql);
    if (r.ok() && !r->rows.empty() && r->rows[0][0] && *r->rows[0][0] != "0") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string WritePlan(const std::string& name, const std::string& text) {
  std::filesystem::path p = Scratch() / (name + ".ferry");
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

}  // namespace ferry::testing
