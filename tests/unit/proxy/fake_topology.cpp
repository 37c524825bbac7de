#include "tests/unit/proxy/fake_topology.h"

namespace odp::fakeio {

FakeTopology::FakeTopology(Sim& sim, FakeCluster& cluster, TopologyPlan plan)
    : sim_(sim), cluster_(cluster), plan_(std::move(plan)) {
  if (!plan_.enabled) return;
  table_known_ = plan_.table_known;
  publish();
}

void FakeTopology::request_table(const std::string& database, const std::string& table) {
  if (!plan_.enabled) return;
  asked_.emplace(database, table);
  schedule(sim_.rng().below(plan_.max_delay_ms + 1));
}

void FakeTopology::mark_dirty(const std::string& database, const std::string& table) {
  request_table(database, table);
}

void FakeTopology::refresh_later() {
  if (!plan_.enabled) return;
  schedule(sim_.rng().below(plan_.max_delay_ms * 4 + 1));
}

void FakeTopology::schedule(uint64_t delay_ms) {
  if (publish_pending_) return;  // one publication answers every request made meanwhile
  publish_pending_ = true;
  sim_.at(delay_ms, [this] {
    publish_pending_ = false;
    publish();
  });
}

void FakeTopology::publish() {
  for (const auto& [db, table] : asked_) {
    if (db + "." + table == kTable)
      table_known_ = true;
    else
      missing_.emplace(db, table);
  }
  asked_.clear();
  auto snap = std::make_unique<routing::Snapshot>();
  snap->generation = snapshots_.empty() ? 1 : current_->generation + 1;
  routing::ClusterTopology ct;
  ct.name = kClusterName;
  ct.discovered = true;
  ct.loaded_ms = sim_.now_ms();
  static const char* kRegions[] = {"r1", "r1", "r2", "r2", "r3"};
  routing::TenantInfo tenant;
  tenant.name = kTenant;
  tenant.tenant_id = 1;
  tenant.primary_zone = plan_.primary_zone;
  for (size_t i = 0; i < cluster_.size(); ++i) {
    routing::ServerInfo s;
    const std::string& hp = cluster_.host_port(i);
    s.ip = hp.substr(0, hp.find(':'));
    s.sql_port = 2881;
    s.host_port = hp;
    s.zone = "z" + std::to_string(i + 1);
    s.region = kRegions[i % 5];
    s.idc = "idc" + std::to_string(i + 1);
    ct.servers.push_back(std::move(s));
    tenant.servers.push_back(static_cast<routing::ServerIndex>(i));
  }
  ct.tenants.push_back(std::move(tenant));
  if (table_known_) {
    auto e = std::make_shared<routing::TableEntry>();
    e->tenant = kTenant;
    e->database = "test";
    e->table = "kv";
    e->table_id = 500001;
    e->part_type = routing::PartType::hash;
    e->key_columns.push_back({"id", 0, 5, 63, 1});
    e->loaded_ms = sim_.now_ms();
    for (int p = 0; p < kPartitions; ++p) {
      routing::Partition part;
      part.part_id = p;
      part.name = "p" + std::to_string(p);
      part.tablet_id = 200001 + static_cast<uint64_t>(p);
      size_t leader = cluster_.leader(p);
      part.replicas.push_back({static_cast<routing::ServerIndex>(leader), routing::ReplicaRole::leader});
      for (size_t s = 0; s < cluster_.size(); ++s)
        if (s != leader)
          part.replicas.push_back({static_cast<routing::ServerIndex>(s), routing::ReplicaRole::follower});
      e->partitions.push_back(std::move(part));
    }
    ct.tables.emplace(routing::table_key(kTenant, "test", "kv"), std::move(e));
  }
  for (const auto& [db, table] : missing_)
    ct.missing_tables.emplace(routing::table_key(kTenant, db, table), sim_.now_ms());
  snap->clusters.push_back(std::move(ct));
  current_ = snap.get();
  snapshots_.push_back(std::move(snap));
}

}  // namespace odp::fakeio
