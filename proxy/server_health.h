#pragma once
// What one worker has seen of each server: a server that refused or dropped connections is
// avoided for a while (congestion), so that routes prefer the other replicas, and is tried again
// afterwards. Per worker, no locks: each worker learns on its own (a dead server costs each worker
// one refused connect before it is avoided).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace odp::proxy {

class ServerHealth {
 public:
  // One failure avoids the server briefly; `kCongestedFailures` within `kWindowMs` avoid it for
  // `kCongestedMs` (obproxy's defaults, shortened for the first failure).
  static constexpr uint64_t kFirstFailureMs = 1000;
  static constexpr uint32_t kCongestedFailures = 5;
  static constexpr uint64_t kWindowMs = 120000;
  static constexpr uint64_t kCongestedMs = 20000;

  void failure(std::string_view host_port, uint64_t now_ms);
  // True when the server had failures on record (they are forgotten now).
  bool success(std::string_view host_port);
  // No allocation: asked for every candidate of every statement.
  bool avoided(std::string_view host_port, uint64_t now_ms) const;
  // The record of one server: failures in the window and until when it is avoided (0, 0: none).
  std::pair<uint32_t, uint64_t> record(std::string_view host_port) const {
    auto it = servers_.find(host_port);
    return it == servers_.end() ? std::pair<uint32_t, uint64_t>{0, 0}
                                : std::pair<uint32_t, uint64_t>{it->second.failures, it->second.avoid_until_ms};
  }

 private:
  struct Entry {
    uint32_t failures = 0;
    uint64_t window_start_ms = 0;
    uint64_t avoid_until_ms = 0;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> servers_;
};

}  // namespace odp::proxy
