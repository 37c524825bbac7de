#include "routing/router.h"

#include <doctest/doctest.h>

#include "routing/sql_classifier.h"
#include "routing/statement_route.h"
#include "routing/topology.h"
#include "tests/unit/routing/bound_values.h"

using namespace odp::routing;
using namespace odp::routing::test;

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
  e.key_columns = {{"id", 0, -1, 0, 1}};
  e.partitions = {part(0, 0), part(1, 1), part(2, 2)};
  return e;
}

TableEntry events() {
  TableEntry e = orders();
  e.table = "events";
  e.part_type = PartType::range;
  e.partitions = {part(0, 1), part(1, 2), part(2, 0)};
  e.partitions[0].high_bound = {bint(1000)};
  e.partitions[1].high_bound = {bint(2000)};
  e.partitions[2].high_bound = {bmax()};
  return e;
}

TableEntry regions() {
  TableEntry e = orders();
  e.table = "regions";
  e.part_type = PartType::list;
  e.key_columns[0].name = "code";
  e.partitions = {part(0, 2), part(1, 0), part(2, 1)};
  e.partitions[0].list_values = {{bint(1)}, {bint(2)}, {bint(3)}};
  e.partitions[1].list_values = {{bint(4)}, {bint(5)}, {bint(6)}};
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
  CHECK(partition_for_value(k, integer(1)) == -1);  // KEY without the key column's type: no route
}

namespace {
TableEntry key_table(int32_t type, uint32_t collation, size_t parts) {
  TableEntry e = orders();
  e.part_type = PartType::key;
  e.key_columns[0].type = type;
  e.key_columns[0].collation = collation;
  e.partitions.clear();
  for (size_t i = 0; i < parts; ++i)
    e.partitions.push_back(part(static_cast<int64_t>(i), static_cast<ServerIndex>(i % 3)));
  return e;
}
SqlValue string(std::string_view text) {
  SqlValue s;
  s.kind = SqlValue::Kind::string;
  s.text = text;
  return s;
}
}  // namespace

TEST_CASE("partition for a value: KEY, as OceanBase (OB-VECTORS.md section 2)") {
  // BIGINT, 10 partitions: murmur64A(le64(145), 0) = 3972054043075874492 -> p2.
  TableEntry accounts = key_table(5, 63, 10);
  CHECK(partition_for_value(accounts, integer(145)) == 2);
  CHECK(partition_for_value(accounts, string("145")) == 2);    // an exact integer string is cast
  CHECK(partition_for_value(accounts, string(" 145")) == -1);  // anything less plain is not
  CHECK(partition_for_value(accounts, string("145.0")) == -1);
  SqlValue null;
  null.kind = SqlValue::Kind::null;
  CHECK(partition_for_value(accounts, null) == -1);  // NULL: no route
  SqlValue dec;
  dec.kind = SqlValue::Kind::decimal;
  dec.text = "145.4";
  CHECK(partition_for_value(accounts, dec) == -1);
  // Out of the column type's range: the server refuses or clamps; not routed.
  TableEntry tiny = key_table(1, 63, 10), uns = key_table(10, 63, 10);
  CHECK(partition_for_value(tiny, integer(300)) == -1);
  CHECK(partition_for_value(tiny, integer(-5)) >= 0);
  CHECK(partition_for_value(uns, integer(-5)) == -1);
  CHECK(partition_for_value(uns, integer(145)) == 2);
  // VARBINARY, 16 partitions: "partitionKey" hashes to -6632533813747801170 -> |r| % 16 = 2.
  TableEntry tags = key_table(22, 63, 16);
  CHECK(partition_for_value(tags, string("partitionKey")) == 2);
  CHECK(partition_for_value(tags, string("partitionKey ")) !=  // binary: spaces count
        -1);
  SqlValue esc = string("a\\'b");
  esc.has_escapes = true;
  CHECK(partition_for_value(tags, esc) == -1);
  // VARCHAR utf8mb4_general_ci, 8 partitions: "abcdef" -> 5483367784116059036 % 8 = 4; case and
  // trailing spaces do not matter.
  TableEntry people = key_table(22, 45, 8);
  CHECK(partition_for_value(people, string("abcdef")) == 4);
  CHECK(partition_for_value(people, string("ABCdef  ")) == 4);
  CHECK(partition_for_value(people, string(std::string_view("a\xC3", 2))) == -1);  // not UTF-8
  SqlValue intro = string("caf\xC3\xA9");
  intro.introducer = true;
  CHECK(partition_for_value(people, intro) == -1);  // _charset'...' with non-ASCII: charset unknown
  intro.text = "abcdef";
  CHECK(partition_for_value(people, intro) == 4);
  // An integer literal on a string column is its decimal text.
  CHECK(partition_for_value(people, integer(-12)) == partition_for_value(people, string("-12")));
  // Unknown collation or type, BINARY(n) (zero-padded): not routed.
  CHECK(partition_for_value(key_table(22, 0, 8), string("abc")) == -1);
  CHECK(partition_for_value(key_table(23, 63, 8), string("abc")) == -1);
  CHECK(partition_for_value(key_table(17, 63, 8), string("2026-01-01")) == -1);
  TableEntry implicit = key_table(5, 63, 10);
  implicit.part_type = PartType::key_implicit;
  CHECK(partition_for_value(implicit, integer(145)) == 2);
}

TEST_CASE("choose_partition: KEY tables from SQL and prepared-statement parameters") {
  TableEntry accounts = key_table(5, 63, 10);
  CHECK(choose(accounts, "INSERT INTO accounts (id, owner) VALUES (145, 'x')").index == 2);
  CHECK(choose(accounts, "SELECT * FROM accounts WHERE id = ?", {integer(145)}).index == 2);
  CHECK(choose(accounts, "SELECT * FROM accounts WHERE id = NULL").kind == PartitionChoice::Kind::unknown);
  TableEntry people = key_table(22, 45, 8);
  people.key_columns[0].name = "name";
  CHECK(choose(people, "SELECT * FROM people WHERE name = 'ABCDEF'").index == 4);
  CHECK(choose(people, "UPDATE people SET x = 1 WHERE name = ?", {string("abcdef")}).index == 4);
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

TEST_CASE("route_statement: what may be sent again") {
  Snapshot snap;
  snap.generation = 7;
  snap.clusters.push_back(sandbox());
  ClusterTopology& ct = snap.clusters[0];
  ct.tables[table_key("t1", "test", "orders")] = std::make_shared<TableEntry>(orders());
  const Snapshot* topology = &snap;
  auto route_of = [&](std::string_view sql, bool in_transaction, bool starts_transaction, bool tied = false,
                      bool give_up_table_wait = false) {
    static ClassifiedSql c;
    classify_sql(sql, c);
    StatementRouteRequest req;
    req.snapshot = topology;
    req.cluster = "sandbox";
    req.tenant = "t1";
    req.database = "test";
    req.sql = &c;
    req.in_transaction = in_transaction;
    req.starts_transaction = starts_transaction;
    req.tied = tied;
    req.give_up_table_wait = give_up_table_wait;
    return route_statement(req);
  };
  // Outside a transaction: a read may run again after its server died; a write only if unsent.
  StatementRoute r = route_of("SELECT * FROM orders WHERE id = 4", false, false);
  REQUIRE(r.outcome == StatementRoute::Outcome::route);
  CHECK(r.generation == 7);
  CHECK(r.retryable);
  CHECK(r.replayable_read);
  CHECK_FALSE(r.rerunnable_transaction_start);
  r = route_of("UPDATE orders SET amount = 1 WHERE id = 4", false, false);
  CHECK(r.retryable);
  CHECK_FALSE(r.replayable_read);
  CHECK_FALSE(r.rerunnable_transaction_start);
  // A transaction's first statement: its server's loss rolled the transaction back, so a DML or a
  // query begins it again; DDL commits by itself and is never sent twice.
  for (const char* sql : {"UPDATE orders SET amount = 1 WHERE id = 4", "INSERT INTO orders (id) VALUES (4)",
                          "DELETE FROM orders WHERE id = 4", "REPLACE INTO orders (id) VALUES (4)",
                          "SELECT * FROM orders WHERE id = 4 FOR UPDATE", "SELECT 1"}) {
    CAPTURE(sql);
    r = route_of(sql, true, true);
    CHECK_FALSE(r.replayable_read);
    CHECK(r.rerunnable_transaction_start);
  }
  CHECK_FALSE(route_of("CREATE TABLE x (a INT)", true, true).rerunnable_transaction_start);
  CHECK_FALSE(route_of("CALL p()", true, true).rerunnable_transaction_start);
  CHECK_FALSE(route_of("UPDATE orders SET amount = 1 WHERE id = 4; SELECT 1", true, true).rerunnable_transaction_start);
  // Later statements of a transaction, or a session tied to its connection: never.
  r = route_of("UPDATE orders SET amount = 1 WHERE id = 4", true, false);
  CHECK_FALSE(r.retryable);
  CHECK_FALSE(r.rerunnable_transaction_start);
  r = route_of("UPDATE orders SET amount = 1 WHERE id = 4", true, true, true);
  CHECK_FALSE(r.retryable);
  CHECK_FALSE(r.rerunnable_transaction_start);
  // A table whose location has not come yet: first a wait; past the wait, routed without it, and a
  // 4038 there is hidden as well (the table is named, so its location is asked for again).
  r = route_of("UPDATE events SET amount = 1 WHERE id = 4", false, false);
  CHECK(r.outcome == StatementRoute::Outcome::wait_for_table);
  r = route_of("UPDATE events SET amount = 1 WHERE id = 4", false, false, false, true);
  REQUIRE(r.outcome == StatementRoute::Outcome::route);
  CHECK(r.retryable);
  CHECK(r.has_table);
  CHECK(r.table_name == "events");
  // A table the metadata says does not exist is not waited for, nor retried.
  ct.missing_tables[table_key("t1", "test", "nosuch")] = 1;
  r = route_of("UPDATE nosuch SET a = 1", false, false);
  REQUIRE(r.outcome == StatementRoute::Outcome::route);
  CHECK_FALSE(r.retryable);
  CHECK_FALSE(r.has_table);
  // Before the cluster's first discovery (a new process after a hot upgrade): nothing is known
  // missing, nothing is waited for, and a 4038 from the configured server is a stale route.
  ct.discovered = false;
  r = route_of("UPDATE nosuch SET a = 1", false, false);
  REQUIRE(r.outcome == StatementRoute::Outcome::route);
  CHECK(r.retryable);
  CHECK(r.table_name == "nosuch");
  ct.discovered = true;
  // No topology at all: the caller's configured servers; the same retry rules.
  topology = nullptr;
  r = route_of("UPDATE orders SET amount = 1 WHERE id = 4", false, false);
  CHECK(r.outcome == StatementRoute::Outcome::no_topology);
  CHECK(r.retryable);
  CHECK(route_of("UPDATE orders SET amount = 1 WHERE id = 4", true, true).retryable);
  CHECK_FALSE(route_of("UPDATE orders SET amount = 1 WHERE id = 4", true, false).retryable);
  CHECK_FALSE(route_of("UPDATE orders SET amount = 1 WHERE id = 4", false, false, true).retryable);
  CHECK_FALSE(route_of("SELECT 1", false, false).retryable);  // no table: nothing can be stale
}
