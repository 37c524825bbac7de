#include "admin/location_service.h"

#include <algorithm>
#include <chrono>

#include "admin/address.h"
#include "admin/meta_connection.h"
#include "admin/meta_queries.h"
#include "base/log.h"

namespace odp::admin {

namespace {
constexpr const char* kWeak = "/*+READ_CONSISTENCY(WEAK)*/";
constexpr size_t kTableReloadsPerPass = 50;
// Tablets whose replicas one query asks for (obproxy batches them too).
constexpr size_t kTabletsPerQuery = 64;

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

uint64_t steady_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

LocationService::LocationService(std::shared_ptr<const Config> config, routing::SnapshotHolder& holder,
                                 LocationServiceOptions options, Fetch fetch, Clock clock)
    : holder_(holder),
      options_(options),
      fetch_(std::move(fetch)),
      clock_(std::move(clock)),
      config_(std::move(config)) {
  if (!fetch_) {
    // One meta connection per cluster, kept by the service thread and reopened after a failure.
    auto conns = std::make_shared<std::map<std::string, std::unique_ptr<MetaConnection>>>();
    fetch_ = [conns](const ClusterConfig& cc, const std::string& sql) -> Result<routing::MetaRows, std::string> {
      auto& c = (*conns)[cc.name];
      if (!c) c = std::make_unique<MetaConnection>(3, 3);
      if (auto st = c->connect(cc); !st) return Err(st.error());
      return c->query(sql);
    };
  }
  if (!clock_) clock_ = steady_ms;
  for (const auto& cc : config_->clusters) clusters_[cc.name] = initial_topology(cc);
}

LocationService::~LocationService() {
  stop();
}

routing::ClusterTopology LocationService::initial_topology(const ClusterConfig& cc) const {
  routing::ClusterTopology ct;
  ct.name = cc.name;
  routing::TenantInfo tenant;
  tenant.name = cc.default_tenant;
  for (const auto& entry : cc.rootservice_list) {
    auto hp = parse_host_port(entry);
    if (!hp) continue;
    routing::ServerInfo s;
    s.ip = hp->host;
    s.sql_port = hp->port;
    s.host_port = entry;
    tenant.servers.push_back(static_cast<routing::ServerIndex>(ct.servers.size()));
    ct.servers.push_back(std::move(s));
  }
  ct.tenants.push_back(std::move(tenant));
  ct.discovered = false;
  return ct;
}

void LocationService::start() {
  publish();
  thread_ = std::thread([this] { loop(); });
}

void LocationService::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LocationService::enqueue(Key key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() >= options_.max_queue && pending_.find(key) == pending_.end()) {
      counters_.requests_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    pending_.insert(std::move(key));
  }
  cv_.notify_one();
}

void LocationService::request_table(const std::string& cluster, const std::string& tenant, const std::string& database,
                                    const std::string& table) {
  enqueue(Key{cluster, lower(tenant), lower(database), lower(table)});
}

void LocationService::mark_dirty(const std::string& cluster, const std::string& tenant, const std::string& database,
                                 const std::string& table) {
  // A re-read is a load like the first (rate limited per entry in run_once).
  request_table(cluster, tenant, database, table);
}

void LocationService::update_config(std::shared_ptr<const Config> config) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(config);
    config_changed_ = true;
  }
  cv_.notify_one();
}

void LocationService::loop() {
  while (true) {
    run_once();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.loop_interval_ms),
                 [this] { return stop_ || !pending_.empty(); });
    if (stop_) return;
  }
}

void LocationService::run_once() {
  std::shared_ptr<const Config> config;
  std::set<Key> work;
  bool config_changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    config = config_;
    work.swap(pending_);
    config_changed = config_changed_;
    config_changed_ = false;
  }
  bool changed = false;
  if (config_changed) {
    // Clusters added get an undiscovered topology; clusters removed go.
    for (auto it = clusters_.begin(); it != clusters_.end();) {
      it = config->find_cluster(it->first) == nullptr ? clusters_.erase(it) : std::next(it);
    }
    for (const auto& cc : config->clusters) {
      if (clusters_.find(cc.name) == clusters_.end()) {
        clusters_[cc.name] = initial_topology(cc);
        next_refresh_ms_[cc.name] = 0;
      }
    }
    changed = true;
  }
  const uint64_t now = clock_();
  for (const auto& cc : config->clusters) {
    auto& ct = clusters_[cc.name];
    if (ct.name.empty()) ct = initial_topology(cc);
    uint64_t& next = next_refresh_ms_[cc.name];
    if (now >= next) {
      changed = refresh_cluster(cc, ct, now) || changed;
      // Refresh failures retry sooner than the interval, successes wait for it.
      next = now + (ct.discovered ? cc.refresh_interval_ms : std::min<uint64_t>(cc.refresh_interval_ms, 2000));
      // Entries older than the interval are read again, a bounded number per pass.
      std::vector<std::pair<uint64_t, std::string>> old;
      for (const auto& [key, entry] : ct.tables)
        if (entry->loaded_ms + cc.refresh_interval_ms <= now) old.emplace_back(entry->loaded_ms, key);
      std::sort(old.begin(), old.end());
      for (size_t i = 0; i < old.size() && i < kTableReloadsPerPass; ++i) {
        auto it = ct.tables.find(old[i].second);
        if (it == ct.tables.end()) continue;
        Key k{cc.name, it->second->tenant, it->second->database, it->second->table};
        changed = load_table(cc, ct, k, now) || changed;
      }
    }
    // Negative entries expire.
    for (auto it = ct.missing_tables.begin(); it != ct.missing_tables.end();) {
      if (it->second + options_.negative_ttl_ms <= now) {
        it = ct.missing_tables.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
  }
  std::set<Key> later;
  for (const Key& key : work) {
    const ClusterConfig* cc = config->find_cluster(std::get<0>(key));
    if (cc == nullptr) continue;
    auto last = last_load_ms_.find(key);
    if (last != last_load_ms_.end() && now < last->second + options_.min_reload_interval_ms) {
      later.insert(key);  // read moments ago: again shortly, not in a tight loop
      continue;
    }
    changed = load_table(*cc, clusters_[cc->name], key, now) || changed;
  }
  if (!later.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.insert(later.begin(), later.end());
  }
  if (changed) publish();
  holder_.reclaim();
}

bool LocationService::refresh_cluster(const ClusterConfig& cc, routing::ClusterTopology& ct, uint64_t now) {
  auto servers = fetch_(cc, std::string("SELECT ") + kWeak +
                                " svr_ip, svr_port, sql_port, zone, status, start_service_time, stop_time FROM "
                                "oceanbase.DBA_OB_SERVERS");
  auto zones =
      servers
          ? fetch_(cc, std::string("SELECT ") + kWeak + " zone, status, region, idc, type FROM oceanbase.DBA_OB_ZONES")
          : Result<routing::MetaRows, std::string>(Err(servers.error()));
  auto tenants = zones ? fetch_(cc, std::string("SELECT ") + kWeak +
                                        " tenant_id, tenant_name, tenant_type, primary_zone, locality, status FROM "
                                        "oceanbase.DBA_OB_TENANTS")
                       : Result<routing::MetaRows, std::string>(Err(zones.error()));
  std::vector<routing::MetaRows> dummies;
  std::string error = !servers ? servers.error() : !zones ? zones.error() : !tenants ? tenants.error() : "";
  if (error.empty()) {
    int name_col = tenants->column("tenant_name");
    for (const auto& row : tenants->rows) {
      std::string name =
          name_col >= 0 && static_cast<size_t>(name_col) < row.size() && row[name_col] ? *row[name_col] : "";
      if (!quotable(name)) {
        dummies.emplace_back();
        continue;
      }
      auto d = fetch_(cc, tenant_servers_sql(name));
      if (!d) {
        error = d.error();
        break;
      }
      dummies.push_back(std::move(d.value()));
    }
  }
  routing::ClusterTopology next;
  next.name = ct.name;
  if (error.empty()) {
    auto st = routing::build_cluster(*servers, *zones, *tenants, dummies, next);
    if (!st) error = st.error();
  }
  if (!error.empty()) {
    counters_.refresh_failures.fetch_add(1, std::memory_order_relaxed);
    if (ct.discovered || counters_.refresh_failures.load() == 1)
      LOG_WARN("location: cluster %s metadata refresh failed (keeping what is known): %s", cc.name.c_str(),
               error.c_str());
    return false;
  }
  counters_.refreshes.fetch_add(1, std::memory_order_relaxed);
  // Table entries name servers by index: carry them over to the new server list.
  bool same_servers = next.servers.size() == ct.servers.size();
  for (size_t i = 0; same_servers && i < next.servers.size(); ++i)
    same_servers = next.servers[i].host_port == ct.servers[i].host_port;
  if (!same_servers) {
    for (auto& [key, entry] : ct.tables) {
      auto remapped = std::make_shared<routing::TableEntry>(*entry);
      auto remap = [&](routing::Partition& p) {
        std::vector<routing::Replica> kept;
        for (const auto& r : p.replicas) {
          if (r.server >= ct.servers.size()) continue;
          auto idx = next.find_server(ct.servers[r.server].host_port);
          if (idx) kept.push_back({*idx, r.role});
        }
        p.replicas = std::move(kept);
      };
      for (auto& p : remapped->partitions) {
        remap(p);
        for (auto& sub : p.subpartitions) remap(sub);
      }
      entry = std::move(remapped);
    }
  }
  bool was_discovered = ct.discovered;
  bool changed = !same_servers || !was_discovered;
  for (size_t i = 0; !changed && i < next.servers.size(); ++i) {
    const auto& a = next.servers[i];
    const auto& b = ct.servers[i];
    changed = a.status != b.status || a.zone != b.zone || a.region != b.region || a.idc != b.idc ||
              a.zone_active != b.zone_active;
  }
  if (!changed) {
    changed = next.tenants.size() != ct.tenants.size();
    for (size_t i = 0; !changed && i < next.tenants.size(); ++i)
      changed = next.tenants[i].name != ct.tenants[i].name || next.tenants[i].servers != ct.tenants[i].servers ||
                next.tenants[i].primary_zone != ct.tenants[i].primary_zone;
  }
  ct.servers = std::move(next.servers);
  ct.tenants = std::move(next.tenants);
  ct.discovered = true;
  ct.loaded_ms = now;
  if (!was_discovered)
    LOG_INFO("location: cluster %s discovered: %zu servers, %zu tenants", cc.name.c_str(), ct.servers.size(),
             ct.tenants.size());
  return changed;
}

bool LocationService::load_table(const ClusterConfig& cc, routing::ClusterTopology& ct, const Key& key, uint64_t now) {
  const auto& [cluster, tenant, database, table] = key;
  last_load_ms_[key] = now;
  if (last_load_ms_.size() > options_.max_tables_per_cluster * 4) last_load_ms_.clear();
  const std::string k = routing::table_key(tenant, database, table);
  if (!ct.discovered) return false;  // nothing to route with yet; the worker asks again later
  if (!quotable(tenant) || !quotable(database) || !quotable(table)) {
    ct.missing_tables[k] = now;
    return true;
  }
  auto schema = fetch_(cc, table_entry_sql(tenant, database, table));
  if (!schema) {
    counters_.table_failures.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN("location: reading %s.%s in cluster %s failed: %s", database.c_str(), table.c_str(), cc.name.c_str(),
             schema.error().c_str());
    return false;
  }
  routing::MetaRows info, parts, sub_parts, replicas;
  if (!schema->rows.empty()) {
    int tid = schema->column("table_id");
    std::string table_id = tid >= 0 && static_cast<size_t>(tid) < schema->rows[0].size() && schema->rows[0][tid]
                               ? *schema->rows[0][tid]
                               : "0";
    if (!std::all_of(table_id.begin(), table_id.end(), [](char c) { return c >= '0' && c <= '9'; }) || table_id.empty())
      table_id = "0";
    auto i = fetch_(cc, partition_info_sql(tenant, table_id));
    auto p = i ? fetch_(cc, partitions_sql(tenant, table_id, false))
               : Result<routing::MetaRows, std::string>(Err(i.error()));
    // Two-level tables: their sub-partitions (each its own tablet); one-level tables skip the query.
    auto sp = p && routing::has_sub_partitions(*i) ? fetch_(cc, partitions_sql(tenant, table_id, true))
                                                   : Result<routing::MetaRows, std::string>(routing::MetaRows{});
    // The replicas of every tablet, in batches (the table entry gave only the first tablet's).
    std::string error = !i ? i.error() : !p ? p.error() : !sp ? sp.error() : "";
    if (error.empty()) {
      const auto tablets = routing::leaf_tablets(*i, *p, *sp);
      for (size_t from = 0; from < tablets.size() && error.empty(); from += kTabletsPerQuery) {
        const size_t to = std::min(tablets.size(), from + kTabletsPerQuery);
        auto batch = fetch_(cc, replicas_sql(tenant, database, table, tablets, from, to));
        if (!batch) {
          error = batch.error();
        } else if (replicas.columns.empty()) {
          replicas = std::move(batch.value());
        } else if (batch->columns != replicas.columns) {
          error = "__all_virtual_proxy_schema: batches with different columns";
        } else {
          for (auto& row : batch->rows) replicas.rows.push_back(std::move(row));
        }
      }
    }
    if (!error.empty()) {
      counters_.table_failures.fetch_add(1, std::memory_order_relaxed);
      LOG_WARN("location: reading the partitioning of %s.%s failed: %s", database.c_str(), table.c_str(),
               error.c_str());
      return false;
    }
    info = std::move(i.value());
    parts = std::move(p.value());
    sub_parts = std::move(sp.value());
  }
  auto built = routing::build_table(tenant, database, table, *schema, info, parts, sub_parts, replicas, ct, now);
  if (!built) {
    counters_.table_failures.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN("location: bad metadata for %s.%s: %s", database.c_str(), table.c_str(), built.error().c_str());
    return false;
  }
  if (!built->entry) {
    counters_.tables_missing.fetch_add(1, std::memory_order_relaxed);
    bool had = ct.tables.erase(k) > 0;
    bool known = ct.missing_tables.find(k) != ct.missing_tables.end();
    ct.missing_tables[k] = now;
    if (ct.missing_tables.size() > options_.max_tables_per_cluster) ct.missing_tables.clear();
    return had || !known;
  }
  counters_.tables_loaded.fetch_add(1, std::memory_order_relaxed);
  ct.missing_tables.erase(k);
  if (ct.tables.size() >= options_.max_tables_per_cluster && ct.tables.find(k) == ct.tables.end()) {
    auto oldest = std::min_element(ct.tables.begin(), ct.tables.end(), [](const auto& a, const auto& b) {
      return a.second->loaded_ms < b.second->loaded_ms;
    });
    ct.tables.erase(oldest);
  }
  ct.tables[k] = std::make_shared<routing::TableEntry>(std::move(*built->entry));
  return true;
}

void LocationService::publish() {
  auto snap = std::make_unique<routing::Snapshot>();
  std::shared_ptr<const Config> config;
  {
    std::lock_guard<std::mutex> lock(mu_);
    config = config_;
  }
  for (const auto& cc : config->clusters) {
    auto it = clusters_.find(cc.name);
    if (it != clusters_.end()) snap->clusters.push_back(it->second);
  }
  holder_.publish(std::move(snap));
  counters_.publications.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace odp::admin
