#pragma once
// Is a server alive? Statements whose server went silent ask (ClientSession's silence probe);
// one probe per server runs at a time, and every session that asks meanwhile shares its answer,
// so a hung server with a thousand statements on it costs one connect, not a thousand. The probe
// is probe_backend's: TCP connect and the server's greeting within a timeout (a stopped process
// accepts TCP but never greets). It blocks, so it runs on the job pool. A live answer also stands
// for kFreshMs, so long statements on a live server do not probe it once each. A server that does
// not answer is noted as failed in the shared health table: every worker avoids it at once.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/job_pool.h"
#include "proxy/server_health.h"

namespace odp::proxy {

class ServerProber {
 public:
  static constexpr uint64_t kFreshMs = 1000;
  // Runs on the job thread that probed (or on the caller's, for a fresh answer): post onwards.
  using Done = std::function<void(bool alive)>;
  // `probe`: how a server is asked (tests replace probe_backend).
  using Probe = std::function<bool(const std::string& host_port, uint32_t timeout_ms)>;

  ServerProber(ServerHealthTable& health, Probe probe);
  // Thread-safe: joins the probe of `host_port` under way, or starts one on `jobs`.
  void probe(const std::string& host_port, uint32_t timeout_ms, JobPool& jobs, Done done);
  // Probes started (tests, logs).
  uint64_t probes_started() const {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

 private:
  void finish(const std::string& host_port, bool alive);

  struct Entry {
    std::vector<Done> waiters;  // non-empty: a probe is under way
    uint64_t alive_at_ms = 0;   // when it last answered
  };
  ServerHealthTable& health_;
  Probe probe_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> servers_;
  uint64_t started_ = 0;
};

// The probe the proxy uses: probe_backend (blocking) and its greeting.
bool probe_server_greeting(const std::string& host_port, uint32_t timeout_ms);

}  // namespace odp::proxy
