#pragma once
// The location tables: what the proxy knows about its clusters, as immutable snapshots.
//
// A Snapshot is built by the control thread (from the cluster's metadata SQL), published with one
// atomic pointer swap (routing/snapshot_holder.h) and read by workers without locks, allocation or
// reference counts. Nothing reachable from a published Snapshot is ever modified; a change builds
// a new Snapshot (table entries that did not change are shared between snapshots through
// shared_ptr, whose counts only the control thread touches).
//
// Names (tenant, database, table, zone...) are stored lower-cased: MySQL-mode identifiers compare
// case-insensitively for routing purposes.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace odp::routing {

enum class ServerStatus : uint8_t { active, inactive, deleting };

// One SQL endpoint of a cluster (an OBServer; a MariaDB server in the sandbox).
struct ServerInfo {
  std::string ip;
  uint16_t sql_port = 0;
  std::string host_port;  // "ip:sql_port", the key used for connections and stats
  std::string zone;
  std::string region;
  std::string idc;
  ServerStatus status = ServerStatus::active;
  bool zone_active = true;     // DBA_OB_ZONES.status = ACTIVE
  bool zone_readonly = false;  // DBA_OB_ZONES.type = READONLY
};

// Index into ClusterTopology::servers.
using ServerIndex = uint32_t;

enum class ReplicaRole : uint8_t { leader = 1, follower = 2 };

struct Replica {
  ServerIndex server = 0;
  ReplicaRole role = ReplicaRole::follower;
};

// OceanBase's partition function types, as in __all_virtual_proxy_partition_info.part_type.
enum class PartType : uint8_t {
  none = 255,  // not partitioned (one tablet)
  hash = 0,
  key = 1,
  key_implicit = 2,
  range = 3,
  range_columns = 4,
  list = 5,
  list_columns = 6,
};

// One column of a partitioning key (a row of __all_virtual_proxy_partition_info).
struct PartKeyColumn {
  std::string name;    // lower-cased
  int32_t index = -1;  // position among the table's columns (INSERT without a column list)
  // OceanBase type (ObObjType: 1..10 integers, 22 varchar/varbinary, 23 char; -1 unknown) and
  // collation id (45 utf8mb4_general_ci, 46 utf8mb4_bin, 63 binary; 0 unknown). KEY partitioning
  // hashes a value as this type and RANGE/LIST_COLUMNS compare as it: a key of unknown type is not
  // routed by them.
  int32_t type = -1;
  uint32_t collation = 0;
  uint8_t level = 1;  // 1: partitions' key; 2: sub-partitions' key
};

// One value of a RANGE bound or of a LIST value tuple.
struct BoundValue {
  enum class Kind : uint8_t { integer, text, maxvalue } kind = Kind::integer;
  int64_t integer = 0;
  std::string text;  // Kind::text: the value (quotes removed, escapes undone)
};
// One value per key column of the partitioning level, in key order.
using BoundTuple = std::vector<BoundValue>;

// A partition, or a sub-partition of a two-level table (then part_id is its sub_part_id).
struct Partition {
  int64_t part_id = 0;
  std::string name;  // lower-cased, e.g. "p0" (sub-partitions: "p0sp1")
  uint64_t tablet_id = 0;
  // RANGE / RANGE_COLUMNS: the exclusive upper bound (MAXVALUE as BoundValue::Kind::maxvalue);
  // empty when the metadata gave none that could be read (values reaching it are not placed).
  BoundTuple high_bound;
  // LIST / LIST_COLUMNS: the value tuples; list_default = this is the DEFAULT partition.
  std::vector<BoundTuple> list_values;
  bool list_default = false;
  // Two-level tables: the partition's sub-partitions, each its own tablet with its own replicas
  // (a partition with sub-partitions has no replicas of its own). Same order rules as partitions.
  std::vector<Partition> subpartitions;
  std::vector<Replica> replicas;  // leader first when there is one

  const Replica* leader() const {
    for (const auto& r : replicas)
      if (r.role == ReplicaRole::leader) return &r;
    return nullptr;
  }
};

struct TableEntry {
  std::string tenant;
  std::string database;
  std::string table;
  uint64_t table_id = 0;
  uint64_t schema_version = 0;
  PartType part_type = PartType::none;
  PartType sub_part_type = PartType::none;  // none: one level
  // The key columns, level 1 first, each level in its key order (the order of the partitioning
  // expression: KEY(a, b) folds a then b, RANGE COLUMNS(a, b) compares a then b).
  std::vector<PartKeyColumn> key_columns;
  // HASH/KEY: in partition-index order (index = value mod size). RANGE: in ascending bound order.
  // LIST: any order. Non-partitioned: exactly one.
  std::vector<Partition> partitions;
  uint64_t loaded_ms = 0;  // when the control thread read it (monotonic ms)

  bool two_level() const { return sub_part_type != PartType::none; }
  bool partitioned() const { return part_type != PartType::none && (partitions.size() > 1 || two_level()); }
  // The partition (one level) or sub-partition (two levels) holding the tablet that
  // (index, sub_index) names; null when out of range or when a two-level table has no sub_index.
  const Partition* tablet(int index, int sub_index) const;
  // "a,b" (level 1), "a,b;c" with a sub-partition key: for `show proxyroute`.
  std::string key_names() const;
};

struct TenantInfo {
  std::string name;
  uint64_t tenant_id = 0;
  std::string primary_zone;          // first zone of DBA_OB_TENANTS.primary_zone ("z1;z2,z3" -> "z1")
  std::vector<ServerIndex> servers;  // every server holding the tenant (`__all_dummy`), in server order
};

// Key for table lookups: "tenant\x1fdatabase\x1ftable", lower-cased.
std::string table_key(std::string_view tenant, std::string_view database, std::string_view table);

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct ClusterTopology {
  std::string name;
  std::vector<ServerInfo> servers;
  std::vector<TenantInfo> tenants;
  // Loaded table entries, shared with older/newer snapshots.
  std::unordered_map<std::string, std::shared_ptr<const TableEntry>, StringHash, std::equal_to<>> tables;
  // Tables the metadata does not know (negative cache), key -> monotonic ms when looked up.
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> missing_tables;
  uint64_t loaded_ms = 0;
  bool discovered = false;  // false: metadata never read yet; servers = the rootservice_list

  const TenantInfo* find_tenant(std::string_view tenant) const;
  // Heterogeneous lookup, no allocation for keys that fit a small stack buffer.
  const TableEntry* find_table(std::string_view tenant, std::string_view database, std::string_view table) const;
  std::optional<ServerIndex> find_server(std::string_view host_port) const;
  // The metadata said the table does not exist (negative cache).
  bool known_missing(std::string_view tenant, std::string_view database, std::string_view table) const;
};

struct Snapshot {
  uint64_t generation = 0;  // +1 per publication
  std::vector<ClusterTopology> clusters;

  const ClusterTopology* find_cluster(std::string_view name) const;
};

}  // namespace odp::routing
