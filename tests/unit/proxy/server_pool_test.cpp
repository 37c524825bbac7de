#include "proxy/server_pool.h"

#include <functional>

#include <doctest/doctest.h>

namespace {

using odp::proxy::PooledConn;
using odp::proxy::PoolKey;
using odp::proxy::PoolWaiter;
using odp::proxy::ServerPool;

struct Waiter final : PoolWaiter {
  std::function<void()> on_timeout;
  int timeouts = 0;
  void on_pool_handoff(PooledConn) override {}
  void on_pool_slot() override {}
  void on_pool_timeout() override {
    ++timeouts;
    if (on_timeout) on_timeout();
  }
};

}  // namespace

// Found by the fake-IO simulation (seed 2361 at the time): a session whose wait timed out went on
// to its next pipelined command at once, which opened a connection to a server the pool had not
// seen; the pool's table of servers grew under run_wakeups' loop over it.
TEST_CASE("pool: a waiter that times out and opens a connection to a new server does not break the wake-up loop") {
  ServerPool::Limits limits;
  limits.max_per_server = 1;
  limits.max_wait_ms = 10;
  ServerPool pool(limits);
  pool.opened(0);  // the only slot of server 0 is taken
  Waiter first, second;
  first.on_timeout = [&] {
    for (odp::proxy::ServerId id = 1; id < 64; ++id) pool.opened(id);
  };
  pool.wait(&first, PoolKey{0, 0}, 0);
  pool.wait(&second, PoolKey{0, 0}, 0);
  CHECK(pool.waiting_count() == 2);
  pool.run_wakeups(100);
  CHECK(first.timeouts == 1);
  CHECK(second.timeouts == 1);
  CHECK(pool.waiting_count() == 0);
  CHECK(pool.open_count(63) == 1);
}
