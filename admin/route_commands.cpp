#include "admin/route_commands.h"

#include "admin/internal_commands.h"
#include "routing/router.h"
#include "routing/sql_classifier.h"

namespace odp::admin {

namespace {
InternalResult rows(std::vector<std::string> columns) {
  InternalResult r;
  r.kind = InternalResult::Kind::rows;
  r.columns = std::move(columns);
  return r;
}

const char* part_type_name(routing::PartType t) {
  switch (t) {
    case routing::PartType::none:
      return "NONE";
    case routing::PartType::hash:
      return "HASH";
    case routing::PartType::key:
      return "KEY";
    case routing::PartType::key_implicit:
      return "KEY_IMPLICIT";
    case routing::PartType::range:
      return "RANGE";
    case routing::PartType::range_columns:
      return "RANGE_COLUMNS";
    case routing::PartType::list:
      return "LIST";
    case routing::PartType::list_columns:
      return "LIST_COLUMNS";
  }
  return "?";
}

// "RANGE", or "RANGE x HASH" for a two-level table.
std::string part_type_text(const routing::TableEntry& e) {
  std::string out = part_type_name(e.part_type);
  if (e.two_level()) out += std::string(" x ") + part_type_name(e.sub_part_type);
  return out;
}

// Sub-partitions carry their full name ("p1sp0"), as the metadata gives it.
std::string partition_name(const routing::Partition& p) {
  return p.name.empty() ? "p" + std::to_string(p.part_id) : p.name;
}

std::string servers_of(const routing::ClusterTopology& ct, const routing::Partition& p, routing::ReplicaRole role) {
  std::string out;
  for (const auto& r : p.replicas) {
    if (r.role != role || r.server >= ct.servers.size()) continue;
    if (!out.empty()) out += ",";
    out += ct.servers[r.server].host_port;
  }
  return out;
}
}  // namespace

InternalResult show_proxyroute(const routing::Snapshot* snapshot, const std::optional<std::string>& like) {
  InternalResult r = rows({"cluster", "tenant", "database", "table", "part_type", "part_key", "partition", "tablet_id",
                           "leader", "followers", "schema_version"});
  if (snapshot == nullptr) return r;
  for (const auto& ct : snapshot->clusters) {
    std::vector<const routing::TableEntry*> entries;
    for (const auto& [key, entry] : ct.tables) entries.push_back(entry.get());
    std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
      return std::tie(a->tenant, a->database, a->table) < std::tie(b->tenant, b->database, b->table);
    });
    for (const auto* e : entries) {
      if (like && !like_match(e->database + "." + e->table, *like) && !like_match(e->table, *like)) continue;
      // One row per tablet: the partitions, or in a two-level table the sub-partitions.
      auto add = [&](const routing::Partition& p, const std::string& name) {
        r.rows.push_back({ct.name, e->tenant, e->database, e->table, part_type_text(*e), e->key_names(), name,
                          std::to_string(p.tablet_id), servers_of(ct, p, routing::ReplicaRole::leader),
                          servers_of(ct, p, routing::ReplicaRole::follower), std::to_string(e->schema_version)});
      };
      for (const auto& p : e->partitions) {
        if (!e->two_level()) {
          add(p, partition_name(p));
          continue;
        }
        for (const auto& sub : p.subpartitions) add(sub, partition_name(sub));
      }
    }
  }
  return r;
}

InternalResult explain_route(std::string_view sql, const routing::Snapshot* snapshot, const Config& config) {
  InternalResult r = rows({"name", "value"});
  static thread_local routing::ClassifiedSql c;
  routing::classify_sql(sql, c);
  r.rows.push_back({"statement_type", routing::stmt_type_name(c.type)});
  const std::string cluster_name = !config.default_cluster.empty()
                                       ? config.default_cluster
                                       : (config.clusters.empty() ? "" : config.clusters[0].name);
  const ClusterConfig* cc = config.find_cluster(cluster_name);
  std::string tenant = cc != nullptr ? cc->default_tenant : "";
  r.rows.push_back({"cluster", cluster_name});
  r.rows.push_back({"tenant", tenant});
  const routing::ClusterTopology* ct = snapshot != nullptr ? snapshot->find_cluster(cluster_name) : nullptr;
  if (ct == nullptr) {
    r.rows.push_back({"route", "no topology for this cluster yet"});
    return r;
  }
  const routing::TableEntry* entry = nullptr;
  if (c.table_count > 0) {
    std::string db(c.tables[0].database);
    r.rows.push_back(
        {"table", (db.empty() ? std::string("(no database)") : db) + "." + std::string(c.tables[0].table)});
    entry = ct->find_table(tenant, db, c.tables[0].table);
    r.rows.push_back({"table_entry", entry != nullptr ? "loaded"
                                                      : "not loaded (qualify the table with its database; "
                                                        "entries load on first use)"});
  }
  routing::RouteInput in;
  in.cluster = ct;
  in.tenant = ct->find_tenant(tenant);
  in.table = entry;
  if (entry != nullptr) {
    in.partition = routing::choose_partition(*entry, c, {});
    const char* kinds[] = {"none (not partitioned)", "single", "multiple", "unknown (no usable key value)"};
    r.rows.push_back({"partition_choice", kinds[static_cast<int>(in.partition.kind)]});
    if (const routing::Partition* p = entry->tablet(in.partition.index, in.partition.sub_index))
      r.rows.push_back({"partition", partition_name(*p)});
  }
  routing::Consistency consistency = c.read_consistency;
  if (consistency == routing::Consistency::unset)
    consistency = config.routing.read_consistency == ReadConsistency::weak ? routing::Consistency::weak
                                                                           : routing::Consistency::strong;
  in.weak = consistency == routing::Consistency::weak && c.is_read() && !c.multi_statement;
  r.rows.push_back({"consistency", in.weak ? "weak" : "strong"});
  routing::parse_route_policy(config.routing.route_policy, in.policy);
  in.place.idc = config.routing.proxy_idc;
  in.place.region = config.routing.proxy_region;
  routing::RouteDecision d = routing::route(in);
  std::string candidates;
  for (uint8_t i = 0; i < d.count; ++i) {
    if (i > 0) candidates += ",";
    const auto& s = ct->servers[d.candidates[i]];
    candidates += s.host_port + "(" + s.zone + ")";
  }
  r.rows.push_back({"server", d.count > 0 ? ct->servers[d.candidates[0]].host_port : std::string("(none)")});
  r.rows.push_back({"reason", d.reason});
  r.rows.push_back({"candidates", candidates});
  r.rows.push_back({"snapshot_generation", std::to_string(snapshot->generation)});
  return r;
}

InternalResult show_proxycongestion(const std::vector<CongestionInfo>& servers) {
  InternalResult r = rows({"server", "failures", "avoided_for_ms"});
  for (const auto& s : servers)
    r.rows.push_back({s.server, std::to_string(s.failures), std::to_string(s.avoided_for_ms)});
  return r;
}

}  // namespace odp::admin
