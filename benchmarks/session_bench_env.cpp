#include "benchmarks/session_bench_env.h"

#include <algorithm>
#include <thread>

#include "protocol/auth.h"

namespace odp::bench {

namespace {

LinkParams fast_link(size_t high_watermark) {
  LinkParams p;
  p.max_chunk_bytes = 65536;
  p.max_delay_ms = 0;
  p.window_bytes = 1u << 20;
  p.high_watermark_bytes = high_watermark;
  return p;
}

}  // namespace

BenchEnv::BenchEnv() : sim_(42), timers_(0), pool_(pool_limits()) {
  admin::ClusterConfig cluster;
  cluster.name = "c1";
  cluster.server_mode = admin::ServerMode::mysql;
  cluster.rootservice_list = {"10.0.0.9:2881"};
  config_.clusters.push_back(cluster);
  config_.default_cluster = "c1";
  pool_.set_limits(pool_limits());
  sim_.after_event = [this] { loop_iteration(); };
}

BenchEnv::~BenchEnv() {
  // The pool's connections use the fake conns below: close them while those still exist.
  In in(Region::proxy);
  session_.reset();
  pool_.close_all();
  pool_.run_wakeups(sim_.now_ms());
}

void BenchEnv::start_client(std::vector<StepKind> script, bool deprecate_eof, bool quit_at_end) {
  benchfake::ClientPlan plan;
  plan.script = std::move(script);
  plan.rows.assign(plan.script.size(), 1);
  plan.deprecate_eof = deprecate_eof;
  plan.quit_at_end = quit_at_end;
  // The fake servers write what they answer into the transcript of the client they serve; pooled
  // connections serve each client in turn, so all of them record for the new one from now on.
  transcripts_.push_back(std::make_unique<benchfake::Transcript>());
  for (auto& server : servers_) server->set_transcript(transcripts_.back().get());
  FakeConn& client_end = new_fake("client", fast_link(1u << 30));
  FakeConn& proxy_end = new_fake("proxy-client", fast_link(config_.limits.max_output_buffer_bytes));
  FakeConn::link(client_end, proxy_end, true);
  clients_.push_back(std::make_unique<FakeClient>(sim_, client_end, std::move(plan), *transcripts_.back()));
  ProxySideConn& side = new_side(proxy_end);
  ++session_id_;
  {
    In in(Region::proxy);
    session_ = std::make_unique<proxy::ClientSession>(*this, &side, session_id_, "10.0.0.1:40001");
    session_->start();
  }
  clients_.back()->start();
}

bool BenchEnv::run_statements(size_t n) {
  size_t target = clients_.back()->steps_done() + n;
  while (clients_.back()->steps_done() < target) {
    if (!sim_.step()) return false;
  }
  return true;
}

bool BenchEnv::run_until_client_gone() {
  while (clients_.back()->state() != FakeClient::State::closed || session_ != nullptr) {
    if (!sim_.step()) return false;
  }
  return true;
}

proxy::Conn* BenchEnv::connect(const std::string& /*host_port*/, uint32_t /*timeout_ms*/, core::StreamHandler* handler,
                               int& err, uint32_t /*opener*/) {
  In in(Region::other);
  FakeConn& proxy_end = new_fake("proxy-server", fast_link(config_.limits.max_output_buffer_bytes));
  FakeConn& server_end = new_fake("server", fast_link(1u << 30));
  FakeConn::link(proxy_end, server_end, false);
  ProxySideConn& side = new_side(proxy_end);
  side.set_handler(handler);
  uint32_t thread_id = next_thread_id_++;
  sim_.at(0, [this, &proxy_end, &server_end, &side, thread_id] {
    if (proxy_end.closed()) return;
    servers_.push_back(std::make_unique<FakeServer>(sim_, server_end, benchfake::ServerPlan{}, thread_id,
                                                    [this](uint32_t) { return transcripts_.back().get(); }));
    servers_.back()->set_transcript(transcripts_.back().get());
    servers_.back()->start();
    proxy_end.set_connected();
    side.on_stream_connected(0);
  });
  err = 0;
  return &side;
}

void BenchEnv::lookup_credential(const proxy::CredentialQuery& query, uint64_t token,
                                 proxy::CredentialCallback callback) {
  const std::string& user = query.user;
  In in(Region::other);
  sim_.at(0, [this, user, token, callback = std::move(callback)] {
    if (session_ == nullptr || session_->token() != token || session_->finished()) return;
    proxy::UserCredential cred;
    if (user == benchfake::kUser) {
      cred.exists = true;
      cred.stage2 = protocol::native_password_stage2(benchfake::kPassword);
    }
    In proxy_in(Region::proxy);
    callback(cred);
  });
}

// As ProxyWorker::pool_limits with the default config: "auto" connections per server.
proxy::ServerPool::Limits BenchEnv::pool_limits() const {
  proxy::ServerPool::Limits l;
  uint32_t cpus = std::max(1u, std::thread::hardware_concurrency());
  l.max_per_server = config_.pool.max_server_connections != 0 ? config_.pool.max_server_connections
                                                              : proxy::auto_server_connection_cap(cpus, 1);
  l.max_idle_per_key = config_.pool.max_idle_per_server;
  l.max_wait_ms = config_.pool.max_wait_ms;
  return l;
}

// What ProxyWorker does after every batch of completions (its idle hook) and its timer wheel. Here
// it runs after every simulated event, which is more often than a real worker's once per batch, so
// its share of the proxy's time is an upper bound.
void BenchEnv::loop_iteration() {
  In in(Region::proxy);
  timers_.advance(sim_.now_ms());
  if (!finished_.empty()) {
    for (proxy::ClientSession* s : finished_) {
      if (s == session_.get()) session_.reset();
    }
    finished_.clear();
  }
  pool_.run_wakeups(sim_.now_ms());
  if (sim_.now_ms() >= next_pool_expiry_ms_) {
    pool_.expire(sim_.now_ms(), config_.pool.idle_timeout_ms);
    next_pool_expiry_ms_ = sim_.now_ms() + 1000;
  }
}

FakeConn& BenchEnv::new_fake(std::string name, LinkParams params) {
  fakes_.push_back(std::make_unique<FakeConn>(sim_, std::move(name), params));
  return *fakes_.back();
}

ProxySideConn& BenchEnv::new_side(FakeConn& fake) {
  sides_.push_back(std::make_unique<ProxySideConn>(fake));
  return *sides_.back();
}

}  // namespace odp::bench
