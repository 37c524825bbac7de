#include "proxy/server_prober.h"

#include <utility>

#include "base/log.h"
#include "core/worker.h"
#include "proxy/backend_probe.h"

namespace odp::proxy {

ServerProber::ServerProber(ServerHealthTable& health, Probe probe) : health_(health), probe_(std::move(probe)) {}

void ServerProber::probe(const std::string& host_port, uint32_t timeout_ms, JobPool& jobs, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = servers_[host_port];
    if (e.waiters.empty() && e.alive_at_ms != 0 && core::Worker::monotonic_ms() < e.alive_at_ms + kFreshMs) {
      // Answered a moment ago: that answer stands (outside the lock, below).
    } else {
      e.waiters.push_back(std::move(done));
      if (e.waiters.size() > 1) return;  // a probe is under way: its answer is ours too
      ++started_;
      jobs.submit([this, host_port, timeout_ms] { finish(host_port, probe_(host_port, timeout_ms)); });
      return;
    }
  }
  done(true);
}

void ServerProber::finish(const std::string& host_port, bool alive) {
  std::vector<Done> waiters;
  uint64_t now = core::Worker::monotonic_ms();
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = servers_[host_port];
    waiters.swap(e.waiters);
    e.alive_at_ms = alive ? now : 0;
  }
  if (!alive) {
    LOG_WARN("server %s did not answer a liveness probe: taken for hung", host_port.c_str());
    health_.failure(health_.intern(host_port), now);
  }
  for (auto& w : waiters) w(alive);
}

bool probe_server_greeting(const std::string& host_port, uint32_t timeout_ms) {
  auto info = probe_backend(host_port, static_cast<int>(timeout_ms));
  if (info) return true;
  // A server that answered with an ERR (too many connections, host blocked) is alive.
  bool answered = info.error().find("refused the connection") != std::string::npos ||
                  info.error().find("bad handshake") != std::string::npos;
  LOG_INFO("liveness probe of %s: %s", host_port.c_str(), info.error().c_str());
  return answered;
}

}  // namespace odp::proxy
