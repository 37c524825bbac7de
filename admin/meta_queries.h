#pragma once
// The routing metadata SQL odp sends, in the shape obproxy sends it to an OceanBase 4.x cluster
// (OB-VECTORS.md section 5, from obproxy src/obproxy/proxy/route/ob_route_utils.cpp), so a real
// cluster answers it as it answers obproxy. docs/METADATA.md lists every query and its columns.
// Names are single-quoted ('' for a quote); callers pass only names `quotable` accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace odp::admin {

// Names odp looks up: no backslash or NUL (their quoting depends on the server's sql_mode), at
// most 128 bytes.
bool quotable(const std::string& name);

// The table entry: table_id, part_num, schema_version and the replicas of the first tablet.
std::string table_entry_sql(const std::string& tenant, const std::string& database, const std::string& table);
// The replicas of tablets[from, to) of a partitioned table (the batch form).
std::string replicas_sql(const std::string& tenant, const std::string& database, const std::string& table,
                         const std::vector<uint64_t>& tablets, size_t from, size_t to);
// The servers of a tenant (its `__all_dummy` rows).
std::string tenant_servers_sql(const std::string& tenant);
// `table_id` is digits only (the caller checks).
std::string partition_info_sql(const std::string& tenant, const std::string& table_id);
// First-level partitions, or with `sub` the sub-partitions of a two-level table.
std::string partitions_sql(const std::string& tenant, const std::string& table_id, bool sub);

}  // namespace odp::admin
