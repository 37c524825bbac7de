#include "routing/meta_rows.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/ascii.h"
#include "routing/bound_bin.h"
#include "routing/bound_text.h"

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

namespace {
// The column names of a partitioning expression ("`a`, b" -> a, b), lower-cased, in order; nullopt
// when it is more than a list of columns (HASH(id DIV 10), RANGE(YEAR(d))): the proxy places rows
// by column values, so a level partitioned by another expression is not routed.
std::optional<std::vector<std::string>> expression_columns(std::string_view expr) {
  std::vector<std::string> out;
  while (!expr.empty()) {
    size_t comma = expr.find(',');
    std::string_view part = expr.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (part.size() >= 2 && part.front() == '`' && part.back() == '`') part = part.substr(1, part.size() - 2);
    if (part.empty()) return std::nullopt;
    for (char c : part) {
      const auto u = static_cast<unsigned char>(c);
      if (!(std::isalnum(u) || c == '_' || c == '$' || u >= 0x80)) return std::nullopt;
    }
    out.push_back(lower(part));
    if (comma == std::string_view::npos) break;
    expr.remove_prefix(comma + 1);
  }
  return out;
}

bool is_range(PartType t) {
  return t == PartType::range || t == PartType::range_columns;
}
bool is_list(PartType t) {
  return t == PartType::list || t == PartType::list_columns;
}

// Ascending bounds, MAXVALUE above everything; unreadable (empty) bounds last.
bool bound_below(const BoundTuple& a, const BoundTuple& b) {
  if (a.empty() || b.empty()) return !a.empty() && b.empty();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const BoundValue &x = a[i], &y = b[i];
    const bool xm = x.kind == BoundValue::Kind::maxvalue, ym = y.kind == BoundValue::Kind::maxvalue;
    if (xm || ym) {
      if (xm != ym) return ym;
      continue;
    }
    if (x.kind == BoundValue::Kind::integer && y.kind == BoundValue::Kind::integer) {
      if (x.integer != y.integer) return x.integer < y.integer;
    } else if (x.text != y.text) {
      return x.text < y.text;
    }
  }
  return false;
}

// Bounds or list values of one (sub-)partition row, for a level with `columns` key columns.
// OceanBase 4.x writes both into high_bound_val: a RANGE partition's bound, a LIST partition's
// values (there is no list_val column). A RANGE bound is read from high_bound_val_bin first, the
// server's own serialisation (bound_bin.h, what obproxy reads), else from the text.
void read_bounds(PartType type, size_t columns, const std::optional<std::string>& high,
                 const std::optional<std::string>& high_bin, Partition& part) {
  if (is_range(type)) {
    std::optional<BoundTuple> bound;
    if (high_bin && !high_bin->empty()) bound = decode_high_bound_bin(*high_bin);
    if (!bound && high) bound = parse_high_bound(*high);
    if (bound && bound->size() == columns) part.high_bound = std::move(*bound);
  }
  if (is_list(type) && high) {
    auto values = parse_list_values(*high, columns);
    if (values) {
      part.list_values = std::move(values->tuples);
      part.list_default = values->is_default;
    }
  }
}

void sort_by_bound(PartType type, std::vector<Partition>& parts) {
  if (!is_range(type)) return;
  std::stable_sort(parts.begin(), parts.end(),
                   [](const Partition& a, const Partition& b) { return bound_below(a.high_bound, b.high_bound); });
}

size_t level_columns(const TableEntry& e, uint8_t level) {
  return static_cast<size_t>(std::count_if(e.key_columns.begin(), e.key_columns.end(),
                                           [&](const PartKeyColumn& k) { return k.level == level; }));
}

// The partitioning (types, key columns in key order) from the partition-info rows.
Status<std::string> read_part_info(const MetaRows& part_info, TableEntry& e) {
  Cols pi{part_info, {}};
  int p_level = pi.need("part_level"), p_type = pi.need("part_type"), p_key = pi.need("part_key_name"),
      p_idx = pi.need("part_key_idx");
  pi.need("part_key_num");
  if (!pi.missing.empty()) return Err("__all_virtual_proxy_partition_info: no column " + pi.missing);
  if (part_info.rows.empty()) return Err("table " + e.table + ": partitioned but no partition info");
  // Optional columns: key types and collations (KEY and *_COLUMNS need them), key levels, the
  // sub-partitioning and the expressions that give the key order.
  int p_ktype = part_info.column("part_key_type"), p_coll = part_info.column("part_key_collation_type"),
      p_klevel = part_info.column("part_key_level"), p_sub_type = part_info.column("sub_part_type"),
      p_expr = part_info.column("part_expr"), p_sub_expr = part_info.column("sub_part_expr");
  const auto& first = part_info.rows.front();
  int64_t level = 0, type = -1, sub_type = -1;
  number(Cols::cell(first, p_level), level);
  number(Cols::cell(first, p_type), type);
  if (level < 1 || type < 0 || type > 6) return Ok{};
  e.part_type = static_cast<PartType>(type);
  if (level >= 2 && number(Cols::cell(first, p_sub_type), sub_type) && sub_type >= 0 && sub_type <= 6)
    e.sub_part_type = static_cast<PartType>(sub_type);
  const std::optional<std::vector<std::string>> order[2] = {
      expression_columns(Cols::cell(first, p_expr).value_or("")),
      expression_columns(Cols::cell(first, p_sub_expr).value_or(""))};
  struct Ranked {
    PartKeyColumn column;
    size_t rank;
  };
  std::vector<Ranked> keys;
  for (const auto& row : part_info.rows) {
    if (!name_ok(Cols::cell(row, p_key)) || keys.size() >= 64) continue;
    PartKeyColumn k;
    k.name = lower(*Cols::cell(row, p_key));
    number(Cols::cell(row, p_idx), k.index);
    number(Cols::cell(row, p_ktype), k.type);
    number(Cols::cell(row, p_coll), k.collation);
    int64_t key_level = 1;
    number(Cols::cell(row, p_klevel), key_level);
    if (key_level == 2 && !e.two_level()) continue;  // a sub-partition key without sub-partitioning
    k.level = key_level == 2 ? 2 : 1;
    if (!order[k.level - 1]) continue;  // an expression, not columns: the level is not placed
    // Key order: the column's place in its level's expression; columns it does not name follow,
    // by their position in the table.
    const auto& names = *order[k.level - 1];
    size_t pos = static_cast<size_t>(std::find(names.begin(), names.end(), k.name) - names.begin());
    size_t rank = pos < names.size() ? pos : names.size() + static_cast<size_t>(std::max<int32_t>(k.index, 0));
    if (k.level == 2) rank += size_t{1} << 32;
    keys.push_back({std::move(k), rank});
  }
  std::stable_sort(keys.begin(), keys.end(), [](const Ranked& a, const Ranked& b) { return a.rank < b.rank; });
  for (auto& k : keys) e.key_columns.push_back(std::move(k.column));
  return Ok{};
}

// Sub-partitions into their partitions, at their sub_part_id (HASH/KEY place by index).
Status<std::string> read_sub_partitions(const MetaRows& rows, TableEntry& e) {
  Cols q{rows, {}};
  int q_part = q.need("part_id"), q_sub = q.need("sub_part_id"), q_name = q.need("part_name"),
      q_tablet = q.need("tablet_id"), q_high = rows.column("high_bound_val"), q_bin = rows.column("high_bound_val_bin");
  if (q_high < 0 && q_bin < 0) q.need("high_bound_val");
  if (!q.missing.empty()) return Err("__all_virtual_proxy_sub_partition: no column " + q.missing);
  const size_t columns = level_columns(e, 2);
  size_t total = 0;
  for (const auto& row : rows.rows) {
    uint64_t part_id = 0, sub_id = 0;
    if (!number(Cols::cell(row, q_part), part_id) || !number(Cols::cell(row, q_sub), sub_id)) continue;
    if (++total > kMaxMetaPartitions || sub_id >= kMaxMetaPartitions)
      return Err("table " + e.table + ": too many sub-partitions");
    Partition* parent = nullptr;
    for (auto& p : e.partitions)
      if (static_cast<uint64_t>(p.part_id) == part_id) parent = &p;
    if (parent == nullptr) continue;
    auto& subs = parent->subpartitions;
    if (subs.size() <= sub_id) {
      size_t from = subs.size();
      subs.resize(sub_id + 1);
      for (size_t i = from; i < subs.size(); ++i) {
        subs[i].part_id = static_cast<int64_t>(i);
        subs[i].name = parent->name + "sp" + std::to_string(i);
      }
    }
    Partition& sub = subs[sub_id];
    if (name_ok(Cols::cell(row, q_name))) sub.name = lower(*Cols::cell(row, q_name));
    number(Cols::cell(row, q_tablet), sub.tablet_id);
    read_bounds(e.sub_part_type, columns, Cols::cell(row, q_high), Cols::cell(row, q_bin), sub);
  }
  for (auto& p : e.partitions) sort_by_bound(e.sub_part_type, p.subpartitions);
  return Ok{};
}

// The (sub-)partition a replica row of a partitioned table belongs to: the one of its tablet.
Partition* replica_home(TableEntry& e, uint64_t tablet) {
  if (tablet == 0) return nullptr;
  for (auto& p : e.partitions) {
    if (!e.two_level() && p.tablet_id == tablet) return &p;
    for (auto& sub : p.subpartitions)
      if (sub.tablet_id == tablet) return &sub;
  }
  return nullptr;
}

// Replica rows into their (sub-)partitions; `single` is the one partition of a table that is not
// partitioned (its rows are the table entry's), else nullptr. Returns the replicas dropped
// because their server is unknown.
Result<size_t, std::string> add_replicas(const MetaRows& rows, const ClusterTopology& cluster, Partition* single,
                                         TableEntry& e) {
  if (rows.rows.empty()) return size_t{0};
  Cols s{rows, {}};
  int c_tablet = s.need("tablet_id"), c_ip = s.need("svr_ip"), c_port = s.need("sql_port"), c_role = s.need("role");
  if (!s.missing.empty()) return Err("__all_virtual_proxy_schema: no column " + s.missing);
  size_t dropped = 0;
  for (const auto& row : rows.rows) {
    uint64_t tablet = 0;
    int64_t role = 0;
    uint32_t port = 0;
    if (!number(Cols::cell(row, c_role), role) || !number(Cols::cell(row, c_port), port) ||
        !name_ok(Cols::cell(row, c_ip))) {
      continue;
    }
    number(Cols::cell(row, c_tablet), tablet);
    auto server = cluster.find_server(*Cols::cell(row, c_ip) + ":" + std::to_string(port));
    if (!server) {
      ++dropped;
      continue;
    }
    Partition* part = single != nullptr ? single : replica_home(e, tablet);
    if (part == nullptr || part->replicas.size() >= kMaxMetaReplicas) continue;
    // Real OceanBase answers the table entry (tablet_id = 0) with the first tablet's rows, which
    // the batch query lists again: a server is a replica of a tablet once.
    if (std::any_of(part->replicas.begin(), part->replicas.end(),
                    [&](const Replica& r) { return r.server == *server; }))
      continue;
    if (part->tablet_id == 0) part->tablet_id = tablet;
    Replica r{*server, role == 1 ? ReplicaRole::leader : ReplicaRole::follower};
    if (r.role == ReplicaRole::leader) {
      part->replicas.insert(part->replicas.begin(), r);
    } else {
      part->replicas.push_back(r);
    }
  }
  return dropped;
}
}  // namespace

std::vector<uint64_t> leaf_tablets(const MetaRows& part_info, const MetaRows& partitions,
                                   const MetaRows& sub_partitions) {
  const MetaRows& leaves = has_sub_partitions(part_info) ? sub_partitions : partitions;
  std::vector<uint64_t> out;
  int c = leaves.column("tablet_id");
  for (const auto& row : leaves.rows) {
    uint64_t tablet = 0;
    if (number(Cols::cell(row, c), tablet) && tablet != 0) out.push_back(tablet);
    if (out.size() >= kMaxMetaPartitions) break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool has_sub_partitions(const MetaRows& part_info) {
  int c = part_info.column("part_level");
  if (c < 0 || part_info.rows.empty()) return false;
  int64_t level = 0;
  return number(Cols::cell(part_info.rows.front(), c), level) && level >= 2;
}

Result<TableBuild, std::string> build_table(std::string_view tenant, std::string_view database, std::string_view table,
                                            const MetaRows& schema, const MetaRows& part_info,
                                            const MetaRows& partitions, const MetaRows& sub_partitions,
                                            const MetaRows& replicas, const ClusterTopology& cluster, uint64_t now_ms) {
  TableBuild out;
  if (schema.rows.empty()) return out;
  Cols s{schema, {}};
  int c_tid = s.need("table_id"), c_pnum = s.need("part_num"), c_ver = s.need("schema_version");
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

  e.part_type = PartType::none;
  if (part_num > 1 || has_sub_partitions(part_info)) {
    auto st = read_part_info(part_info, e);
    if (!st) return Err(st.error());
  }

  // Partitions (bounds, list values), indexed by part_id.
  e.partitions.resize(part_num);
  for (size_t i = 0; i < part_num; ++i) {
    e.partitions[i].part_id = static_cast<int64_t>(i);
    e.partitions[i].name = "p" + std::to_string(i);
  }
  if (e.part_type != PartType::none) {
    Cols p{partitions, {}};
    int q_id = p.need("part_id"), q_name = p.need("part_name"), q_tablet = p.need("tablet_id"),
        q_high = partitions.column("high_bound_val"), q_bin = partitions.column("high_bound_val_bin");
    if (q_high < 0 && q_bin < 0) p.need("high_bound_val");
    if (!p.missing.empty()) return Err("__all_virtual_proxy_partition: no column " + p.missing);
    const size_t columns = level_columns(e, 1);
    for (const auto& row : partitions.rows) {
      uint64_t id = 0;
      if (!number(Cols::cell(row, q_id), id) || id >= part_num) continue;
      Partition& part = e.partitions[id];
      if (name_ok(Cols::cell(row, q_name))) part.name = lower(*Cols::cell(row, q_name));
      number(Cols::cell(row, q_tablet), part.tablet_id);
      read_bounds(e.part_type, columns, Cols::cell(row, q_high), Cols::cell(row, q_bin), part);
    }
    if (e.two_level()) {
      auto st = read_sub_partitions(sub_partitions, e);
      if (!st) return Err(st.error());
    }
    sort_by_bound(e.part_type, e.partitions);
  }

  // Replicas: a table that is not partitioned has them in its entry rows, a partitioned one in the
  // rows of its tablets.
  const bool partitioned = e.part_type != PartType::none;
  auto added = partitioned ? add_replicas(replicas, cluster, nullptr, e)
                           : add_replicas(schema, cluster, &e.partitions.front(), e);
  if (!added) return Err(added.error());
  out.dropped_replicas = *added;
  out.entry = std::move(e);
  return out;
}

}  // namespace odp::routing
