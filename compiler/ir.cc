#include "compiler/ir.h"

#include <algorithm>

namespace ferry::ir {

std::string_view Name(Engine e) {
  switch (e) {
    case Engine::kMysql: return "mysql";
    case Engine::kMariadb: return "mariadb";
    case Engine::kPostgres: return "postgres";
    case Engine::kSqlserver: return "sqlserver";
  }
  return "mysql";
}

bool IsMysqlFamily(Engine e) { return e == Engine::kMysql || e == Engine::kMariadb; }

int DefaultPort(Engine e) {
  switch (e) {
    case Engine::kMysql:
    case Engine::kMariadb: return 3306;
    case Engine::kPostgres: return 5432;
    case Engine::kSqlserver: return 1433;
  }
  return 0;
}

std::string_view Name(StageKind k) {
  switch (k) {
    case StageKind::kPrecheck: return "precheck";
    case StageKind::kCapture: return "capture";
    case StageKind::kSchemaPre: return "schema.pre";
    case StageKind::kLoad: return "load";
    case StageKind::kSchemaPost: return "schema.post";
    case StageKind::kIncremental: return "incremental";
    case StageKind::kVerify: return "verify";
  }
  return "precheck";
}

std::string FormatDuration(int64_t ms) {
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

bool Migration::Has(MigrationType t) const {
  return std::find(types.begin(), types.end(), t) != types.end();
}

namespace {
template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}
}  // namespace

const Account* Plan::FindAccount(std::string_view n) const { return FindByName(accounts, n); }
const Role* Plan::FindRole(std::string_view n) const { return FindByName(roles, n); }
const Endpoint* Plan::FindEndpoint(std::string_view n) const { return FindByName(endpoints, n); }
const TypeMap* Plan::FindTypeMap(std::string_view n) const { return FindByName(typemaps, n); }

std::vector<TypeRule> Plan::EffectiveRules(std::string_view typemap) const {
  std::vector<TypeRule> rules;
  std::vector<std::string_view> seen;  // the checker rejects cycles; this only guards
  for (const TypeMap* m = FindTypeMap(typemap); m != nullptr; m = FindTypeMap(m->base)) {
    if (std::find(seen.begin(), seen.end(), m->name) != seen.end()) break;
    seen.push_back(m->name);
    rules.insert(rules.end(), m->rules.begin(), m->rules.end());
  }
  return rules;
}

ZeroDates Plan::EffectiveZeroDates(std::string_view typemap) const {
  int guard = 0;  // the checker rejects cycles; this only guards
  for (const TypeMap* m = FindTypeMap(typemap); m != nullptr && guard < 64; m = FindTypeMap(m->base), ++guard) {
    if (m->zero_dates != ZeroDates::kUnset) return m->zero_dates;
  }
  return ZeroDates::kUnset;
}

}  // namespace ferry::ir
