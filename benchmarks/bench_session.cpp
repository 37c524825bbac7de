// The real session code (ClientSession, BackendLease, Exchange, ServerPool, routing) driven
// in-process by the fake IO world of the unit tests (tests/unit/proxy/fake_*: FakeConn links, a
// FakeClient that runs a script and checks every byte it gets, a FakeServer that answers), with a
// counting allocator: heap allocations and nanoseconds per statement, after warm-up, for a text
// SELECT and for a prepared statement's execute. Run by scripts/bench (section "alloc").
//
// What is counted. Every call of operator new (all forms) and of malloc/calloc/realloc in this
// binary goes through the counters below; a thread-local "region" says whose code is running:
//   proxy  the proxy's code: the StreamHandler callbacks the fake network delivers to the proxy's
//          connections, the credential callback, and what the worker loop does after every event
//          (timers, reaping sessions, the pool's wake-ups and expiry, as ProxyWorker's idle hook);
//   other  the fake network (FakeConn, the event queue), the fake client and the fake server, and
//          this harness.
// A call from proxy code into the fake network (Conn::write, close, start_reading, ... and the
// SessionEnv's connect and lookup_credential) switches to "other" for its duration and back:
// what FakeConn allocates to carry the bytes is not the proxy's, and io_uring's TcpStream, which
// the real worker uses in its place, is not exercised here (core/ has its own tests and the
// e2e benchmarks). The statement path measured is therefore: ClientSession and everything under
// it down to core::Conn, plus the worker loop's per-event work.
//
// Not FakeEnv itself: it is final, runs a scenario to quiescence with no way to step it, and has no
// pool, while the real worker has one (a point select takes a pooled connection and gives it back).
// BenchEnv below is a SessionEnv like FakeEnv built from the same parts, with a real ServerPool
// sized as ProxyWorker sizes it from the default config, and its own TimerWheel advanced inside
// the proxy region (the Sim's wheel stays empty, so no proxy timer fires outside the counters).
//
// Time: "ns/stmt" (Google Benchmark's Time column) is the whole simulated round trip including the
// fakes; the counter proxy_ns is the time spent in the proxy region only, measured with
// steady_clock at every region switch, minus the clock's own cost per stretch (calibrated at start).
//
//   build/bench_session                         Google Benchmark output with the counters
//   build/bench_session --trace text|prepared|churn [N]
//                                               prints the call stack of every proxy allocation
//                                               in N (default 1) statements, or connect + SELECT +
//                                               quit cycles, after warm-up (pipe through c++filt)
#include <execinfo.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/log.h"
#include "protocol/auth.h"
#include "proxy/client_session.h"
#include "proxy/client_statements.h"
#include "proxy/server_pool.h"
#include "proxy/session_env.h"
#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_mysql.h"

// ------------------------------------------------------------------------------------------------
// The counting allocator.

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void __libc_free(void* p);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {

enum class Region : uint8_t { other, proxy };

struct Counts {
  uint64_t allocs = 0;  // operator new + malloc + calloc + realloc calls
  uint64_t frees = 0;   // operator delete + free of non-null pointers
  uint64_t bytes = 0;   // bytes asked for
};

// Plain thread-locals of this executable: reading them never allocates.
thread_local Region t_region = Region::other;
thread_local Counts t_counts[2];
thread_local bool t_tracing = false;
thread_local bool t_in_trace = false;
// Time spent in the proxy region (only while t_timing).
thread_local bool t_timing = false;
thread_local std::chrono::steady_clock::time_point t_since;
thread_local uint64_t t_proxy_ns = 0;
thread_local uint64_t t_switches = 0;  // entries into the proxy region

void trace_alloc(size_t size) {
  t_in_trace = true;
  char line[64];
  int n = std::snprintf(line, sizeof line, "--- proxy allocation of %zu bytes\n", size);
  ssize_t w = ::write(2, line, static_cast<size_t>(n));
  (void)w;
  void* frames[40];
  int depth = backtrace(frames, 40);
  backtrace_symbols_fd(frames + 2, depth - 2, 2);
  t_in_trace = false;
}

inline void note_alloc(size_t size) {
  Counts& c = t_counts[static_cast<int>(t_region)];
  ++c.allocs;
  c.bytes += size;
  if (t_tracing && t_region == Region::proxy && !t_in_trace) trace_alloc(size);
}

inline void note_free(void* p) {
  if (p != nullptr) ++t_counts[static_cast<int>(t_region)].frees;
}

void* new_or_throw(size_t size) {
  note_alloc(size);
  void* p = __libc_malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* aligned_new_or_throw(size_t size, std::align_val_t al) {
  note_alloc(size);
  void* p = __libc_memalign(static_cast<size_t>(al), size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

extern "C" void* malloc(size_t size) noexcept {
  note_alloc(size);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t n, size_t size) noexcept {
  note_alloc(n * size);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, size_t size) noexcept {
  note_alloc(size);
  return __libc_realloc(p, size);
}
extern "C" void free(void* p) noexcept {
  note_free(p);
  __libc_free(p);
}

void* operator new(size_t size) {
  return new_or_throw(size);
}
void* operator new[](size_t size) {
  return new_or_throw(size);
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  note_alloc(size);
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  note_alloc(size);
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new(size_t size, std::align_val_t al) {
  return aligned_new_or_throw(size, al);
}
void* operator new[](size_t size, std::align_val_t al) {
  return aligned_new_or_throw(size, al);
}
void operator delete(void* p) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete(void* p, size_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p, size_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}

namespace {

// The cost of one steady_clock::now(), subtracted from proxy_ns once per stretch in the proxy region
// (each stretch is timed between two now() calls, and carries about one call's cost).
double g_clock_ns = 0;

void switch_region(Region to) {
  if (to == t_region) return;
  if (t_timing) {
    auto now = std::chrono::steady_clock::now();
    if (t_region == Region::proxy) {
      t_proxy_ns += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - t_since).count());
    }
    t_since = now;
    if (to == Region::proxy) ++t_switches;
  }
  t_region = to;
}

// Runs the rest of the scope in one region, then returns to the one it came from.
class In {
 public:
  explicit In(Region r) : saved_(t_region) { switch_region(r); }
  ~In() { switch_region(saved_); }
  In(const In&) = delete;
  In& operator=(const In&) = delete;

 private:
  Region saved_;
};

void calibrate_clock() {
  constexpr int kN = 200000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  auto t1 = std::chrono::steady_clock::now();
  g_clock_ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) / kN;
}

using namespace odp;
using fakeio::FakeClient;
using fakeio::FakeConn;
using fakeio::FakeServer;
using fakeio::LinkParams;
using fakeio::Sim;
using fakeio::StepKind;

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

LinkParams fast_link(size_t high_watermark) {
  LinkParams p;
  p.max_chunk_bytes = 65536;
  p.max_delay_ms = 0;
  p.window_bytes = 1u << 20;
  p.high_watermark_bytes = high_watermark;
  return p;
}

// One client session of the real proxy code between a FakeClient and FakeServers, with the
// worker's pool; the same wiring as FakeEnv (fake_world.cpp) and ProxyWorker.
class BenchEnv final : public proxy::SessionEnv {
 public:
  BenchEnv() : sim_(42), timers_(0), pool_(pool_limits()) {
    admin::ClusterConfig cluster;
    cluster.name = "c1";
    cluster.server_mode = admin::ServerMode::mysql;
    cluster.rootservice_list = {"10.0.0.9:2881"};
    config_.clusters.push_back(cluster);
    config_.default_cluster = "c1";
    pool_.set_limits(pool_limits());
    sim_.after_event = [this] { loop_iteration(); };
  }

  ~BenchEnv() override {
    // The pool's connections use the fake conns below: close them while those still exist.
    In in(Region::proxy);
    session_.reset();
    pool_.close_all();
    pool_.run_wakeups(sim_.now_ms());
  }

  // A new client connects and runs `script` (one client at a time: the previous one is gone).
  void start_client(std::vector<StepKind> script, bool deprecate_eof, bool quit_at_end) {
    fakeio::ClientPlan plan;
    plan.script = std::move(script);
    plan.rows.assign(plan.script.size(), 1);
    plan.deprecate_eof = deprecate_eof;
    plan.quit_at_end = quit_at_end;
    // The fake servers write what they answer into the transcript of the client they serve; pooled
    // connections serve each client in turn, so all of them record for the new one from now on.
    transcripts_.push_back(std::make_unique<fakeio::Transcript>());
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

  // Runs the simulation until the client has sent `n` more commands (each after the full answer to
  // the previous one). False when it stopped first.
  bool run_statements(size_t n) {
    size_t target = clients_.back()->steps_done() + n;
    while (clients_.back()->steps_done() < target) {
      if (!sim_.step()) return false;
    }
    return true;
  }
  // Runs until the client saw its connection end and the proxy destroyed its session.
  bool run_until_client_gone() {
    while (clients_.back()->state() != FakeClient::State::closed || session_ != nullptr) {
      if (!sim_.step()) return false;
    }
    return true;
  }
  const FakeClient& client() const { return *clients_.back(); }
  const proxy::ClientSession* session() const { return session_.get(); }
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

  proxy::Conn* connect(const std::string& /*host_port*/, uint32_t /*timeout_ms*/, core::StreamHandler* handler,
                       int& err, uint32_t /*opener*/) override {
    In in(Region::other);
    FakeConn& proxy_end = new_fake("proxy-server", fast_link(config_.limits.max_output_buffer_bytes));
    FakeConn& server_end = new_fake("server", fast_link(1u << 30));
    FakeConn::link(proxy_end, server_end, false);
    ProxySideConn& side = new_side(proxy_end);
    side.set_handler(handler);
    uint32_t thread_id = next_thread_id_++;
    sim_.at(0, [this, &proxy_end, &server_end, &side, thread_id] {
      if (proxy_end.closed()) return;
      servers_.push_back(std::make_unique<FakeServer>(sim_, server_end, fakeio::ServerPlan{}, thread_id,
                                                      [this](uint32_t) { return transcripts_.back().get(); }));
      servers_.back()->set_transcript(transcripts_.back().get());
      servers_.back()->start();
      proxy_end.set_connected();
      side.on_stream_connected(0);
    });
    err = 0;
    return &side;
  }

  void lookup_credential(const std::string& /*cluster*/, const std::string& user, uint64_t token,
                         proxy::CredentialCallback callback) override {
    In in(Region::other);
    sim_.at(0, [this, user, token, callback = std::move(callback)] {
      if (session_ == nullptr || session_->token() != token || session_->finished()) return;
      proxy::UserCredential cred;
      if (user == fakeio::kUser) {
        cred.exists = true;
        cred.stage2 = protocol::native_password_stage2(fakeio::kPassword);
      }
      In proxy_in(Region::proxy);
      callback(cred);
    });
  }

 private:
  // As ProxyWorker::pool_limits with the default config: "auto" connections per server.
  proxy::ServerPool::Limits pool_limits() const {
    proxy::ServerPool::Limits l;
    uint32_t cpus = std::max(1u, std::thread::hardware_concurrency());
    l.max_per_server = config_.pool.max_server_connections != 0 ? config_.pool.max_server_connections
                                                                : proxy::auto_server_connection_cap(cpus, 1);
    l.max_idle_per_key = config_.pool.max_idle_per_server;
    l.max_wait_ms = config_.pool.max_wait_ms;
    return l;
  }

  // What ProxyWorker does after every batch of completions (its idle hook) and its timer wheel.
  void loop_iteration() {
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

  FakeConn& new_fake(std::string name, LinkParams params) {
    fakes_.push_back(std::make_unique<FakeConn>(sim_, std::move(name), params));
    return *fakes_.back();
  }
  ProxySideConn& new_side(FakeConn& fake) {
    sides_.push_back(std::make_unique<ProxySideConn>(fake));
    return *sides_.back();
  }

  Sim sim_;
  core::TimerWheel timers_;
  core::Stats stats_;
  admin::Config config_;
  proxy::BackendInfo backend_;
  proxy::ServerPool pool_;
  proxy::ServerDirectory directory_;
  proxy::StatementShapes shapes_;
  std::vector<std::unique_ptr<fakeio::Transcript>> transcripts_;
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

// Statements run before counting (BENCH_SESSION_WARMUP overrides it: 0 with --trace shows the login's).
size_t warmup_statements() {
  const char* v = std::getenv("BENCH_SESSION_WARMUP");
  return v != nullptr && *v != '\0' ? std::strtoul(v, nullptr, 10) : 2000;
}

enum class Kind { text, prepared };

std::vector<StepKind> script_for(Kind kind, size_t statements) {
  std::vector<StepKind> s;
  if (kind == Kind::prepared) s.push_back(StepKind::prepare);
  s.insert(s.end(), statements, kind == Kind::text ? StepKind::select : StepKind::execute);
  return s;
}

struct Window {
  Counts proxy, other;
  uint64_t proxy_ns = 0, switches = 0;
};

Window begin_window() {
  Window w{t_counts[1], t_counts[0], t_proxy_ns, t_switches};
  t_timing = true;
  t_since = std::chrono::steady_clock::now();
  return w;
}

Window end_window(const Window& start) {
  t_timing = false;
  Window w;
  w.proxy = {t_counts[1].allocs - start.proxy.allocs, t_counts[1].frees - start.proxy.frees,
             t_counts[1].bytes - start.proxy.bytes};
  w.other = {t_counts[0].allocs - start.other.allocs, t_counts[0].frees - start.other.frees,
             t_counts[0].bytes - start.other.bytes};
  w.proxy_ns = t_proxy_ns - start.proxy_ns;
  w.switches = t_switches - start.switches;
  return w;
}

void run_session_benchmark(benchmark::State& state, Kind kind, bool deprecate_eof) {
  log::set_level(log::Level::off);
  // Statements in the script: warm-up, the iterations Google Benchmark asks for, and one more so
  // the last measured answer is followed by a command.
  size_t statements = warmup_statements() + static_cast<size_t>(state.max_iterations) + 2;
  BenchEnv env;
  env.start_client(script_for(kind, statements), deprecate_eof, true);
  if (!env.run_statements(warmup_statements())) {
    state.SkipWithError("the session stalled during warm-up");
    return;
  }
  int64_t reuses_before = env.stats().pool_reuses_total.load();
  Window start = begin_window();
  for (auto _ : state) {
    if (!env.run_statements(1)) {
      state.SkipWithError("the session stalled");
      break;
    }
  }
  Window w = end_window(start);
  if (std::string bad = env.client().check_received(false); !bad.empty()) {
    state.SkipWithError(("the client got something else than the server sent: " + bad).c_str());
    return;
  }
  auto per = [&](double v) { return benchmark::Counter(v, benchmark::Counter::kAvgIterations); };
  state.counters["allocs"] = per(static_cast<double>(w.proxy.allocs));
  state.counters["frees"] = per(static_cast<double>(w.proxy.frees));
  state.counters["alloc_bytes"] = per(static_cast<double>(w.proxy.bytes));
  double proxy_ns = static_cast<double>(w.proxy_ns) - g_clock_ns * static_cast<double>(w.switches);
  state.counters["proxy_ns"] = per(proxy_ns > 0 ? proxy_ns : 0);
  state.counters["fake_allocs"] = per(static_cast<double>(w.other.allocs));
  state.counters["server_conns"] = static_cast<double>(env.servers_opened());
  // 1 when every statement took its server connection from the pool (as a real worker's do).
  state.counters["pool_takes"] = per(static_cast<double>(env.stats().pool_reuses_total.load() - reuses_before));
}

// Connection churn (issue 12) inside the proxy: a client connects, logs in, runs one text SELECT,
// quits, and its session is destroyed; the next one comes. The pool stays warm, as in a real worker.
constexpr size_t kChurnWarmupSessions = 200;

void BM_SessionConnectSelectQuit(benchmark::State& state) {
  log::set_level(log::Level::off);
  BenchEnv env;
  for (size_t i = 0; i < kChurnWarmupSessions; ++i) {
    env.start_client({StepKind::select}, false, true);
    if (!env.run_until_client_gone()) {
      state.SkipWithError("a session stalled during warm-up");
      return;
    }
  }
  int64_t reuses_before = env.stats().pool_reuses_total.load();
  Window start = begin_window();
  std::string bad;
  for (auto _ : state) {
    env.start_client({StepKind::select}, false, true);
    if (!env.run_until_client_gone()) {
      state.SkipWithError("a session stalled");
      break;
    }
    if (!env.client().logged_in() || env.client().steps_done() != 1) bad = "a client did not log in and run its select";
    if (bad.empty()) bad = env.client().check_received(false);
    if (!bad.empty()) break;
  }
  Window w = end_window(start);
  if (!bad.empty()) {
    state.SkipWithError(("a client saw something wrong: " + bad).c_str());
    return;
  }
  auto per = [&](double v) { return benchmark::Counter(v, benchmark::Counter::kAvgIterations); };
  state.counters["allocs"] = per(static_cast<double>(w.proxy.allocs));
  state.counters["frees"] = per(static_cast<double>(w.proxy.frees));
  state.counters["alloc_bytes"] = per(static_cast<double>(w.proxy.bytes));
  double proxy_ns = static_cast<double>(w.proxy_ns) - g_clock_ns * static_cast<double>(w.switches);
  state.counters["proxy_ns"] = per(proxy_ns > 0 ? proxy_ns : 0);
  state.counters["fake_allocs"] = per(static_cast<double>(w.other.allocs));
  state.counters["server_conns"] = static_cast<double>(env.servers_opened());
  state.counters["pool_takes"] = per(static_cast<double>(env.stats().pool_reuses_total.load() - reuses_before));
}

void BM_SessionTextSelect(benchmark::State& state) {
  run_session_benchmark(state, Kind::text, false);
}
void BM_SessionPreparedExecute(benchmark::State& state) {
  run_session_benchmark(state, Kind::prepared, false);
}
void BM_SessionTextSelectDeprecateEof(benchmark::State& state) {
  run_session_benchmark(state, Kind::text, true);
}
BENCHMARK(BM_SessionTextSelect);
BENCHMARK(BM_SessionPreparedExecute);
BENCHMARK(BM_SessionTextSelectDeprecateEof);
BENCHMARK(BM_SessionConnectSelectQuit);

// Connection churn: `cycles` connect + SELECT + quit after the churn benchmark's warm-up.
int trace_churn(size_t cycles) {
  BenchEnv env;
  for (size_t i = 0; i < kChurnWarmupSessions; ++i) {
    env.start_client({StepKind::select}, false, true);
    if (!env.run_until_client_gone()) return 1;
  }
  Window start = begin_window();
  t_tracing = true;
  bool ok = true;
  for (size_t i = 0; i < cycles && ok; ++i) {
    env.start_client({StepKind::select}, false, true);
    ok = env.run_until_client_gone();
  }
  t_tracing = false;
  Window w = end_window(start);
  std::fprintf(stderr, "churn: %zu cycles after %zu of warm-up: %llu proxy allocations (%llu bytes), %llu frees%s\n",
               cycles, kChurnWarmupSessions, static_cast<unsigned long long>(w.proxy.allocs),
               static_cast<unsigned long long>(w.proxy.bytes), static_cast<unsigned long long>(w.proxy.frees),
               ok ? "" : " (a session stalled)");
  return ok ? 0 : 1;
}

int trace(const char* what, size_t statements) {
  Kind kind = std::strcmp(what, "prepared") == 0 ? Kind::prepared : Kind::text;
  log::set_level(log::Level::off);
  // backtrace() loads its unwinder on first use: do that before anything is traced.
  void* frames[4];
  backtrace(frames, 4);
  if (std::strcmp(what, "churn") == 0) return trace_churn(statements);
  Window setup = begin_window();
  BenchEnv env;
  env.start_client(script_for(kind, warmup_statements() + statements + 2), false, true);
  if (!env.run_statements(warmup_statements())) {
    std::fprintf(stderr, "the session stalled during warm-up\n");
    return 1;
  }
  Window warm = end_window(setup);
  // Shows the counter sees the proxy at all: the login and the first statements allocate.
  std::fprintf(stderr, "%s: login and %zu statements of warm-up: %llu proxy allocations, %llu fake ones\n", what,
               warmup_statements(), static_cast<unsigned long long>(warm.proxy.allocs),
               static_cast<unsigned long long>(warm.other.allocs));
  Window start = begin_window();
  t_tracing = true;
  bool ok = env.run_statements(statements);
  t_tracing = false;
  Window w = end_window(start);
  std::fprintf(stderr, "%s: %zu statements after %zu of warm-up: %llu proxy allocations (%llu bytes), %llu frees%s\n",
               what, statements, warmup_statements(), static_cast<unsigned long long>(w.proxy.allocs),
               static_cast<unsigned long long>(w.proxy.bytes), static_cast<unsigned long long>(w.proxy.frees),
               ok ? "" : " (the session stalled)");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--trace") == 0) {
    return trace(argv[2], argc >= 4 ? std::strtoul(argv[3], nullptr, 10) : 1);
  }
  calibrate_clock();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("proxy_ns: clock cost per proxy stretch (subtracted)",
                              std::to_string(g_clock_ns) + " ns");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
