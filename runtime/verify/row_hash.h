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
// collation, as the bits of its bigint.
uint64_t PgHashTextExtended(std::string_view bytes, uint64_t seed = 0);

// The SQL (engine e) of the hash of a row text given as SQL, as a signed or unsigned 64-bit
// integer.
std::string RowHashSql(ir::Engine e, const std::string& row_text);

// A row's hash from its columns' canonical texts, as PostgreSQL computes it in
// ColumnsHashSql: the hashtextextended of each column's text seeded with its position (1, 2,
// …; a NULL column is 0), the XOR of these, and the hashtextextended of that bigint's decimal
// text, so that a sum of rows' hashes does not stay the same when values swap between rows.
class ColumnsHash {
 public:
  void Add(std::optional<std::string_view> text) {
    ++position_;
    if (text) xor_ ^= PgHashTextExtended(*text, position_);
  }
  // The row's hash; starts the next row.
  uint64_t Take();

 private:
  uint64_t position_ = 0;
  uint64_t xor_ = 0;
};

// ColumnsHash in PostgreSQL's SQL, over the columns' canonical texts (SQL expressions).
std::string ColumnsHashSql(const std::vector<std::string>& texts);

}  // namespace ferry::runtime
