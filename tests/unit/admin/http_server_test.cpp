#include "admin/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "core/stats.h"

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0);
  return fd;
}

// Reads until the server closes, with a deadline so a broken server fails the test instead of hanging it.
std::string read_all(int fd) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string request(uint16_t port, const std::string& raw) {
  int fd = connect_to(port);
  REQUIRE(send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size()));
  std::string out = read_all(fd);
  close(fd);
  return out;
}

std::string get(uint16_t port, const std::string& path) {
  return request(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

}  // namespace

TEST_CASE("http: metrics text lists every stat with HELP and TYPE") {
  std::vector<int64_t> totals(odp::core::kStatCount, 0);
  totals[0] = 42;
  std::string text = odp::admin::render_metrics(totals, "1.2.3", true);
  CHECK(contains(text, "# TYPE odp_up gauge\nodp_up 1\n"));
  CHECK(contains(text, "odp_build_info{version=\"1.2.3\"} 1\n"));
  CHECK(contains(text, "odp_healthy 1\n"));
  for (const auto& info : odp::core::kStatInfo) {
    std::string name = std::string("odp_") + info.name;
    CHECK(contains(text, "# HELP " + name + " " + info.help + "\n"));
    CHECK(contains(text, "# TYPE " + name + (info.kind == odp::core::StatKind::counter ? " counter\n" : " gauge\n")));
  }
  CHECK(contains(text, std::string("odp_") + odp::core::kStatInfo[0].name + " 42\n"));
  CHECK(contains(text, "odp_config_reloads_total{result=\"failure\"} "));
  CHECK(contains(text, "# TYPE odp_config_last_reload_successful gauge\n"));
  CHECK(contains(text, "odp_config_restart_pending_keys "));
  CHECK(contains(text, "process_open_fds "));
  CHECK(contains(text, "process_resident_memory_bytes "));
  CHECK(contains(odp::admin::render_metrics(totals, "a\"b\\c", false), "{version=\"a\\\"b\\\\c\"} 1\n"));
  CHECK(contains(odp::admin::render_metrics(totals, "x", false), "odp_healthy 0\n"));
}

TEST_CASE("http: request handling without a socket") {
  auto healthy = [] { return true; };
  auto r = odp::admin::handle_http_request("GET /healthz HTTP/1.1\r\n\r\n", healthy, "v");
  CHECK(r.status == 200);
  CHECK(r.body == "ok");
  r = odp::admin::handle_http_request(
      "GET /healthz HTTP/1.0\r\n\r\n", [] { return false; }, "v");
  CHECK(r.status == 503);
  CHECK(r.body == "draining");
  r = odp::admin::handle_http_request("GET /metrics?x=1 HTTP/1.1\r\n\r\n", healthy, "v");
  CHECK(r.status == 200);
  CHECK(contains(r.content_type, "version=0.0.4"));
  CHECK(odp::admin::handle_http_request("GET /nope HTTP/1.1\r\n\r\n", healthy, "v").status == 404);
  CHECK(odp::admin::handle_http_request("POST /metrics HTTP/1.1\r\n\r\n", healthy, "v").status == 405);
  CHECK(odp::admin::handle_http_request("garbage\r\n\r\n", healthy, "v").status == 400);
  CHECK(odp::admin::handle_http_request("GET /metrics SPDY/3\r\n\r\n", healthy, "v").status == 400);
  r = odp::admin::handle_http_request("HEAD /healthz HTTP/1.1\r\n\r\n", healthy, "v");
  std::string bytes = odp::admin::serialize_http_response(r);
  CHECK(contains(bytes, "HTTP/1.1 200 OK\r\n"));
  CHECK(contains(bytes, "Content-Length: 2\r\n"));
  CHECK(bytes.substr(bytes.size() - 4) == "\r\n\r\n");
}

TEST_CASE("http: a real server on 127.0.0.1 port 0") {
  std::atomic<bool> healthy{true};
  auto started = odp::admin::AdminHttpServer::start(
      "127.0.0.1:0", [&] { return healthy.load(); }, "9.9.9");
  REQUIRE(started.ok());
  auto server = std::move(started).value();
  REQUIRE(server->port() != 0);

  std::string health = get(server->port(), "/healthz");
  CHECK(contains(health, "HTTP/1.1 200 OK\r\n"));
  CHECK(health.substr(health.size() - 4) == "\r\nok");

  std::string metrics = get(server->port(), "/metrics");
  CHECK(contains(metrics, "HTTP/1.1 200 OK\r\n"));
  CHECK(contains(metrics, "odp_build_info{version=\"9.9.9\"} 1\n"));
  CHECK(contains(metrics, "odp_client_connections "));

  healthy = false;
  CHECK(contains(get(server->port(), "/healthz"), "HTTP/1.1 503 Service Unavailable\r\n"));
  CHECK(contains(get(server->port(), "/other"), "HTTP/1.1 404 Not Found\r\n"));

  // More than 8 KiB of headers without an end: refused, and the server keeps serving.
  std::string big = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(9000, 'a');
  CHECK(contains(request(server->port(), big), "HTTP/1.1 431 "));
  CHECK(contains(get(server->port(), "/healthz"), "503"));

  // A client that sends nothing does not hold up others, and is cut off after the request timeout.
  int idle = connect_to(server->port());
  int partial = connect_to(server->port());
  REQUIRE(send(partial, "GET /hea", 8, MSG_NOSIGNAL) == 8);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(contains(get(server->port(), "/healthz"), "503"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500));
  REQUIRE(send(partial, "lthz HTTP/1.1\r\n\r\n", 17, MSG_NOSIGNAL) == 17);
  CHECK(contains(read_all(partial), "HTTP/1.1 503 "));
  close(partial);
  std::string answer = read_all(idle);
  close(idle);
  CHECK(contains(answer, "408"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));

  // stop() does not wait for connected clients.
  int lingering = connect_to(server->port());
  server->stop();
  server->stop();  // idempotent
  close(lingering);
}

TEST_CASE("http: many connections at once") {
  auto started = odp::admin::AdminHttpServer::start("127.0.0.1:0", [] { return true; });
  REQUIRE(started.ok());
  auto server = std::move(started).value();
  // More idle clients than connection slots: the extra ones wait in the backlog, and a request
  // still gets through once the idle ones time out.
  std::vector<int> idle;
  for (size_t i = 0; i < odp::admin::AdminHttpServer::kMaxConnections + 8; ++i)
    idle.push_back(connect_to(server->port()));
  CHECK(contains(get(server->port(), "/healthz"), "HTTP/1.1 200 OK"));
  for (int fd : idle) close(fd);
  for (int i = 0; i < 20; ++i) CHECK(contains(get(server->port(), "/healthz"), "200"));
}

TEST_CASE("http: start errors are one clear line") {
  auto first = odp::admin::AdminHttpServer::start("127.0.0.1:0", nullptr);
  REQUIRE(first.ok());
  std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = odp::admin::AdminHttpServer::start(taken, nullptr);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error() == "admin_http " + taken + ": Address already in use");
  auto bad = odp::admin::AdminHttpServer::start("localhost:80", nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error(), "admin_http localhost:80: "));
}
