#include "runtime/load/chunks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

// Bounds are stored hex-encoded: a key may be any bytes (a MySQL varbinary), and ferry_meta
// keeps them as text.
std::string Unhex(std::string_view h) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(nib(h[i]) * 16 + nib(h[i + 1]));
  return out;
}

std::string KeyList(ir::Engine e, const Index& key) {
  std::string out;
  for (const auto& c : key.columns) {
    if (!out.empty()) out += ", ";
    out += QuoteIdent(e, c);
  }
  return out;
}

// (a, b) > ('x', 'y'): row comparison, which both engines order like ORDER BY a, b. A
// MySQL binary key's bound is a hex literal: its bytes need not be valid in any charset.
std::string Compare(ir::Engine e, const Table& t, const Index& key, const std::string& bound_json, const char* op) {
  nlohmann::json values = nlohmann::json::parse(bound_json);
  std::string lits;
  size_t i = 0;
  for (const auto& v : values) {
    if (!lits.empty()) lits += ", ";
    const Column* c = i < key.columns.size() ? t.FindColumn(key.columns[i]) : nullptr;
    std::string type = c != nullptr ? c->type.substr(0, c->type.find('(')) : "";
    bool binary = ir::IsMysqlFamily(e) && (type == "binary" || type == "varbinary" || type.find("blob") != std::string::npos);
    std::string hex = v.get<std::string>();
    lits += binary ? (hex.empty() ? std::string("''") : "X'" + hex + "'") : QuoteLiteral(e, Unhex(hex));
    ++i;
  }
  if (key.columns.size() == 1) return fmt::format("{} {} {}", QuoteIdent(e, key.columns[0]), op, lits);
  return fmt::format("({}) {} ({})", KeyList(e, key), op, lits);
}

}  // namespace

int64_t ChunkRows(const Table& t) {
  // FERRY_CHUNK_ROWS overrides the estimate (tests use small chunks to get many of them).
  if (const char* env = std::getenv("FERRY_CHUNK_ROWS"); env != nullptr && std::atoll(env) > 0) return std::atoll(env);
  int64_t avg = t.rows_estimate > 0 && t.bytes_estimate > 0 ? t.bytes_estimate / t.rows_estimate : 200;
  return std::clamp<int64_t>((8 << 20) / std::max<int64_t>(avg, 1), 1000, 50000);
}

StatusOr<std::vector<ChunkRecord>> PlanTableChunks(Connection& src, const Table& t, int64_t rows_per_chunk) {
  std::string name = t.schema + "." + t.name;
  const Index* key = t.ChunkKey();
  if (key == nullptr) return std::vector<ChunkRecord>{ChunkRecord{name, 0, "", "", false, 0, 0}};
  ir::Engine e = src.engine();
  std::vector<std::string> bounds;
  std::string prev;
  while (true) {
    std::string where = prev.empty() ? "" : " WHERE " + Compare(e, t, *key, prev, ">");
    auto r = src.Query(fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT 1 OFFSET {}", KeyList(e, *key),
                                   QuoteName(e, t.schema, t.name), where, KeyList(e, *key), rows_per_chunk - 1));
    if (!r.ok()) {
      Status st = r.status();
      return st.Prefix("planning the chunks of " + name);
    }
    if (r->rows.empty()) break;
    nlohmann::json b = nlohmann::json::array();
    for (const auto& v : r->rows[0]) b.push_back(HexDigits(v.value_or("")));
    prev = b.dump();
    bounds.push_back(prev);
  }
  std::vector<ChunkRecord> out;
  std::string lo;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    ChunkRecord c{name, static_cast<int>(i), lo, i < bounds.size() ? bounds[i] : "", false, 0, 0};
    out.push_back(c);
    if (i < bounds.size()) lo = bounds[i];
  }
  return out;
}

std::string ChunkPredicate(ir::Engine e, const Table& t, const ChunkRecord& c) {
  const Index* key = t.ChunkKey();
  if (key == nullptr || (c.lo.empty() && c.hi.empty())) return "TRUE";
  std::string p;
  if (!c.lo.empty()) p = Compare(e, t, *key, c.lo, ">");
  if (!c.hi.empty()) p += (p.empty() ? "" : " AND ") + Compare(e, t, *key, c.hi, "<=");
  return p;
}

}  // namespace ferry::runtime
