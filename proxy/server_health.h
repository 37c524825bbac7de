#pragma once
// What odp has seen of each server: a server that refused or dropped connections, or stopped
// answering, is avoided for a while (congestion), so that routes prefer the other replicas, and is
// tried again afterwards.
//
// One table for all workers (ServerHealthTable): a failure one worker notes makes every worker
// avoid the server at once, where a per-worker record let each worker pay its own refused connect
// (or a whole connect timeout for a hung server) before it learned. Reads are the hot path (every
// candidate of every statement): a worker finds a server's slot in its own cache (ServerHealth)
// and reads two relaxed atomics, no lock. Slots are interned once per server under a mutex, and
// failures (rare: an event already) are written under it too, so that the window arithmetic is
// one consistent step.
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace odp::proxy {

class ServerHealthTable {
 public:
  // One failure avoids the server briefly; `kCongestedFailures` within `kWindowMs` avoid it for
  // `kCongestedMs` (obproxy's defaults, shortened for the first failure).
  static constexpr uint64_t kFirstFailureMs = 1000;
  static constexpr uint32_t kCongestedFailures = 5;
  static constexpr uint64_t kWindowMs = 120000;
  static constexpr uint64_t kCongestedMs = 20000;
  // Servers beyond this many are never avoided (a cluster has far fewer).
  static constexpr uint32_t kSlots = 1024;
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // The slot of a server, made on first sight (mutex); kNoSlot once the table is full.
  uint32_t intern(std::string_view host_port);

  void failure(uint32_t slot, uint64_t now_ms);
  // True when the server had failures on record (they are forgotten now). No lock when it had
  // none: called for every connection that logs in.
  bool success(uint32_t slot);
  // Lock-free: two relaxed loads.
  bool avoided(uint32_t slot, uint64_t now_ms) const {
    return slot < kSlots && now_ms < slots_[slot].avoid_until_ms.load(std::memory_order_relaxed);
  }
  // Failures in the window and until when it is avoided (0, 0: none).
  std::pair<uint32_t, uint64_t> record(uint32_t slot) const;
  // Every server with failures on record (`show proxycongestion`).
  template <typename Fn>
  void for_each_congested(Fn&& fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t i = 0; i < count_; ++i) {
      uint32_t failures = slots_[i].failures.load(std::memory_order_relaxed);
      if (failures > 0) fn(names_[i], failures, slots_[i].avoid_until_ms.load(std::memory_order_relaxed));
    }
  }

 private:
  struct Slot {
    std::atomic<uint32_t> failures{0};
    std::atomic<uint64_t> window_start_ms{0};
    std::atomic<uint64_t> avoid_until_ms{0};
  };
  std::array<Slot, kSlots> slots_{};
  mutable std::mutex mu_;  // interning, writes of failures, the listing
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> index_;
  std::array<std::string, kSlots> names_;
  uint32_t count_ = 0;
};

// A worker's view of the shared table: its own cache of slot numbers by name, so that the hot
// path takes no lock (the first look at a server interns it once).
class ServerHealth {
 public:
  explicit ServerHealth(ServerHealthTable& table) : table_(table) {}

  void failure(std::string_view host_port, uint64_t now_ms) { table_.failure(slot(host_port), now_ms); }
  bool success(std::string_view host_port) { return table_.success(slot(host_port)); }
  bool avoided(std::string_view host_port, uint64_t now_ms) const { return table_.avoided(slot(host_port), now_ms); }
  std::pair<uint32_t, uint64_t> record(std::string_view host_port) const { return table_.record(slot(host_port)); }
  ServerHealthTable& table() { return table_; }

 private:
  uint32_t slot(std::string_view host_port) const;

  ServerHealthTable& table_;
  mutable std::unordered_map<std::string, uint32_t, ServerHealthTable::Hash, std::equal_to<>> cache_;
};

}  // namespace odp::proxy
