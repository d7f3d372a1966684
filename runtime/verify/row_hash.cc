#include "runtime/verify/row_hash.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace ferry::runtime {

namespace {

constexpr uint32_t Rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// lookup3's two mixing steps (Bob Jenkins, 2006, public domain).
[[gnu::always_inline]] inline void Mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c, a ^= Rotl(c, 4), c += b;
  b -= a, b ^= Rotl(a, 6), a += c;
  c -= b, c ^= Rotl(b, 8), b += a;
  a -= c, a ^= Rotl(c, 16), c += b;
  b -= a, b ^= Rotl(a, 19), a += c;
  c -= b, c ^= Rotl(b, 4), b += a;
}

[[gnu::always_inline]] inline void Final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b, c -= Rotl(b, 14);
  a ^= c, a -= Rotl(c, 11);
  b ^= a, b -= Rotl(a, 25);
  c ^= b, c -= Rotl(b, 16);
  a ^= c, a -= Rotl(c, 4);
  b ^= a, b -= Rotl(a, 14);
  c ^= b, c -= Rotl(b, 24);
}

// Four bytes as a little-endian word (PostgreSQL's hashes are those of a little-endian server).
[[gnu::always_inline]] inline uint32_t Word(const unsigned char* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
  return w;
}

// Up to four bytes as a little-endian word, the missing high bytes zero.
[[gnu::always_inline]] inline uint32_t Word(const unsigned char* p, size_t n) {
  if (n >= 4) return Word(p);
  uint32_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= static_cast<uint32_t>(p[i]) << (8 * i);
  return w;
}

}  // namespace

uint64_t PgHashTextExtended(std::string_view bytes, uint64_t seed) {
  const auto* k = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t len = bytes.size();
  uint32_t a, b, c;
  a = b = c = 0x9e3779b9u + static_cast<uint32_t>(len) + 3923095u;
  if (seed != 0) {
    a += static_cast<uint32_t>(seed >> 32);
    b += static_cast<uint32_t>(seed);
    Mix(a, b, c);
  }
  for (; len >= 12; k += 12, len -= 12) {
    a += Word(k);
    b += Word(k + 4);
    c += Word(k + 8);
    Mix(a, b, c);
  }
  // The last 0 to 11 bytes: c's lowest byte is left for the length, so its bytes go one up.
  if (len > 8) c += Word(k + 8, len - 8) << 8;
  if (len > 4) b += Word(k + 4, len - 4);
  if (len > 0) a += Word(k, len);
  Final(a, b, c);
  return static_cast<uint64_t>(b) << 32 | c;
}

std::string RowHashSql(ir::Engine e, const std::string& row_text) {
  if (ir::IsMysqlFamily(e)) return fmt::format("CAST(CONV(LEFT(SHA2({}, 256), 16), 16, 10) AS UNSIGNED)", row_text);
  // "C": a nondeterministic collation would hash a canonical form of the text, not its bytes.
  return fmt::format("hashtextextended({} COLLATE \"C\", 0)", row_text);
}

uint64_t PgHashUint32Extended(uint32_t k, uint64_t seed) {
  uint32_t a, b, c;
  a = b = c = 0x9e3779b9u + static_cast<uint32_t>(sizeof(uint32_t)) + 3923095u;
  if (seed != 0) {
    a += static_cast<uint32_t>(seed >> 32);
    b += static_cast<uint32_t>(seed);
    Mix(a, b, c);
  }
  a += k;
  Final(a, b, c);
  return static_cast<uint64_t>(b) << 32 | c;
}

uint64_t DoubleSeed(uint64_t position) { return PgHashUint32Extended(static_cast<uint32_t>(position), 0); }

void ColumnsHash::AddDouble(double d) {
  ++position_;
  // hashfloat8extended: a zero (also -0) hashes as its seed, any other double as its bytes,
  // every NaN as the one NaN.
  uint64_t seed = DoubleSeed(position_);
  if (d == 0) {
    xor_ ^= seed;
    return;
  }
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
  char bytes[sizeof d];
  std::memcpy(bytes, &d, sizeof d);
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof bytes);
  xor_ ^= PgHashTextExtended(std::string_view(bytes, sizeof bytes), seed);
}

void ColumnsHash::Add(HashAs as, std::optional<std::string_view> value) {
  if (as == HashAs::kText || !value) return Add(value);
  const char* end = value->data() + value->size();
  if (as == HashAs::kInteger) {
    int64_t n = 0;
    auto r = std::from_chars(value->data(), end, n);
    if (r.ec == std::errc() && r.ptr == end) return AddInteger(n);
  } else {
    double d = 0;
    auto r = std::from_chars(value->data(), end, d);
    if (r.ec == std::errc() && r.ptr == end) return AddDouble(d);
  }
  Add(value);  // no such number: PostgreSQL's side, which holds one, hashes otherwise
}

std::string ColumnsHashSql(const std::vector<HashedColumn>& columns) {
  if (columns.empty()) return "hashint8extended(0, 0)";  // ColumnsHash of no column
  std::string x;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) x += " # ";
    const HashedColumn& c = columns[i];
    switch (c.as) {
      case HashAs::kText:
        // "C": a nondeterministic collation would hash a canonical form of the text, not its bytes.
        x += fmt::format("COALESCE(hashtextextended(({})::text COLLATE \"C\", {}), 0)", c.sql, i + 1);
        break;
      case HashAs::kInteger:
        x += fmt::format("COALESCE(hashint8extended({}, ({})::bigint), 0)", i + 1, c.sql);
        break;
      case HashAs::kDouble:
        x += fmt::format("COALESCE(hashfloat8extended(({})::float8, {}), 0)", c.sql,
                         static_cast<int64_t>(DoubleSeed(i + 1)));
        break;
    }
  }
  return fmt::format("hashint8extended(0, {})", x);
}

}  // namespace ferry::runtime
