#pragma once
// The control thread of routing: discovers each configured cluster (servers, zones, tenants) with
// the meta account, keeps table location entries fresh, and publishes immutable topology snapshots
// (routing/snapshot_holder.h) that workers read without locks. Workers talk to it only through the
// thread-safe request_table()/mark_dirty() (a bounded, deduplicated queue).
//
// The SQL it runs is in docs/METADATA.md. Until a cluster's metadata has been read, its snapshot
// lists the rootservice_list servers in one tenant (the default) so that routing still works.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "admin/config.h"
#include "base/result.h"
#include "routing/meta_rows.h"
#include "routing/snapshot_holder.h"

namespace odp::admin {

struct LocationServiceOptions {
  uint64_t negative_ttl_ms = 5000;        // "no such table" is remembered this long
  uint64_t min_reload_interval_ms = 100;  // a dirty entry is re-read at most this often
  size_t max_tables_per_cluster = 10000;  // past it, the oldest entries are dropped
  size_t max_queue = 4096;                // pending requests; more are dropped (and counted)
  uint64_t loop_interval_ms = 100;        // wake-up period (reclamation, timers)
};

class LocationService {
 public:
  // Runs one metadata statement against a cluster; the default uses libmariadb (MetaConnection).
  using Fetch = std::function<Result<routing::MetaRows, std::string>(const ClusterConfig&, const std::string& sql)>;
  using Clock = std::function<uint64_t()>;  // monotonic ms

  LocationService(std::shared_ptr<const Config> config, routing::SnapshotHolder& holder,
                  LocationServiceOptions options = {}, Fetch fetch = {}, Clock clock = {});
  ~LocationService();
  LocationService(const LocationService&) = delete;
  LocationService& operator=(const LocationService&) = delete;

  // Publishes the initial (undiscovered) snapshot and starts the thread.
  void start();
  // Stops and joins the thread (bounded by one metadata query's timeout).
  void stop();

  // Thread-safe. A worker missed a table / saw it go stale (4038).
  void request_table(const std::string& cluster, const std::string& tenant, const std::string& database,
                     const std::string& table);
  void mark_dirty(const std::string& cluster, const std::string& tenant, const std::string& database,
                  const std::string& table);
  void update_config(std::shared_ptr<const Config> config);

  // Runs one pass of pending work now (tests; the thread calls it in its loop).
  void run_once();

  struct Counters {
    std::atomic<uint64_t> refreshes{0};
    std::atomic<uint64_t> refresh_failures{0};
    std::atomic<uint64_t> tables_loaded{0};
    std::atomic<uint64_t> tables_missing{0};
    std::atomic<uint64_t> table_failures{0};
    std::atomic<uint64_t> requests_dropped{0};
    std::atomic<uint64_t> publications{0};
  };
  const Counters& counters() const { return counters_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // cluster, tenant, db, table
  void loop();
  bool refresh_cluster(const ClusterConfig& cc, routing::ClusterTopology& ct, uint64_t now);
  bool load_table(const ClusterConfig& cc, routing::ClusterTopology& ct, const Key& key, uint64_t now);
  void publish();
  routing::ClusterTopology initial_topology(const ClusterConfig& cc) const;
  void enqueue(Key key);

  routing::SnapshotHolder& holder_;
  LocationServiceOptions options_;
  Fetch fetch_;
  Clock clock_;
  Counters counters_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const Config> config_;
  std::set<Key> pending_;  // requested (misses and dirty marks), deduplicated
  bool stop_ = false;
  bool config_changed_ = false;

  // Owned by the service thread (or run_once callers).
  std::map<std::string, routing::ClusterTopology> clusters_;
  std::map<std::string, uint64_t> next_refresh_ms_;
  std::map<Key, uint64_t> last_load_ms_;
  std::thread thread_;
};

}  // namespace odp::admin
