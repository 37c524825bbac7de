#include "routing/meta_rows.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/ascii.h"

namespace odp::routing {

namespace {
using base::iequals;
std::string lower(std::string_view s) {
  return base::ascii_lowered(s);
}

template <typename T>
bool number(const std::optional<std::string>& v, T& out) {
  if (!v || v->empty()) return false;
  std::string_view s = *v;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Accessor for one result set: cells by column name, with bounds.
struct Cols {
  const MetaRows& r;
  std::string missing;
  int need(std::string_view name) {
    int i = r.column(name);
    if (i < 0 && missing.empty()) missing = std::string(name);
    return i;
  }
  static const std::optional<std::string>& cell(const std::vector<std::optional<std::string>>& row, int i) {
    static const std::optional<std::string> none;
    return i >= 0 && static_cast<size_t>(i) < row.size() ? row[static_cast<size_t>(i)] : none;
  }
};

bool name_ok(const std::optional<std::string>& v) {
  return v && !v->empty() && v->size() <= kMaxMetaNameBytes;
}

std::string first_zone(std::string_view primary_zone) {
  // "z1;z2,z3": `;` separates priorities, `,` equals; RANDOM means none.
  size_t end = primary_zone.find_first_of(";,");
  std::string z = lower(primary_zone.substr(0, end));
  while (!z.empty() && z.back() == ' ') z.pop_back();
  while (!z.empty() && z.front() == ' ') z.erase(z.begin());
  return z == "random" ? std::string() : z;
}
}  // namespace

int MetaRows::column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (iequals(columns[i], name)) return static_cast<int>(i);
  return -1;
}

Status<std::string> build_cluster(const MetaRows& servers, const MetaRows& zones, const MetaRows& tenants,
                                  const std::vector<MetaRows>& dummies, ClusterTopology& into) {
  Cols s{servers, {}};
  int c_ip = s.need("svr_ip"), c_port = s.need("sql_port"), c_zone = s.need("zone"), c_status = s.need("status");
  if (!s.missing.empty()) return Err("DBA_OB_SERVERS: no column " + s.missing);
  Cols z{zones, {}};
  int z_zone = z.need("zone"), z_status = z.need("status"), z_region = z.need("region"), z_idc = z.need("idc"),
      z_type = z.need("type");
  if (!z.missing.empty()) return Err("DBA_OB_ZONES: no column " + z.missing);
  Cols t{tenants, {}};
  int t_id = t.need("tenant_id"), t_name = t.need("tenant_name"), t_primary = t.need("primary_zone");
  if (!t.missing.empty()) return Err("DBA_OB_TENANTS: no column " + t.missing);
  if (servers.rows.size() > kMaxMetaServers) return Err("DBA_OB_SERVERS: more than 4096 servers");

  std::vector<ServerInfo> list;
  for (const auto& row : servers.rows) {
    const auto& ip = Cols::cell(row, c_ip);
    uint32_t port = 0;
    if (!name_ok(ip) || !number(Cols::cell(row, c_port), port) || port == 0 || port > 65535) continue;
    ServerInfo si;
    si.ip = *ip;
    si.sql_port = static_cast<uint16_t>(port);
    si.host_port = si.ip + ":" + std::to_string(port);
    si.zone = lower(Cols::cell(row, c_zone).value_or(""));
    std::string st = lower(Cols::cell(row, c_status).value_or("active"));
    si.status = st == "active"     ? ServerStatus::active
                : st == "deleting" ? ServerStatus::deleting
                                   : ServerStatus::inactive;
    for (const auto& zr : zones.rows) {
      if (lower(Cols::cell(zr, z_zone).value_or("")) != si.zone) continue;
      si.region = lower(Cols::cell(zr, z_region).value_or(""));
      si.idc = lower(Cols::cell(zr, z_idc).value_or(""));
      si.zone_active = lower(Cols::cell(zr, z_status).value_or("active")) == "active";
      si.zone_readonly = lower(Cols::cell(zr, z_type).value_or("")) == "readonly";
    }
    if (std::none_of(list.begin(), list.end(), [&](const ServerInfo& x) { return x.host_port == si.host_port; }))
      list.push_back(std::move(si));
  }
  if (list.empty()) return Err("DBA_OB_SERVERS lists no usable server");
  into.servers = std::move(list);

  std::vector<TenantInfo> out;
  for (size_t i = 0; i < tenants.rows.size(); ++i) {
    const auto& row = tenants.rows[i];
    if (!name_ok(Cols::cell(row, t_name))) continue;
    TenantInfo ti;
    ti.name = lower(*Cols::cell(row, t_name));
    number(Cols::cell(row, t_id), ti.tenant_id);
    ti.primary_zone = first_zone(Cols::cell(row, t_primary).value_or(""));
    if (i < dummies.size()) {
      Cols d{dummies[i], {}};
      int d_ip = d.need("svr_ip"), d_port = d.need("sql_port");
      if (d.missing.empty()) {
        for (const auto& dr : dummies[i].rows) {
          uint32_t port = 0;
          if (!name_ok(Cols::cell(dr, d_ip)) || !number(Cols::cell(dr, d_port), port)) continue;
          auto idx = into.find_server(*Cols::cell(dr, d_ip) + ":" + std::to_string(port));
          if (idx && std::find(ti.servers.begin(), ti.servers.end(), *idx) == ti.servers.end())
            ti.servers.push_back(*idx);
        }
      }
    }
    std::sort(ti.servers.begin(), ti.servers.end());
    if (ti.servers.empty()) {
      // No __all_dummy rows: the tenant is assumed on every server.
      for (size_t s2 = 0; s2 < into.servers.size(); ++s2) ti.servers.push_back(static_cast<ServerIndex>(s2));
    }
    out.push_back(std::move(ti));
  }
  into.tenants = std::move(out);
  into.discovered = true;
  return Ok{};
}

Result<TableBuild, std::string> build_table(std::string_view tenant, std::string_view database, std::string_view table,
                                            const MetaRows& schema, const MetaRows& part_info,
                                            const MetaRows& partitions, const ClusterTopology& cluster,
                                            uint64_t now_ms) {
  TableBuild out;
  if (schema.rows.empty()) return out;
  Cols s{schema, {}};
  int c_tid = s.need("table_id"), c_pid = s.need("partition_id"), c_tablet = s.need("tablet_id"),
      c_ip = s.need("svr_ip"), c_port = s.need("sql_port"), c_role = s.need("role"), c_pnum = s.need("part_num"),
      c_ver = s.need("schema_version");
  if (!s.missing.empty()) return Err("__all_virtual_proxy_schema: no column " + s.missing);
  TableEntry e;
  e.tenant = lower(tenant);
  e.database = lower(database);
  e.table = lower(table);
  e.loaded_ms = now_ms;
  uint64_t part_num = 1;
  number(Cols::cell(schema.rows.front(), c_tid), e.table_id);
  number(Cols::cell(schema.rows.front(), c_ver), e.schema_version);
  number(Cols::cell(schema.rows.front(), c_pnum), part_num);
  if (part_num == 0 || part_num > kMaxMetaPartitions) return Err("table " + e.table + ": part_num out of range");

  // Partitioning.
  e.part_type = PartType::none;
  if (part_num > 1) {
    Cols pi{part_info, {}};
    int p_level = pi.need("part_level"), p_type = pi.need("part_type"), p_key = pi.need("part_key_name"),
        p_idx = pi.need("part_key_idx"), p_keys = pi.need("part_key_num");
    if (!pi.missing.empty()) return Err("__all_virtual_proxy_partition_info: no column " + pi.missing);
    if (part_info.rows.empty()) return Err("table " + e.table + ": partitioned but no partition info");
    const auto& row = part_info.rows.front();
    // Optional: the key column's type and collation (KEY partitioning needs both).
    int p_ktype = part_info.column("part_key_type"), p_coll = part_info.column("part_key_collation_type");
    int64_t level = 0, type = -1, key_idx = -1, keys = 1;
    number(Cols::cell(row, p_level), level);
    number(Cols::cell(row, p_type), type);
    number(Cols::cell(row, p_idx), key_idx);
    number(Cols::cell(row, p_keys), keys);
    if (level >= 1 && type >= 0 && type <= 6) {
      e.part_type = static_cast<PartType>(type);
      // Single-column keys only: more columns leave the table routable by leader of a partition
      // only through its key-less statements.
      if (keys == 1 && part_info.rows.size() == 1 && name_ok(Cols::cell(row, p_key))) {
        e.part_key = lower(*Cols::cell(row, p_key));
        e.part_key_idx = static_cast<int32_t>(key_idx);
        int32_t key_type = -1;
        uint32_t collation = 0;
        if (number(Cols::cell(row, p_ktype), key_type)) e.part_key_type = key_type;
        if (number(Cols::cell(row, p_coll), collation)) e.part_key_collation = collation;
      }
    }
  }

  // Partitions (bounds, list values), indexed by part_id.
  e.partitions.resize(part_num);
  for (size_t i = 0; i < part_num; ++i) {
    e.partitions[i].part_id = static_cast<int64_t>(i);
    e.partitions[i].name = "p" + std::to_string(i);
  }
  if (part_num > 1) {
    Cols p{partitions, {}};
    int q_id = p.need("part_id"), q_name = p.need("part_name"), q_tablet = p.need("tablet_id"),
        q_high = p.need("high_bound_val"), q_list = p.need("list_val");
    if (!p.missing.empty()) return Err("__all_virtual_proxy_partition: no column " + p.missing);
    for (const auto& row : partitions.rows) {
      uint64_t id = 0;
      if (!number(Cols::cell(row, q_id), id) || id >= part_num) continue;
      Partition& part = e.partitions[id];
      if (name_ok(Cols::cell(row, q_name))) part.name = lower(*Cols::cell(row, q_name));
      number(Cols::cell(row, q_tablet), part.tablet_id);
      const auto& high = Cols::cell(row, q_high);
      if (high && !iequals(*high, "MAXVALUE")) {
        int64_t v = 0;
        std::string_view h = *high;
        if (h.size() >= 2 && h.front() == '(' && h.back() == ')') h = h.substr(1, h.size() - 2);
        std::optional<std::string> hv{std::string(h)};
        if (number(hv, v)) part.range_high = v;
      }
      const auto& list = Cols::cell(row, q_list);
      if (list) {
        if (iequals(*list, "DEFAULT")) {
          part.list_default = true;
        } else {
          std::string_view rest = *list;
          while (!rest.empty() && part.list_values.size() < 4096) {
            size_t comma = rest.find(',');
            std::optional<std::string> item{std::string(rest.substr(0, comma))};
            int64_t v = 0;
            if (number(item, v)) part.list_values.push_back(v);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
          }
        }
      }
    }
    if (e.part_type == PartType::range || e.part_type == PartType::range_columns) {
      // Ascending bounds, MAXVALUE last (the order routing relies on).
      std::stable_sort(e.partitions.begin(), e.partitions.end(), [](const Partition& a, const Partition& b) {
        if (!a.range_high) return false;
        if (!b.range_high) return true;
        return *a.range_high < *b.range_high;
      });
    }
  }

  // Replicas.
  for (const auto& row : schema.rows) {
    uint64_t pid = 0, tablet = 0;
    int64_t role = 0;
    uint32_t port = 0;
    if (!number(Cols::cell(row, c_pid), pid) || !number(Cols::cell(row, c_role), role) ||
        !number(Cols::cell(row, c_port), port) || !name_ok(Cols::cell(row, c_ip))) {
      continue;
    }
    number(Cols::cell(row, c_tablet), tablet);
    auto server = cluster.find_server(*Cols::cell(row, c_ip) + ":" + std::to_string(port));
    if (!server) {
      ++out.dropped_replicas;
      continue;
    }
    Partition* part = nullptr;
    for (auto& p : e.partitions)
      if (static_cast<uint64_t>(p.part_id) == pid) part = &p;
    if (part == nullptr || part->replicas.size() >= kMaxMetaReplicas) continue;
    if (part->tablet_id == 0) part->tablet_id = tablet;
    Replica r{*server, role == 1 ? ReplicaRole::leader : ReplicaRole::follower};
    if (r.role == ReplicaRole::leader) {
      part->replicas.insert(part->replicas.begin(), r);
    } else {
      part->replicas.push_back(r);
    }
  }
  out.entry = std::move(e);
  return out;
}

}  // namespace odp::routing
