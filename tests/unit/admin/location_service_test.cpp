#include "admin/location_service.h"

#include <map>
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "admin/config.h"
#include "routing/meta_rows.h"

using namespace odp;
using namespace odp::admin;
using routing::MetaRows;

namespace {
// A fake cluster behind the metadata SQL: answers by which table the statement reads.
struct FakeMeta {
  int orders_leader = 1;  // server index (1-based) leading orders p1
  bool down = false;
  int queries = 0;

  static MetaRows rows(std::vector<std::string> cols, std::vector<std::vector<std::optional<std::string>>> r) {
    MetaRows m;
    m.columns = std::move(cols);
    m.rows = std::move(r);
    return m;
  }
  // test.ships: RANGE(id) x KEY(region) with 2 partitions of 2 sub-partitions (tablets 20..23);
  // the sub-partition 2p+s is led by server (p+s) % 2.
  static MetaRows ships_schema() {
    std::vector<std::vector<std::optional<std::string>>> r;
    for (int t = 0; t < 4; ++t)
      for (int s = 1; s <= 2; ++s)
        r.push_back({"t1", "test", "ships", "500002", std::to_string(20 + t), "127.0.0.1", std::to_string(3400 + s),
                     (t / 2 + t % 2) % 2 == s - 1 ? "1" : "2", "2", "2", "0", "3", "1"});
    return rows({"tenant_name", "database_name", "table_name", "table_id", "tablet_id", "svr_ip", "sql_port", "role",
                 "part_num", "replica_num", "replica_type", "table_type", "schema_version"},
                r);
  }
  static Result<MetaRows, std::string> ships_partitioning(const std::string& sql) {
    if (sql.find("partition_info") != std::string::npos) {
      return rows({"tenant_name", "table_id", "part_level", "part_num", "part_type", "part_key_num", "part_key_name",
                   "part_key_type", "part_key_idx", "part_key_level", "part_expr", "part_key_collation_type",
                   "sub_part_num", "sub_part_type", "sub_part_expr"},
                  {{"t1", "500002", "2", "2", "3", "1", "id", "5", "0", "1", "id", "63", "2", "1", "region"},
                   {"t1", "500002", "2", "2", "3", "1", "region", "5", "1", "2", "id", "63", "2", "1", "region"}});
    }
    if (sql.find("sub_partition") != std::string::npos) {
      std::vector<std::vector<std::optional<std::string>>> r;
      for (int t = 0; t < 4; ++t)
        r.push_back({"t1", "500002", std::to_string(t / 2), std::to_string(t % 2),
                     "p" + std::to_string(t / 2) + "sp" + std::to_string(t % 2), std::to_string(20 + t), std::nullopt});
      return rows({"tenant_name", "table_id", "part_id", "sub_part_id", "part_name", "tablet_id", "high_bound_val"}, r);
    }
    return rows({"tenant_name", "table_id", "part_id", "part_name", "tablet_id", "high_bound_val"},
                {{"t1", "500002", "0", "p0", "0", "100"}, {"t1", "500002", "1", "p1", "0", "MAXVALUE"}});
  }

  Result<MetaRows, std::string> operator()(const ClusterConfig&, const std::string& sql) {
    ++queries;
    if (down) return Err(std::string("connection refused"));
    if (sql.find("__all_dummy") != std::string::npos) {
      return rows({"svr_ip", "sql_port"}, {{"127.0.0.1", "3401"}, {"127.0.0.1", "3402"}});
    }
    if (sql.find("__all_virtual_proxy_schema") != std::string::npos && sql.find("'ships'") != std::string::npos)
      return ships_schema();
    if (sql.find("500002") != std::string::npos) return ships_partitioning(sql);
    if (sql.find("__all_virtual_proxy_schema") != std::string::npos) {
      if (sql.find("'orders'") == std::string::npos) return rows({"table_id"}, {});
      std::vector<std::vector<std::optional<std::string>>> r;
      for (int p = 0; p < 2; ++p) {
        for (int s = 1; s <= 2; ++s) {
          int leader = p == 1 ? orders_leader : 1;
          r.push_back({"t1", "test", "orders", "500001", std::to_string(10 + p), "127.0.0.1", std::to_string(3400 + s),
                       s == leader ? "1" : "2", "2", "2", "0", "3", "1"});
        }
      }
      return rows({"tenant_name", "database_name", "table_name", "table_id", "tablet_id", "svr_ip", "sql_port", "role",
                   "part_num", "replica_num", "replica_type", "table_type", "schema_version"},
                  r);
    }
    if (sql.find("partition_info") != std::string::npos) {
      return rows({"tenant_name", "table_id", "part_level", "part_num", "part_type", "part_key_num", "part_key_name",
                   "part_key_type", "part_key_idx", "part_key_level", "part_expr", "part_key_collation_type"},
                  {{"t1", "500001", "1", "2", "0", "1", "id", "5", "0", "1", "id", "63"}});
    }
    if (sql.find("__all_virtual_proxy_partition") != std::string::npos) {
      return rows({"tenant_name", "table_id", "part_id", "part_name", "tablet_id", "high_bound_val"},
                  {{"t1", "500001", "0", "p0", "10", std::nullopt}, {"t1", "500001", "1", "p1", "11", std::nullopt}});
    }
    // Last: the location queries name DBA_OB_SERVERS (joined) and DBA_OB_TENANTS (a subquery) too.
    if (sql.find("DBA_OB_SERVERS") != std::string::npos) {
      return rows({"svr_ip", "svr_port", "sql_port", "zone", "status", "start_service_time", "stop_time"},
                  {{"127.0.0.1", "2892", "3401", "z1", "ACTIVE", "1", std::nullopt},
                   {"127.0.0.1", "2902", "3402", "z2", "ACTIVE", "1", std::nullopt}});
    }
    if (sql.find("DBA_OB_ZONES") != std::string::npos) {
      return rows({"zone", "status", "region", "idc", "type"},
                  {{"z1", "ACTIVE", "r1", "idc1", "READWRITE"}, {"z2", "ACTIVE", "r1", "idc2", "READWRITE"}});
    }
    if (sql.find("DBA_OB_TENANTS") != std::string::npos) {
      return rows({"tenant_id", "tenant_name", "tenant_type", "primary_zone", "locality", "status"},
                  {{"1002", "t1", "USER", "z1;z2", "", "NORMAL"}});
    }
    return Err("unexpected SQL: " + sql);
  }
};

std::shared_ptr<Config> config() {
  auto c = std::make_shared<Config>();
  ClusterConfig cc;
  cc.name = "c1";
  cc.rootservice_list = {"127.0.0.1:3401", "127.0.0.1:3402"};
  cc.default_tenant = "t1";
  cc.refresh_interval_ms = 20000;
  c->clusters.push_back(cc);
  return c;
}
}  // namespace

TEST_CASE("location service: discovery, table load, dirty refresh, negative cache, failures") {
  routing::SnapshotHolder holder(1);
  auto meta = std::make_shared<FakeMeta>();
  uint64_t now = 1000;
  LocationService svc(
      config(), holder, {}, [meta](const ClusterConfig& cc, const std::string& sql) { return (*meta)(cc, sql); },
      [&now] { return now; });
  svc.run_once();
  holder.online(0);
  const routing::ClusterTopology* ct = holder.current()->find_cluster("c1");
  REQUIRE(ct != nullptr);
  CHECK(ct->discovered);
  REQUIRE(ct->servers.size() == 2);
  CHECK(ct->servers[1].idc == "idc2");
  REQUIRE(ct->find_tenant("T1") != nullptr);
  CHECK(ct->find_tenant("t1")->primary_zone == "z1");
  holder.offline(0);

  svc.request_table("c1", "t1", "test", "ORDERS");
  svc.request_table("c1", "t1", "test", "nosuch");
  svc.run_once();
  holder.online(0);
  ct = holder.current()->find_cluster("c1");
  const routing::TableEntry* e = ct->find_table("t1", "test", "orders");
  REQUIRE(e != nullptr);
  CHECK(e->part_type == routing::PartType::hash);
  REQUIRE(e->key_columns.size() == 1);
  CHECK(e->key_columns[0].name == "id");
  CHECK(e->key_columns[0].type == 5);
  CHECK(e->key_columns[0].collation == 63);
  REQUIRE(e->partitions.size() == 2);
  CHECK(e->partitions[1].leader()->server == 0);
  CHECK(ct->missing_tables.count(routing::table_key("t1", "test", "nosuch")) == 1);
  holder.offline(0);

  // A leader switch: marked dirty, re-read, published.
  meta->orders_leader = 2;
  now += 1000;
  svc.mark_dirty("c1", "t1", "test", "orders");
  svc.run_once();
  holder.online(0);
  e = holder.current()->find_cluster("c1")->find_table("t1", "test", "orders");
  REQUIRE(e != nullptr);
  CHECK(e->partitions[1].leader()->server == 1);
  holder.offline(0);

  // The cluster goes away: what is known stays.
  meta->down = true;
  now += 30000;
  uint64_t gen = holder.current()->generation;
  svc.run_once();
  holder.online(0);
  CHECK(holder.current()->find_cluster("c1")->find_table("t1", "test", "orders") != nullptr);
  CHECK(svc.counters().refresh_failures.load() >= 1);
  // The negative entry expired meanwhile (5 s).
  CHECK(holder.current()->find_cluster("c1")->missing_tables.empty());
  CHECK(holder.current()->generation >= gen);
  holder.offline(0);
  CHECK(holder.reclaim() == 0);
}

TEST_CASE("location service: a two-level table loads its sub-partitions, each with its leader") {
  routing::SnapshotHolder holder(1);
  auto meta = std::make_shared<FakeMeta>();
  uint64_t now = 1000;
  LocationService svc(
      config(), holder, {}, [meta](const ClusterConfig& cc, const std::string& sql) { return (*meta)(cc, sql); },
      [&now] { return now; });
  svc.run_once();
  svc.request_table("c1", "t1", "test", "ships");
  svc.run_once();
  holder.online(0);
  const routing::TableEntry* e = holder.current()->find_cluster("c1")->find_table("t1", "test", "ships");
  REQUIRE(e != nullptr);
  CHECK(e->part_type == routing::PartType::range);
  CHECK(e->sub_part_type == routing::PartType::key);
  CHECK(e->key_names() == "id;region");
  REQUIRE(e->partitions.size() == 2);
  for (int t = 0; t < 4; ++t) {
    const routing::Partition* sub = e->tablet(t / 2, t % 2);
    REQUIRE(sub != nullptr);
    CHECK(sub->name == "p" + std::to_string(t / 2) + "sp" + std::to_string(t % 2));
    CHECK(sub->tablet_id == static_cast<uint64_t>(20 + t));
    REQUIRE(sub->leader() != nullptr);
    CHECK(sub->leader()->server == static_cast<routing::ServerIndex>((t / 2 + t % 2) % 2));
  }
  holder.offline(0);
}

TEST_CASE("location service: before discovery the rootservice list is the topology; requests are bounded") {
  routing::SnapshotHolder holder(1);
  auto meta = std::make_shared<FakeMeta>();
  meta->down = true;
  LocationServiceOptions opts;
  opts.max_queue = 2;
  LocationService svc(
      config(), holder, opts, [meta](const ClusterConfig& cc, const std::string& sql) { return (*meta)(cc, sql); },
      [] { return uint64_t{5}; });
  svc.start();
  holder.online(0);
  const routing::ClusterTopology* ct = holder.current()->find_cluster("c1");
  REQUIRE(ct != nullptr);
  CHECK_FALSE(ct->discovered);
  CHECK(ct->servers.size() == 2);
  holder.offline(0);
  for (int i = 0; i < 10; ++i) svc.request_table("c1", "t1", "db", "t" + std::to_string(i));
  svc.stop();
  CHECK(svc.counters().requests_dropped.load() > 0);
}

TEST_CASE("meta rows: bad input is an error or skipped, never a crash") {
  routing::ClusterTopology ct;
  MetaRows empty;
  CHECK_FALSE(routing::build_cluster(empty, empty, empty, {}, ct).ok());
  MetaRows servers;
  servers.columns = {"svr_ip", "sql_port", "zone", "status"};
  servers.rows = {{"127.0.0.1", "notaport", "z1", "ACTIVE"}, {std::nullopt, "1", "z1", "ACTIVE"}};
  MetaRows zones;
  zones.columns = {"zone", "status", "region", "idc", "type"};
  MetaRows tenants;
  tenants.columns = {"tenant_id", "tenant_name", "primary_zone"};
  CHECK_FALSE(routing::build_cluster(servers, zones, tenants, {}, ct).ok());  // no usable server
  servers.rows.push_back({"127.0.0.1", "3401", "z1", "ACTIVE"});
  REQUIRE(routing::build_cluster(servers, zones, tenants, {}, ct).ok());
  CHECK(ct.servers.size() == 1);
  MetaRows schema;
  schema.columns = {"table_id", "tablet_id", "svr_ip", "sql_port", "role", "part_num", "schema_version"};
  schema.rows = {{"1", "1", "127.0.0.1", "3401", "1", "99999999", "1"}};
  CHECK_FALSE(
      routing::build_table("t", "d", "x", schema, empty, empty, empty, empty, ct, 0).ok());  // part_num too large
  schema.rows = {{"1", "1", "10.9.9.9", "3401", "1", "1", "1"}};
  auto b = routing::build_table("t", "d", "x", schema, empty, empty, empty, empty, ct, 0);
  REQUIRE(b.ok());
  CHECK(b->dropped_replicas == 1);
  REQUIRE(b->entry);
  CHECK(b->entry->partitions.size() == 1);
}
