#pragma once
// Route decisions: from a classified statement and a topology snapshot to an ordered list of
// candidate servers, with the reason (shown by `explain route`). Pure: no IO, no allocation on the
// common path, usable from any worker thread on the snapshot it holds.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "routing/sql_classifier.h"
#include "routing/topology.h"

namespace odp::routing {

enum class RoutePolicy : uint8_t { follower_first, unmerge_follower_first, follower_only };
// "FOLLOWER_FIRST" | "UNMERGE_FOLLOWER_FIRST" | "FOLLOWER_ONLY" (case-insensitive); false if unknown.
bool parse_route_policy(std::string_view text, RoutePolicy& out);

// Where the proxy is (LDC): servers in the same IDC first, then the same region, then the rest.
struct LdcPlace {
  std::string_view idc;
  std::string_view region;
};

// The partition of a one-level table whose key is one column, for one value of it; -1 when the
// value cannot be placed (partition_locate.h says how each partitioning function places values).
int partition_for_value(const TableEntry& entry, const SqlValue& value);

struct PartitionChoice {
  enum class Kind : uint8_t { none, single, multiple, unknown } kind = Kind::none;
  // none: the table is not partitioned (use its only partition); single: `index` is the partition
  // (and `sub_index` its sub-partition in a two-level table); multiple: the values span tablets
  // (`index`/`sub_index` = the first one's); unknown: no usable key value for some key column.
  int index = -1;
  int sub_index = -1;
};
// Picks the tablet(s) a statement touches in `entry`, from its key conditions / INSERT rows: the
// equalities on every key column (joined by AND; IN lists give each combination) or each INSERT
// row's key values. `params`: values bound to `?` placeholders at COM_STMT_EXECUTE (empty for text
// queries); a placeholder without a bound value counts as unknown.
PartitionChoice choose_partition(const TableEntry& entry, const ClassifiedSql& sql, std::span<const SqlValue> params);

struct RouteInput {
  const ClusterTopology* cluster = nullptr;
  const TenantInfo* tenant = nullptr;  // null: every server of the cluster
  const TableEntry* table = nullptr;   // null: no routable table
  PartitionChoice partition;
  bool weak = false;  // weak read allowed (SELECT outside a transaction with weak consistency)
  RoutePolicy policy = RoutePolicy::follower_first;
  LdcPlace place;
  // Servers to avoid (dead, congested, refused): bit i = server index i (indexes >= 64 never avoided).
  uint64_t avoid = 0;
};

struct RouteDecision {
  static constexpr size_t kMaxCandidates = 16;
  std::array<ServerIndex, kMaxCandidates> candidates{};  // best first
  uint8_t count = 0;
  // Why the first candidate was chosen, for `explain route` and logs; a static string.
  const char* reason = "";
  // True when the first candidate is the partition leader (a write must go there).
  bool to_leader = false;
};

// Orders candidate servers:
// - strong (or any write): the partition leader first; then (only useful for reads after the leader
//   failed) nothing else: a write must reach the leader. When the leader is unknown or avoided, the
//   tenant's servers in LDC order (the server answers 4038 and the proxy refreshes the entry).
// - weak: replicas of the partition by policy (FOLLOWER_FIRST: followers in LDC order, then the
//   leader; FOLLOWER_ONLY: followers only; UNMERGE_FOLLOWER_FIRST: as FOLLOWER_FIRST here).
// - no table / multiple or unknown partitions: strong -> the leader of the first partition when the
//   statement is a write to a known table; otherwise the tenant's servers, primary zone first, then
//   LDC order; weak -> the tenant's servers in LDC order, followers of nothing in particular.
// Inactive servers and servers in inactive zones come last; avoided servers are left out unless
// nothing else remains (then they are kept, in order, so a caller can still try).
RouteDecision route(const RouteInput& in);

}  // namespace odp::routing
