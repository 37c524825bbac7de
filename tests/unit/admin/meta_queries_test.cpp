#include "admin/meta_queries.h"

#include <doctest/doctest.h>

using namespace odp::admin;

// The queries are obproxy's (OB-VECTORS.md section 5): a real OceanBase 4.x answers them only in
// this shape, so the tests pin the text.
TEST_CASE("meta queries: the table entry, the batch of replicas and the tenant's servers") {
  CHECK(table_entry_sql("t1", "test", "o'x") ==
        "SELECT /*+READ_CONSISTENCY(WEAK)*/ A.*, B.svr_port as svr_port FROM oceanbase.__all_virtual_proxy_schema A "
        "inner join oceanbase.DBA_OB_SERVERS B ON A.svr_ip = B.svr_ip and A.sql_port = B.sql_port WHERE "
        "A.tenant_name = 't1' AND A.database_name = 'test' AND A.table_name = 'o''x' AND A.tablet_id = 0 ORDER BY "
        "A.role ASC LIMIT 32");
  const std::string batch = replicas_sql("t1", "test", "orders", {10, 11, 12}, 1, 3);
  CHECK(batch.find(" AND A.tablet_id IN (11, 12) ORDER BY A.tablet_id, A.role ASC LIMIT 64") != std::string::npos);
  CHECK(batch.find("inner join oceanbase.DBA_OB_SERVERS B") != std::string::npos);
  const std::string dummy = tenant_servers_sql("t1");
  CHECK(dummy.find("A.database_name = 'oceanbase' AND A.table_name = '__all_dummy' AND A.sql_port > 0 ORDER BY "
                   "A.tablet_id ASC, role ASC") != std::string::npos);
  CHECK(quotable("orders"));
  CHECK_FALSE(quotable("a\\b"));
  CHECK_FALSE(quotable(std::string(129, 'a')));
}

TEST_CASE("meta queries: partition info, partitions and sub-partitions") {
  CHECK(partition_info_sql("t1", "500001") ==
        "SELECT /*+READ_CONSISTENCY(WEAK)*/ * FROM oceanbase.__all_virtual_proxy_partition_info WHERE table_id = "
        "500001 and tenant_name = 't1' order by part_key_idx LIMIT 128");
  const std::string parts = partitions_sql("t1", "500001", false);
  CHECK(parts.find("SELECT /*+READ_CONSISTENCY(WEAK)*/ A.tablet_id, IFNULL((SELECT B.ls_id FROM "
                   "oceanbase.__all_virtual_tablet_to_ls B WHERE A.tablet_id=B.tablet_id AND B.table_id=500001 AND "
                   "B.tenant_id=(SELECT tenant_id FROM oceanbase.DBA_OB_TENANTS WHERE tenant_name='t1' LIMIT 1) "
                   "LIMIT 1), -1) as ls_id, A.part_id, A.part_name, A.high_bound_val_bin, A.high_bound_val, "
                   "A.sub_part_num FROM oceanbase.__all_virtual_proxy_partition A WHERE A.table_id=500001 AND "
                   "A.tenant_name='t1' LIMIT ") == 0);
  const std::string subs = partitions_sql("t1", "500001", true);
  CHECK(subs.find("A.part_id, A.sub_part_id, A.part_name, A.high_bound_val_bin, A.high_bound_val FROM "
                  "oceanbase.__all_virtual_proxy_sub_partition A") != std::string::npos);
}
