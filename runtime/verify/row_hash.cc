#include "runtime/verify/row_hash.h"

#include <charconv>

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

// Up to four bytes as a little-endian word, the missing high bytes zero.
uint32_t Word(const unsigned char* p, size_t n) {
  uint32_t w = 0;
  for (size_t i = 0; i < n && i < 4; ++i) w |= static_cast<uint32_t>(p[i]) << (8 * i);
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
    a += Word(k, 4);
    b += Word(k + 4, 4);
    c += Word(k + 8, 4);
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

uint64_t ColumnsHash::Take() {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, static_cast<int64_t>(xor_)).ptr;  // as bigint prints
  position_ = 0;
  xor_ = 0;
  return PgHashTextExtended(std::string_view(digits, static_cast<size_t>(end - digits)));
}

std::string ColumnsHashSql(const std::vector<std::string>& texts) {
  if (texts.empty()) return "hashtextextended('0', 0)";  // ColumnsHash of no column
  std::string x;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i) x += " # ";
    // "C": a nondeterministic collation would hash a canonical form of the text, not its bytes.
    x += fmt::format("COALESCE(hashtextextended(({})::text COLLATE \"C\", {}), 0)", texts[i], i + 1);
  }
  return fmt::format("hashtextextended(({})::text, 0)", x);
}

}  // namespace ferry::runtime
