// The engine's steady state allocates nothing: after a warm-up, a loop of writes, zero-copy
// sends, multi-block writes and receives over a real loopback connection makes no call to the
// global operator new, under either submit policy. This binary replaces operator new with a
// counting one; it counts only while a test asks it to.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include <doctest/doctest.h>

#include "core/listener.h"
#include "core/tcp_stream.h"
#include "core/worker.h"
#include "tests/unit/core/loopback.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(n);
  } else if (posix_memalign(&p, align, n) != 0) {
    p = nullptr;
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

// The array and nothrow forms of libstdc++ call these.
void* operator new(std::size_t n) {
  return counted_alloc(n, alignof(std::max_align_t));
}
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

using namespace odp::core;
using odp::core::testing::loopback;
using odp::core::testing::port_of;

void* volatile g_sink = nullptr;  // where test allocations escape to

namespace {

// Echoes each request back as soon as it is complete: small requests as one copied write,
// larger ones partly from the held receive buffers (zero-copy) and partly as several copied
// writes, so owned blocks, lent buffers and multi-block writes all cycle through the pools.
struct EchoServer : StreamHandler {
  TcpStream* s = nullptr;
  uint64_t chunks = 0;
  void on_stream_data(std::span<const uint8_t> d) override {
    uint16_t bid = 0;
    if (++chunks % 3 == 0 && s->hold_current_buffer(bid)) {
      if (s->write_held(d, bid)) return;
      s->release_held(bid);
    }
    size_t half = d.size() / 2;
    s->write(d.first(half));
    s->write(d.subspan(half));
  }
  void on_stream_closed(int) override { s->close(TcpStream::CloseMode::abort); }
};

// Sends requests of cycling sizes and waits for each echo before the next (ping-pong).
struct PingClient : StreamHandler {
  TcpStream* s = nullptr;
  Worker* w = nullptr;
  std::vector<uint8_t> payload;  // the largest request, preallocated
  size_t sizes[5] = {60, 700, 5000, 20000, 70000};
  size_t round = 0;
  size_t rounds_left = 0;
  size_t expect = 0;
  size_t got = 0;
  uint64_t mismatches = 0;
  bool connected = false;
  void send_next() {
    expect = sizes[round++ % 5];
    got = 0;
    s->write(std::span<const uint8_t>(payload).first(expect));
  }
  void on_stream_connected(int err) override {
    connected = err == 0;
    if (connected) s->start_reading();
  }
  void on_stream_data(std::span<const uint8_t> d) override {
    for (size_t i = 0; i < d.size(); ++i) {
      size_t at = got + i;
      mismatches += at >= expect || d[i] != payload[at];
    }
    got += d.size();
    if (got < expect) return;
    if (--rounds_left > 0) {
      send_next();
    } else {
      w->stop();
    }
  }
  void on_stream_closed(int) override { ++mismatches; }
};

uint64_t ping_pong_allocations(SubmitPolicy policy) {
  Worker w;
  WorkerOptions opt;
  opt.recv_buffers = 64;
  opt.recv_buffer_bytes = 16384;
  opt.ring.fixed_files = 16;
  opt.submit = policy;
  REQUIRE(w.init(opt).ok());
  sockaddr_in any = loopback(0);
  auto lfd = open_listen_socket(reinterpret_cast<sockaddr*>(&any), sizeof any, 16, "test");
  REQUIRE(lfd.ok());
  uint16_t port = port_of(lfd.value());
  EchoServer server;
  Listener listener(w, lfd.value(), [&](int fd) {
    server.s = TcpStream::adopt(w, fd, &server);
    server.s->start_reading();
  });
  listener.start();

  PingClient client;
  client.w = &w;
  client.payload.resize(70000);
  for (size_t i = 0; i < client.payload.size(); ++i) client.payload[i] = static_cast<uint8_t>(i * 31 + i / 251);
  sockaddr_in to = loopback(port);
  int err = 0;
  client.s = TcpStream::connect(w, reinterpret_cast<sockaddr*>(&to), sizeof to, 1000, &client, err);
  REQUIRE(client.s != nullptr);
  uint64_t deadline = Worker::monotonic_ms() + 5000;
  w.set_idle_hook([&] {
    if ((client.connected && server.s != nullptr) || Worker::monotonic_ms() > deadline) w.stop();
  });
  w.run();
  REQUIRE(client.connected);
  REQUIRE(server.s != nullptr);
  w.set_idle_hook({});

  // Warm-up: pools, the ring's reap batch and the worker's lists reach their working sizes.
  client.rounds_left = 200;
  client.send_next();
  w.run();
  REQUIRE(client.rounds_left == 0);

  g_allocations.store(0);
  g_counting.store(true);
  client.rounds_left = 2000;
  client.send_next();
  w.run();
  g_counting.store(false);
  uint64_t allocations = g_allocations.load();

  CHECK(client.rounds_left == 0);
  CHECK(client.mismatches == 0);
  CHECK(server.chunks > 2000);
  CHECK(w.output_pool().blocks_in_use() == 0);
  client.s->close(TcpStream::CloseMode::abort);
  server.s->close(TcpStream::CloseMode::abort);
  listener.stop();
  w.settle(2000, [&] { return listener.stopped(); });
  CHECK(w.output_pool().segments_in_use() == 0);
  CHECK(w.output_pool().batches_in_use() == 0);
  CHECK(w.buffers().held() == 0);
  return allocations;
}

}  // namespace

TEST_CASE("the counting operator new counts") {
  g_allocations.store(0);
  g_counting.store(true);
  auto p = std::make_unique<int>(7);
  std::vector<int> v(100);
  g_counting.store(false);
  // Escape both, so the compiler may not elide the pairs of new and delete.
  g_sink = p.get();
  g_sink = v.data();
  CHECK(g_allocations.load() == 2);
}

TEST_CASE("no allocation per packet once warm: end-of-iteration submits") {
  CHECK(ping_pong_allocations(SubmitPolicy::end_of_iteration) == 0);
}

TEST_CASE("no allocation per packet once warm: immediate submits") {
  CHECK(ping_pong_allocations(SubmitPolicy::immediate) == 0);
}
