// Key-range chunks: how a table's rows are split so that chunks copy in parallel and each
// commits with its checkpoint.
//
// Boundaries are found by walking the chunk key's index (the primary key, else a NOT NULL
// unique key): each step reads one key value `rows` further on. They are stored in ferry_meta
// before any row is copied, so a resumed load copies exactly the chunks that did not commit.
// A table without such a key is one chunk (copied, and on resume copied again, as a whole).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/catalog.h"
#include "runtime/connection.h"
#include "runtime/meta.h"

namespace ferry::runtime {

// Rows per chunk for a table: about 8 MB of rows by the table's statistics, 1,000 to 50,000
// (FERRY_CHUNK_ROWS in the environment overrides it).
int64_t ChunkRows(const Table& table);

// The chunks of a table. Reads the source's key index only. `leading_integer`: cut only by
// the key's first column, an integer (verify across engines, whose other key columns may
// order differently on the two sides); the caller checks that the column is one.
StatusOr<std::vector<ChunkRecord>> PlanTableChunks(Connection& src, const Table& table, int64_t rows_per_chunk,
                                                   bool leading_integer = false);

// Whether a table's chunk key starts with an integer column.
bool IntegerLeadingKey(const Table& table);

// The source predicate that selects a chunk's rows ("TRUE" for a whole-table chunk).
std::string ChunkPredicate(ir::Engine engine, const Table& table, const ChunkRecord& chunk);

// PostgreSQL's SQL for the position (0, 1, …) in `chunks` of the chunk a row of `table` is in,
// by one binary search of the bounds (width_bucket), where every bound is one integer of the
// key's leading column, an integer column or a numeric without fraction; nullopt otherwise. `chunks` are a table's, in order.
std::optional<std::string> PgChunkIndexSql(const Table& table, const std::vector<ChunkRecord>& chunks);

}  // namespace ferry::runtime
