#pragma once
// What a client session needs from the world. The real implementation (ProxyWorker) is backed
// by io_uring streams and the control thread; tests drive the same session code through a fake
// that injects partial reads, short writes, resets and corruption from a seed.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <openssl/ssl.h>

#include "admin/config.h"
#include "admin/internal_commands.h"
#include "core/conn.h"
#include "core/result.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "routing/topology.h"

namespace odp::proxy {

using core::Conn;

// A user's stored credential, as read from config or from the server by the meta account.
struct UserCredential {
  bool exists = false;
  bool empty_password = false;
  std::array<uint8_t, 20> stage2{};
  std::string unusable_plugin;  // non-empty: the account uses an auth plugin odp cannot check
};
using CredentialCallback = std::function<void(Result<UserCredential, std::string>)>;

// Facts about the backend learned when the proxy started (from a server's handshake).
struct BackendInfo {
  std::string server_version = "5.7.25-odp";
  uint32_t capabilities = 0xFFFFFFFF;
  uint8_t charset = 45;  // utf8mb4_general_ci
};

class SessionEnv {
 public:
  virtual ~SessionEnv() = default;
  virtual uint64_t now_ms() const = 0;
  virtual core::TimerWheel& timers() = 0;
  virtual core::Stats& stats() = 0;
  virtual const admin::Config& config() const = 0;
  virtual const BackendInfo& backend() const = 0;
  // TLS context for clients, or nullptr when TLS is off.
  virtual SSL_CTX* client_tls() const = 0;
  // Starts a TCP connect; the handler hears on_stream_connected. Returns nullptr with err set
  // when no socket could be made.
  virtual Conn* connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err) = 0;
  // Looks a user's credential up (possibly on another thread); the callback runs on the
  // session's thread, unless the session was destroyed first (cancel by token).
  virtual void lookup_credential(const std::string& cluster, const std::string& user, uint64_t token,
                                 CredentialCallback callback) = 0;
  // Where each client connection's statements run, so that `KILL <odp id>` can be translated
  // into the server's thread id. Shared by all workers; defaults do nothing (tests).
  struct SessionLocation {
    std::string server;
    uint32_t server_thread_id = 0;
    std::string user;
    std::string client;
    uint32_t worker = 0;
  };
  virtual uint32_t worker_index() const { return 0; }
  virtual void publish_session(uint32_t /*conn_id*/, const SessionLocation& /*where*/) {}
  virtual void withdraw_session(uint32_t /*conn_id*/) {}
  virtual std::optional<SessionLocation> find_session(uint32_t /*conn_id*/) const { return std::nullopt; }
  // Closes client session `conn_id` wherever it runs (KILL CONNECTION of an idle session, whose
  // server connection went back to the pool). False when there is no such session.
  virtual bool terminate_session(uint32_t /*conn_id*/) { return false; }
  // Runs an internal command for a root@proxysys session (stats, sessions, config...).
  virtual admin::InternalResult run_internal_command(std::string_view /*sql*/) {
    admin::InternalResult r;
    r.kind = admin::InternalResult::Kind::error;
    r.error_code = 1235;
    r.message = "odp: internal commands are not available here";
    return r;
  }
  // Routing. The current topology snapshot, valid until the worker's next loop iteration (never
  // keep it across callbacks); nullptr when there is none (the session then uses the cluster's
  // first rootservice_list server, as before discovery).
  virtual const routing::Snapshot* routing_snapshot() const { return nullptr; }
  // Asks the control thread to load a table's location entry (a miss), or to re-read it (after
  // error 4038 or a failed route). Cheap, deduplicated, never blocks.
  virtual void request_table(const std::string& /*cluster*/, const std::string& /*tenant*/,
                             const std::string& /*database*/, const std::string& /*table*/) {}
  virtual void mark_table_dirty(const std::string& /*cluster*/, const std::string& /*tenant*/,
                                const std::string& /*database*/, const std::string& /*table*/) {}
  // Server health as this worker saw it: a server that refused or dropped connections is avoided
  // for a while (congestion), then tried again.
  virtual void note_server_failure(const std::string& /*host_port*/) {}
  virtual void note_server_success(const std::string& /*host_port*/) {}
  virtual bool server_avoided(const std::string& /*host_port*/) const { return false; }
  // The worker's pool of idle server connections (nullptr: every session keeps its own).
  virtual class ServerPool* pool() { return nullptr; }
  // Every server connection opened and closed, for per-server limits.
  virtual void server_connection_opened(const std::string& /*host_port*/) {}
  virtual void server_connection_closed(const std::string& /*host_port*/) {}
  // The session has finished closing and may be destroyed.
  virtual void session_finished(class ClientSession* session) = 0;
};

}  // namespace odp::proxy
