#include "runtime/load/throttle.h"

#include <algorithm>
#include <thread>

namespace ferry::runtime {

void TokenBucket::Take(double n) {
  if (rate_ <= 0 || n <= 0) return;
  std::chrono::duration<double> wait{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(rate_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
    last_ = now;
    tokens_ -= n;  // may go negative: the debt is waited out here, outside the lock
    if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / rate_);
  }
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

}  // namespace ferry::runtime
