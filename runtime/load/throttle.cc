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

FullThrottle::FullThrottle(const std::optional<ir::Throttle>& t)
    : qps(t ? t->source_qps : std::nullopt),
      rows(t ? t->rows_per_s : std::nullopt),
      bytes(t && t->mb_per_s ? std::optional<double>(*t->mb_per_s * 1024 * 1024) : std::nullopt) {}

std::optional<int64_t> RetryDelayMs(const Status& st, const ir::Retry& retry, std::chrono::steady_clock::time_point began,
                                    int* attempt) {
  bool connection = st.code() == Code::kUnavailable;
  if (!connection && st.code() != Code::kAborted) return std::nullopt;
  int64_t window = connection ? retry.connection_ms : retry.other_ms;
  auto spent =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  if (spent >= window) return std::nullopt;
  int64_t backoff = std::min<int64_t>(30000, 500LL << std::min((*attempt)++, 6));
  return std::min<int64_t>(backoff, window - spent);
}

}  // namespace ferry::runtime
