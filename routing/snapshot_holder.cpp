#include "routing/snapshot_holder.h"

namespace odp::routing {

SnapshotHolder::SnapshotHolder(uint32_t readers) : slot_count_(readers), slots_(new Slot[readers]) {}

SnapshotHolder::~SnapshotHolder() {
  std::lock_guard<std::mutex> lock(writer_mu_);
  for (const Retired& r : retired_) delete r.snapshot;
  retired_.clear();
  delete current_.load(std::memory_order_acquire);
}

void SnapshotHolder::online(uint32_t slot) {
  // A seq_cst store here and seq_cst loads of current_ (current()): the writer's "swap, then read
  // the slots" and our "announce, then read current_" are store->load pairs on different atomics,
  // which only sequential consistency keeps from both missing each other.
  slots_[slot].epoch.store(global_epoch_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
}

void SnapshotHolder::offline(uint32_t slot) {
  slots_[slot].epoch.store(0, std::memory_order_release);
}

void SnapshotHolder::publish(std::unique_ptr<Snapshot> next) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  const Snapshot* prev = current_.load(std::memory_order_acquire);
  next->generation = prev != nullptr ? prev->generation + 1 : 1;
  current_.store(next.release(), std::memory_order_seq_cst);
  if (prev != nullptr) {
    uint64_t e = global_epoch_.fetch_add(1, std::memory_order_seq_cst);
    retired_.push_back({prev, e});
  }
  reclaim_locked();
}

size_t SnapshotHolder::reclaim() {
  std::lock_guard<std::mutex> lock(writer_mu_);
  return reclaim_locked();
}

size_t SnapshotHolder::reclaim_locked() {
  if (retired_.empty()) return 0;
  // The oldest epoch any online reader may still be in.
  uint64_t oldest = UINT64_MAX;
  for (uint32_t i = 0; i < slot_count_; ++i) {
    uint64_t e = slots_[i].epoch.load(std::memory_order_seq_cst);
    if (e != 0 && e < oldest) oldest = e;
  }
  // A reader that came online at epoch > E read current_ after the swap that retired a snapshot
  // at E, so it cannot hold it.
  size_t kept = 0;
  for (const Retired& r : retired_) {
    if (r.epoch < oldest) {
      delete r.snapshot;
    } else {
      retired_[kept++] = r;
    }
  }
  retired_.resize(kept);
  return kept;
}

size_t SnapshotHolder::pending() const {
  std::lock_guard<std::mutex> lock(writer_mu_);
  return retired_.size();
}

}  // namespace odp::routing
