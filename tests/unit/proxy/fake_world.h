#pragma once
// One seeded simulation of the whole proxy: a FakeEnv (the SessionEnv the real ClientSession code
// runs against) with the worker's real ServerPool (a small cap, so sessions share connections and
// wait in line), routing snapshots from a fake metadata server, KILL between sessions, several
// fake servers that die and hang, many fake clients with random scripts, faults on every link, and
// the invariants every run must satisfy (fake_oracle.cpp). run_seed() returns "" when they hold.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "proxy/client_session.h"
#include "proxy/client_statements.h"
#include "proxy/server_health.h"
#include "proxy/server_pool.h"
#include "proxy/session_env.h"
#include "tests/unit/proxy/fake_client.h"
#include "tests/unit/proxy/fake_cluster.h"
#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_mysql.h"
#include "tests/unit/proxy/fake_records.h"
#include "tests/unit/proxy/fake_topology.h"

namespace odp::fakeio {

struct ClientScenario {
  ClientPlan plan;
  LinkParams to_proxy;   // client -> proxy
  LinkParams to_client;  // proxy -> client
  uint64_t start_ms = 0;
  int64_t reset_at_ms = -1;
  uint64_t corrupt_to_proxy_at = UINT64_MAX;
  uint64_t corrupt_to_client_at = UINT64_MAX;
  bool expect_auth_failure = false;
};

// Something that happens to the cluster at a time.
struct ClusterEvent {
  enum class Kind : uint8_t { leader_move, death, hang };
  Kind kind = Kind::leader_move;
  uint64_t at_ms = 0;
  size_t server = 0;  // death, hang; leader_move: the new leader
  int partition = 0;  // leader_move
  uint64_t duration_ms = 0;
};

struct Scenario {
  uint64_t seed = 0;
  bool faulty = false;
  admin::Config config;
  std::vector<ClientScenario> clients;
  size_t servers = 3;
  TopologyPlan topology;
  std::vector<ClusterEvent> events;
  LinkParams to_server;    // proxy -> server
  LinkParams from_server;  // server -> proxy
  // Per server connect, in per-mille: how it goes.
  uint32_t refuse_now = 0, refuse_later = 0, connect_timeout = 0, silent_greeting = 0, auth_switch = 0;
  uint32_t server_reset = 0, corrupt_to_server = 0, corrupt_from_server = 0, server_kill = 0;
  uint32_t kill_after_infile = 0;
  int64_t drain_at_ms = -1;  // begin_drain() on every session then
  uint32_t lookup_error = 0;
  uint32_t max_lookup_delay_ms = 5;
  bool kills = false;  // clients KILL each other
  std::string describe() const;
};

Scenario make_scenario(uint64_t seed);
// A scenario without faults: one client on fast links running `script` (for targeted tests).
Scenario quiet_scenario(uint64_t seed, std::vector<Step> script);

class FakeEnv final : public proxy::SessionEnv, public ServerWorld, public ClientWorld {
 public:
  explicit FakeEnv(const Scenario& sc);
  ~FakeEnv() override;

  // Runs the scenario and checks the invariants; empty string when all hold.
  std::string run();
  const FakeClient& client(size_t i) const { return *clients_[i]; }
  const FakeCluster& cluster_view() const { return cluster_; }
  // Non-zero counters and gauges, for failure messages.
  std::string stats_summary();
  // Every session's phase, ties and connection, and the pool's counts (for failure messages).
  std::string sessions_summary();

  // proxy::SessionEnv
  uint64_t now_ms() const override { return sim_.now_ms(); }
  core::TimerWheel& timers() override { return sim_.timers(); }
  core::Stats& stats() override { return stats_; }
  const admin::Config& config() const override { return sc_.config; }
  const proxy::BackendInfo& backend() const override { return backend_; }
  SSL_CTX* client_tls() const override { return nullptr; }
  uint64_t global_variable_sets() const override { return global_variable_sets_; }
  void note_global_variable_set() override { ++global_variable_sets_; }
  proxy::Conn* connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                       uint32_t opener) override;
  void lookup_credential(const proxy::CredentialQuery& query, uint64_t token,
                         proxy::CredentialCallback callback) override;
  void session_finished(proxy::ClientSession* session) override;
  proxy::ServerPool* pool() override { return pool_.get(); }
  proxy::ServerDirectory& directory() override { return directory_; }
  proxy::StatementShapes& shapes() override { return shapes_; }
  void server_connection_opened(proxy::ServerId server) override {
    if (pool_) pool_->opened(server);
  }
  void server_connection_closed(proxy::ServerId server) override {
    if (pool_) pool_->closed(server);
  }
  const routing::Snapshot* routing_snapshot() const override { return topology_.snapshot(); }
  void request_table(const std::string& cluster, const std::string& tenant, const std::string& database,
                     const std::string& table) override;
  void mark_table_dirty(const std::string& cluster, const std::string& tenant, const std::string& database,
                        const std::string& table) override;
  void note_server_failure(std::string_view host_port) override { health_.failure(host_port, now_ms()); }
  void note_server_success(std::string_view host_port) override { health_.success(host_port); }
  bool server_avoided(std::string_view host_port) const override { return health_.avoided(host_port, now_ms()); }
  void probe_server(const std::string& host_port, uint64_t token, std::function<void(bool alive)> callback) override;
  void session_started(uint32_t conn_id, const proxy::SessionLocation& who) override { published_[conn_id] = who.user; }
  void session_ended(uint32_t conn_id) override { published_.erase(conn_id); }
  void hold_for_kill(uint32_t conn_id, bool query_only, const proxy::KillAuthority& killer, uint64_t requester,
                     proxy::KillHoldCallback callback) override;
  void release_kill_hold(uint32_t conn_id, uint64_t pin, proxy::KillOutcome outcome) override;

  // ServerWorld
  Sim& sim() override { return sim_; }
  FakeCluster& cluster() override { return cluster_; }
  ResponseRecords& records() override { return records_; }
  Attribution running_on(const std::string& host_port, uint32_t thread_id) override;
  uint32_t held_by(const std::string& host_port, uint32_t thread_id) override;
  uint32_t opener_of(uint64_t server_end_serial) const override {
    auto it = openers_.find(server_end_serial);
    return it == openers_.end() ? 0 : it->second;
  }
  bool killing(uint32_t killer, uint32_t victim) const override {
    return killer >= 1 && killer <= clients_.size() && clients_[killer - 1] && clients_[killer - 1]->killing(victim);
  }

  uint64_t query_timeout_ms() const override { return sc_.config.limits.server_query_timeout_ms; }

  // ClientWorld
  const ResponseRecords& records() const override { return records_; }
  void kill_sent(uint32_t target) override { kill_targets_.insert(target); }

 private:
  FakeConn& new_conn(std::string name, LinkParams params);
  void accept_client(size_t index);
  void start_server(FakeConn& proxy_end, FakeConn& server_end, size_t server, ServerPlan plan, int64_t reset_at);
  proxy::ClientSession* find_session(uint32_t conn_id);
  void after_event();
  void schedule_events();
  std::string run_until_quiet(const char* stage);
  std::string check_clients(bool corrupted);
  std::string check_shutdown();
  bool corrupted() const;
  const FakeConn* proxy_end_of(uint64_t server_end_serial) const;

  Scenario sc_;
  Sim sim_;
  core::Stats stats_;
  uint64_t global_variable_sets_ = 0;
  proxy::BackendInfo backend_;
  FakeCluster cluster_;
  FakeTopology topology_;
  ResponseRecords records_;
  std::vector<std::unique_ptr<FakeConn>> conns_;
  std::vector<FakeConn*> proxy_conns_;         // every Conn handed to the proxy: all must be closed at the end
  std::map<uint64_t, FakeConn*> server_ends_;  // by serial
  std::map<uint64_t, uint32_t> openers_;       // server end serial -> the client whose session opened it
  std::vector<std::unique_ptr<FakeServer>> servers_;
  std::vector<std::unique_ptr<FakeClient>> clients_;
  std::set<uint32_t> kill_targets_;
  std::map<uint32_t, std::string> published_;
  uint32_t next_thread_id_ = 5000;
  proxy::ServerDirectory directory_;
  proxy::StatementShapes shapes_;
  proxy::ServerHealthTable health_table_;
  proxy::ServerHealth health_{health_table_};
  std::unique_ptr<proxy::ServerPool> pool_;
  uint64_t next_expiry_ms_ = 0;
  bool tick_pending_ = false;
  std::map<uint64_t, std::unique_ptr<proxy::ClientSession>> sessions_;
  std::vector<proxy::ClientSession*> finished_;
};

std::string run_seed(uint64_t seed);
// Every counter summed over the seeds run so far (what the suite exercised), one per line.
std::string totals_summary();

// The invariants over what the cluster applied and what each client was told (fake_oracle.cpp).
// `proxy_end_of` finds the odp end of a server connection by the server end's serial.
std::string check_writes(const FakeCluster& cluster, const std::vector<const ClientModel*>& models,
                         const std::function<const FakeConn*(uint64_t)>& proxy_end_of);

}  // namespace odp::fakeio
