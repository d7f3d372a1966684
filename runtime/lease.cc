#include "runtime/lease.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "runtime/meta.h"

namespace ferry::runtime {

StatusOr<std::unique_ptr<Lease>> Lease::Take(Connector destination, const std::string& key) {
  auto conn = destination();
  if (!conn.ok()) return conn.status();
  FERRY_RETURN_IF_ERROR(EnsureMeta(**conn));
  LeaseHolder holder;
  auto got = AcquireLease(**conn, key, kSeconds, &holder);
  // Two runs taking their first leases at once (other migrations, the same ferry_meta) can
  // deadlock on InnoDB's gap locks; the server asks for the transaction to be tried again (as
  // after a lock wait timeout, which is the same code here).
  for (int attempt = 1; !got.ok() && got.status().code() == Code::kAborted && attempt <= 5; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt + getpid() % 10));
    got = AcquireLease(**conn, key, kSeconds, &holder);
  }
  if (!got.ok()) return got.status();
  if (!*got) {
    return Status(Code::kFailedPrecondition,
                  "another ferry apply of this migration is running (" + holder.owner +
                      "); wait for it to finish, or stop it: a stopped or killed run is resumed by the next apply");
  }
  return std::unique_ptr<Lease>(new Lease(std::move(conn).value(), std::move(destination), key));
}

Lease::Lease(std::unique_ptr<Connection> conn, Connector connect, std::string key)
    : conn_(std::move(conn)), connect_(std::move(connect)), key_(std::move(key)) {
  thread_ = std::thread([this] { Renew(); });
}

void Lease::Renew() {
  auto renewed = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(kSeconds / 6), [this] { return done_; })) {
    lock.unlock();
    // A lost connection is replaced, or a restarted destination would let the lease lapse
    // under a running apply.
    if (!conn_) {
      auto c = connect_();
      if (c.ok()) conn_ = std::move(c).value();
    }
    if (conn_) {
      auto r = RenewLease(*conn_, key_, kSeconds);
      if (!r.ok()) {
        conn_.reset();
      } else if (!*r) {
        lost_ = true;  // taken over, or expired
      } else {
        renewed = std::chrono::steady_clock::now();
      }
    }
    // Unrenewed for most of its life: stop before it could run out under us.
    if (std::chrono::steady_clock::now() - renewed > std::chrono::seconds(kSeconds * 2 / 3)) lost_ = true;
    lock.lock();
  }
}

Lease::~Lease() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (!conn_ || !ReleaseLease(*conn_, key_).ok()) {
    auto c = connect_();
    if (c.ok()) (void)ReleaseLease(**c, key_);
  }
}

}  // namespace ferry::runtime
