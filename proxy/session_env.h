#pragma once
// What a client session needs from the world, as small interfaces the proxy layer defines. The
// real implementation (ProxyWorker) is backed by io_uring streams, the control thread and the
// other workers' mailboxes; tests drive the same session code through fakes that inject partial
// reads, short writes, resets and corruption from a seed.
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
#include "base/result.h"
#include "core/conn.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "proxy/kill_authority.h"
#include "proxy/processlist.h"
#include "proxy/server_directory.h"
#include "routing/router.h"
#include "routing/topology.h"

namespace odp::proxy {

using core::Conn;
class ServerPool;
class StatementShapes;
class ClientSession;

// A user's stored credential, as read from config or from the server by the meta account.
struct UserCredential {
  bool exists = false;
  bool empty_password = false;
  std::array<uint8_t, 20> stage2{};
  std::string unusable_plugin;    // non-empty: the account uses an auth plugin odp cannot check
  bool from_cache = false;        // answered from memory: a password that does not match is re-checked
  bool database_known = false;    // a server accepted the login's database for this user lately
  bool locked = false;            // ACCOUNT LOCK: refused after a right password, as the server does
  bool password_expired = false;  // refused after a right password (see ClientSession::on_credential)
};
// What a login asks about its user.
struct CredentialQuery {
  std::string cluster;
  std::string user;
  std::string database;  // the login's database ("" = none): is it known to be usable?
  bool recheck = false;  // the password did not match a cached answer: read the user again
};
using CredentialCallback = std::function<void(Result<UserCredential, std::string>)>;

// Facts about the backend learned when the proxy started (from a server's handshake).
struct BackendInfo {
  std::string server_version = "5.7.25-odp";
  uint32_t capabilities = 0xFFFFFFFF;
  uint8_t charset = 45;                   // utf8mb4_general_ci
  uint32_t mariadb_ext_capabilities = 0;  // a MariaDB server's extended capabilities (protocol::mariadb_cap)
};

// Who a session is and where its statements run (the session directory: `show proxysession`,
// and which worker a KILL of it goes to).
struct SessionLocation {
  std::string server;  // "" while the session holds no server connection
  uint32_t server_thread_id = 0;
  std::string user;
  std::string client;
  uint32_t worker = 0;
};

// A KILL's target as its own worker found it (KILL names odp's connection ids). While a statement
// of the target runs (or the target is tied to its connection), the target keeps that server
// connection for the KILL: it does not go back to the pool, where another client's statement
// could take it before the KILL lands, until release_kill_hold(pin).
struct ServerLogin;
struct KillHold {
  std::string server;  // "" : nothing of the target runs on a server (a KILL CONNECTION closed it already)
  uint32_t server_thread_id = 0;
  uint64_t pin = 0;
  // Nothing of the target runs and the killer is another user (kill_authority.h): nothing was
  // done; the killer proves its privilege with this login of the target's (KillPrivilegeProbe)
  // and asks again. Else null.
  std::shared_ptr<const ServerLogin> needs_proof;
};
using KillHoldCallback = std::function<void(std::optional<KillHold>)>;
using SessionListCallback = std::function<void(std::vector<SessionActivity>)>;
// How the KILL said under a hold ended.
enum class KillOutcome : uint8_t {
  not_sent,  // no KILL reached the server (no connection for it)
  refused,   // the server answered ERR (no privilege, no such thread)
  done,      // the server answered OK (KILL CONNECTION: the target's session ends)
  unknown,   // sent, but no answer came: the connection never serves another session
};

// The worker's loop: clock, timers, counters, configuration.
class SessionLoop {
 public:
  virtual ~SessionLoop() = default;
  virtual uint64_t now_ms() const = 0;
  virtual core::TimerWheel& timers() = 0;
  virtual core::Stats& stats() = 0;
  virtual const admin::Config& config() const = 0;
  virtual const BackendInfo& backend() const = 0;
  // TLS context for clients, or nullptr when TLS is off.
  virtual SSL_CTX* client_tls() const = 0;
  // The session has finished closing and may be destroyed (after the loop iteration).
  virtual void session_finished(ClientSession* session) = 0;
  // SET GLOBALs that succeeded through odp, counted over all workers (Baseline::global_sets), and
  // the count's step when one more did.
  virtual uint64_t global_variable_sets() const { return 0; }
  virtual void note_global_variable_set() {}
  // routing.route_policy, parsed when the configuration changes (not per statement).
  virtual routing::RoutePolicy route_policy() const {
    routing::RoutePolicy p = routing::RoutePolicy::follower_first;
    routing::parse_route_policy(config().routing.route_policy, p);
    return p;
  }
};

// Server connections: sockets, the worker's pool and its interned names.
class ServerAccess {
 public:
  virtual ~ServerAccess() = default;
  // Starts a TCP connect for client session `opener` (whose statements need it first: logs, and
  // the fake IO world's account of who gets what); the handler hears on_stream_connected. Returns
  // nullptr with err set when no socket could be made.
  virtual Conn* connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                        uint32_t opener) = 0;
  // The worker's pool of idle server connections (nullptr: every session keeps its own).
  virtual ServerPool* pool() { return nullptr; }
  virtual ServerDirectory& directory() = 0;
  // Shapes of prepared statement texts, shared by the worker's sessions.
  virtual StatementShapes& shapes() = 0;
  // Every server connection opened and closed, for the per-server cap.
  virtual void server_connection_opened(ServerId /*server*/) {}
  virtual void server_connection_closed(ServerId /*server*/) {}
};

// Location tables and server health, as routing reads them.
class Locations {
 public:
  virtual ~Locations() = default;
  // The current topology snapshot, valid until the worker's next loop iteration (never keep it
  // across callbacks); nullptr when there is none (the session then uses the cluster's first
  // rootservice_list server, as before discovery).
  virtual const routing::Snapshot* routing_snapshot() const { return nullptr; }
  // Asks the control thread to load a table's location entry (a miss), or to re-read it (after
  // error 4038 or a failed route). Cheap, deduplicated, never blocks.
  virtual void request_table(const std::string& /*cluster*/, const std::string& /*tenant*/,
                             const std::string& /*database*/, const std::string& /*table*/) {}
  virtual void mark_table_dirty(const std::string& /*cluster*/, const std::string& /*tenant*/,
                                const std::string& /*database*/, const std::string& /*table*/) {}
  // Server health as this worker saw it: a server that refused or dropped connections is avoided
  // for a while (congestion), then tried again.
  virtual void note_server_failure(std::string_view /*host_port*/) {}
  virtual void note_server_success(std::string_view /*host_port*/) {}
  virtual bool server_avoided(std::string_view /*host_port*/) const { return false; }
  // Is the server alive? A statement's server silent for limits.server_silence_probe_ms asks.
  // One probe per server at a time, shared by every session that asks meanwhile: it must send its
  // greeting within limits.server_connect_timeout_ms (a stopped process accepts TCP, never greets);
  // a server that does not is noted as failed in health before the callback runs. The callback
  // runs on this worker, not at all once session `token` is gone (and may run before this returns).
  virtual void probe_server(const std::string& /*host_port*/, uint64_t /*token*/,
                            std::function<void(bool alive)> callback) {
    callback(true);
  }
};

// Logins: credentials (looked up off the worker) and the admin commands of root@proxysys.
class LoginServices {
 public:
  virtual ~LoginServices() = default;
  // Looks a user's credential up: from memory at once (the callback runs before this returns),
  // else on another thread, the callback then running on the session's thread unless the
  // session was destroyed first (cancel by token). Never blocks the worker.
  virtual void lookup_credential(const CredentialQuery& query, uint64_t token, CredentialCallback callback) = 0;
  // A server accepted `database` for `user` (a login naming it): later logins naming it need not
  // ask a server before they are let in.
  virtual void note_database_usable(const std::string& /*cluster*/, const std::string& /*user*/,
                                    const std::string& /*database*/) {}
  // A server refused the password the cached credential accepted: the next login reads it again.
  virtual void forget_credential(const std::string& /*cluster*/, const std::string& /*user*/) {}
  virtual admin::InternalResult run_internal_command(std::string_view /*sql*/);
};

// Sessions of all workers, for KILL: asked through the owning worker's mailbox, never a shared map
// on the statement path.
class SessionRegistry {
 public:
  virtual ~SessionRegistry() = default;
  virtual uint32_t worker_index() const { return 0; }
  // A session logged in / left (control-plane rate: login and logout only).
  virtual void session_started(uint32_t /*conn_id*/, const SessionLocation& /*who*/) {}
  virtual void session_ended(uint32_t /*conn_id*/) {}
  // A KILL [QUERY] of session `conn_id`, on the target's worker (ClientSession::hold_for_kill):
  // the server connection its statement runs on, held until release_kill_hold; nothing running: a
  // KILL CONNECTION closes the session there and then, if `killer` may (kill_authority.h). The
  // callback runs on this worker (not at all when `requester` is gone by then: the hold is
  // released instead). nullopt: no such session.
  virtual void hold_for_kill(uint32_t /*conn_id*/, bool /*query_only*/, const KillAuthority& /*killer*/,
                             uint64_t /*requester*/, KillHoldCallback callback) {
    callback(std::nullopt);
  }
  // The KILL said under `pin` is over (on the target's worker; nothing when the target is gone).
  virtual void release_kill_hold(uint32_t /*conn_id*/, uint64_t /*pin*/, KillOutcome /*outcome*/) {}
  // SHOW PROCESSLIST: every session of every worker as its worker sees it (ClientSession::activity),
  // gathered through the mailboxes; the callback runs on this worker, not at all when `requester`
  // is gone by then.
  virtual void list_sessions(uint64_t /*requester*/, SessionListCallback callback) { callback({}); }
};

class SessionEnv : public SessionLoop,
                   public ServerAccess,
                   public Locations,
                   public LoginServices,
                   public SessionRegistry {};

}  // namespace odp::proxy
