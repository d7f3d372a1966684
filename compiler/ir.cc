#include "compiler/ir.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

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

namespace {

// The host part of an http(s) URL, lower-case; empty when it is not one.
std::string UrlHost(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string::npos) return "";
  start += 3;
  size_t at = url.find('@', start);
  size_t end = url.find_first_of("/?#", start);
  if (at != std::string::npos && (end == std::string::npos || at < end)) start = at + 1;
  std::string host(url.substr(start, end == std::string::npos ? std::string::npos : end - start));
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    host = close == std::string::npos ? "" : host.substr(1, close - 1);
  } else {
    size_t colon = host.rfind(':');
    if (colon != std::string::npos) host.resize(colon);
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

}  // namespace

bool IsLoopbackUrl(std::string_view url) {
  const std::string host = UrlHost(url);
  if (host == "localhost") return true;
  unsigned char a[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), a) == 1) return a[0] == 127;
  return inet_pton(AF_INET6, host.c_str(), a) == 1 && IN6_IS_ADDR_LOOPBACK(reinterpret_cast<in6_addr*>(a));
}

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
