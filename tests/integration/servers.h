// The local test servers (scripts/servers), as integration tests reach them.
//
// ctest starts the servers once (the `servers` fixture in tests/CMakeLists.txt) on ports of
// its own, in a temporary directory, and stops them at the end; these helpers read where
// they are from the values compiled in by CMake. A test that cannot reach them fails: it
// is never skipped.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "compiler/ir.h"
#include "runtime/connection.h"

namespace ferry::testing {

struct Server {
  ir::Engine engine;
  int port;
  const char* name;  // the scripts/servers name
};

Server Mariadb();        // binlog on (a CDC-ready source)
Server MariadbPlain();   // binlog off
Server Postgres();       // wal_level = logical
Server PostgresPlain();  // wal_level = replica, no replication slots

std::string Password();
std::string PasswordFile();
std::string CaFile();
std::string OtherCaFile();
std::string AdminUser(const Server& s);  // ferry (MariaDB) or postgres

runtime::ConnectOptions Options(const Server& s, const std::string& database = "");
// An administrative connection; fails the test (returns nullptr) when it cannot connect.
std::unique_ptr<runtime::Connection> Admin(const Server& s, const std::string& database = "");
// Runs statements one by one, failing the test on the first error.
void Exec(runtime::Connection& c, const std::vector<std::string>& statements);
// One value: the first column of the first row, "NULL", or "(error) …" / "(none)".
std::string One(runtime::Connection& c, const std::string& sql);

// A fresh, empty database named `name` (MariaDB: a schema; PostgreSQL: a database, in
// `pg_encoding` with the C locale when one is given, UTF8 otherwise).
void FreshDatabase(const Server& s, const std::string& name, const std::string& pg_encoding = "");

// An `endpoint` block for a plan, with the password as secret("file:…").
std::string Endpoint(const std::string& name, const Server& s, const std::string& database,
                     const std::string& extra = "");

struct CommandResult {
  int exit = -1;
  std::string out;
  std::string err;
};
// Starts the ferry binary with `args` (and `env` as NAME=VALUE pairs added to the environment),
// its output going to the two files; returns its pid for waitpid.
pid_t StartFerry(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& out,
                 const std::string& err);
// StartFerry with no standard output, its standard error in the scratch file StartedErr reads.
pid_t StartFerry(const std::vector<std::string>& args, const std::vector<std::string>& env);
// What the last ferry the two-argument StartFerry started wrote to standard error.
std::string StartedErr();

// A ferry StartFerry started, killed and reaped when the test leaves early.
struct Started {
  pid_t pid;
  bool reaped = false;
  ~Started();
};
// SIGINT to it; whether it exited within 30 s (it is killed otherwise), with its wait status in
// *status.
bool InterruptedExits(Started& ferry, int* status);

// Whether `sql`'s first value becomes non-zero within 15 s, asked every 50 ms.
bool BecomesNonZero(runtime::Connection& c, const std::string& sql);

// Runs the ferry binary with `args` and `env` to its end.
CommandResult RunFerry(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// A path in this test process's scratch directory, which is removed when the process ends.
std::string ScratchPath(const std::string& name);

// Writes `text` to a fresh file in a per-test temporary directory and returns its path.
std::string WritePlan(const std::string& name, const std::string& text);

}  // namespace ferry::testing
