#include "admin/http_server.h"

#include <dirent.h>
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
#include "core/log.h"
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

// Waits for `events` on fd or for the wake eventfd, within the deadline. False on timeout/stop.
bool wait_fd(int fd, short events, int wake_fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (fds[1].revents & POLLIN) == 0;
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
  process_metrics(out);
  return out;
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
                                                                             std::string version) {
  auto fail = [&](const std::string& why) { return Err{"admin_http " + host_port + ": " + why}; };
  auto sa = parse_sockaddr(host_port);
  if (!sa) return fail(sa.error());
  int fd = socket(sa->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, sa->addr(), sa->len) != 0 || listen(fd, 64) != 0) {
    std::string why = std::strerror(errno);
    close(fd);
    return fail(why);
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

void AdminHttpServer::run() {
  log::set_thread_name("http");
  while (!stopping_.load(std::memory_order_relaxed)) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("admin http: poll failed error=\"%s\"", std::strerror(errno));
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        LOG_WARN("admin http: accept failed error=\"%s\"", std::strerror(errno));
        // EMFILE and friends: back off briefly instead of spinning on a ready listener.
        pollfd wake = {wake_fd_, POLLIN, 0};
        poll(&wake, 1, 100);
      }
      continue;
    }
    serve(fd);
    close(fd);
  }
}

void AdminHttpServer::serve(int fd) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
  std::string head;
  char buf[2048];
  HttpResponse response;
  bool complete = false;
  while (!complete) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      head.append(buf, static_cast<size_t>(n));
      complete = head.find("\r\n\r\n") != std::string::npos || head.find("\n\n") != std::string::npos;
      if (!complete && head.size() > kMaxRequestBytes) {
        response = text(431, "request too large\n");
        break;
      }
      continue;
    }
    if (n == 0) return;  // the peer gave up
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return;
    if (!wait_fd(fd, POLLIN, wake_fd_, deadline)) {
      response = text(408, "request timeout\n");
      break;
    }
  }
  if (complete) {
    if (head.size() > kMaxRequestBytes) {
      response = text(431, "request too large\n");
    } else {
      response = handle_http_request(head, healthy_, version_);
    }
  }
  std::string out = serialize_http_response(response);
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_fd(fd, POLLOUT, wake_fd_, deadline)) return;
    } else {
      return;
    }
  }
  shutdown(fd, SHUT_WR);
  // Read what the client still sends (e.g. the rest of an oversized request) until it closes, so
  // close() does not answer unread bytes with a reset that could destroy the response in flight.
  auto linger = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
  for (size_t drained = 0; drained < (64u << 10);) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      drained += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd, POLLIN, wake_fd_, linger)) return;
    } else {
      return;
    }
  }
}

}  // namespace odp::admin
