// The 64-bit hash of a row's canonical text (normalize.h RowText), which `checksum` mode sums
// per chunk. The same function is computed in SQL by a database and, for a side whose rows
// Ferry reads, by Ferry itself; this file holds both forms of each, side by side.
//
//   kPgText  PostgreSQL's hashtextextended(text COLLATE "C", 0): Bob Jenkins' lookup3 over the
//            bytes, as PostgreSQL 11 and later compute it on little-endian machines. Cheap in
//            PostgreSQL; no MySQL function computes it, so a MySQL side compared this way is
//            read by Ferry (its columns' canonical text) and hashed here.
//   kSha256  the first 64 bits of SHA-256, big-endian, between two MySQL servers (SHA2: MySQL
//            has no cheaper 64-bit hash of a string), and by Ferry for a row it reads there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/ir.h"

namespace ferry::runtime {

enum class RowHashFn { kSha256, kPgText };

// What PostgreSQL's hashtextextended(text, seed) returns for these bytes under a deterministic
// collation, as the bits of its bigint.
uint64_t PgHashTextExtended(std::string_view bytes, uint64_t seed = 0);

uint64_t Sha256First64(std::string_view bytes);

// Either, by name.
uint64_t HashRowText(RowHashFn fn, std::string_view text);

// The SQL (engine e) of the hash of a row text given as SQL, as a signed or unsigned 64-bit
// integer whose bits are HashRowText's: SHA2 in MySQL, hashtextextended in PostgreSQL (kPgText
// has no MySQL form: empty).
std::string RowHashSql(ir::Engine e, RowHashFn fn, const std::string& row_text);

}  // namespace ferry::runtime
