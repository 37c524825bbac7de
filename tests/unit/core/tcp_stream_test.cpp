// The io_uring engine against real loopback sockets: accept, multishot recv into provided
// buffers, batched sends, connect with timeout, clean close.
#include "core/tcp_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "core/listener.h"
#include "core/worker.h"

using namespace odp::core;

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Echoes every byte back, alternating zero-copy sends from the held receive buffer and copies,
// so that lent and owned output segments interleave in the queue.
struct Echo : StreamHandler {
  TcpStream* s = nullptr;
  bool closed = false;
  int n = 0;
  int lent = 0;
  void on_stream_data(std::span<const uint8_t> d) override {
    uint16_t bid = 0;
    if (++n % 2 == 0 && s->hold_current_buffer(bid)) {
      if (s->write_held(d, bid)) {
        ++lent;
        return;
      }
      s->release_held(bid);
    }
    s->write(d);
  }
  void on_stream_closed(int) override {
    closed = true;
    s->close(TcpStream::CloseMode::flush);
  }
};

// Sends a payload, collects what comes back.
struct Client : StreamHandler {
  TcpStream* s = nullptr;
  std::string sent, got;
  int connect_err = -1;
  bool closed = false;
  void on_stream_connected(int err) override {
    connect_err = err;
    if (err == 0) {
      s->start_reading();
      s->write({reinterpret_cast<const uint8_t*>(sent.data()), sent.size()});
    }
  }
  void on_stream_data(std::span<const uint8_t> d) override {
    got.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void on_stream_closed(int) override { closed = true; }
};

}  // namespace

TEST_CASE("echo over loopback through one worker ring") {
  Worker w;
  WorkerOptions opt;
  opt.recv_buffers = 64;
  opt.recv_buffer_bytes = 4096;  // small buffers: the payload spans many completions
  opt.ring.fixed_files = 16;
  REQUIRE(w.init(opt).ok());
  sockaddr_in any = loopback(0);
  auto lfd = open_listen_socket(reinterpret_cast<sockaddr*>(&any), sizeof any, 16, "test");
  REQUIRE(lfd.ok());
  uint16_t port = port_of(lfd.value());
  Echo echo;
  Listener listener(w, lfd.value(), [&](int fd) {
    echo.s = TcpStream::adopt(w, fd, &echo);
    echo.s->start_reading();
  });
  listener.start();

  Client client;
  for (int i = 0; i < 300000; ++i) client.sent.push_back(static_cast<char>('a' + i % 26));
  sockaddr_in to = loopback(port);
  int err = 0;
  client.s = TcpStream::connect(w, reinterpret_cast<sockaddr*>(&to), sizeof to, 1000, &client, err);
  REQUIRE(client.s != nullptr);

  std::thread stopper;
  uint64_t deadline = Worker::monotonic_ms() + 10000;
  w.set_idle_hook([&] {
    if (client.got.size() >= client.sent.size() || Worker::monotonic_ms() > deadline) w.stop();
  });
  w.run();
  CHECK(client.connect_err == 0);
  CHECK(client.got == client.sent);
  CHECK(echo.lent > 0);
  CHECK(w.buffers().held() == 0);
  client.s->close(TcpStream::CloseMode::flush);
  listener.stop();
  w.set_idle_hook([&] {
    if (echo.closed) w.stop();
  });
  deadline = Worker::monotonic_ms() + 5000;
  w.run();
  CHECK(echo.closed);
  w.settle(1000);
}

TEST_CASE("connect to a closed port reports the error") {
  Worker w;
  WorkerOptions opt;
  opt.recv_buffers = 8;
  REQUIRE(w.init(opt).ok());
  // Bind a socket without listening, so the port is taken but refuses connections.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in any = loopback(0);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) == 0);
  sockaddr_in to = loopback(port_of(fd));
  Client client;
  int err = 0;
  client.s = TcpStream::connect(w, reinterpret_cast<sockaddr*>(&to), sizeof to, 1000, &client, err);
  REQUIRE(client.s != nullptr);
  uint64_t deadline = Worker::monotonic_ms() + 5000;
  w.set_idle_hook([&] {
    if (client.connect_err != -1 || Worker::monotonic_ms() > deadline) w.stop();
  });
  w.run();
  CHECK(client.connect_err == ECONNREFUSED);
  client.s->close(TcpStream::CloseMode::abort);
  w.settle(1000);
  ::close(fd);
}
