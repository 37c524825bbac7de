#include "admin/http_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "admin/address.h"
#include "base/log.h"
#include "core/stats.h"

namespace odp::admin {
namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

HttpResponse text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Escapes a label value: backslash, double quote and newline.
std::string escape_label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            const std::string& sample) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(sample).append("\n");
}

// The standard process_* metrics from /proc/self, so dashboards built for other exporters work.
void process_metrics(std::string& out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // the command name may contain spaces; fields follow ')'
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    // After ')': f[0] is field 3 (state); utime 14, stime 15, starttime 22, rss 24.
    if (f.size() > 21) {
      double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      metric(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
             "process_cpu_seconds_total " + std::to_string(cpu));
      long page = sysconf(_SC_PAGESIZE);
      metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
             "process_resident_memory_bytes " + std::to_string(std::stoll(f[21]) * page));
      std::ifstream uptime_file("/proc/uptime");
      double uptime = 0;
      uptime_file >> uptime;
      double started_ago = uptime - std::stod(f[19]) / ticks;
      double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      metric(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
             "process_start_time_seconds " + std::to_string(static_cast<int64_t>(now - started_ago)));
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int64_t fds = -1;  // the directory's own descriptor is listed too
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++fds;
    }
    closedir(dir);
    metric(out, "process_open_fds", "gauge", "Number of open file descriptors.",
           "process_open_fds " + std::to_string(fds));
  }
}

}  // namespace

std::string render_metrics(const std::vector<int64_t>& totals, std::string_view version, bool healthy) {
  std::string out;
  out.reserve(8192);
  metric(out, "odp_up", "gauge", "1 while odp runs", "odp_up 1");
  metric(out, "odp_healthy", "gauge", "1 while odp accepts clients, 0 while it drains",
         std::string("odp_healthy ") + (healthy ? "1" : "0"));
  metric(out, "odp_build_info", "gauge", "odp's version, as a label",
         "odp_build_info{version=\"" + escape_label(version) + "\"} 1");
  for (size_t i = 0; i < core::kStatCount; ++i) {
    const core::StatInfo& info = core::kStatInfo[i];
    std::string name = std::string("odp_") + info.name;
    int64_t value = i < totals.size() ? totals[i] : 0;
    metric(out, name, info.kind == core::StatKind::counter ? "counter" : "gauge", info.help,
           name + " " + std::to_string(value));
  }
  const ControlStats& cs = ControlStats::instance();
  out += "# HELP odp_config_reloads_total SIGHUP reloads by result\n# TYPE odp_config_reloads_total counter\n";
  out += "odp_config_reloads_total{result=\"success\"} " + std::to_string(cs.config_reloads_ok.load()) + "\n";
  out += "odp_config_reloads_total{result=\"failure\"} " + std::to_string(cs.config_reloads_failed.load()) + "\n";
  metric(out, "odp_config_last_reload_successful", "gauge", "0 when the last reload was refused (the old config runs)",
         "odp_config_last_reload_successful " + std::to_string(cs.config_last_reload_ok.load()));
  metric(
      out, "odp_config_last_reload_success_timestamp_seconds", "gauge",
      "When the running config was last loaded (unix time)",
      "odp_config_last_reload_success_timestamp_seconds " + std::to_string(cs.config_last_reload_unix_seconds.load()));
  metric(out, "odp_config_restart_pending_keys", "gauge",
         "Keys changed in the config file that take effect only after a restart",
         "odp_config_restart_pending_keys " + std::to_string(cs.config_restart_pending.load()));
  process_metrics(out);
  return out;
}

ControlStats& ControlStats::instance() {
  static ControlStats stats;
  return stats;
}

HttpResponse handle_http_request(std::string_view head, const std::function<bool()>& healthy,
                                 std::string_view version) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0) {
    return text(400, "bad request\n");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") return text(405, "only GET and HEAD\n");
  HttpResponse r;
  if (target == "/metrics") {
    bool ok = !healthy || healthy();
    r = text(200, render_metrics(core::StatsRegistry::instance().totals(), version, ok));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (target == "/healthz") {
    bool ok = !healthy || healthy();
    r = ok ? text(200, "ok") : text(503, "draining");
  } else {
    r = text(404, "not found\n");
  }
  r.head_only = method == "HEAD";
  return r;
}

std::string serialize_http_response(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!response.head_only) out += response.body;
  return out;
}

Result<std::unique_ptr<AdminHttpServer>, std::string> AdminHttpServer::start(const std::string& host_port,
                                                                             std::function<bool()> healthy,
                                                                             std::string version, int inherited_fd) {
  auto fail = [&](const std::string& why) { return Err{"admin_http " + host_port + ": " + why}; };
  auto sa = parse_sockaddr(host_port);
  if (!sa) {
    if (inherited_fd >= 0) close(inherited_fd);
    return fail(sa.error());
  }
  int fd = -1;
  if (inherited_fd >= 0) {
    sockaddr_storage got{};
    socklen_t got_len = sizeof(got);
    int listening = 0;
    socklen_t optlen = sizeof(listening);
    bool same = getsockname(inherited_fd, reinterpret_cast<sockaddr*>(&got), &got_len) == 0 && got_len == sa->len &&
                std::memcmp(&got, sa->addr(), got_len) == 0 &&
                getsockopt(inherited_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) == 0 && listening != 0;
    if (same) {
      fd = inherited_fd;
      int flags = fcntl(fd, F_GETFL);
      fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    } else {
      close(inherited_fd);  // the address changed: bind the new one
    }
  }
  if (fd < 0) {
    fd = socket(sa->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, sa->addr(), sa->len) != 0 || listen(fd, 64) != 0) {
      std::string why = std::strerror(errno);
      close(fd);
      return fail(why);
    }
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    std::string why = std::strerror(errno);
    close(fd);
    return fail(why);
  }
  std::unique_ptr<AdminHttpServer> server(new AdminHttpServer(fd, wake, port, std::move(healthy), std::move(version)));
  server->thread_ = std::thread([s = server.get()] { s->run(); });
  return server;
}

AdminHttpServer::AdminHttpServer(int listen_fd, int wake_fd, uint16_t port, std::function<bool()> healthy,
                                 std::string version)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      healthy_(std::move(healthy)),
      version_(std::move(version)) {}

AdminHttpServer::~AdminHttpServer() {
  stop();
}

void AdminHttpServer::stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_fd_);
}

// One client connection: read the request head, write the response, then read (and drop) what the
// client still sends until it closes, so close() never turns unread bytes into a reset that could
// destroy the response in flight.
struct AdminHttpServer::Conn {
  enum class State { reading, writing, lingering };
  int fd = -1;
  State state = State::reading;
  std::string data;  // the request head while reading, the response while writing
  size_t sent = 0;
  std::chrono::steady_clock::time_point deadline;
};

void AdminHttpServer::run() {
  log::set_thread_name("http");
  std::vector<Conn> conns;
  conns.reserve(kMaxConnections);
  std::vector<pollfd> fds;
  while (!stopping_.load(std::memory_order_relaxed)) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    // Full: leave new connections in the backlog until a slot frees up.
    fds.push_back({listen_fd_, static_cast<short>(conns.size() < kMaxConnections ? POLLIN : 0), 0});
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::hours(1);
    for (const Conn& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.state == Conn::State::writing ? POLLOUT : POLLIN), 0});
      next = std::min(next, c.deadline);
    }
    int timeout_ms = conns.empty()
                         ? -1
                         : static_cast<int>(std::max<int64_t>(
                               0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1));
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("admin http: poll failed error=\"%s\"", std::strerror(errno));
      break;
    }
    if ((fds[0].revents & POLLIN) != 0) break;
    now = std::chrono::steady_clock::now();
    // Connections first (fds[2..] match conns before any accept), then new ones.
    size_t kept = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      bool ready = fds[i + 2].revents != 0;
      bool alive = true;
      if (ready || now >= c.deadline) alive = step(c, !ready);
      if (alive) {
        if (kept != i) conns[kept] = std::move(c);  // never self-move: it may empty the strings
        ++kept;
      } else {
        close(c.fd);
      }
    }
    conns.resize(kept);
    if ((fds[1].revents & POLLIN) != 0) accept_all(conns);
  }
  for (Conn& c : conns) close(c.fd);
}

void AdminHttpServer::accept_all(std::vector<Conn>& conns) {
  while (conns.size() < kMaxConnections) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        LOG_WARN("admin http: accept failed error=\"%s\"", std::strerror(errno));
        // EMFILE and friends: back off briefly instead of spinning on a ready listener.
        pollfd wake = {wake_fd_, POLLIN, 0};
        poll(&wake, 1, 100);
      }
      return;
    }
    Conn c;
    c.fd = fd;
    c.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
    conns.push_back(std::move(c));
  }
}

bool AdminHttpServer::step(Conn& c, bool timed_out) {
  char buf[4096];
  auto respond = [&](const HttpResponse& r) {
    c.data = serialize_http_response(r);
    c.sent = 0;
    c.state = Conn::State::writing;
    c.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
  };
  if (c.state == Conn::State::reading) {
    if (timed_out) {
      respond(text(408, "request timeout\n"));
      return true;
    }
    for (;;) {
      ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
      if (n == 0) return false;  // the client gave up
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == EAGAIN;  // EAGAIN: wait for more; anything else ends the connection
      c.data.append(buf, static_cast<size_t>(n));
      size_t end = c.data.find("\r\n\r\n");
      if (end == std::string::npos) end = c.data.find("\n\n");
      if ((end == std::string::npos && c.data.size() > kMaxRequestBytes) ||
          (end != std::string::npos && end > kMaxRequestBytes)) {
        respond(text(431, "request too large\n"));
        return true;
      }
      if (end != std::string::npos) {
        respond(handle_http_request(c.data, healthy_, version_));
        return true;
      }
    }
  }
  if (c.state == Conn::State::writing) {
    if (timed_out) return false;
    while (c.sent < c.data.size()) {
      ssize_t n = send(c.fd, c.data.data() + c.sent, c.data.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) return false;
      c.sent += static_cast<size_t>(n);
    }
    shutdown(c.fd, SHUT_WR);
    c.state = Conn::State::lingering;
    c.data = std::string();
    c.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    return true;
  }
  // Lingering: drop input until the client closes or the short deadline passes.
  if (timed_out) return false;
  for (;;) {
    ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
  }
}

}  // namespace odp::admin
