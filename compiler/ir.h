// The plan IR: everything `ferry apply` needs, and nothing of the syntax.
//
// Analyze() (compiler/analyze.h) fills the declarations from a checked program; Lower()
// (compiler/lower.h) adds each migration's DAG of stages. The runtime reads only this, never
// the AST (as Terraform's apply reads only its plan). Secrets appear as references (`env:X`),
// never as values. Plain data; copyable; no invariants beyond what the checker guaranteed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/source.h"

namespace ferry::ir {

// Bumped whenever the JSON form changes incompatibly.
inline constexpr int kFormatVersion = 1;

enum class Engine { kMysql, kMariadb, kPostgres, kSqlserver };
std::string_view Name(Engine e);
bool IsMysqlFamily(Engine e);
int DefaultPort(Engine e);
// True when an http(s) URL's host is a loopback address: an IPv4 address in 127.0.0.0/8,
// ::1, or `localhost` (a name that merely starts with "127." is not). Plain http:// is
// allowed to such a host only, where a request carries credentials (the cloud API).
bool IsLoopbackUrl(std::string_view url);

// A duration as a plan writes it, in the largest unit that divides it among m, s, ms
// (retry windows read as DTS states them: `720m`).
std::string FormatDuration(int64_t ms);

// Where in the plan an item came from: kept as a span for diagnostics and as text
// ("plan.ferry:12:3") for the runtime's errors.
struct Origin {
  Span span;
  std::string loc;
};

// A reference to a secret, resolved only when the runtime connects.
struct Secret {
  std::string scheme;  // "env" or "file"
  std::string ref;     // the variable's name or the file's path
  std::string ToString() const { return scheme + ":" + ref; }
};

struct Account {
  std::string name;
  std::string id;
  std::optional<Secret> access_key_id;
  std::optional<Secret> access_key_secret;
  std::string sts_endpoint;  // empty: the cloud's public endpoint
  std::string rds_endpoint;  // empty: the regional endpoint
  Origin origin;
};

struct Role {
  std::string name;
  std::string account;
  std::string role_name;
  std::vector<std::string> trusts;
  std::string external_id;
  int64_t session_ms = 3600 * 1000;
  Origin origin;
};

enum class Tls { kDisable, kPrefer, kRequire, kVerifyCa, kVerifyFull };
enum class Network { kPrivate, kPublic };

struct Endpoint {
  std::string name;
  Engine engine = Engine::kMysql;
  std::string host;
  int port = 0;  // the engine's default when not given
  std::string instance;
  std::string region;
  Network network = Network::kPrivate;
  std::string database;
  std::string account;  // empty: the migration's account
  std::string assume;   // a role name, or empty
  std::string user;
  std::optional<Secret> password;
  Tls tls = Tls::kPrefer;
  std::string ca;
  Origin origin;
};

enum class ZeroDates { kUnset, kNull, kError, kKeep };

struct TypeRule {
  std::string pattern;
  std::string target;
  std::string map;  // the map that declared it
  Origin origin;
};

struct TypeMap {
  std::string name;
  Engine from = Engine::kMysql;
  Engine to = Engine::kMysql;
  std::string base;             // the map it extends, or empty
  std::vector<TypeRule> rules;  // its own rules, in order
  ZeroDates zero_dates = ZeroDates::kUnset;
  bool stdlib = false;
  Origin origin;
};

enum class MigrationType { kSchema, kFull, kIncremental };
enum class Op { kInsert, kUpdate, kDelete, kDdl };
enum class Conflicts { kReport, kIgnore };
enum class Capitalization { kKeep, kLower, kUpper };
enum class Triggers { kNone, kWithSchema, kAfterFull };
enum class OnlineDdl { kCopyTempTables, kAdaptDms, kAdaptGhOst };
enum class VerifyMode { kCount, kChecksum, kRows };
enum class VerifyAfter { kFull, kIncremental, kBoth };

struct ColumnRule {
  bool exclude = false;
  std::string source;  // a name or a glob
  std::string target;  // empty: keep the name (subject to capitalization)
  std::string type;    // a type override in the destination engine, or empty
  Origin origin;
};

struct TableRule {
  bool exclude = false;
  std::string source;
  std::string target;
  std::string where;  // source-engine SQL, run read-only on the source
  std::vector<Op> ops = {Op::kInsert, Op::kUpdate, Op::kDelete, Op::kDdl};
  std::vector<ColumnRule> columns;  // in order; first match decides
  Origin origin;
};

struct SchemaRule {
  bool exclude = false;
  std::string source;
  std::string target;
  bool whole = true;               // no block: the whole schema, views and routines too
  std::vector<TableRule> tables;   // when not whole: in order; first match decides
  Origin origin;
};

struct Throttle {
  std::optional<double> source_qps;
  std::optional<double> rows_per_s;
  std::optional<double> mb_per_s;
  Origin origin;
};

struct Retry {
  int64_t connection_ms = 720LL * 60 * 1000;
  int64_t other_ms = 10LL * 60 * 1000;
  Origin origin;
};

struct Verify {
  VerifyMode mode = VerifyMode::kChecksum;
  VerifyAfter after = VerifyAfter::kFull;
  Origin origin;
};

struct Alert {
  bool on_failure = true;
  std::optional<int64_t> lag_over_ms;
  std::string webhook;
  Origin origin;
};

enum class StageKind { kPrecheck, kCapture, kSchemaPre, kLoad, kSchemaPost, kIncremental, kVerify };
std::string_view Name(StageKind k);

// One node of a migration's DAG.
struct Stage {
  int id = 0;
  StageKind kind = StageKind::kPrecheck;
  std::string object;       // what it works on, as the plan names it (globs as written)
  std::vector<int> after;   // ids of the stages it waits for
  Origin origin;            // the rule or attribute it came from
};

struct Migration {
  std::string name;
  std::string from;
  std::string to;
  std::string account;  // the account that runs the task; empty when the plan declares none
  Engine from_engine = Engine::kMysql;
  Engine to_engine = Engine::kMysql;
  std::vector<MigrationType> types = {MigrationType::kSchema, MigrationType::kFull};
  Conflicts conflicts = Conflicts::kReport;
  Capitalization capitalization = Capitalization::kKeep;
  Triggers triggers = Triggers::kAfterFull;
  bool events = false;
  bool assessment = false;
  OnlineDdl online_ddl = OnlineDdl::kAdaptGhOst;
  int workers = 4;
  std::string typemap;  // the effective map
  std::vector<SchemaRule> objects;
  std::optional<Throttle> throttle_full;
  std::optional<Throttle> throttle_incremental;
  Retry retry;
  std::optional<Verify> verify;
  std::optional<Alert> alert;
  bool heartbeat = false;
  bool accounts = false;
  std::string tag;
  std::vector<Stage> stages;  // filled by Lower()
  Origin origin;

  bool Has(MigrationType t) const;
};

struct Plan {
  std::string root;                 // the plan file as named on the command line
  std::vector<Account> accounts;    // declaration order, imports first
  std::vector<Role> roles;
  std::vector<Endpoint> endpoints;
  std::vector<TypeMap> typemaps;    // declared maps and the stdlib maps migrations use
  std::vector<Migration> migrations;

  const Account* FindAccount(std::string_view name) const;
  const Role* FindRole(std::string_view name) const;
  const Endpoint* FindEndpoint(std::string_view name) const;
  const TypeMap* FindTypeMap(std::string_view name) const;
  // A map's rules with those of the maps it extends, in the order they are tried.
  std::vector<TypeRule> EffectiveRules(std::string_view typemap) const;
  // A map's zero_dates, or the one it inherits from the map it extends.
  ZeroDates EffectiveZeroDates(std::string_view typemap) const;
};

}  // namespace ferry::ir
