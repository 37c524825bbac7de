#pragma once
// A worker's idle server connections, shared between its client sessions at transaction
// boundaries, and the per-server connection limit with a FIFO of sessions waiting for a slot.
//
// Connections are interchangeable when they log in to the same server as the same user with the
// same capabilities and charset (PoolKey). A session gives its connections back when nothing ties
// it to them (no transaction, lock, temporary table, prepared statement...), and takes one back
// for its next statement, preferring the one it had (then nothing needs replaying); a connection
// that served another client gets that client's session state replaced by value (session_state.h).
// Single-threaded: one pool per worker.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/server_conn.h"
#include "proxy/session_state.h"

namespace odp::proxy {

struct PoolKey {
  std::string host_port;
  std::string user;
  uint32_t client_capabilities = 0;
  uint8_t charset = 0;
  std::string text() const;
};

// A session waiting for a connection slot to a server.
class PoolWaiter {
 public:
  virtual ~PoolWaiter() = default;
  virtual void on_pool_slot() = 0;
};

class ServerPool final : public ServerConn::Owner {
 public:
  struct Idle {
    std::unique_ptr<ServerConn> conn;
    ConnSync sync;
    uint64_t since_ms = 0;
  };

  // max_per_server: open connections per server in this worker (0 = no limit);
  // max_idle_per_key: idle connections kept per key (more are closed).
  ServerPool(uint32_t max_per_server, uint32_t max_idle_per_key);
  ~ServerPool() override;
  void set_limits(uint32_t max_per_server, uint32_t max_idle_per_key);

  // An idle connection for `key`, preferring one whose applied state came from `history`.
  std::optional<Idle> acquire(const PoolKey& key, uint64_t history);
  // Takes an idle, ready connection (closes it when the pool for its key is full).
  void release(const PoolKey& key, Idle idle, uint64_t now_ms);

  // Open-connection accounting (ServerConn reports every connection it opens and closes).
  void opened(const std::string& host_port);
  void closed(const std::string& host_port);
  bool may_open(const std::string& host_port) const;
  uint32_t open_count(const std::string& host_port) const;

  // Waiting for a slot: woken in FIFO order when a connection to that server is released or closed.
  void wait(const std::string& host_port, PoolWaiter* waiter);
  void cancel(PoolWaiter* waiter);
  // Runs the wake-ups collected since the last call (from the worker loop, never from inside a
  // session's callback).
  void run_wakeups();
  // Closes connections idle for longer than max_idle_ms.
  void expire(uint64_t now_ms, uint64_t max_idle_ms);
  size_t idle_count() const;
  size_t waiting_count() const;
  void close_all();

  // ServerConn::Owner: an idle connection that speaks or closes is dropped.
  void on_server_ready(ServerConn&, std::span<const uint8_t>) override {}
  void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket&) override;
  void on_server_data(ServerConn& conn, std::span<const uint8_t> data) override;
  void on_server_closed(ServerConn& conn, int err) override;
  void on_server_writable(ServerConn&) override {}

 private:
  void drop(ServerConn& conn);
  void wake_one(const std::string& host_port);

  uint32_t max_per_server_;
  uint32_t max_idle_per_key_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;  // by PoolKey::text()
  std::unordered_map<std::string, uint32_t> open_;           // by host_port
  std::unordered_map<std::string, std::deque<PoolWaiter*>> waiters_;
  std::vector<PoolWaiter*> wakeups_;
  std::vector<std::unique_ptr<ServerConn>> graveyard_;  // dropped from inside their own callbacks
};

}  // namespace odp::proxy
