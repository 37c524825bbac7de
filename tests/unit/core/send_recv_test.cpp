// The engine's flow control over real loopback sockets: a stream whose multishot recv runs out of
// provided buffers parks instead of re-arming in a loop, and wakes when buffers come back; sends
// to a peer that does not read queue up and go out in order, through linked chains that wait for
// room in the socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "core/listener.h"
#include "core/tcp_stream.h"
#include "core/worker.h"
#include "tests/unit/core/loopback.h"

using namespace odp::core;
using odp::core::testing::loopback;
using odp::core::testing::port_of;

namespace {

// Keeps every receive buffer it is given while `hoard` is on.
struct Hoarder : StreamHandler {
  TcpStream* s = nullptr;
  bool hoard = true;
  std::vector<uint16_t> held;
  size_t got = 0;
  void on_stream_data(std::span<const uint8_t> d) override {
    got += d.size();
    uint16_t bid = 0;
    if (hoard && s->hold_current_buffer(bid)) held.push_back(bid);
  }
  void on_stream_closed(int) override {}
};

struct Counter : StreamHandler {
  size_t got = 0;
  void on_stream_data(std::span<const uint8_t> d) override { got += d.size(); }
  void on_stream_closed(int) override {}
};

// Accepted streams in order; each client is a plain blocking socket the test writes to.
struct Rig {
  Worker w;
  std::unique_ptr<Listener> listener;
  std::vector<int> accepted;
  uint16_t port = 0;
  explicit Rig(const WorkerOptions& opt) {
    REQUIRE(w.init(opt).ok());
    sockaddr_in any = loopback(0);
    auto lfd = open_listen_socket(reinterpret_cast<sockaddr*>(&any), sizeof any, 16, "test");
    REQUIRE(lfd.ok());
    port = port_of(lfd.value());
    listener = std::make_unique<Listener>(w, lfd.value(), [this](int fd) { accepted.push_back(fd); });
    listener->start();
  }
  int connect_plain() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to = loopback(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    return fd;
  }
  void run_until(const std::function<bool()>& done, uint64_t ms) {
    uint64_t deadline = Worker::monotonic_ms() + ms;
    // A timer keeps the loop waking while nothing else happens.
    Timer tick;
    tick.ctx = this;
    tick.fn = [](Timer& t) {
      auto* r = static_cast<Rig*>(t.ctx);
      r->w.timers().arm(t, r->w.now_ms() + 8);
    };
    w.timers().arm(tick, w.now_ms() + 8);
    w.set_idle_hook([&] {
      if (done() || Worker::monotonic_ms() > deadline) w.stop();
    });
    w.run();
    w.timers().disarm(tick);
  }
  void write_all(int fd, size_t bytes) {
    std::vector<uint8_t> data(bytes, 'x');
    size_t off = 0;
    while (off < bytes) {
      ssize_t n = ::send(fd, data.data() + off, bytes - off, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      off += static_cast<size_t>(n);
    }
  }
};

}  // namespace

TEST_CASE("a recv without buffers parks until buffers come back, instead of re-arming in a loop") {
  WorkerOptions opt;
  opt.recv_buffers = 4;
  opt.recv_buffer_bytes = 4096;
  opt.recv_max_held = 4;  // let one stream take every buffer
  Rig rig(opt);
  int hoard_client = rig.connect_plain();
  int read_client = rig.connect_plain();
  rig.run_until([&] { return rig.accepted.size() == 2; }, 5000);
  REQUIRE(rig.accepted.size() == 2);

  Hoarder hoarder;
  Counter reader;
  hoarder.s = TcpStream::adopt(rig.w, rig.accepted[0], &hoarder);
  TcpStream* rs = TcpStream::adopt(rig.w, rig.accepted[1], &reader);
  hoarder.s->start_reading();
  rig.write_all(hoard_client, 64 * 1024);  // more than the four buffers hold
  rig.run_until([&] { return hoarder.held.size() == 4 && rig.w.parked_readers() == 1; }, 5000);
  REQUIRE(hoarder.held.size() == 4);
  CHECK(rig.w.buffers().available() == 0);

  rs->start_reading();
  rig.write_all(read_client, 1000);
  rig.run_until([&] { return rig.w.parked_readers() == 2; }, 5000);
  REQUIRE(rig.w.parked_readers() == 2);
  CHECK(rs->parked());
  // Fifty milliseconds of loop iterations without a buffer: nothing is re-armed, so no new
  // ENOBUFS completes.
  int64_t enobufs = rig.w.stats().io_recv_enobufs_total.load();
  uint64_t until = Worker::monotonic_ms() + 50;
  rig.run_until([&] { return Worker::monotonic_ms() >= until; }, 1000);
  CHECK(rig.w.stats().io_recv_enobufs_total.load() == enobufs);
  CHECK(reader.got == 0);

  // Buffers come back: both streams wake (oldest first) and read everything.
  hoarder.hoard = false;
  for (uint16_t bid : hoarder.held) hoarder.s->release_held(bid);
  hoarder.held.clear();
  rig.run_until([&] { return reader.got == 1000 && hoarder.got == 64 * 1024; }, 5000);
  CHECK(reader.got == 1000);
  CHECK(hoarder.got == 64 * 1024);
  CHECK(rig.w.parked_readers() == 0);

  hoarder.s->close(TcpStream::CloseMode::abort);
  rs->close(TcpStream::CloseMode::abort);
  ::close(hoard_client);
  ::close(read_client);
  rig.listener->stop();
  rig.w.settle(2000, [&] { return rig.listener->stopped(); });
  CHECK(rig.w.buffers().held() == 0);
  CHECK(rig.w.buffers().available() == 4);
}

TEST_CASE("a parked stream that stops reading or closes leaves the parked list") {
  WorkerOptions opt;
  opt.recv_buffers = 2;
  opt.recv_buffer_bytes = 4096;
  opt.recv_max_held = 2;
  Rig rig(opt);
  int c1 = rig.connect_plain();
  int c2 = rig.connect_plain();
  rig.run_until([&] { return rig.accepted.size() == 2; }, 5000);
  REQUIRE(rig.accepted.size() == 2);
  Hoarder hoarder;
  Counter reader;
  hoarder.s = TcpStream::adopt(rig.w, rig.accepted[0], &hoarder);
  TcpStream* rs = TcpStream::adopt(rig.w, rig.accepted[1], &reader);
  hoarder.s->start_reading();
  rig.write_all(c1, 32 * 1024);
  rig.run_until([&] { return hoarder.held.size() == 2 && rig.w.parked_readers() == 1; }, 5000);
  REQUIRE(hoarder.held.size() == 2);
  rs->start_reading();
  rig.write_all(c2, 10);
  rig.run_until([&] { return rig.w.parked_readers() == 2; }, 5000);
  REQUIRE(rs->parked());
  rs->stop_reading();
  CHECK_FALSE(rs->parked());
  CHECK(rig.w.parked_readers() == 1);
  rs->start_reading();  // parks again only through a new ENOBUFS: buffers are still out
  rig.run_until([&] { return rig.w.parked_readers() == 2; }, 5000);
  CHECK(rig.w.parked_readers() == 2);
  rs->close(TcpStream::CloseMode::abort);
  hoarder.s->close(TcpStream::CloseMode::abort);  // its held buffers still come back
  for (uint16_t bid : hoarder.held) rig.w.buffers().release_hold(bid);
  CHECK(rig.w.parked_readers() == 0);
  ::close(c1);
  ::close(c2);
  rig.listener->stop();
  rig.w.settle(2000, [&] { return rig.listener->stopped(); });
  CHECK(rig.w.buffers().available() == 2);
}

namespace {
// Writes a long pattern in pieces of cycling sizes (many blocks, many iovecs per sendmsg).
struct Writer : StreamHandler {
  void on_stream_data(std::span<const uint8_t>) override {}
  void on_stream_closed(int) override {}
};
}  // namespace

TEST_CASE("output queued to a peer that does not read goes out complete and in order") {
  for (SubmitPolicy policy : {SubmitPolicy::end_of_iteration, SubmitPolicy::immediate}) {
    CAPTURE(static_cast<int>(policy));
    WorkerOptions opt;
    opt.recv_buffers = 8;
    opt.submit = policy;
    opt.ring.fixed_files = 8;
    Rig rig(opt);
    int client = rig.connect_plain();
    rig.run_until([&] { return rig.accepted.size() == 1; }, 5000);
    REQUIRE(rig.accepted.size() == 1);
    // A small send buffer: sends wait for room often. (A small receive buffer on the client
    // would make TCP crawl on persist-timer probes, its window being smaller than one MSS.)
    int small = 65536;
    setsockopt(rig.accepted[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    Writer writer;
    TcpStream* s = TcpStream::adopt(rig.w, rig.accepted[0], &writer);
    std::vector<uint8_t> pattern(3 * 1024 * 1024);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>((i * 7) ^ (i >> 11));
    size_t off = 0;
    size_t piece = 1;
    // Written over several iterations, so later writes land while chains wait for room.
    rig.run_until(
        [&] {
          for (int k = 0; k < 64 && off < pattern.size(); ++k) {
            size_t n = std::min(pattern.size() - off, piece);
            s->write(std::span<const uint8_t>(pattern).subspan(off, n));
            off += n;
            piece = piece * 3 % 40000 + 1;
          }
          return off == pattern.size();
        },
        10000);
    REQUIRE(off == pattern.size());
    CHECK(s->pending_output() > 0);  // the peer has not read: the queue holds most of it
    // Now read everything on a thread while the loop sends.
    std::vector<uint8_t> got;
    got.reserve(pattern.size());
    std::thread reader([&] {
      uint8_t buf[65536];
      while (got.size() < pattern.size()) {
        ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.insert(got.end(), buf, buf + n);
      }
    });
    rig.run_until([&] { return s->pending_output() == 0; }, 20000);
    reader.join();
    CHECK(s->pending_output() == 0);
    CHECK(got.size() == pattern.size());
    CHECK(got == pattern);
    CHECK(s->bytes_sent() == pattern.size());
    CHECK(rig.w.output_pool().blocks_in_use() == 0);
    s->close(TcpStream::CloseMode::flush);
    ::close(client);
    rig.listener->stop();
    rig.w.settle(2000, [&] { return rig.listener->stopped(); });
    CHECK(rig.w.output_pool().segments_in_use() == 0);
  }
}

TEST_CASE("the immediate submit policy hands a send to the kernel before the iteration ends") {
  for (SubmitPolicy policy : {SubmitPolicy::end_of_iteration, SubmitPolicy::immediate}) {
    CAPTURE(static_cast<int>(policy));
    WorkerOptions opt;
    opt.recv_buffers = 8;
    opt.submit = policy;
    Rig rig(opt);
    int client = rig.connect_plain();
    rig.run_until([&] { return rig.accepted.size() == 1; }, 5000);
    REQUIRE(rig.accepted.size() == 1);
    Writer writer;
    TcpStream* s = TcpStream::adopt(rig.w, rig.accepted[0], &writer);
    static const uint8_t kHello[5] = {'h', 'e', 'l', 'l', 'o'};
    // A callback writes; later in the same iteration (the idle hook runs before the end-of-
    // iteration flush) the peer looks without waiting. Loopback delivers during the submit.
    rig.w.post([&] { s->write(kHello); });
    ssize_t seen = -2;
    rig.w.set_idle_hook([&] {
      uint8_t buf[16];
      seen = ::recv(client, buf, sizeof buf, MSG_DONTWAIT);
      rig.w.stop();
    });
    rig.w.run();
    CHECK(seen == (policy == SubmitPolicy::immediate ? 5 : -1));
    rig.run_until([&] { return s->pending_output() == 0; }, 5000);
    s->close(TcpStream::CloseMode::flush);
    ::close(client);
    rig.listener->stop();
    rig.w.settle(2000, [&] { return rig.listener->stopped(); });
  }
}
