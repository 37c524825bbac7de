#pragma once
// The location tables odp routes by, as the fake cluster's metadata server would publish them:
// routing::Snapshot values built from the cluster (servers in zones z1..zN of tenant "sys", the
// table test.kv with its partitions' leaders as they are when the snapshot is built), published
// with generation + 1, a delay after odp asks (request_table, mark_table_dirty) or after a leader
// moved (the control thread's periodic refresh). Between publications odp's view goes stale,
// which is the point: the old leader answers 4038 until odp learns better.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "routing/topology.h"
#include "tests/unit/proxy/fake_cluster.h"

namespace odp::fakeio {

inline constexpr const char* kClusterName = "c1";
inline constexpr const char* kTenant = "sys";

struct TopologyPlan {
  bool enabled = true;          // false: no snapshot at all (odp uses the rootservice_list)
  bool table_known = true;      // test.kv is in the first snapshot (else odp must ask for it)
  uint64_t max_delay_ms = 100;  // from a request to its publication
  std::string primary_zone = "z1";
};

class FakeTopology {
 public:
  FakeTopology(Sim& sim, FakeCluster& cluster, TopologyPlan plan);

  // The current snapshot (valid until the next publication event; odp never keeps it longer).
  const routing::Snapshot* snapshot() const { return current_; }
  void request_table(const std::string& database, const std::string& table);
  void mark_dirty(const std::string& database, const std::string& table);
  // The metadata refresh after a change in the cluster.
  void refresh_later();
  uint64_t publications() const { return snapshots_.size(); }

 private:
  void schedule(uint64_t delay_ms);
  void publish();

  Sim& sim_;
  FakeCluster& cluster_;
  TopologyPlan plan_;
  bool table_known_ = false;
  std::set<std::pair<std::string, std::string>> missing_;  // looked up and not found
  std::set<std::pair<std::string, std::string>> asked_;    // asked, not yet published
  bool publish_pending_ = false;
  // Every snapshot stays alive until the run ends: odp may hold one within an event.
  std::vector<std::unique_ptr<routing::Snapshot>> snapshots_;
  const routing::Snapshot* current_ = nullptr;
};

}  // namespace odp::fakeio
