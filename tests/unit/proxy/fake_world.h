#pragma once
// One seeded simulation run: a FakeEnv (the SessionEnv the real ClientSession code runs against)
// with fake clients, fake servers and FakeConn links, faults chosen from the seed, and the
// invariants every run must satisfy. run_seed() returns an empty string when they all hold.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/client_session.h"
#include "proxy/client_statements.h"
#include "proxy/session_env.h"
#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_mysql.h"

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

struct Scenario {
  uint64_t seed = 0;
  bool faulty = false;
  admin::Config config;
  std::vector<ClientScenario> clients;
  LinkParams to_server;    // proxy -> server
  LinkParams from_server;  // server -> proxy
  // Per server connect, in per-mille: how it goes.
  uint32_t refuse_now = 0, refuse_later = 0, connect_timeout = 0, silent_greeting = 0, auth_switch = 0;
  uint32_t server_reset = 0, corrupt_to_server = 0, corrupt_from_server = 0, server_kill = 0;
  int64_t drain_at_ms = -1;  // begin_drain() on every session then
  uint32_t lookup_error = 0;
  uint32_t max_lookup_delay_ms = 5;
  std::string describe() const;
};

Scenario make_scenario(uint64_t seed);
// A scenario without faults: one client on fast links running `script` (for targeted tests).
Scenario quiet_scenario(uint64_t seed, std::vector<StepKind> script);

class FakeEnv final : public proxy::SessionEnv {
 public:
  explicit FakeEnv(const Scenario& sc);
  ~FakeEnv() override;

  // Runs the scenario and checks the invariants; empty string when all hold.
  std::string run();
  const FakeClient& client(size_t i) const { return *clients_[i]; }
  // Non-zero counters and gauges, for failure messages.
  std::string stats_summary();

  // proxy::SessionEnv
  uint64_t now_ms() const override { return sim_.now_ms(); }
  core::TimerWheel& timers() override { return sim_.timers(); }
  core::Stats& stats() override { return stats_; }
  const admin::Config& config() const override { return sc_.config; }
  const proxy::BackendInfo& backend() const override { return backend_; }
  SSL_CTX* client_tls() const override { return nullptr; }
  proxy::Conn* connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                       uint32_t opener) override;
  void lookup_credential(const proxy::CredentialQuery& query, uint64_t token,
                         proxy::CredentialCallback callback) override;
  void session_finished(proxy::ClientSession* session) override;
  proxy::ServerDirectory& directory() override { return directory_; }
  proxy::StatementShapes& shapes() override { return shapes_; }

 private:
  FakeConn& new_conn(std::string name, LinkParams params);
  void accept_client(size_t index);
  void reap();
  std::string run_until_quiet(const char* stage);
  std::string check_clients();

  Scenario sc_;
  Sim sim_;
  core::Stats stats_;
  proxy::BackendInfo backend_;
  std::vector<std::unique_ptr<FakeConn>> conns_;
  std::vector<FakeConn*> proxy_conns_;  // every Conn handed to the proxy: all must be closed at the end
  std::vector<std::unique_ptr<FakeServer>> servers_;
  std::vector<std::unique_ptr<FakeClient>> clients_;
  std::map<uint32_t, std::unique_ptr<Transcript>> transcripts_;  // by proxy connection id
  std::map<uint64_t, std::unique_ptr<proxy::ClientSession>> sessions_;
  std::vector<proxy::ClientSession*> finished_;
  uint32_t next_thread_id_ = 5000;
  proxy::ServerDirectory directory_;
  proxy::StatementShapes shapes_;
};

std::string run_seed(uint64_t seed);
// Every counter summed over the seeds run so far (what the suite exercised), one per line.
std::string totals_summary();

}  // namespace odp::fakeio
