#pragma once
// One client session at a time of the real proxy code (ClientSession and everything under it, with
// the worker's ServerPool) between minimal fake peers (the unit tests' FakeConn links; FakeClient
// and FakeServer of session_fakes.h), for bench_session. Like ProxyWorker: the unit tests' FakeEnv
// (fake_world.cpp) runs a whole seeded simulation to quiescence with no way to step it, and its
// peers keep every answer for its oracle, while a benchmark steps one session; a real worker has a pool (a point select
// takes a pooled connection and gives it back). The pool is sized as ProxyWorker sizes it from the default config; the
// proxy's timers live on a TimerWheel of this env, advanced in the proxy region after every simulated event (the Sim's
// own wheel stays empty), together with what ProxyWorker's idle hook does.
//
// Regions (counting_allocator.h): the fake network calls the proxy in the "proxy" region, and the
// proxy's calls into the fake network (Conn methods, connect, lookup_credential) run in "other".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/counting_allocator.h"
#include "benchmarks/session_fakes.h"
#include "proxy/client_session.h"
#include "proxy/client_statements.h"
#include "proxy/server_pool.h"
#include "proxy/session_env.h"
#include "tests/unit/proxy/fake_io.h"

namespace odp::bench {

using benchfake::FakeClient;
using benchfake::FakeServer;
using benchfake::StepKind;
using fakeio::FakeConn;
using fakeio::LinkParams;
using fakeio::Sim;

// The proxy's end of a fake link: calls from the proxy go to the FakeConn in the "other" region,
// callbacks from the fake network reach the proxy's handler in the "proxy" region.
class ProxySideConn final : public core::Conn, public core::StreamHandler {
 public:
  explicit ProxySideConn(FakeConn& fake) : fake_(fake) {}

  void set_handler(core::StreamHandler* handler) override {
    handler_ = handler;
    In in(Region::other);
    fake_.set_handler(handler != nullptr ? this : nullptr);
  }
  void write(std::span<const uint8_t> bytes) override {
    In in(Region::other);
    fake_.write(bytes);
  }
  size_t pending_output() const override {
    In in(Region::other);
    return fake_.pending_output();
  }
  bool above_high_watermark() const override {
    In in(Region::other);
    return fake_.above_high_watermark();
  }
  void start_reading() override {
    In in(Region::other);
    fake_.start_reading();
  }
  void stop_reading() override {
    In in(Region::other);
    fake_.stop_reading();
  }
  void close(bool flush) override {
    In in(Region::other);
    fake_.close(flush);
  }
  bool hold_current_buffer(uint16_t& buffer_id) override {
    In in(Region::other);
    return fake_.hold_current_buffer(buffer_id);
  }
  bool write_held(std::span<const uint8_t> bytes, uint16_t buffer_id) override {
    In in(Region::other);
    return fake_.write_held(bytes, buffer_id);
  }
  void release_held(uint16_t buffer_id) override {
    In in(Region::other);
    fake_.release_held(buffer_id);
  }

  void on_stream_data(std::span<const uint8_t> data) override {
    In in(Region::proxy);
    handler_->on_stream_data(data);
  }
  void on_stream_closed(int err) override {
    In in(Region::proxy);
    handler_->on_stream_closed(err);
  }
  void on_stream_connected(int err) override {
    In in(Region::proxy);
    handler_->on_stream_connected(err);
  }
  void on_stream_writable() override {
    In in(Region::proxy);
    handler_->on_stream_writable();
  }

 private:
  FakeConn& fake_;
  core::StreamHandler* handler_ = nullptr;
};

class BenchEnv final : public proxy::SessionEnv {
 public:
  BenchEnv();
  ~BenchEnv() override;

  // A new client connects and runs `script` (one client at a time: the previous one is gone).
  void start_client(std::vector<StepKind> script, bool deprecate_eof, bool quit_at_end);
  // Runs the simulation until the client has sent `n` more commands (each after the full answer to
  // the previous one). False when it stopped first.
  bool run_statements(size_t n);
  // Runs until the client saw its connection end and the proxy destroyed its session.
  bool run_until_client_gone();
  const FakeClient& client() const { return *clients_.back(); }
  size_t servers_opened() const { return servers_.size(); }

  // proxy::SessionEnv
  uint64_t now_ms() const override { return sim_.now_ms(); }
  core::TimerWheel& timers() override { return timers_; }
  core::Stats& stats() override { return stats_; }
  const admin::Config& config() const override { return config_; }
  const proxy::BackendInfo& backend() const override { return backend_; }
  SSL_CTX* client_tls() const override { return nullptr; }
  proxy::ServerPool* pool() override { return &pool_; }
  proxy::ServerDirectory& directory() override { return directory_; }
  proxy::StatementShapes& shapes() override { return shapes_; }
  void session_finished(proxy::ClientSession* session) override { finished_.push_back(session); }
  proxy::Conn* connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                       uint32_t opener) override;
  void lookup_credential(const proxy::CredentialQuery& query, uint64_t token,
                         proxy::CredentialCallback callback) override;

 private:
  proxy::ServerPool::Limits pool_limits() const;
  void loop_iteration();
  FakeConn& new_fake(std::string name, LinkParams params);
  ProxySideConn& new_side(FakeConn& fake);

  Sim sim_;
  core::TimerWheel timers_;
  core::Stats stats_;
  admin::Config config_;
  proxy::BackendInfo backend_;
  proxy::ServerPool pool_;
  proxy::ServerDirectory directory_;
  proxy::StatementShapes shapes_;
  std::vector<std::unique_ptr<benchfake::Transcript>> transcripts_;
  std::vector<std::unique_ptr<FakeConn>> fakes_;
  std::vector<std::unique_ptr<ProxySideConn>> sides_;
  std::vector<std::unique_ptr<FakeServer>> servers_;
  std::vector<std::unique_ptr<FakeClient>> clients_;
  std::unique_ptr<proxy::ClientSession> session_;
  std::vector<proxy::ClientSession*> finished_;
  uint32_t next_thread_id_ = 5000;
  uint32_t session_id_ = 0;
  uint64_t next_pool_expiry_ms_ = 0;
};

}  // namespace odp::bench
