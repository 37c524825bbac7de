#include "routing/snapshot_holder.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

using namespace odp::routing;

namespace {
std::unique_ptr<Snapshot> make(int servers) {
  auto s = std::make_unique<Snapshot>();
  ClusterTopology ct;
  ct.name = "c";
  for (int i = 0; i < servers; ++i) {
    ServerInfo si;
    si.host_port = "127.0.0.1:" + std::to_string(3000 + i);
    ct.servers.push_back(si);
  }
  auto e = std::make_shared<TableEntry>();
  e->table = "t";
  e->partitions.resize(3);
  ct.tables.emplace(table_key("t1", "db", "t"), e);
  s->clusters.push_back(std::move(ct));
  return s;
}
}  // namespace

TEST_CASE("snapshot holder: a retired snapshot waits for readers that may hold it") {
  SnapshotHolder h(2);
  CHECK(h.current() == nullptr);
  h.publish(make(1));
  CHECK(h.current()->generation == 1);
  h.online(0);
  const Snapshot* held = h.current();
  h.publish(make(2));
  CHECK(h.current()->generation == 2);
  CHECK(h.pending() == 1);  // reader 0 may still hold generation 1
  CHECK(held->clusters[0].servers.size() == 1);
  h.offline(0);
  CHECK(h.reclaim() == 0);
  // A reader that came online after the swap does not block reclamation.
  h.online(1);
  h.publish(make(3));
  h.online(0);
  h.publish(make(4));
  CHECK(h.pending() >= 1);
  h.offline(0);
  h.offline(1);
  CHECK(h.reclaim() == 0);
}

TEST_CASE("snapshot holder: readers race a publishing writer") {
  SnapshotHolder h(3);
  h.publish(make(1));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (uint32_t r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      uint64_t last = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        h.online(r);
        for (int i = 0; i < 50; ++i) {
          const Snapshot* s = h.current();
          // Walk it: a freed snapshot shows up under ASan / TSan.
          size_t n = s->clusters[0].servers.size();
          const TableEntry* e = s->clusters[0].find_table("t1", "db", "t");
          if (e == nullptr || e->partitions.size() != 3 || n == 0 || s->generation < last) std::abort();
          last = s->generation;
          reads.fetch_add(1, std::memory_order_relaxed);
        }
        h.offline(r);
      }
    });
  }
  // At least 5,000 publications, and on until the readers (which a loaded machine may start
  // late) have read a good number of snapshots meanwhile; bounded in time.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  uint64_t published = 0;
  while (published < 5000 ||
         (reads.load(std::memory_order_relaxed) < 3000 && std::chrono::steady_clock::now() < deadline)) {
    h.publish(make(1 + static_cast<int>(published % 5)));
    if (published % 16 == 0) h.reclaim();
    ++published;
  }
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(reads.load() >= 3000);
  CHECK(h.reclaim() == 0);
  CHECK(h.current()->generation == published + 1);
}
