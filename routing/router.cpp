#include "routing/router.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "base/ascii.h"
#include "routing/partition_hash.h"

namespace odp::routing {

namespace {
using base::iequals;

// An integer key value: integer literals, and strings / decimals that hold an exact integer.
bool integer_of(const SqlValue& v, int64_t& out) {
  if (v.kind == SqlValue::Kind::integer) {
    out = v.integer;
    return true;
  }
  if (v.kind == SqlValue::Kind::string || v.kind == SqlValue::Kind::decimal) {
    std::string_view t = v.text;
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.empty() || v.has_escapes) return false;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && ptr == t.data() + t.size();
  }
  return false;
}

// OceanBase's integer column types (ObObjType): 1..5 signed, 6..10 unsigned, with their ranges.
bool integer_type(int32_t t) {
  return t >= 1 && t <= 10;
}
bool in_range(int32_t t, int64_t v) {
  switch (t) {
    case 1:
      return v >= -128 && v <= 127;  // TINYINT
    case 2:
      return v >= -32768 && v <= 32767;  // SMALLINT
    case 3:
      return v >= -8388608 && v <= 8388607;  // MEDIUMINT
    case 4:
      return v >= INT32_MIN && v <= INT32_MAX;  // INT
    case 5:
      return true;  // BIGINT
    case 6:
      return v >= 0 && v <= 255;  // TINYINT UNSIGNED
    case 7:
      return v >= 0 && v <= 65535;  // SMALLINT UNSIGNED
    case 8:
      return v >= 0 && v <= 16777215;  // MEDIUMINT UNSIGNED
    case 9:
      return v >= 0 && v <= static_cast<int64_t>(UINT32_MAX);  // INT UNSIGNED
    case 10:
      return v >= 0;  // BIGINT UNSIGNED (as far as int64 goes)
    default:
      return false;
  }
}

// A string literal that OceanBase casts to exactly this integer: an optional '-' and digits, nothing
// else (spaces, signs, decimals and exponents are left to the server: not routed).
bool plain_integer_text(std::string_view t, int64_t& out) {
  if (t.empty()) return false;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && ptr == t.data() + t.size();
}

bool ascii_only(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// The KEY hash (seed 0, one column) of `value` cast to the key column's type, as OceanBase casts
// it; nullopt when the cast is not certain (the statement then takes the default route).
std::optional<uint64_t> key_hash_of(const TableEntry& entry, const SqlValue& value) {
  const int32_t type = entry.part_key_type;
  if (integer_type(type)) {
    int64_t v = 0;
    if (value.kind == SqlValue::Kind::integer) {
      v = value.integer;
    } else if (value.kind == SqlValue::Kind::string && !value.has_escapes) {
      if (!plain_integer_text(value.text, v)) return std::nullopt;
    } else {
      return std::nullopt;  // NULL (no route), decimals (rounding), anything else
    }
    if (!in_range(type, v)) return std::nullopt;
    return key_hash_int(v, 0);
  }
  const bool varchar = type == 22, fixed_char = type == 23;
  if (!varchar && !fixed_char) return std::nullopt;
  // BINARY(n) pads with zero bytes: its stored value is not the literal.
  if (fixed_char && entry.part_key_collation == kCollationBinary) return std::nullopt;
  if (value.kind == SqlValue::Kind::integer) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value.integer);
    if (ec != std::errc()) return std::nullopt;
    return key_hash_string(std::string_view(buf, static_cast<size_t>(end - buf)), entry.part_key_collation, 0);
  }
  if (value.kind != SqlValue::Kind::string || value.has_escapes) return std::nullopt;
  // The literal's bytes are taken as utf8mb4 (the client's character set is not known here): only
  // ASCII is certain whatever the client's or an introducer's character set.
  if (value.introducer && !ascii_only(value.text)) return std::nullopt;
  return key_hash_string(value.text, entry.part_key_collation, 0);
}
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
  const size_t n = entry.partitions.size();
  if (n == 0) return -1;
  switch (entry.part_type) {
    case PartType::none:
      return 0;
    case PartType::hash: {
      int64_t v = 0;
      if (!integer_of(value, v)) return -1;
      return static_cast<int>(hash_part_index(v, n));  // MySQL mode: |v| mod n
    }
    case PartType::key:
    case PartType::key_implicit: {
      auto h = key_hash_of(entry, value);
      if (!h) return -1;
      return static_cast<int>(key_part_index(*h, n));
    }
    case PartType::range: {
      int64_t v = 0;
      if (!integer_of(value, v)) return -1;
      for (size_t i = 0; i < n; ++i) {
        const auto& p = entry.partitions[i];
        if (!p.range_high || v < *p.range_high) return static_cast<int>(i);
      }
      return -1;
    }
    case PartType::list: {
      int64_t v = 0;
      if (!integer_of(value, v)) return -1;
      int fallback = -1;
      for (size_t i = 0; i < n; ++i) {
        const auto& p = entry.partitions[i];
        if (std::find(p.list_values.begin(), p.list_values.end(), v) != p.list_values.end()) return static_cast<int>(i);
        if (p.list_default) fallback = static_cast<int>(i);
      }
      return fallback;
    }
    default:
      return -1;  // *_COLUMNS forms are not routed yet
  }
}

PartitionChoice choose_partition(const TableEntry& entry, const ClassifiedSql& sql, std::span<const SqlValue> params) {
  PartitionChoice out;
  if (!entry.partitioned()) {
    out.kind = PartitionChoice::Kind::none;
    out.index = entry.partitions.empty() ? -1 : 0;
    return out;
  }
  out.kind = PartitionChoice::Kind::unknown;
  if (sql.values_truncated || entry.part_key.empty()) return out;
  const bool insert = sql.type == StmtType::insert || sql.type == StmtType::replace;
  const KeyCondition* cond = nullptr;
  for (uint8_t i = 0; i < sql.condition_count; ++i) {
    const KeyCondition& c = sql.conditions[i];
    if ((!c.column.empty() && iequals(c.column, entry.part_key)) ||
        (insert && c.column.empty() && c.column_index >= 0 && c.column_index == entry.part_key_idx)) {
      cond = &c;
      break;
    }
  }
  if (cond == nullptr || cond->value_count == 0) return out;
  int first = -1;
  bool multiple = false;
  for (uint16_t k = 0; k < cond->value_count; ++k) {
    size_t vi = static_cast<size_t>(cond->first_value) + k;
    if (vi >= sql.value_count) return out;
    const SqlValue* v = &sql.values[vi];
    if (v->kind == SqlValue::Kind::placeholder) {
      if (v->placeholder >= params.size()) return out;
      v = &params[v->placeholder];
    }
    int idx = partition_for_value(entry, *v);
    if (idx < 0) return out;
    if (first < 0) {
      first = idx;
    } else if (idx != first) {
      multiple = true;
    }
  }
  out.kind = multiple ? PartitionChoice::Kind::multiple : PartitionChoice::Kind::single;
  out.index = first;
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
      part = &in.table->partitions.front();
    } else if (in.partition.kind == PartitionChoice::Kind::single && in.partition.index >= 0 &&
               static_cast<size_t>(in.partition.index) < in.table->partitions.size()) {
      part = &in.table->partitions[static_cast<size_t>(in.partition.index)];
    } else if (!in.weak && in.partition.kind == PartitionChoice::Kind::multiple && in.partition.index >= 0 &&
               static_cast<size_t>(in.partition.index) < in.table->partitions.size()) {
      // A statement over several partitions: the first one's leader (the server coordinates the rest).
      part = &in.table->partitions[static_cast<size_t>(in.partition.index)];
      b.d.reason = "leader of first partition (multi-partition)";
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
