// The 64-bit hash of a row's canonical text (normalize.h RowText), which `checksum` mode sums
// per chunk. Each engine hashes in SQL with the cheapest function that has 64 bits:
//
//   PostgreSQL  hashtextextended(text COLLATE "C", 0): Bob Jenkins' lookup3 over the bytes, as
//               PostgreSQL 11 and later compute it on little-endian machines.
//   MySQL       the first 64 bits of SHA-256, big-endian (SHA2: MySQL has no cheaper 64-bit
//               hash of a string), between two MySQL servers.
//
// No MySQL function computes PostgreSQL's hash, so a MySQL side compared with PostgreSQL is read
// by Ferry (its columns' canonical text) and hashed here with PgHashTextExtended.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/ir.h"

namespace ferry::runtime {

// What PostgreSQL's hashtextextended(text, seed) returns for these bytes under a deterministic
// collation, as the bits of its bigint.
uint64_t PgHashTextExtended(std::string_view bytes, uint64_t seed = 0);

// The SQL (engine e) of the hash of a row text given as SQL, as a signed or unsigned 64-bit
// integer.
std::string RowHashSql(ir::Engine e, const std::string& row_text);

}  // namespace ferry::runtime
