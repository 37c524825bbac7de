// The worker's pool: the cap, the FIFO of waiters, hand-offs, tickets and kept connections
// (server_pool.h), with ServerConns that never connect (their state is all the pool looks at).
#include "proxy/server_pool.h"

#include <functional>

#include <doctest/doctest.h>

#include "tests/unit/proxy/fake_world.h"

using namespace odp;
using namespace odp::proxy;

namespace {
// A ServerConn in state `ready` without a socket: the pool never does IO on idle connections
// until it closes them.
struct Rig {
  Rig() : env(fakeio::quiet_scenario(1, {})) {}
  fakeio::FakeEnv env;
  std::unique_ptr<ServerConn> conn(ServerId server) {
    auto c = std::make_unique<ServerConn>(env, pool);
    c->force_ready_for_test(server);
    return c;
  }
  ServerPool pool{ServerPool::Limits{2, 8, 1000}};
};

struct Waiter : PoolWaiter {
  std::vector<std::string> heard;
  std::unique_ptr<ServerConn> got;
  void on_pool_handoff(PooledConn p) override {
    heard.push_back("handoff");
    got = std::move(p.conn);
  }
  void on_pool_slot() override { heard.push_back("slot"); }
  void on_pool_timeout() override { heard.push_back("timeout"); }
};

// Opens its connection when it hears of a slot, as a session does.
struct OpeningWaiter : Waiter {
  ServerPool* pool = nullptr;
  ServerId server = kNoServer;
  void on_pool_slot() override {
    Waiter::on_pool_slot();
    pool->opened(server);
  }
};

struct Keeper : PoolKeeper {
  int asked = 0;
  void on_pool_reclaim() override { ++asked; }
};
}  // namespace

TEST_CASE("pool: the connection a session gave back is the one it gets (ticket), else the newest") {
  Rig r;
  PoolKey key{0, 7};
  auto a = r.conn(0);
  auto b = r.conn(0);
  ServerConn* pa = a.get();
  ServerConn* pb = b.get();
  auto ta = r.pool.release(key, PooledConn{std::move(a), {}}, 0);
  r.pool.release(key, PooledConn{std::move(b), {}}, 0);
  CHECK(r.pool.idle_count() == 2);
  auto got = r.pool.acquire(key, 0, ta);
  REQUIRE(got);
  CHECK(got->conn.get() == pa);
  auto stale = r.pool.acquire(key, 0, ta);  // the ticket is spent: the other one
  REQUIRE(stale);
  CHECK(stale->conn.get() == pb);
  CHECK_FALSE(r.pool.acquire(key, 0));
  CHECK_FALSE(r.pool.acquire(PoolKey{0, 8}, 0));  // another dialect
}

TEST_CASE("pool: a session in no database gets a connection in none when there is one") {
  Rig r;
  PoolKey key{0, 7};
  auto synced = [](const std::string& db, SessionState& s) {
    s.reset(db);
    ConnSync sync;
    s.mark_synced(sync);
    return sync;
  };
  SessionState none, mine, other;
  auto a = r.conn(0);
  auto b = r.conn(0);
  auto c = r.conn(0);
  ServerConn* pa = a.get();
  ServerConn* pb = b.get();
  ServerConn* pc = c.get();
  r.pool.release(key, PooledConn{std::move(a), synced("", none)}, 0);      // oldest, in no database
  r.pool.release(key, PooledConn{std::move(b), synced("test", mine)}, 0);  // this session's own, in one
  r.pool.release(key, PooledConn{std::move(c), synced("db1", other)}, 0);  // newest, in one
  // A session in no database: the one in none, not its own history's in a database, nor the newest.
  auto got = r.pool.acquire(key, mine.current()->owner, {}, true);
  REQUIRE(got);
  CHECK(got->conn.get() == pa);
  r.pool.release(key, std::move(*got), 0);
  // A session in a database: its own history's first, as before.
  auto own = r.pool.acquire(key, mine.current()->owner, {}, false);
  REQUIRE(own);
  CHECK(own->conn.get() == pb);
  auto none_again = r.pool.acquire(key, 0, {}, true);
  REQUIRE(none_again);
  CHECK(none_again->conn.get() == pa);
  // None left in no database: another one (the lease logs it in again without its database).
  auto next = r.pool.acquire(key, 0, {}, true);
  REQUIRE(next);
  CHECK(next->conn.get() == pc);
  CHECK_FALSE(r.pool.acquire(key, 0, {}, true));
}

TEST_CASE("pool: at the cap sessions wait in line; a connection given back goes to the first") {
  Rig r;
  PoolKey key{3, 1};
  r.pool.opened(3);
  r.pool.opened(3);
  CHECK_FALSE(r.pool.may_open(3));
  Waiter w1, w2;
  r.pool.wait(&w1, key, 0);
  r.pool.wait(&w2, key, 0);
  CHECK(r.pool.waiting_count() == 2);
  r.pool.release(key, PooledConn{r.conn(3), {}}, 1);
  CHECK(r.pool.idle_count() == 0);  // never to the idle list while someone waits
  r.pool.run_wakeups(1);
  CHECK(w1.heard == std::vector<std::string>{"handoff"});
  CHECK(w2.heard.empty());
  // A closed connection frees a slot: the next in line opens one.
  r.pool.closed(3);
  r.pool.run_wakeups(2);
  CHECK(w2.heard == std::vector<std::string>{"slot"});
  CHECK(r.pool.waiting_count() == 0);
}

TEST_CASE("pool: a connection given back over the cap (a cap lowered live) closes; at the cap it stays") {
  Rig r;  // cap 2 per server
  PoolKey key{4, 1};
  r.pool.opened(4);
  r.pool.opened(4);
  r.pool.opened(4);  // a client's login, opened beside the cap
  r.pool.release(key, PooledConn{r.conn(4), {}}, 1);
  CHECK(r.pool.idle_count() == 0);  // closed, not kept
  r.pool.closed(4);                 // its close is heard
  r.pool.release(key, PooledConn{r.conn(4), {}}, 2);
  CHECK(r.pool.idle_count() == 1);  // at the cap: kept for the next session
}

TEST_CASE("pool: waiters past max_wait_ms hear it; a cancelled waiter hears nothing") {
  Rig r;
  PoolKey key{1, 1};
  r.pool.opened(1);
  r.pool.opened(1);
  Waiter late, gone;
  r.pool.wait(&late, key, 0);
  r.pool.wait(&gone, key, 0);
  r.pool.cancel(&gone);
  r.pool.run_wakeups(999);
  CHECK(late.heard.empty());
  r.pool.run_wakeups(1000);
  CHECK(late.heard == std::vector<std::string>{"timeout"});
  CHECK(gone.heard.empty());
}

TEST_CASE("pool: a kept connection is asked back for a waiter") {
  Rig r;
  PoolKey key{2, 1};
  r.pool.opened(2);
  r.pool.opened(2);
  Keeper k;
  r.pool.keep(&k, 2);
  Waiter w;
  r.pool.wait(&w, key, 0);
  r.pool.run_wakeups(0);
  CHECK(k.asked == 1);
  CHECK_FALSE(k.pool_keeping());
}

TEST_CASE("pool: a session that starts keeping while others wait gives the connection up") {
  Rig r;
  PoolKey key{2, 1};
  r.pool.opened(2);
  r.pool.opened(2);
  Waiter w;
  r.pool.wait(&w, key, 0);
  Keeper k;
  CHECK_FALSE(r.pool.keep(&k, 2));  // the waiter came first: the connection is its
  CHECK_FALSE(k.pool_keeping());
  CHECK(r.pool.keep(&k, 3));  // nobody waits for server 3
  CHECK(k.pool_keeping());
  r.pool.unkeep(&k);
}

TEST_CASE("pool: the first waiter is served first, whatever the dialect of what comes free") {
  Rig r;
  PoolKey mine{4, 1}, other{4, 2};
  r.pool.opened(4);
  r.pool.opened(4);
  OpeningWaiter first;
  first.pool = &r.pool;
  first.server = 4;
  Waiter second;
  r.pool.wait(&first, other, 0);
  r.pool.wait(&second, mine, 0);
  // A connection of the second waiter's dialect does not pass the first waiter: it is closed and
  // its slot goes to the first.
  r.pool.release(mine, PooledConn{r.conn(4), {}}, 1);
  r.pool.run_wakeups(1);
  CHECK(second.heard.empty());
  r.pool.closed(4);  // (the connection's close, which a real ServerConn reports)
  r.pool.run_wakeups(2);
  CHECK(first.heard == std::vector<std::string>{"slot"});
  CHECK(second.heard.empty());
  CHECK(r.pool.waiting_count() == 1);
}

TEST_CASE("pool: a waiter for a connection of its own (a proxy login) gets a slot, never a pooled connection") {
  Rig r;
  PoolKey dialect{4, 1}, own{4, kOwnConnectionDialect};
  r.pool.opened(4);
  r.pool.opened(4);
  CHECK_FALSE(r.pool.may_open(4));
  // At the cap with an idle connection of a session's dialect: it gives its slot up.
  r.pool.release(dialect, PooledConn{r.conn(4), {}}, 1);
  CHECK(r.pool.idle_count() == 1);
  OpeningWaiter login;
  login.pool = &r.pool;
  login.server = 4;
  r.pool.wait(&login, own, 2);
  CHECK(r.pool.idle_count() == 0);
  r.pool.closed(4);
  r.pool.run_wakeups(3);
  CHECK(login.heard == std::vector<std::string>{"slot"});
  // Nothing idle: a connection given back while it waits is closed for it, not handed over.
  OpeningWaiter second;
  second.pool = &r.pool;
  second.server = 4;
  r.pool.wait(&second, own, 4);
  r.pool.release(dialect, PooledConn{r.conn(4), {}}, 5);
  r.pool.run_wakeups(5);
  CHECK(second.heard.empty());
  CHECK(second.got == nullptr);
  r.pool.closed(4);
  r.pool.run_wakeups(6);
  CHECK(second.heard == std::vector<std::string>{"slot"});
}

TEST_CASE("pool: the automatic cap follows the machine") {
  CHECK(auto_server_connection_cap(2, 1) == 32);
  CHECK(auto_server_connection_cap(2, 2) == 16);
  CHECK(auto_server_connection_cap(16, 4) == 64);
  CHECK(auto_server_connection_cap(1, 64) == 4);
}

namespace {

struct GrowingWaiter final : PoolWaiter {
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
  GrowingWaiter first, second;
  first.on_timeout = [&] {
    for (ServerId id = 1; id < 64; ++id) pool.opened(id);
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
