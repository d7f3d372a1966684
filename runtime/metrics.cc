#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace ferry::runtime {

namespace {

// A Prometheus label value: backslash, quote and newline escaped.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& addr) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) {
    return Status(Code::kInvalidArgument, "--metrics wants host:port, e.g. 127.0.0.1:9187; got " + addr);
  }
  std::string host = addr.substr(0, colon);
  int port = std::atoi(addr.c_str() + colon + 1);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (host.empty() || host == "0.0.0.0") {
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &sa.sin_addr) != 1) {
    return Status(Code::kInvalidArgument, "--metrics: `" + host + "` is not an IPv4 address");
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 16) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    return Status(Code::kUnavailable, "--metrics: cannot listen on " + addr + ": " + why);
  }
  auto server = std::unique_ptr<MetricsServer>(new MetricsServer(fd));
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

void MetricsServer::SetStage(const std::string& migration, const std::string& stage) {
  std::lock_guard<std::mutex> lock(mu_);
  stage_[migration] = stage;
}

void MetricsServer::SetTables(const std::string& migration, const std::vector<TableProgress>& tables) {
  std::lock_guard<std::mutex> lock(mu_);
  tables_[migration] = tables;
}

void MetricsServer::AddError(const std::string& migration) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_[migration];
}

std::string MetricsServer::Render() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP ferry_stage_info The stage a migration is in.\n# TYPE ferry_stage_info gauge\n";
  for (const auto& [m, s] : stage_) out += fmt::format("ferry_stage_info{{migration=\"{}\",stage=\"{}\"}} 1\n", Label(m), Label(s));
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    int64_t (*get)(const TableProgress&);
  };
  const Metric metrics[] = {
      {"ferry_rows_copied_total", "counter", "Rows copied to the destination.", [](const TableProgress& t) { return t.rows; }},
      {"ferry_bytes_copied_total", "counter", "Bytes written to the destination.", [](const TableProgress& t) { return t.bytes; }},
      {"ferry_chunks_done", "gauge", "Chunks committed.", [](const TableProgress& t) { return static_cast<int64_t>(t.chunks_done); }},
      {"ferry_chunks", "gauge", "Chunks planned.", [](const TableProgress& t) { return static_cast<int64_t>(t.chunks); }},
  };
  for (const auto& metric : metrics) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", metric.name, metric.help, metric.name, metric.type);
    for (const auto& [m, tables] : tables_) {
      for (const auto& t : tables) {
        out += fmt::format("{}{{migration=\"{}\",table=\"{}\"}} {}\n", metric.name, Label(m), Label(t.table), metric.get(t));
      }
    }
  }
  out += "# HELP ferry_errors_total Stage failures.\n# TYPE ferry_errors_total counter\n";
  for (const auto& [m, n] : errors_) out += fmt::format("ferry_errors_total{{migration=\"{}\"}} {}\n", Label(m), n);
  return out;
}

void MetricsServer::Serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0) continue;
    char buf[2048];
    ssize_t n = recv(c, buf, sizeof buf - 1, 0);  // the request line is all that matters
    std::string req(buf, n > 0 ? static_cast<size_t>(n) : 0);
    std::string body, status = "200 OK";
    if (req.rfind("GET /metrics", 0) == 0 || req.rfind("GET / ", 0) == 0) {
      body = Render();
    } else {
      status = "404 Not Found";
      body = "ferry serves /metrics\n";
    }
    std::string resp = fmt::format(
        "HTTP/1.1 {}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        status, body.size(), body);
    for (size_t sent = 0; sent < resp.size();) {
      ssize_t k = send(c, resp.data() + sent, resp.size() - sent, MSG_NOSIGNAL);
      if (k <= 0) break;
      sent += static_cast<size_t>(k);
    }
    close(c);
  }
}

}  // namespace ferry::runtime
