// `--metrics ADDR`: Prometheus text metrics over HTTP (GET /metrics), served from a thread of
// its own while `ferry apply` runs: rows, bytes and chunks per table, errors, the stage.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/load/full_load.h"
#include "runtime/status.h"

namespace ferry::runtime {

class MetricsServer {
 public:
  // ADDR is host:port ("127.0.0.1:9187", ":9187" for every interface).
  static StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& addr);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void SetStage(const std::string& migration, const std::string& stage);
  void SetTables(const std::string& migration, const std::vector<TableProgress>& tables);
  void AddError(const std::string& migration);
  std::string Render();

 private:
  explicit MetricsServer(int fd) : fd_(fd) {}
  void Serve();

  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::string> stage_;
  std::map<std::string, std::vector<TableProgress>> tables_;
  std::map<std::string, int64_t> errors_;
};

}  // namespace ferry::runtime
