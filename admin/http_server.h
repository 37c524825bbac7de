#pragma once
// A tiny HTTP/1.1 server for the control plane: GET /metrics (Prometheus text exposition of
// core::StatsRegistry) and GET /healthz. It runs on its own thread, multiplexing up to 64
// non-blocking connections with poll so a slow client cannot starve health checks; it answers one
// request per connection (Connection: close), bounds each request to 8 KiB and 2 s, and never
// touches the proxy's workers beyond reading their relaxed counters.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"

namespace odp::admin {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool head_only = false;  // HEAD: headers with the GET body's length, no body
};

// What the server answers to one request head ("GET /metrics HTTP/1.1\r\nHost: ...\r\n\r\n").
// Pure apart from calling `healthy` and reading the stats: unit-tested without a socket.
HttpResponse handle_http_request(std::string_view head, const std::function<bool()>& healthy, std::string_view version);

// The full response bytes (status line, headers, body).
std::string serialize_http_response(const HttpResponse& response);

// Control-plane events that are not per-worker stats: written by the main thread, read by /metrics.
struct ControlStats {
  std::atomic<int64_t> config_reloads_ok{0};
  std::atomic<int64_t> config_reloads_failed{0};
  std::atomic<int64_t> config_last_reload_ok{1};            // 0 after a reload that was refused
  std::atomic<int64_t> config_last_reload_unix_seconds{0};  // start-up counts as the first load
  std::atomic<int64_t> config_restart_pending{0};           // keys changed in the file but not applied

  static ControlStats& instance();
};

// Prometheus text format 0.0.4 for the given totals (in core::kStatInfo order), plus odp_up,
// odp_healthy, odp_build_info, the odp_config_* reload metrics and the standard process_* metrics.
std::string render_metrics(const std::vector<int64_t>& totals, std::string_view version, bool healthy);

class AdminHttpServer {
 public:
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr int kRequestTimeoutMs = 2000;
  static constexpr size_t kMaxConnections = 64;

  // Binds `host_port` (numeric IP; port 0 picks a free port) and starts the thread; with
  // `inherited_fd` (a hot upgrade's listening socket on the same address) uses that instead. Errors are one
  // line, e.g. "admin_http 127.0.0.1:2884: Address already in use".
  static Result<std::unique_ptr<AdminHttpServer>, std::string> start(const std::string& host_port,
                                                                     std::function<bool()> healthy,
                                                                     std::string version = "unknown",
                                                                     int inherited_fd = -1);
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Stops and joins the thread, closing the socket. Idempotent.
  void stop();
  uint16_t port() const { return port_; }
  // The listening socket, to hand to a new process on a hot upgrade (valid until stop()).
  int listen_fd() const { return listen_fd_; }

 private:
  AdminHttpServer(int listen_fd, int wake_fd, uint16_t port, std::function<bool()> healthy, std::string version);
  struct Conn;
  void run();
  void accept_all(std::vector<Conn>& conns);
  // Advances one connection on readiness or timeout; false when it is finished and must be closed.
  bool step(Conn& c, bool timed_out);

  int listen_fd_;
  int wake_fd_;  // eventfd: stop() wakes the thread
  uint16_t port_;
  std::function<bool()> healthy_;
  std::string version_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace odp::admin
