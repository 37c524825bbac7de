#pragma once
// Cluster metadata rows (docs/METADATA.md) -> topology. Pure functions: the location service runs
// the SQL and hands the result sets here. Every row is untrusted input: bounds are checked and a bad
// row is an error or skipped (and counted), never a crash.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "routing/topology.h"

namespace odp::routing {

// One result set as text (NULL = nullopt).
struct MetaRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  // Index of a column by name (case-insensitive), -1 when absent.
  int column(std::string_view name) const;
};

inline constexpr size_t kMaxMetaServers = 4096;
inline constexpr size_t kMaxMetaPartitions = 65536;
inline constexpr size_t kMaxMetaReplicas = 32;
inline constexpr size_t kMaxMetaNameBytes = 128;

// Servers (DBA_OB_SERVERS joined with DBA_OB_ZONES) and tenants (DBA_OB_TENANTS; each tenant's
// servers from its `__all_dummy` rows, one MetaRows per tenant in `dummies`, same order as the
// tenants' rows). Keeps `name`, tables and negative cache of `into`; replaces servers and tenants.
Status<std::string> build_cluster(const MetaRows& servers, const MetaRows& zones, const MetaRows& tenants,
                                  const std::vector<MetaRows>& dummies, ClusterTopology& into);

// One table's entry (docs/METADATA.md). `entry`: the table entry rows (__all_virtual_proxy_schema
// with tablet_id = 0: table_id, part_num, schema_version; for a table that is not partitioned also
// its replicas); `part_info` (__all_virtual_proxy_partition_info: one row per key column,
// part_key_level 1 or 2); `partitions` (__all_virtual_proxy_partition) and, for a two-level table,
// `sub_partitions` (__all_virtual_proxy_sub_partition; empty otherwise); `replicas`: the replica
// rows of the partitioned table's tablets (__all_virtual_proxy_schema with tablet_id IN (...)).
// Returns nullopt when `entry` is empty (no such table). A replica belongs to the (sub-)partition
// whose tablet_id it carries; one already listed for that server is not added twice. Replicas on
// servers the topology does not know are dropped (`dropped_replicas` counts them).
struct TableBuild {
  std::optional<TableEntry> entry;
  size_t dropped_replicas = 0;
};
Result<TableBuild, std::string> build_table(std::string_view tenant, std::string_view database, std::string_view table,
                                            const MetaRows& entry, const MetaRows& part_info,
                                            const MetaRows& partitions, const MetaRows& sub_partitions,
                                            const MetaRows& replicas, const ClusterTopology& cluster, uint64_t now_ms);

// The tablets whose replicas a partitioned table needs (the replica query's IN list): those of
// the sub-partitions of a two-level table, else those of the partitions. Ascending, distinct,
// non-zero, at most kMaxMetaPartitions.
std::vector<uint64_t> leaf_tablets(const MetaRows& part_info, const MetaRows& partitions,
                                   const MetaRows& sub_partitions);

// Whether partition-info rows describe a two-level table (so its sub-partitions must be read).
bool has_sub_partitions(const MetaRows& part_info);

}  // namespace odp::routing
