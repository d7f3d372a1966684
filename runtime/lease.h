// Holds a migration's lease in ferry_meta for as long as it lives: taken at construction
// (or refused, saying who holds it), renewed on a thread of its own, released at the end.
// A process killed with SIGKILL leaves its lease to expire; on the same host it is taken
// over at once, since its process is gone.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/connection.h"

namespace ferry::runtime {

class Lease {
 public:
  static constexpr int kSeconds = 60;
  // Opens a new connection to the destination: called for the lease's own connection, and
  // again whenever it was lost (so that an `instance` endpoint is resolved again).
  using Connector = std::function<StatusOr<std::unique_ptr<Connection>>()>;
  // Takes the lease on a connection of its own. A refusal is kFailedPrecondition.
  static StatusOr<std::unique_ptr<Lease>> Take(Connector destination, const std::string& migration_key);
  ~Lease();
  // Set when the lease could not be renewed in time or was taken over: the run must stop
  // before it commits more work (LoadOptions::stop takes it).
  const std::atomic<bool>& lost() const { return lost_; }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

 private:
  Lease(std::unique_ptr<Connection> conn, Connector connect, std::string key);
  void Renew();

  std::unique_ptr<Connection> conn_;
  Connector connect_;
  std::string key_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> lost_{false};
  std::thread thread_;
};

}  // namespace ferry::runtime
