// The io_uring engine against real loopback sockets: accept, multishot recv into provided
// buffers, batched sends, connect with timeout, clean close.
#include "core/tcp_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "core/listener.h"
#include "core/worker.h"
#include "tests/unit/core/loopback.h"

using namespace odp::core;
using odp::core::testing::loopback;
using odp::core::testing::port_of;

namespace {

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

namespace {

// Forwards what S receives to D: the first bytes by copy, then asks for a splice of everything but
// a short tail, and copies the tail again once the splice is done. Bytes that were already on
// their way when it asked are copied too, as the proxy's session does.
struct SpliceRelay : StreamHandler {
  TcpStream* src = nullptr;
  TcpStream* dst = nullptr;
  size_t total = 0;
  size_t tail = 0;
  size_t passed = 0;  // bytes of the payload handled so far (copied or spliced)
  bool asked = false, ready = false, spliced = false, closed = false;
  uint64_t spliced_bytes = 0;
  void on_stream_data(std::span<const uint8_t> d) override {
    dst->write(d);
    passed += d.size();
    if (!asked && passed >= 1000) {
      asked = true;
      src->request_splice();
    }
  }
  void on_stream_splice_ready() override {
    ready = true;
    size_t left = total - tail - passed;
    CHECK(src->splice_to(*dst, left));
  }
  void on_stream_spliced(uint64_t bytes) override {
    spliced = true;
    spliced_bytes = bytes;
    passed += bytes;
  }
  void on_stream_closed(int) override {
    closed = true;
    src->close(TcpStream::CloseMode::abort);
    dst->close(TcpStream::CloseMode::abort);
  }
};

// The destination's handler: a failed destination closes the relay, as the session does.
struct Sink : StreamHandler {
  SpliceRelay* relay = nullptr;
  void on_stream_data(std::span<const uint8_t>) override {}
  void on_stream_closed(int err) override {
    if (!relay->closed) relay->on_stream_closed(err);
  }
};

struct SpliceRig {
  Worker w;
  Sink sink;
  SpliceRelay relay;
  Client sender, receiver;
  std::unique_ptr<Listener> listener;
  int accepted = 0;
  uint16_t port = 0;

  explicit SpliceRig(size_t payload) {
    sink.relay = &relay;
    WorkerOptions opt;
    opt.recv_buffers = 64;
    opt.recv_buffer_bytes = 16384;
    opt.ring.fixed_files = 16;
    REQUIRE(w.init(opt).ok());
    sockaddr_in any = loopback(0);
    auto lfd = open_listen_socket(reinterpret_cast<sockaddr*>(&any), sizeof any, 16, "test");
    REQUIRE(lfd.ok());
    port = port_of(lfd.value());
    // The receiver connects first: its accepted stream is the destination.
    listener = std::make_unique<Listener>(w, lfd.value(), [this](int fd) {
      if (accepted++ == 0) {
        relay.dst = TcpStream::adopt(w, fd, &sink);
      } else {
        relay.src = TcpStream::adopt(w, fd, &relay);
        relay.src->start_reading();
      }
    });
    listener->start();
    for (size_t i = 0; i < payload; ++i) sender.sent.push_back(static_cast<char>('A' + (i * 7) % 26));
    relay.total = payload;
    relay.tail = 50;
  }
  void connect(Client& c) {
    sockaddr_in to = loopback(port);
    int err = 0;
    c.s = TcpStream::connect(w, reinterpret_cast<sockaddr*>(&to), sizeof to, 1000, &c, err);
    REQUIRE(c.s != nullptr);
  }
  void run_until(const std::function<bool()>& done, uint64_t ms) {
    uint64_t deadline = Worker::monotonic_ms() + ms;
    w.set_idle_hook([&] {
      if (done() || Worker::monotonic_ms() > deadline) w.stop();
    });
    w.run();
  }
};

}  // namespace

TEST_CASE("splice moves a payload socket -> pipe -> socket, in order with copied bytes") {
  SpliceRig rig(4 * 1024 * 1024 + 100);
  rig.connect(rig.receiver);
  rig.run_until([&] { return rig.accepted == 1; }, 5000);
  REQUIRE(rig.accepted == 1);
  rig.connect(rig.sender);
  rig.run_until([&] { return rig.receiver.got.size() >= rig.sender.sent.size(); }, 20000);
  CHECK(rig.relay.ready);
  CHECK(rig.relay.spliced);
  CHECK(rig.relay.spliced_bytes > 3 * 1024 * 1024);
  CHECK(rig.w.stats().io_splice_bytes_total.load() == static_cast<int64_t>(rig.relay.spliced_bytes));
  CHECK(rig.receiver.got.size() == rig.sender.sent.size());
  CHECK(rig.receiver.got == rig.sender.sent);
  CHECK(rig.w.buffers().held() == 0);
  rig.relay.src->close(TcpStream::CloseMode::abort);
  rig.relay.dst->close(TcpStream::CloseMode::flush);
  rig.sender.s->close(TcpStream::CloseMode::abort);
  rig.receiver.s->close(TcpStream::CloseMode::abort);
  rig.listener->stop();
  rig.w.settle(2000);
  CHECK(rig.w.pipes().open_pipes() <= PipePool::kMaxIdle);
}

TEST_CASE("a destination that vanishes mid-splice ends it cleanly") {
  SpliceRig rig(64 * 1024 * 1024);
  rig.connect(rig.receiver);
  rig.run_until([&] { return rig.accepted == 1; }, 5000);
  REQUIRE(rig.accepted == 1);
  rig.connect(rig.sender);
  // Let the splice start, then the receiver goes away while bytes are still in flight.
  rig.run_until([&] { return rig.relay.ready && rig.receiver.got.size() > 2 * 1024 * 1024; }, 20000);
  REQUIRE(rig.relay.ready);
  rig.receiver.s->close(TcpStream::CloseMode::abort);
  rig.run_until([&] { return rig.relay.closed || rig.sender.closed; }, 20000);
  // The destination's send fails (EPIPE/ECONNRESET); the relay closes both sides. Nothing hangs
  // and every stream, buffer and pipe is given back.
  CHECK(rig.relay.closed);
  rig.sender.s->close(TcpStream::CloseMode::abort);
  rig.listener->stop();
  rig.w.settle(3000);
  CHECK_FALSE(rig.relay.spliced);
  CHECK(rig.w.buffers().held() == 0);
  CHECK(rig.w.pipes().open_pipes() <= PipePool::kMaxIdle);
}
