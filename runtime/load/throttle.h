// Token buckets for `throttle full { source_qps rows_per_s mb_per_s }` (DTS's "Enable
// Throttling for Full Data Migration"): shared by every worker of a stage; a worker that
// wants more than there is waits. Bursts up to one second's worth.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

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

}  // namespace ferry::runtime
