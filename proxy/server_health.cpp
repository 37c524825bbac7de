#include "proxy/server_health.h"

#include <algorithm>

namespace odp::proxy {

uint32_t ServerHealthTable::intern(std::string_view host_port) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(host_port);
  if (it != index_.end()) return it->second;
  if (count_ >= kSlots) return kNoSlot;
  uint32_t slot = count_++;
  names_[slot] = std::string(host_port);
  index_.emplace(names_[slot], slot);
  return slot;
}

void ServerHealthTable::failure(uint32_t slot, uint64_t now_ms) {
  if (slot >= kSlots) return;
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = slots_[slot];
  uint32_t failures = s.failures.load(std::memory_order_relaxed);
  uint64_t window_start = s.window_start_ms.load(std::memory_order_relaxed);
  if (failures == 0 || now_ms - window_start > kWindowMs) {
    window_start = now_ms;
    failures = 0;
  }
  ++failures;
  uint64_t until = now_ms + (failures >= kCongestedFailures ? kCongestedMs : kFirstFailureMs);
  s.window_start_ms.store(window_start, std::memory_order_relaxed);
  s.failures.store(failures, std::memory_order_relaxed);
  s.avoid_until_ms.store(std::max(s.avoid_until_ms.load(std::memory_order_relaxed), until), std::memory_order_relaxed);
}

bool ServerHealthTable::success(uint32_t slot) {
  if (slot >= kSlots) return false;
  Slot& s = slots_[slot];
  if (s.failures.load(std::memory_order_relaxed) == 0 && s.avoid_until_ms.load(std::memory_order_relaxed) == 0)
    return false;
  std::lock_guard<std::mutex> lock(mu_);
  bool had = s.failures.load(std::memory_order_relaxed) != 0;
  s.failures.store(0, std::memory_order_relaxed);
  s.window_start_ms.store(0, std::memory_order_relaxed);
  s.avoid_until_ms.store(0, std::memory_order_relaxed);
  return had;
}

std::pair<uint32_t, uint64_t> ServerHealthTable::record(uint32_t slot) const {
  if (slot >= kSlots) return {0, 0};
  return {slots_[slot].failures.load(std::memory_order_relaxed),
          slots_[slot].avoid_until_ms.load(std::memory_order_relaxed)};
}

uint32_t ServerHealth::slot(std::string_view host_port) const {
  auto it = cache_.find(host_port);
  if (it != cache_.end()) return it->second;
  uint32_t slot = table_.intern(host_port);
  cache_.emplace(std::string(host_port), slot);
  return slot;
}

}  // namespace odp::proxy
