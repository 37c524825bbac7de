#include "core/worker.h"

#include <thread>

#include <doctest/doctest.h>

using namespace odp::core;

TEST_CASE("a deadline armed by a callback after a long sleep counts from the wake-up") {
  // Regression: the loop's clock was refreshed only after callbacks ran, so a timer armed in a
  // callback after an idle wait was already overdue and fired at once.
  Worker w;
  WorkerOptions opt;
  opt.recv_buffers = 8;
  REQUIRE(w.init(opt).ok());
  Timer timer;
  uint64_t armed_at = 0, fired_at = 0;
  struct Ctx {
    Worker* w;
    uint64_t* fired_at;
  } ctx{&w, &fired_at};
  timer.ctx = &ctx;
  timer.fn = [](Timer& t) {
    auto* c = static_cast<Ctx*>(t.ctx);
    *c->fired_at = Worker::monotonic_ms();
    c->w->stop();
  };
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the loop sleeps meanwhile
    w.post([&] {
      armed_at = Worker::monotonic_ms();
      w.timers().arm(timer, w.now_ms() + 200);
    });
  });
  w.run();
  poster.join();
  REQUIRE(fired_at != 0);
  CHECK(fired_at - armed_at >= 190);
}

TEST_CASE("stop() from another thread wakes a sleeping loop; a stop before run() is kept") {
  Worker w;
  WorkerOptions opt;
  opt.recv_buffers = 8;
  REQUIRE(w.init(opt).ok());
  w.stop();
  w.run();  // returns at once
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    w.stop();
  });
  w.run();
  stopper.join();
  CHECK(true);
}

TEST_CASE("the ring fd is registered while the loop runs, and only then") {
  for (bool want : {true, false}) {
    Worker w;
    WorkerOptions opt;
    opt.recv_buffers = 8;
    opt.register_ring_fd = want;
    REQUIRE(w.init(opt).ok());
    bool during = false;
    w.set_idle_hook([&] {
      during = w.ring().ring_fd_registered();
      w.stop();
    });
    w.post([] {});  // something to wake the loop for one iteration
    w.run();
    CHECK(during == want);  // kernels before 5.18 refuse; this one does not
    CHECK_FALSE(w.ring().ring_fd_registered());
  }
}
