// The 64-bit hash of a row's canonical text (normalize.h RowText), which `checksum` mode sums
// per chunk. Each engine hashes in SQL with the cheapest function that has 64 bits:
//
//   PostgreSQL  hashtextextended(text COLLATE "C", 0): Bob Jenkins' lookup3 over the bytes, as
//               PostgreSQL 11 and later compute it on little-endian machines.
//   MySQL       the first 64 bits of SHA-256, big-endian (SHA2: MySQL has no cheaper 64-bit
//               hash of a string), between two MySQL servers.
//
// No MySQL function computes PostgreSQL's hash, so a MySQL side compared with PostgreSQL is read
// by Ferry (its columns' canonical text) and hashed here. Such a row is hashed column by column
// (ColumnsHash), which costs PostgreSQL half of hashing the row's joined text: no lengths to
// print, nothing to concatenate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir.h"

namespace ferry::runtime {

// What PostgreSQL's hashtextextended(text, seed) returns for these bytes under a deterministic
// collation, as the bits of its bigint (hash_bytes_extended: also hashfloat8extended's hash of
// a double's 8 bytes).
uint64_t PgHashTextExtended(std::string_view bytes, uint64_t seed = 0);

// What PostgreSQL's hash_uint32_extended(k, seed) returns: hashint8extended(k, seed) for a k of
// 0 to 2^31 - 1. The seed's 64 bits all enter the hash, where hashint8extended's first argument
// is folded into 32.
uint64_t PgHashUint32Extended(uint32_t k, uint64_t seed);

// How ColumnsHash takes a column. Between engines a column whose canonical values are numbers
// on both sides is hashed as the number, which PostgreSQL does without printing it: an integer
// (bigint, boolean as 0/1) as hashint8extended(n, value), the value in the seed, which keeps
// all its 64 bits; a double as hashfloat8extended(value, seed of n) (0 and -0 hash alike). Every
// other column as its canonical text, hashtextextended(text COLLATE "C", n). A double's seed is
// not n itself but DoubleSeed(n): hashfloat8extended gives a zero its seed, and zeros hashing as
// 2, 3, 4, 5 would XOR to 0, as four NULLs do.
enum class HashAs { kText, kInteger, kDouble };

// The seed of a double at position n (hash_uint32_extended(n, 0)).
uint64_t DoubleSeed(uint64_t position);

// A column of ColumnsHashSql: its SQL (canonical text, or the number: bigint or double).
struct HashedColumn {
  std::string sql;
  HashAs as = HashAs::kText;
};

// The SQL (engine e) of the hash of a row text given as SQL, as a signed or unsigned 64-bit
// integer.
std::string RowHashSql(ir::Engine e, const std::string& row_text);

// A row's hash from its columns' canonical values, as PostgreSQL computes it in
// ColumnsHashSql: each column hashed as HashAs says, seeded with its position (1, 2, …; a NULL
// column is 0), the XOR of these, and that XOR hashed once more (hashint8extended(0, xor)), so
// that a sum of rows' hashes does not stay the same when values swap between rows.
// Not thread-safe; one per reader.
class ColumnsHash {
 public:
  void Add(std::optional<std::string_view> text) {
    ++position_;
    if (text) xor_ ^= PgHashTextExtended(*text, position_);
  }
  // A column hashed as `as`, from its canonical text (a decimal integer, a double's digits).
  // A text that is no such number, which PostgreSQL's side cannot hold, is hashed as text.
  void Add(HashAs as, std::optional<std::string_view> value);
  // A column hashed as an integer, or as a double, that is not NULL.
  void AddInteger(int64_t v) {
    ++position_;
    xor_ ^= PgHashUint32Extended(static_cast<uint32_t>(position_), static_cast<uint64_t>(v));
  }
  void AddDouble(double v);
  // The row's hash; starts the next row.
  uint64_t Take() {
    uint64_t h = PgHashUint32Extended(0, xor_);
    position_ = 0;
    xor_ = 0;
    return h;
  }

 private:
  uint64_t position_ = 0;
  uint64_t xor_ = 0;
};

// ColumnsHash in PostgreSQL's SQL, over the columns (SQL expressions).
std::string ColumnsHashSql(const std::vector<HashedColumn>& columns);

}  // namespace ferry::runtime
