#include "runtime/load/chunks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>
#include <nlohmann/json.hpp>

#include "compiler/type_pattern.h"
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

// Room for any 64-bit key, signed or not, and the arithmetic between two of them.
__extension__ typedef __int128 Wide;

bool IntegerColumn(const Column* c) {
  if (c == nullptr) return false;
  std::string type = c->type.substr(0, c->type.find_first_of("( "));
  for (const char* i : {"tinyint", "smallint", "mediumint", "int", "bigint", "integer"}) {
    if (type == i) return true;
  }
  return false;
}

// A decimal integer as printed by the server (up to an unsigned 64-bit value, or a negative one).
std::optional<Wide> ParseInteger(std::string_view v) {
  bool negative = !v.empty() && v[0] == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty() || v.size() > 20) return std::nullopt;
  Wide n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  return negative ? -n : n;
}

std::string IntegerText(Wide n) {
  if (n == 0) return "0";
  bool negative = n < 0;
  std::string out;
  for (Wide m = negative ? -n : n; m > 0; m /= 10) out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
  return negative ? "-" + out : out;
}

// A key that starts with an integer column: its chunks can be cut by arithmetic on that
// column's range (a chunk of a key (a, b) is then a range of a alone).
bool IntegerKey(const Table& t, const Index& key) { return IntegerColumn(t.FindColumn(key.columns[0])); }

// The key's first n columns (all of them by default), quoted.
std::string KeyList(ir::Engine e, const Index& key, size_t n = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < key.columns.size() && i < n; ++i) {
    if (!out.empty()) out += ", ";
    out += QuoteIdent(e, key.columns[i]);
  }
  return out;
}

// (a, b) > ('x', 'y'): row comparison, which both engines order like ORDER BY a, b; a bound
// of fewer values than the key has columns compares the key's leading columns. A MySQL binary
// key's bound is a hex literal (its bytes need not be valid in any charset); an integer's is
// a number (MySQL may compare a number with a string as floating point).
std::string Compare(ir::Engine e, const Table& t, const Index& key, const std::string& bound_json, const char* op) {
  nlohmann::json values = nlohmann::json::parse(bound_json);
  std::vector<std::string> lits;
  size_t i = 0;
  for (const auto& v : values) {
    const Column* c = i < key.columns.size() ? t.FindColumn(key.columns[i]) : nullptr;
    std::string type = c != nullptr ? c->type.substr(0, c->type.find('(')) : "";
    bool binary = ir::IsMysqlFamily(e) && (type == "binary" || type == "varbinary" || type.find("blob") != std::string::npos);
    std::string hex = v.get<std::string>();
    std::string text = Unhex(hex);
    if (binary) lits.push_back(hex.empty() ? std::string("''") : "X'" + hex + "'");
    else if (IntegerColumn(c) && ParseInteger(text)) lits.push_back(text);
    else lits.push_back(QuoteLiteral(e, text));
    ++i;
  }
  if (lits.size() == 1) return fmt::format("{} {} {}", QuoteIdent(e, key.columns[0]), op, lits[0]);
  if (e == ir::Engine::kPostgres) {
    return fmt::format("({}) {} ({})", KeyList(e, key, lits.size()), op, fmt::join(lits, ", "));
  }
  // MariaDB does not use an index for a row comparison (it scans the table): spelled out,
  // a > x OR (a = x AND (b > y …)), it does.
  std::string strict = std::string(op) == "<=" ? "<" : op;
  std::string out = fmt::format("{} {} {}", QuoteIdent(e, key.columns[lits.size() - 1]), op, lits.back());
  for (size_t k = lits.size() - 1; k-- > 0;) {
    std::string col = QuoteIdent(e, key.columns[k]);
    out = fmt::format("{0} {1} {2} OR ({0} = {2} AND ({3}))", col, strict, lits[k], out);
  }
  return "(" + out + ")";
}

}  // namespace

int64_t ChunkRows(const Table& t) {
  // FERRY_CHUNK_ROWS overrides the estimate (tests use small chunks to get many of them).
  if (const char* env = std::getenv("FERRY_CHUNK_ROWS"); env != nullptr && std::atoll(env) > 0) return std::atoll(env);
  int64_t avg = t.rows_estimate > 0 && t.bytes_estimate > 0 ? t.bytes_estimate / t.rows_estimate : 200;
  return std::clamp<int64_t>((8 << 20) / std::max<int64_t>(avg, 1), 1000, 50000);
}

bool IntegerLeadingKey(const Table& t) {
  const Index* key = t.ChunkKey();
  return key != nullptr && IntegerKey(t, *key);
}

StatusOr<std::vector<ChunkRecord>> PlanTableChunks(Connection& src, const Table& t, int64_t rows_per_chunk,
                                                   bool leading_integer) {
  std::string name = t.schema + "." + t.name;
  const Index* key = t.ChunkKey();
  if (key == nullptr) return std::vector<ChunkRecord>{ChunkRecord{name, 0, "", "", false, 0, 0}};
  ir::Engine e = src.engine();
  std::vector<std::string> bounds;
  std::string prev;
  auto chunks = [&]() {
    std::vector<ChunkRecord> out;
    std::string lo;
    for (size_t i = 0; i <= bounds.size(); ++i) {
      // The first and the last chunk are open: rows beyond today's ends are in them too.
      out.push_back(ChunkRecord{name, static_cast<int>(i), lo, i < bounds.size() ? bounds[i] : "", false, 0, 0});
      if (i < bounds.size()) lo = bounds[i];
    }
    return out;
  };
  if (IntegerKey(t, *key) && (t.rows_estimate > 0 || leading_integer)) {
    // Cut the key's range evenly, as mydumper does: two index look-ups instead of a walk over
    // the whole key. Gaps in the key only make some chunks smaller; rows stream, so a dense
    // stretch makes a chunk longer, never a worker's memory larger.
    std::string k = QuoteIdent(e, key->columns[0]);
    auto r = src.Query(fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}", k, QuoteName(e, t.schema, t.name)));
    if (!r.ok()) {
      Status st = r.status();
      return st.Prefix("planning the chunks of " + name);
    }
    if (r->rows.empty() || !r->rows[0][0] || !r->rows[0][1]) return chunks();  // empty: one chunk
    auto lo = ParseInteger(*r->rows[0][0]), hi = ParseInteger(*r->rows[0][1]);
    if (lo && hi) {
      // Without statistics, the key is taken as dense (at most 10,000 chunks).
      Wide rows = t.rows_estimate > 0 ? Wide(t.rows_estimate) : std::min<Wide>(*hi - *lo + 1, Wide(rows_per_chunk) * 10000);
      Wide n = (rows + rows_per_chunk - 1) / rows_per_chunk;
      Wide step = (*hi - *lo + n) / n;  // ceil((hi - lo + 1) / n)
      for (Wide b = *lo + step - 1; b < *hi; b += step) {
        bounds.push_back(nlohmann::json::array({HexDigits(IntegerText(b))}).dump());
      }
      return chunks();
    }
  }
  if (leading_integer) return chunks();  // not an integer after all: one chunk
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
  return chunks();
}

std::string ChunkPredicate(ir::Engine e, const Table& t, const ChunkRecord& c) {
  const Index* key = t.ChunkKey();
  if (key == nullptr || (c.lo.empty() && c.hi.empty())) return "TRUE";
  std::string p;
  if (!c.lo.empty()) p = Compare(e, t, *key, c.lo, ">");
  if (!c.hi.empty()) p += (p.empty() ? "" : " AND ") + Compare(e, t, *key, c.hi, "<=");
  return p;
}

// A PostgreSQL numeric of no fraction (numeric(20), numeric(20,0)): where MySQL's bigint
// unsigned goes, and verify's destination side of such a key.
bool WholeNumericColumn(const Column* c) {
  if (c == nullptr) return false;
  auto t = ParseSqlType(c->type);
  if (!t || (t->name != "numeric" && t->name != "decimal") || t->args.empty()) return false;
  return t->args.size() == 1 || t->args[1] == "0";
}

std::optional<std::string> PgChunkIndexSql(const Table& t, const std::vector<ChunkRecord>& chunks) {
  const Index* key = t.ChunkKey();
  if (key == nullptr || chunks.size() < 2 || !chunks.back().hi.empty()) return std::nullopt;
  if (!IntegerKey(t, *key) && !WholeNumericColumn(t.FindColumn(key->columns[0]))) return std::nullopt;
  // Chunk i holds (hi of i - 1, hi of i]: a row's position is how many of the his + 1 it reaches.
  std::vector<Wide> thresholds;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    if (i > 0 && chunks[i].lo != chunks[i - 1].hi) return std::nullopt;
    nlohmann::json values = nlohmann::json::parse(chunks[i].hi, nullptr, false);
    if (!values.is_array() || values.size() != 1 || !values[0].is_string()) return std::nullopt;
    auto n = ParseInteger(Unhex(values[0].get<std::string>()));
    if (!n) return std::nullopt;
    thresholds.push_back(*n + 1);
  }
  // bigint where the column is one of PostgreSQL's integer types and the bounds fit it.
  bool bigint = IntegerColumn(t.FindColumn(key->columns[0]));
  std::vector<std::string> texts;
  for (Wide b : thresholds) {
    bigint &= b <= Wide(INT64_MAX) && b >= Wide(INT64_MIN);
    texts.push_back(IntegerText(b));
  }
  const char* as = bigint ? "bigint" : "numeric";
  return fmt::format("width_bucket({}::{}, ARRAY[{}]::{}[])", QuoteIdent(ir::Engine::kPostgres, key->columns[0]), as,
                     fmt::join(texts, ", "), as);
}

}  // namespace ferry::runtime
