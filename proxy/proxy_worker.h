#pragma once
// A worker thread of the proxy: owns a core::Worker (ring, buffers, timers), its listener and
// its client sessions, and implements SessionEnv for them. Workers share only SharedState
// (atomics for global limits, the job pool, the TLS context) and immutable config snapshots.
#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/config.h"
#include "core/listener.h"
#include "core/worker.h"
#include "proxy/client_session.h"
#include "proxy/client_statements.h"
#include "proxy/handover.h"
#include "proxy/job_pool.h"
#include "proxy/server_directory.h"
#include "proxy/server_health.h"
#include "proxy/server_pool.h"
#include "proxy/server_prober.h"
#include "proxy/session_env.h"
#include "routing/snapshot_holder.h"

namespace odp::admin {
class CredentialStore;
}

namespace odp::proxy {

// Client connection id -> where its statements run (for KILL). Control-plane rate: a mutex.
class SessionDirectory {
 public:
  void publish(uint32_t id, const SessionLocation& where) {
    std::lock_guard<std::mutex> lock(mu_);
    map_[id] = where;
  }
  void withdraw(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    map_.erase(id);
  }
  std::optional<SessionLocation> find(uint32_t id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(id);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::pair<uint32_t, SessionLocation>> list() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<uint32_t, SessionLocation>> out(map_.begin(), map_.end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, SessionLocation> map_;
};

class ProxyWorker;

// SHOW PROCESSLIST's answers from every worker, gathered for the requester.
struct SessionListGather {
  std::mutex mu;
  std::vector<SessionActivity> sessions;
  size_t workers_left = 0;
  ProxyWorker* reply_to = nullptr;
  uint64_t requester = 0;
  SessionListCallback callback;
};

// odp's connection ids (the handshake's, CONNECTION_ID(), what KILL and SHOW PROCESSLIST take)
// start far above the thread ids a server hands out (from 1): a KILL through odp of an id read
// from a server's information_schema.PROCESSLIST finds no session ("Unknown thread id") instead
// of ending whichever client of the same user odp numbered so. Below 2^31: drivers that keep the
// id in a signed 32-bit integer see it as it is.
inline constexpr uint32_t kFirstConnectionId = 1'000'000'001;

struct SharedState {
  SessionDirectory sessions;
  // Every worker's view of every server (congestion), and liveness probes of servers gone silent.
  ServerHealthTable health;
  ServerProber prober{health, probe_server_greeting};
  std::atomic<int64_t> clients{0};  // client sessions over all workers (client_max_connections)
  std::atomic<uint32_t> next_connection_id{kFirstConnectionId};
  std::atomic<uint64_t> sessions_handed_over{0};  // hot upgrade: moved to the new process
  std::atomic<uint64_t> global_variable_sets{0};  // SessionLoop::global_variable_sets
  std::atomic<bool> draining{false};
  SSL_CTX* tls = nullptr;
  std::vector<ProxyWorker*> workers;  // fixed once started
  uint64_t started_ms = 0;
  // `alter proxyconfig set k = v`: applies and publishes a changed config (set by the Server).
  std::function<Result<Ok, std::string>(const std::string&, const std::string&)> alter_config;
  // `alter proxy upgrade`: asks the control thread for a hot upgrade (set by the Server; may be empty).
  std::function<Result<Ok, std::string>()> upgrade;
  admin::CredentialStore* credentials = nullptr;
  JobPool* jobs = nullptr;
  // Location tables: published by the control thread, read by workers (reader slot = worker index).
  routing::SnapshotHolder* locations = nullptr;
  using TableRequest = std::function<void(const std::string& cluster, const std::string& tenant,
                                          const std::string& database, const std::string& table)>;
  TableRequest request_table;     // load a table's location entry (thread-safe)
  TableRequest mark_table_dirty;  // re-read it (after 4038)
};

class ProxyWorker final : public SessionEnv {
 public:
  ProxyWorker(uint32_t index, SharedState& shared, std::shared_ptr<const admin::Config> config, BackendInfo backend);
  ~ProxyWorker() override;

  // The thread body: sets up the ring, reports through `started` ("" on success), runs the loop.
  void run(std::vector<int> listen_fds, std::promise<std::string>& started);
  // Thread-safe requests.
  void post_config(std::shared_ptr<const admin::Config> config);
  void post_backend(BackendInfo backend);
  void post_drain();
  // listen.drain_timeout_ms passed: every session left closes (ClientSession::expire_drain) and
  // statements still running are killed on their servers (drain_kills_pending() until answered).
  void post_drain_deadline();
  size_t drain_kills_pending() const { return drain_kills_pending_.load(std::memory_order_relaxed); }
  // Hot upgrade: stop accepting (the new process accepts on the same sockets) and keep serving.
  void post_handover();
  void post_stop();
  // Hot upgrade phase 2, old process: moves the sessions at a quiet point over `sock`.
  void post_handover_tick(int sock);
  // New process: adopts a client socket handed over by the old process.
  void post_adopt(int fd, HandoverMessage msg);
  // Thread-safe: closes client session `conn_id` if this worker owns it (kill proxysession).
  void post_terminate(uint32_t conn_id);
  void post_kill_query(uint32_t conn_id);
  // Thread-safe: a KILL's hold on session `conn_id` (ClientSession::hold_for_kill), answered on
  // worker `reply_to`; and its end.
  void post_hold_for_kill(uint32_t conn_id, bool query_only, KillAuthority killer, ProxyWorker* reply_to,
                          uint64_t requester, KillHoldCallback callback);
  void post_release_kill_hold(uint32_t conn_id, uint64_t pin, KillOutcome outcome);
  // Thread-safe: this worker's sessions added to `gather` (SHOW PROCESSLIST); the last worker to
  // add its own answers the requester on its worker.
  void post_list_sessions(std::shared_ptr<SessionListGather> gather);
  ServerPool::Limits pool_limits() const;
  size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }
  const core::Stats& stats() const { return worker_.stats(); }

  // SessionEnv
  uint64_t now_ms() const override { return worker_.now_ms(); }
  uint32_t worker_index() const override { return index_; }
  core::TimerWheel& timers() override { return worker_.timers(); }
  core::Stats& stats() override { return worker_.stats(); }
  const admin::Config& config() const override { return *config_; }
  routing::RoutePolicy route_policy() const override { return route_policy_; }
  const BackendInfo& backend() const override { return backend_; }
  SSL_CTX* client_tls() const override { return shared_.tls; }
  uint64_t global_variable_sets() const override {
    return shared_.global_variable_sets.load(std::memory_order_acquire);
  }
  void note_global_variable_set() override { shared_.global_variable_sets.fetch_add(1, std::memory_order_acq_rel); }
  Conn* connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                uint32_t opener) override;
  void lookup_credential(const CredentialQuery& query, uint64_t token, CredentialCallback callback) override;
  void note_database_usable(const std::string& cluster, const std::string& user, const std::string& database) override;
  void forget_credential(const std::string& cluster, const std::string& user) override;
  void session_finished(ClientSession* session) override;
  admin::InternalResult run_internal_command(std::string_view sql) override;
  void session_started(uint32_t conn_id, const SessionLocation& who) override {
    shared_.sessions.publish(conn_id, who);
  }
  void session_ended(uint32_t conn_id) override { shared_.sessions.withdraw(conn_id); }
  void hold_for_kill(uint32_t conn_id, bool query_only, const KillAuthority& killer, uint64_t requester,
                     KillHoldCallback callback) override;
  void release_kill_hold(uint32_t conn_id, uint64_t pin, KillOutcome outcome) override;
  void list_sessions(uint64_t requester, SessionListCallback callback) override;
  const routing::Snapshot* routing_snapshot() const override {
    return shared_.locations != nullptr ? shared_.locations->current() : nullptr;
  }
  void request_table(const std::string& cluster, const std::string& tenant, const std::string& database,
                     const std::string& table) override {
    if (shared_.request_table) shared_.request_table(cluster, tenant, database, table);
  }
  void mark_table_dirty(const std::string& cluster, const std::string& tenant, const std::string& database,
                        const std::string& table) override {
    if (shared_.mark_table_dirty) shared_.mark_table_dirty(cluster, tenant, database, table);
  }
  void note_server_failure(std::string_view host_port) override { health_.failure(host_port, now_ms()); }
  void note_server_success(std::string_view host_port) override { health_.success(host_port); }
  bool server_avoided(std::string_view host_port) const override { return health_.avoided(host_port, now_ms()); }
  void probe_server(const std::string& host_port, uint64_t token, std::function<void(bool alive)> callback) override;
  ServerPool* pool() override { return pool_.get(); }
  ServerDirectory& directory() override { return directory_; }
  StatementShapes& shapes() override { return shapes_; }
  void server_connection_opened(ServerId server) override {
    if (pool_) pool_->opened(server);
  }
  void server_connection_closed(ServerId server) override {
    if (pool_) pool_->closed(server);
  }

 private:
  void on_accept(int fd);
  void reject(int fd, uint16_t code, const char* message);
  void reap_sessions();
  void shutdown_sessions();
  void hand_over_sessions();
  ClientSession* find_session(uint32_t conn_id);

  uint32_t index_;
  SharedState& shared_;
  std::shared_ptr<const admin::Config> config_;
  routing::RoutePolicy route_policy_ = routing::RoutePolicy::follower_first;
  BackendInfo backend_;
  core::Worker worker_;
  std::vector<std::unique_ptr<core::Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<ClientSession>> sessions_;  // by token
  std::vector<ClientSession*> finished_;
  std::atomic<size_t> session_count_{0};
  bool draining_ = false;
  bool handing_over_ = false;
  bool draining_by_signal_ = false;
  int handover_sock_ = -1;  // hot upgrade phase 2: sessions move over this socket
  std::vector<ClientSession*> scratch_sessions_;
  ServerHealth health_;
  ServerDirectory directory_;
  StatementShapes shapes_;
  std::unique_ptr<ServerPool> pool_;
  uint64_t next_pool_expiry_ms_ = 0;
  // KILLs of statements the drain's deadline cut (their sessions are gone); freed at exit.
  std::vector<std::unique_ptr<QueryKiller>> drain_kills_;
  std::atomic<size_t> drain_kills_pending_{0};
};

}  // namespace odp::proxy
