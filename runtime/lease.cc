#include "runtime/lease.h"

#include <chrono>

#include "runtime/meta.h"

namespace ferry::runtime {

StatusOr<std::unique_ptr<Lease>> Lease::Take(const ConnectOptions& destination, const std::string& key) {
  auto conn = Connect(destination);
  if (!conn.ok()) return conn.status();
  FERRY_RETURN_IF_ERROR(EnsureMeta(**conn));
  LeaseHolder holder;
  auto got = AcquireLease(**conn, key, kSeconds, &holder);
  if (!got.ok()) return got.status();
  if (!*got) {
    return Status(Code::kFailedPrecondition,
                  "another ferry apply of this migration is running (" + holder.owner +
                      "); wait for it to finish, or stop it: a stopped or killed run is resumed by the next apply");
  }
  return std::unique_ptr<Lease>(new Lease(std::move(conn).value(), key));
}

Lease::Lease(std::unique_ptr<Connection> conn, std::string key) : conn_(std::move(conn)), key_(std::move(key)) {
  thread_ = std::thread([this] { Renew(); });
}

void Lease::Renew() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(kSeconds / 4), [this] { return done_; })) {
    (void)RenewLease(*conn_, key_, kSeconds);  // a missed renewal is retried; the lease lasts 4 periods
  }
}

Lease::~Lease() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  (void)ReleaseLease(*conn_, key_);
}

}  // namespace ferry::runtime
