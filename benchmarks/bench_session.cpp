// The real session code (ClientSession, BackendLease, Exchange, ServerPool, routing) driven
// in-process by the fake IO world of the unit tests (session_bench_env.h) with a counting allocator
// (counting_allocator.h): heap allocations and nanoseconds per statement after warm-up, for a text
// SELECT (with and without CLIENT_DEPRECATE_EOF) and a prepared statement's execute, and per whole
// client connection (login, SELECT, quit) with the pool warm. Run by scripts/bench (part "alloc").
//
// What is counted: every operator new (all forms) and malloc/calloc/realloc made while the proxy's
// code runs: the StreamHandler callbacks the fake network delivers to the proxy's connections
// (data, closed, connected, writable), the credential callback, the session's construction and
// start, and the worker loop's per-event work (timers, reaping sessions, the pool's wake-ups and
// expiry, as ProxyWorker's idle hook). A call from proxy code into the fake network (Conn::write,
// close, start_reading, held buffers, and SessionEnv::connect and lookup_credential) is not
// counted: what FakeConn allocates to carry the bytes is not the proxy's, and io_uring's TcpStream,
// which a real worker uses in its place, is not exercised here. The fake client, server and network
// are counted apart ("fake_allocs"). So the count is exactly the allocations of proxy code on the
// statement path above core::Conn. The FakeClient checks every byte it got against what the
// FakeServer sent; a difference fails the case.
//
// Time: Google Benchmark's Time column is the whole simulated round trip including the fakes; the
// counter proxy_ns is the time spent in the proxy region, measured with steady_clock at every
// region switch, less the clock's own cost per stretch (calibrated at start).
//
//   build/bench_session                         Google Benchmark output with the counters
//   build/bench_session --trace text|prepared|churn [N]
//                                               prints the call stack of every proxy allocation
//                                               in N (default 1) statements, or connect + SELECT +
//                                               quit cycles, after warm-up (pipe through c++filt);
//                                               BENCH_SESSION_WARMUP=0 shows the login's
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/log.h"
#include "benchmarks/counting_allocator.h"
#include "benchmarks/session_bench_env.h"

namespace {

using namespace odp;
using namespace odp::bench;

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

// The counters, per iteration: the proxy's allocations, frees and bytes, its time, the fakes'
// allocations (for scale), the server connections the fakes ever accepted, and pool takes (1 per
// statement when each takes its server connection from the pool, as a real worker's do).
void report(benchmark::State& state, const Window& w, BenchEnv& env, int64_t reuses_before) {
  auto per = [](double v) { return benchmark::Counter(v, benchmark::Counter::kAvgIterations); };
  state.counters["allocs"] = per(static_cast<double>(w.proxy.allocs));
  state.counters["frees"] = per(static_cast<double>(w.proxy.frees));
  state.counters["alloc_bytes"] = per(static_cast<double>(w.proxy.bytes));
  state.counters["proxy_ns"] = per(w.proxy_ns_net());
  state.counters["fake_allocs"] = per(static_cast<double>(w.other.allocs));
  state.counters["server_conns"] = static_cast<double>(env.servers_opened());
  state.counters["pool_takes"] = per(static_cast<double>(env.stats().pool_reuses_total.load() - reuses_before));
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
  report(state, w, env, reuses_before);
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
  bool failed = false;
  for (auto _ : state) {
    env.start_client({StepKind::select}, false, true);
    if (!env.run_until_client_gone()) {
      state.SkipWithError("a session stalled");
      failed = true;
      break;
    }
    std::string bad = env.client().logged_in() && env.client().steps_done() == 1
                          ? env.client().check_received(false)
                          : "it did not log in and run its select";
    if (!bad.empty()) {
      state.SkipWithError(("a client saw something wrong: " + bad).c_str());
      failed = true;
      break;
    }
  }
  Window w = end_window(start);
  if (failed) return;
  report(state, w, env, reuses_before);
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
  set_tracing(true);
  bool ok = true;
  for (size_t i = 0; i < cycles && ok; ++i) {
    env.start_client({StepKind::select}, false, true);
    ok = env.run_until_client_gone();
  }
  set_tracing(false);
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
  set_tracing(true);
  bool ok = env.run_statements(statements);
  set_tracing(false);
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
  double clock_ns = calibrate_clock();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("proxy_ns: clock cost per proxy stretch (subtracted)", std::to_string(clock_ns) + " ns");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
