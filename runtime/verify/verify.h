// The verify stage and `ferry verify`: compares the source's selected rows with the
// destination's, through the plan's mapping, and says exactly what differs.
//
// Modes (LANGUAGE.md `verify { mode }`):
//   count     row counts per table (the source's `where` filters applied);
//   checksum  per key-range chunk, each side hashes its rows in the database (normalize.h), so
//             only a count and a sum cross the network; a chunk that differs is split by the
//             hash of its keys, 256 ways a round, until the parts are small enough to read
//             row by row and name every missing, extra and differing row;
//   rows      every chunk read row by row.
// Row by row, both sides are read ordered by the hash of the key, not by the key: the order
// is the same in both engines whatever their collations. Tables without a primary or unique
// key are compared as multisets of rows.
//
// Chunks and their results are kept in ferry_meta (meta.h), so a killed verify resumes; a
// finished one is not reused. `throttle full` limits verify's reads of the source too.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/context.h"

namespace ferry::runtime {

struct VerifyOptions {
  ir::VerifyMode mode = ir::VerifyMode::kChecksum;
  const std::atomic<bool>* stop = nullptr;  // a stop request (SIGINT/SIGTERM)
  // About every second while it runs: chunks compared, of how many.
  std::function<void(int done, int total, double seconds)> on_progress;
  std::function<void(const std::string&)> on_notice;
};

using Text = std::optional<std::string>;  // a canonical value; nullopt is NULL

struct Difference {
  std::string kind;  // missing (source only), extra (destination only), differs
  std::vector<std::pair<std::string, Text>> key;  // source column, value; empty for a table without a key
  struct Column {
    std::string name;  // the source column
    Text source, destination;
  };
  std::vector<Column> columns;                    // differs: the columns that differ
  std::vector<std::pair<std::string, Text>> row;  // missing, extra: the whole row
  std::string hash;                               // missing, extra: of the whole row
};

struct TableVerdict {
  std::string source;       // schema.table in the source
  std::string destination;  // schema.table in the destination
  std::string loc;          // the plan line that selected it
  bool equal = true;
  std::string problem;      // what makes the table impossible to compare (it is not in the destination …)
  int64_t source_rows = 0, destination_rows = 0;
  int64_t differences = 0;  // rows that differ; more than `listed` holds when there are many
  std::vector<Difference> listed;
  int chunks = 0, chunks_differ = 0;
};

struct VerifyReport {
  std::string migration;
  std::string mode;
  bool equal = true;
  bool resumed = false;
  double seconds = 0;
  std::vector<TableVerdict> tables;
};

// PostgreSQL's major version as verify judges it: `checksum` and `rows` need 13 or later
// (values compared as 13 prints them: trim_scale, floats at their shortest digits). Tests
// pretend an older server with FERRY_VERIFY_PG_MAJOR (theirs are 15).
constexpr int kVerifyMinPgMajor = 13;
int VerifyPgMajor(const Connection& postgres);

// Whether `checksum` and `rows` must hash this PostgreSQL side's text as UTF-8 outside its
// database: it is not encoded in UTF8, and the other side (`other`) is MySQL (whose text is
// UTF-8) or a PostgreSQL database in another encoding. In SQL PostgreSQL hashes text as the
// database's bytes, so equal non-ASCII text would compare as different; such a side's values
// are read instead (libpq converts them to UTF-8) and hashed by Ferry, and its keys hashed in
// SQL after convert_to(…, 'UTF8').
bool VerifyReencodes(const Connection& postgres, const Connection& other);

// Runs the comparison. kCancelled when stopped by request (resumable); other errors are
// runtime failures naming the table and chunk.
StatusOr<VerifyReport> RunVerify(MigrationContext& ctx, const VerifyOptions& options);

nlohmann::json ToJson(const VerifyReport& report);
std::string RenderText(const VerifyReport& report, bool color);

}  // namespace ferry::runtime
