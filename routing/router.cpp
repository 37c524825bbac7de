#include "routing/router.h"

#include <array>
#include <cstdint>
#include <vector>

#include "base/ascii.h"
#include "routing/partition_locate.h"

namespace odp::routing {

namespace {
using base::iequals;

// The condition giving values to key column `k`: by name, or (INSERT without a column list) by
// its position among the table's columns.
const KeyCondition* condition_for(const PartKeyColumn& k, const ClassifiedSql& sql, bool insert) {
  for (uint8_t i = 0; i < sql.condition_count; ++i) {
    const KeyCondition& c = sql.conditions[i];
    if (!c.column.empty() && iequals(c.column, k.name)) return &c;
    if (insert && c.column.empty() && c.column_index >= 0 && c.column_index == k.index) return &c;
  }
  return nullptr;
}

// Rows of key values to place: INSERT rows (row r takes value r of each column), or for WHERE the
// combinations of the key columns' IN lists. More combinations than this are not worth placing.
constexpr size_t kMaxKeyRows = 256;
constexpr size_t kMaxKeyColumns = 16;
}  // namespace

bool parse_route_policy(std::string_view text, RoutePolicy& out) {
  if (iequals(text, "FOLLOWER_FIRST")) {
    out = RoutePolicy::follower_first;
  } else if (iequals(text, "UNMERGE_FOLLOWER_FIRST")) {
    out = RoutePolicy::unmerge_follower_first;
  } else if (iequals(text, "FOLLOWER_ONLY")) {
    out = RoutePolicy::follower_only;
  } else {
    return false;
  }
  return true;
}

int partition_for_value(const TableEntry& entry, const SqlValue& value) {
  if (entry.two_level() || entry.key_columns.size() > 1) return -1;
  const SqlValue* row[] = {&value};
  return locate_in_level(entry, 1, entry.part_type, entry.partitions, row);
}

PartitionChoice choose_partition(const TableEntry& entry, const ClassifiedSql& sql, std::span<const SqlValue> params) {
  PartitionChoice out;
  if (!entry.partitioned()) {
    out.kind = PartitionChoice::Kind::none;
    out.index = entry.partitions.empty() ? -1 : 0;
    return out;
  }
  out.kind = PartitionChoice::Kind::unknown;
  const size_t ncols = entry.key_columns.size();
  if (sql.values_truncated || ncols == 0 || ncols > kMaxKeyColumns) return out;
  const bool insert = sql.type == StmtType::insert || sql.type == StmtType::replace;
  const KeyCondition* conds[kMaxKeyColumns];
  size_t rows = 1;
  for (size_t i = 0; i < ncols; ++i) {
    conds[i] = condition_for(entry.key_columns[i], sql, insert);
    if (conds[i] == nullptr || conds[i]->value_count == 0 ||
        conds[i]->first_value + conds[i]->value_count > sql.value_count)
      return out;
    if (insert) {
      // Each INSERT row has one value per column: all key columns have as many.
      if (i > 0 && conds[i]->value_count != rows) return out;
      rows = conds[i]->value_count;
    } else {
      rows *= conds[i]->value_count;
      if (rows > kMaxKeyRows) return out;
    }
  }
  TabletPlace first;
  bool multiple = false;
  for (size_t r = 0; r < rows; ++r) {
    const SqlValue* row[kMaxKeyColumns];
    size_t rest = r;  // WHERE: the combination number, one digit per column
    for (size_t i = 0; i < ncols; ++i) {
      size_t k = insert ? r : rest % conds[i]->value_count;
      if (!insert) rest /= conds[i]->value_count;
      const SqlValue* v = &sql.values[conds[i]->first_value + k];
      if (v->kind == SqlValue::Kind::placeholder) {
        if (v->placeholder >= params.size()) return out;
        v = &params[v->placeholder];
      }
      row[i] = v;
    }
    TabletPlace place = locate_row(entry, std::span<const SqlValue* const>(row, ncols));
    if (place.index < 0) return out;
    if (r == 0) {
      first = place;
    } else if (place.index != first.index || place.sub_index != first.sub_index) {
      multiple = true;
    }
  }
  out.kind = multiple ? PartitionChoice::Kind::multiple : PartitionChoice::Kind::single;
  out.index = first.index;
  out.sub_index = first.sub_index;
  return out;
}

namespace {
struct Builder {
  const RouteInput& in;
  RouteDecision d;
  std::array<bool, 64> taken{};

  bool usable(ServerIndex s) const {
    const ServerInfo& si = in.cluster->servers[s];
    return si.status == ServerStatus::active && si.zone_active;
  }
  bool avoided(ServerIndex s) const { return s < 64 && (in.avoid >> s & 1) != 0; }
  int tier(ServerIndex s) const {
    const ServerInfo& si = in.cluster->servers[s];
    if (!in.place.idc.empty() && iequals(si.idc, in.place.idc)) return 0;
    if (!in.place.region.empty() && iequals(si.region, in.place.region)) return 1;
    return 2;
  }
  void add(ServerIndex s) {
    if (s >= in.cluster->servers.size() || d.count >= RouteDecision::kMaxCandidates) return;
    if (s < 64) {
      if (taken[s]) return;
      taken[s] = true;
    } else {
      for (uint8_t i = 0; i < d.count; ++i)
        if (d.candidates[i] == s) return;
    }
    d.candidates[d.count++] = s;
  }
  // Adds `servers` in LDC order (same IDC, same region, remote; stable).
  template <typename Range>
  void add_ldc(const Range& servers) {
    for (int t = 0; t <= 2; ++t)
      for (ServerIndex s : servers)
        if (tier(s) == t) add(s);
  }
  // Healthy and not avoided first, then inactive, then avoided (kept so a caller can still try).
  void reorder() {
    std::array<ServerIndex, RouteDecision::kMaxCandidates> out{};
    uint8_t n = 0;
    for (int pass = 0; pass < 3; ++pass) {
      for (uint8_t i = 0; i < d.count; ++i) {
        ServerIndex s = d.candidates[i];
        int cls = avoided(s) ? 2 : (usable(s) ? 0 : 1);
        if (cls == pass) out[n++] = s;
      }
    }
    d.candidates = out;
  }
};

std::vector<ServerIndex> all_servers(const RouteInput& in) {
  std::vector<ServerIndex> v;
  if (in.tenant != nullptr && !in.tenant->servers.empty()) return in.tenant->servers;
  for (size_t i = 0; i < in.cluster->servers.size(); ++i) v.push_back(static_cast<ServerIndex>(i));
  return v;
}
}  // namespace

RouteDecision route(const RouteInput& in) {
  Builder b{in, {}, {}};
  if (in.cluster == nullptr || in.cluster->servers.empty()) {
    b.d.reason = "no servers known";
    return b.d;
  }
  const Partition* part = nullptr;
  if (in.table != nullptr && !in.table->partitions.empty()) {
    if (in.partition.kind == PartitionChoice::Kind::none) {
      part = in.table->tablet(0, 0);
    } else if (in.partition.kind == PartitionChoice::Kind::single) {
      part = in.table->tablet(in.partition.index, in.partition.sub_index);
    } else if (!in.weak && in.partition.kind == PartitionChoice::Kind::multiple) {
      // A statement over several tablets: the first one's leader (the server coordinates the rest).
      part = in.table->tablet(in.partition.index, in.partition.sub_index);
      if (part != nullptr) b.d.reason = "leader of first partition (multi-partition)";
    }
  }
  if (part != nullptr) {
    const Replica* leader = part->leader();
    if (!in.weak) {
      if (leader != nullptr && leader->server < in.cluster->servers.size()) {
        b.add(leader->server);
        b.d.to_leader = true;
        if (*b.d.reason == '\0') b.d.reason = "leader of partition";
        b.reorder();
        if (b.avoided(b.d.candidates[0]) || !b.usable(b.d.candidates[0])) {
          // The leader is down or refused us: the server that takes over answers 4038 until the
          // metadata says who leads; the tenant's servers give the statement a chance.
          b.add_ldc(all_servers(in));
          b.reorder();
        }
        return b.d;
      }
      b.d.reason = "no leader known: tenant server";
    } else {
      std::vector<ServerIndex> followers;
      for (const auto& r : part->replicas)
        if (r.role == ReplicaRole::follower) followers.push_back(r.server);
      b.add_ldc(followers);
      if (in.policy != RoutePolicy::follower_only && leader != nullptr) b.add(leader->server);
      if (b.d.count > 0) {
        int t = b.tier(b.d.candidates[0]);
        bool first_is_leader = leader != nullptr && b.d.candidates[0] == leader->server;
        b.d.reason = first_is_leader ? "leader (weak read, no follower)"
                     : t == 0        ? "follower (same idc)"
                     : t == 1        ? "follower (same region)"
                                     : "follower (remote)";
        b.reorder();
        b.d.to_leader = leader != nullptr && b.d.candidates[0] == leader->server;
        return b.d;
      }
      b.d.reason = "no replica known: tenant server";
    }
  }
  // No routable partition: the tenant's servers.
  std::vector<ServerIndex> servers = all_servers(in);
  if (!in.weak && in.tenant != nullptr && !in.tenant->primary_zone.empty()) {
    for (ServerIndex s : servers)
      if (iequals(in.cluster->servers[s].zone, in.tenant->primary_zone)) b.add(s);
    if (*b.d.reason == '\0') b.d.reason = "tenant server (primary zone)";
  }
  b.add_ldc(servers);
  if (*b.d.reason == '\0') b.d.reason = "tenant server (ldc)";
  b.reorder();
  return b.d;
}

}  // namespace odp::routing
