// The `load` stages: every selected table's rows, copied in key-range chunks by `workers`
// parallel workers, each chunk committed in one destination transaction together with its
// checkpoint in ferry_meta. Killed at any moment and run again, a load copies exactly the
// chunks that did not commit: no row lost, none doubled.
//
// A chunk that fails on a lost connection (or a deadlock) is retried, with backoff, within the
// plan's `retry` windows; any other failure stops the load with an error naming the stage, the
// table, the chunk and the plan line. A stop request (SIGINT/SIGTERM) is honoured between
// chunks.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "runtime/context.h"

namespace ferry::runtime {

struct TableProgress {
  std::string table;        // the source table
  int64_t rows = 0;         // copied (all runs)
  int64_t bytes = 0;
  int64_t rows_estimate = 0;
  int chunks_done = 0;
  int chunks = 0;
};

struct LoadOptions {
  const std::atomic<bool>* stop = nullptr;        // a stop request (SIGINT/SIGTERM)
  const std::atomic<bool>* lease_lost = nullptr;  // the lease is gone: stop, as a failure
  // About once a second while the load runs, and once at the end (final = true).
  std::function<void(const std::vector<TableProgress>&, double seconds, bool final)> on_progress;
  // A remark for the person running the load, said once: a slower path taken, and why.
  std::function<void(const std::string&)> on_notice;
  // A table's rows are all in the destination (its last chunk committed, in this run or an
  // earlier one): its indexes may be built. Called from the load's threads.
  std::function<void(const TableMapping&)> on_table_done;
};

// Runs the load of every selected table. kCancelled when stopped by request.
Status RunFullLoad(MigrationContext& ctx, const LoadOptions& options);

}  // namespace ferry::runtime
