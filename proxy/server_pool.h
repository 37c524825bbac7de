#pragma once
// A worker's server connections shared between its client sessions (multiplexing), the cap on
// connections per server, and the fair queue of sessions waiting for one.
//
// Connections are interchangeable when they reach the same server in the same login dialect
// (PoolKey: interned integers, server_directory.h). A session gives its connections back when the
// session model says nothing ties it to them, and takes one back for its next statement: the one
// it gave back last when still idle (O(1), nothing to replay), else the most recently used one (for
// a session without a database, one in no database: another costs a COM_CHANGE_USER).
// At the cap, sessions wait in FIFO order per server; a connection given back while sessions wait
// goes straight to the first of them (it never returns to the idle list to be taken by a
// newcomer), a connection a session keeps for its next statement is asked back for them, and a
// waiter past pool.max_wait_ms hears on_pool_timeout. A waiting session holds no connection it
// could give back (BackendLease gives up a kept one before it waits), so waits form no cycle.
// Single-threaded.
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "proxy/server_conn.h"
#include "proxy/server_directory.h"
#include "proxy/session_state.h"

namespace odp::proxy {

// The dialect a waiter names when no pooled connection can serve it, only a slot of its own (a
// proxy login in oceanbase mode: the server checks the client's token on a connection of its own).
// No connection has it, so what is given back ahead of such a waiter closes and frees its slot.
inline constexpr DialectId kOwnConnectionDialect = 0xFFFFFFFF;

struct PoolKey {
  ServerId server = kNoServer;
  DialectId dialect = 0;
  uint64_t packed() const { return (uint64_t{server} << 32) | dialect; }
  bool operator==(const PoolKey&) const = default;
};

struct PooledConn {
  std::unique_ptr<ServerConn> conn;
  ConnSync sync;
};

// A session waiting for a connection (intrusive: waiting costs no allocation).
class PoolWaiter {
 public:
  virtual ~PoolWaiter() = default;
  // A connection of the key waited for, given back by another session.
  virtual void on_pool_handoff(PooledConn pooled) = 0;
  // A slot came free: the waiter may open a connection now.
  virtual void on_pool_slot() = 0;
  // No connection within pool.max_wait_ms.
  virtual void on_pool_timeout() = 0;
  bool pool_waiting() const { return queued_; }

 private:
  friend class ServerPool;
  PoolKey key_;
  uint64_t deadline_ms_ = 0;
  PoolWaiter* prev_ = nullptr;
  PoolWaiter* next_ = nullptr;
  bool queued_ = false;
};

// Where a connection went in the pool: lets the session that gave it back take that very one again.
struct PoolTicket {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
};

// A session keeping its connection one statement longer (the next one may ask for the warnings
// or counts the last one left there): the pool asks for it back when a waiter needs the slot.
class PoolKeeper {
 public:
  virtual ~PoolKeeper() = default;
  virtual void on_pool_reclaim() = 0;
  bool pool_keeping() const { return keeping_; }

 private:
  friend class ServerPool;
  ServerId server_ = kNoServer;
  PoolKeeper* prev_ = nullptr;
  PoolKeeper* next_ = nullptr;
  bool keeping_ = false;
};

class ServerPool final : public ServerConn::Owner {
 public:
  struct Limits {
    uint32_t max_per_server = 0;  // open connections per server in this worker (0 = no limit)
    uint32_t max_idle_per_key = 128;
    uint64_t max_wait_ms = 10000;  // 0 = wait without a bound
  };
  using Ticket = PoolTicket;

  explicit ServerPool(Limits limits);
  ~ServerPool() override;
  void set_limits(Limits limits);
  const Limits& limits() const { return limits_; }

  // An idle connection of `key`: the one `ticket` names if it is still idle, else one whose state
  // came from `history`, else the most recently given back. `no_database`: the session has no
  // current database, and only a new login takes a connection out of one (SessionState::plan), so
  // one in none wins over the others, and one of `history` must be in none too.
  std::optional<PooledConn> acquire(PoolKey key, uint64_t history, Ticket ticket = {}, bool no_database = false);
  // Takes an idle, ready connection: to the first session waiting for its server (FIFO), or to
  // the idle list (closed when the key's list is full or it is not ready).
  Ticket release(PoolKey key, PooledConn pooled, uint64_t now_ms);

  // Open-connection accounting (ServerConn reports every connection it opens and closes).
  void opened(ServerId server);
  void closed(ServerId server);
  bool may_open(ServerId server) const;
  uint32_t open_count(ServerId server) const;

  // Queues a session for a connection to key.server (FIFO per server).
  void wait(PoolWaiter* waiter, PoolKey key, uint64_t now_ms);
  void cancel(PoolWaiter* waiter);
  // A session keeps a connection to `server` between statements; the pool asks for it back when
  // a session starts waiting for that server. False (not kept): sessions wait for that server
  // already, and the connection is theirs (the session gives it back now).
  bool keep(PoolKeeper* keeper, ServerId server);
  void unkeep(PoolKeeper* keeper);
  // From the worker loop, never from inside a session's callback: delivers hand-offs and slots,
  // times out waiters past max_wait_ms.
  void run_wakeups(uint64_t now_ms);
  // A closed connection that may still be inside its own callback: freed by the next run_wakeups.
  void bury(std::unique_ptr<ServerConn> conn) { graveyard_.push_back(std::move(conn)); }
  // Closes connections idle for longer than max_idle_ms.
  void expire(uint64_t now_ms, uint64_t max_idle_ms);
  size_t idle_count() const { return idle_total_; }
  size_t waiting_count() const { return waiting_total_; }
  void close_all();

  // ServerConn::Owner: an idle connection that speaks or closes is dropped.
  void on_server_ready(ServerConn&, std::span<const uint8_t>) override {}
  void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket&) override;
  void on_server_data(ServerConn& conn, std::span<const uint8_t> data) override;
  void on_server_closed(ServerConn& conn, int err) override;
  void on_server_writable(ServerConn&) override {}

 private:
  struct Slot {
    PooledConn pooled;
    PoolKey key;
    uint64_t since_ms = 0;
    uint32_t generation = 0;
    uint32_t position = 0;  // index in its key's idle list
    bool used = false;
  };
  struct PerServer {
    uint32_t open = 0;
    PoolWaiter* head = nullptr;
    PoolWaiter* tail = nullptr;
    PoolKeeper* keepers = nullptr;
  };
  struct Delivery {
    PoolWaiter* waiter;
    PooledConn pooled;              // empty: a slot to open, not a connection
    PoolKeeper* reclaim = nullptr;  // instead: ask this keeper for its connection
  };

  PerServer& server(ServerId id);
  const PerServer* find_server(ServerId id) const;
  PooledConn take(uint32_t slot);
  void drop(ServerConn& conn);
  void unlink(PoolWaiter* w);
  PoolWaiter* pop_waiter(ServerId server);
  void wake_for_slot(ServerId server);

  Limits limits_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> idle_;  // by PoolKey::packed(), most recent last
  std::vector<PerServer> servers_;
  std::vector<Delivery> deliveries_;
  std::vector<Delivery> delivering_;
  std::vector<std::unique_ptr<ServerConn>> graveyard_;  // dropped from inside their own callbacks
  size_t idle_total_ = 0;
  size_t waiting_total_ = 0;
};

// The connection cap when pool.max_server_connections is 0 ("auto"): sized from the machine
// (16 per CPU across the proxy) and shared between the workers, at least 4 per worker.
uint32_t auto_server_connection_cap(uint32_t cpus, uint32_t workers);

}  // namespace odp::proxy
