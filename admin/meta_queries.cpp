#include "admin/meta_queries.h"

#include "routing/meta_rows.h"

namespace odp::admin {

namespace {
constexpr const char* kWeak = "/*+READ_CONSISTENCY(WEAK)*/";
// The replica rows of one table (obproxy: INT64_MAX); generous, but a bound on a bad answer.
constexpr size_t kEntryRowLimit = routing::kMaxMetaReplicas;
// The LS of a tablet unknown (obproxy's ObLSID::INVALID_LS_ID).
constexpr const char* kInvalidLs = "-1";

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

// obproxy's join: a replica counts only on a server DBA_OB_SERVERS lists, with its RPC port.
std::string schema_select(const std::string& tenant, const std::string& database, const std::string& table) {
  return std::string("SELECT ") + kWeak +
         " A.*, B.svr_port as svr_port FROM oceanbase.__all_virtual_proxy_schema A inner join "
         "oceanbase.DBA_OB_SERVERS B ON A.svr_ip = B.svr_ip and A.sql_port = B.sql_port WHERE A.tenant_name = " +
         quoted(tenant) + " AND A.database_name = " + quoted(database) + " AND A.table_name = " + quoted(table);
}
}  // namespace

bool quotable(const std::string& name) {
  return name.find('\\') == std::string::npos && name.find('\0') == std::string::npos && name.size() <= 128;
}

std::string table_entry_sql(const std::string& tenant, const std::string& database, const std::string& table) {
  return schema_select(tenant, database, table) + " AND A.tablet_id = 0 ORDER BY A.role ASC LIMIT " +
         std::to_string(kEntryRowLimit);
}

std::string replicas_sql(const std::string& tenant, const std::string& database, const std::string& table,
                         const std::vector<uint64_t>& tablets, size_t from, size_t to) {
  std::string in;
  for (size_t i = from; i < to && i < tablets.size(); ++i) in += (in.empty() ? "" : ", ") + std::to_string(tablets[i]);
  if (in.empty()) in = "0";
  const size_t n = to > from ? to - from : 1;
  return schema_select(tenant, database, table) + " AND A.tablet_id IN (" + in +
         ") ORDER BY A.tablet_id, A.role ASC LIMIT " + std::to_string(n * routing::kMaxMetaReplicas);
}

std::string tenant_servers_sql(const std::string& tenant) {
  return schema_select(tenant, "oceanbase", "__all_dummy") +
         " AND A.sql_port > 0 ORDER BY A.tablet_id ASC, role ASC LIMIT " + std::to_string(routing::kMaxMetaServers);
}

std::string partition_info_sql(const std::string& tenant, const std::string& table_id) {
  return std::string("SELECT ") + kWeak +
         " * FROM oceanbase.__all_virtual_proxy_partition_info WHERE table_id = " + table_id +
         " and tenant_name = " + quoted(tenant) + " order by part_key_idx LIMIT 128";
}

// obproxy's columns plus high_bound_val, the bound as text (newer obproxy selects it too), which
// odp reads until it decodes high_bound_val_bin.
std::string partitions_sql(const std::string& tenant, const std::string& table_id, bool sub) {
  return std::string("SELECT ") + kWeak +
         " A.tablet_id, IFNULL((SELECT B.ls_id FROM oceanbase.__all_virtual_tablet_to_ls B WHERE "
         "A.tablet_id=B.tablet_id AND B.table_id=" +
         table_id +
         " AND B.tenant_id=(SELECT tenant_id FROM oceanbase.DBA_OB_TENANTS WHERE tenant_name=" + quoted(tenant) +
         " LIMIT 1) LIMIT 1), " + kInvalidLs + ") as ls_id, A.part_id, " + (sub ? "A.sub_part_id, " : "") +
         "A.part_name, A.high_bound_val_bin, A.high_bound_val" + (sub ? "" : ", A.sub_part_num") + " FROM oceanbase." +
         (sub ? "__all_virtual_proxy_sub_partition" : "__all_virtual_proxy_partition") +
         " A WHERE A.table_id=" + table_id + " AND A.tenant_name=" + quoted(tenant) + " LIMIT " +
         std::to_string(routing::kMaxMetaPartitions);
}

}  // namespace odp::admin
