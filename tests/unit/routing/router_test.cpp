#include "routing/router.h"

#include <doctest/doctest.h>

#include "routing/sql_classifier.h"

using namespace odp::routing;

namespace {
// The sandbox's shape: s1..s3 in z1..z3, regions r1 r1 r2, IDCs idc1..idc3.
ClusterTopology sandbox() {
  ClusterTopology ct;
  ct.name = "sandbox";
  const char* regions[] = {"r1", "r1", "r2"};
  for (int i = 0; i < 3; ++i) {
    ServerInfo s;
    s.ip = "127.0.0.1";
    s.sql_port = static_cast<uint16_t>(3401 + i);
    s.host_port = "127.0.0.1:" + std::to_string(3401 + i);
    s.zone = "z" + std::to_string(i + 1);
    s.region = regions[i];
    s.idc = "idc" + std::to_string(i + 1);
    ct.servers.push_back(s);
  }
  TenantInfo t;
  t.name = "t1";
  t.primary_zone = "z1";
  t.servers = {0, 1, 2};
  ct.tenants.push_back(t);
  ct.discovered = true;
  return ct;
}

Partition part(int64_t id, ServerIndex leader) {
  Partition p;
  p.part_id = id;
  p.name = "p" + std::to_string(id);
  p.replicas.push_back({leader, ReplicaRole::leader});
  for (ServerIndex s = 0; s < 3; ++s)
    if (s != leader) p.replicas.push_back({s, ReplicaRole::follower});
  return p;
}

TableEntry orders() {
  TableEntry e;
  e.tenant = "t1";
  e.database = "test";
  e.table = "orders";
  e.part_type = PartType::hash;
  e.part_key = "id";
  e.part_key_idx = 0;
  e.partitions = {part(0, 0), part(1, 1), part(2, 2)};
  return e;
}

TableEntry events() {
  TableEntry e = orders();
  e.table = "events";
  e.part_type = PartType::range;
  e.partitions = {part(0, 1), part(1, 2), part(2, 0)};
  e.partitions[0].range_high = 1000;
  e.partitions[1].range_high = 2000;
  return e;
}

TableEntry regions() {
  TableEntry e = orders();
  e.table = "regions";
  e.part_type = PartType::list;
  e.part_key = "code";
  e.partitions = {part(0, 2), part(1, 0), part(2, 1)};
  e.partitions[0].list_values = {1, 2, 3};
  e.partitions[1].list_values = {4, 5, 6};
  e.partitions[2].list_default = true;
  return e;
}

SqlValue integer(int64_t v) {
  SqlValue s;
  s.kind = SqlValue::Kind::integer;
  s.integer = v;
  return s;
}

PartitionChoice choose(const TableEntry& e, std::string_view sql, std::vector<SqlValue> params = {}) {
  static ClassifiedSql c;
  classify_sql(sql, c);
  return choose_partition(e, c, params);
}
}  // namespace

TEST_CASE("partition for a value: HASH, RANGE, LIST") {
  TableEntry o = orders(), ev = events(), r = regions();
  CHECK(partition_for_value(o, integer(3)) == 0);
  CHECK(partition_for_value(o, integer(4)) == 1);
  CHECK(partition_for_value(o, integer(-4)) == 1);  // MySQL: |(-4) mod 3|
  CHECK(partition_for_value(o, integer(INT64_MIN)) >= 0);
  SqlValue s;
  s.kind = SqlValue::Kind::string;
  s.text = "5";
  CHECK(partition_for_value(o, s) == 2);
  s.text = "abc";
  CHECK(partition_for_value(o, s) == -1);
  CHECK(partition_for_value(ev, integer(999)) == 0);
  CHECK(partition_for_value(ev, integer(1000)) == 1);
  CHECK(partition_for_value(ev, integer(1999)) == 1);
  CHECK(partition_for_value(ev, integer(2000)) == 2);
  CHECK(partition_for_value(ev, integer(INT64_MAX)) == 2);
  CHECK(partition_for_value(ev, integer(-50)) == 0);
  CHECK(partition_for_value(r, integer(2)) == 0);
  CHECK(partition_for_value(r, integer(6)) == 1);
  CHECK(partition_for_value(r, integer(42)) == 2);
  TableEntry k = orders();
  k.part_type = PartType::key;
  CHECK(partition_for_value(k, integer(1)) == -1);
}

TEST_CASE("choose_partition from statements") {
  TableEntry o = orders();
  CHECK(choose(o, "SELECT * FROM orders WHERE id = 4").kind == PartitionChoice::Kind::single);
  CHECK(choose(o, "SELECT * FROM orders WHERE id = 4").index == 1);
  CHECK(choose(o, "SELECT * FROM orders WHERE id IN (1, 4, 7)").index == 1);
  CHECK(choose(o, "SELECT * FROM orders WHERE id IN (1, 4, 7)").kind == PartitionChoice::Kind::single);
  CHECK(choose(o, "SELECT * FROM orders WHERE id IN (1, 2)").kind == PartitionChoice::Kind::multiple);
  CHECK(choose(o, "SELECT * FROM orders WHERE customer = 'x'").kind == PartitionChoice::Kind::unknown);
  CHECK(choose(o, "SELECT * FROM orders WHERE ID = 5").index == 2);  // column names are case-insensitive
  CHECK(choose(o, "INSERT INTO orders (customer, id) VALUES ('a', 3), ('b', 6)").index == 0);
  CHECK(choose(o, "INSERT INTO orders (customer, id) VALUES ('a', 3), ('b', 7)").kind ==
        PartitionChoice::Kind::multiple);
  CHECK(choose(o, "INSERT INTO orders VALUES (5, 'c', 1)").index == 2);  // no column list: position
  CHECK(choose(o, "SELECT * FROM orders WHERE id = ?", {integer(4)}).index == 1);
  CHECK(choose(o, "SELECT * FROM orders WHERE id = ?").kind == PartitionChoice::Kind::unknown);
  TableEntry single = orders();
  single.part_type = PartType::none;
  single.partitions.resize(1);
  CHECK(choose(single, "SELECT 1").kind == PartitionChoice::Kind::none);
}

TEST_CASE("route: strong to the leader, weak by LDC order, avoidance") {
  ClusterTopology ct = sandbox();
  TableEntry o = orders();
  RouteInput in;
  in.cluster = &ct;
  in.tenant = &ct.tenants[0];
  in.table = &o;
  in.partition = {PartitionChoice::Kind::single, 1};
  in.place = {"idc1", "r1"};
  RouteDecision d = route(in);
  REQUIRE(d.count >= 1);
  CHECK(d.candidates[0] == 1);
  CHECK(d.to_leader);
  // Weak: followers of p1 are s1 (same idc) and s3 (remote); the leader last.
  in.weak = true;
  d = route(in);
  REQUIRE(d.count == 3);
  CHECK(d.candidates[0] == 0);
  CHECK(d.candidates[1] == 2);
  CHECK(d.candidates[2] == 1);
  CHECK(std::string(d.reason) == "follower (same idc)");
  // p0 led by s1: followers s2 (same region) then s3.
  in.partition = {PartitionChoice::Kind::single, 0};
  d = route(in);
  CHECK(d.candidates[0] == 1);
  CHECK(std::string(d.reason) == "follower (same region)");
  in.policy = RoutePolicy::follower_only;
  d = route(in);
  CHECK(d.count == 2);
  // Avoided followers go last but stay.
  in.policy = RoutePolicy::follower_first;
  in.avoid = 1u << 1;
  d = route(in);
  CHECK(d.candidates[0] == 2);
  CHECK(d.candidates[d.count - 1] == 1);
  // A dead leader: the leader last, the tenant's servers before it.
  in.weak = false;
  in.avoid = 1u << 0;
  d = route(in);
  CHECK(d.candidates[0] != 0);
  CHECK(d.candidates[d.count - 1] == 0);
  // Inactive servers last.
  in.avoid = 0;
  in.weak = true;
  ct.servers[1].status = ServerStatus::inactive;
  d = route(in);
  CHECK(d.candidates[0] == 2);
}

TEST_CASE("route: no table, multi-partition, unknown leader") {
  ClusterTopology ct = sandbox();
  RouteInput in;
  in.cluster = &ct;
  in.tenant = &ct.tenants[0];
  in.place = {"idc3", "r2"};
  RouteDecision d = route(in);
  CHECK(d.candidates[0] == 0);  // primary zone z1 first for strong
  CHECK(std::string(d.reason) == "tenant server (primary zone)");
  in.weak = true;
  d = route(in);
  CHECK(d.candidates[0] == 2);  // same idc
  TableEntry o = orders();
  in.weak = false;
  in.table = &o;
  in.partition = {PartitionChoice::Kind::multiple, 2};
  d = route(in);
  CHECK(d.candidates[0] == 2);
  o.partitions[2].replicas[0].role = ReplicaRole::follower;  // no leader known
  in.partition = {PartitionChoice::Kind::single, 2};
  d = route(in);
  CHECK(d.count == 3);
  CHECK_FALSE(d.to_leader);
  RoutePolicy p;
  CHECK(parse_route_policy("follower_only", p));
  CHECK(p == RoutePolicy::follower_only);
  CHECK_FALSE(parse_route_policy("nope", p));
}
