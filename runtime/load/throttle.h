// Token buckets for `throttle full { source_qps rows_per_s mb_per_s }` (DTS's "Enable
// Throttling for Full Data Migration"): shared by every worker of a stage; a worker that
// wants more than there is waits. Bursts up to one second's worth.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "compiler/ir.h"
#include "runtime/status.h"

namespace ferry::runtime {

class TokenBucket {
 public:
  explicit TokenBucket(std::optional<double> per_second) : rate_(per_second.value_or(0)), tokens_(rate_) {}
  // Takes n tokens, sleeping until they are there. Free when the bucket has no rate.
  void Take(double n);

 private:
  double rate_;
  double tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::mutex mu_;
};

// The three buckets of a migration's `throttle full`, shared by the load's and verify's workers.
struct FullThrottle {
  explicit FullThrottle(const std::optional<ir::Throttle>& t);
  TokenBucket qps;    // queries on the source
  TokenBucket rows;   // rows read from the source
  TokenBucket bytes;  // bytes read from the source
};

// The `retry` windows (DESIGN.md): how long to wait before trying a failed piece of work
// again, or nullopt when it must not be retried (not a lost connection or a deadlock, or past
// its window since `began`). `attempt` counts the tries, for the backoff.
std::optional<int64_t> RetryDelayMs(const Status& st, const ir::Retry& retry, std::chrono::steady_clock::time_point began,
                                    int* attempt);

}  // namespace ferry::runtime
