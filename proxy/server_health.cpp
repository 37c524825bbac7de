#include "proxy/server_health.h"

#include <algorithm>

namespace odp::proxy {

void ServerHealth::failure(std::string_view host_port, uint64_t now_ms) {
  auto found = servers_.find(host_port);
  if (found == servers_.end()) found = servers_.emplace(std::string(host_port), Entry{}).first;
  Entry& e = found->second;
  if (now_ms - e.window_start_ms > kWindowMs || e.failures == 0) {
    e.window_start_ms = now_ms;
    e.failures = 0;
  }
  ++e.failures;
  uint64_t until = now_ms + (e.failures >= kCongestedFailures ? kCongestedMs : kFirstFailureMs);
  e.avoid_until_ms = std::max(e.avoid_until_ms, until);
}

bool ServerHealth::success(std::string_view host_port) {
  auto it = servers_.find(host_port);
  if (it == servers_.end()) return false;
  servers_.erase(it);
  return true;
}

bool ServerHealth::avoided(std::string_view host_port, uint64_t now_ms) const {
  if (servers_.empty()) return false;
  auto it = servers_.find(host_port);
  return it != servers_.end() && now_ms < it->second.avoid_until_ms;
}

}  // namespace odp::proxy
