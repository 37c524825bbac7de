#pragma once
// Publication and epoch-based reclamation of topology snapshots.
//
// One writer (the control thread) publishes a new Snapshot with one atomic pointer swap; readers
// (the workers) load the pointer without locks, allocation or reference counts. A reader keeps no
// snapshot pointer across its quiescent points: each worker goes offline before it blocks waiting
// for completions and online after, once per loop iteration. A retired snapshot is freed when every
// reader slot is offline or came online after it was retired (QSBR, the scheme liburcu's "qsbr"
// flavour uses; written here with std::atomic so that ThreadSanitizer checks it).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "routing/topology.h"

namespace odp::routing {

class SnapshotHolder {
 public:
  // `readers`: how many reader slots (one per worker thread). Every slot starts offline.
  explicit SnapshotHolder(uint32_t readers);
  ~SnapshotHolder();  // frees the current and every retired snapshot (no reader may be online)
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // Reader side, on the thread that owns `slot`.
  void online(uint32_t slot);   // after waking up: may read snapshots from now on
  void offline(uint32_t slot);  // before blocking: holds no snapshot pointer any more
  // The current snapshot (never null once one was published; null before). Valid for the
  // caller until its next offline(slot).
  const Snapshot* current() const { return current_.load(std::memory_order_seq_cst); }  // a plain load on x86

  // Writer side (one thread at a time; publish/reclaim are serialized internally).
  // Takes ownership; the previous snapshot is retired and freed once no reader can hold it.
  // The new snapshot's generation is set to the previous one's + 1.
  void publish(std::unique_ptr<Snapshot> next);
  // Frees retired snapshots that no reader can still hold; returns how many are still pending.
  size_t reclaim();
  size_t pending() const;
  uint32_t readers() const { return slot_count_; }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> epoch{0};  // 0 = offline; else the global epoch seen when it came online
  };
  size_t reclaim_locked();

  struct Retired {
    const Snapshot* snapshot;
    uint64_t epoch;  // global epoch at retirement
  };

  std::atomic<const Snapshot*> current_{nullptr};
  std::atomic<uint64_t> global_epoch_{1};
  uint32_t slot_count_ = 0;
  std::unique_ptr<Slot[]> slots_;
  mutable std::mutex writer_mu_;
  std::vector<Retired> retired_;
};

}  // namespace odp::routing
