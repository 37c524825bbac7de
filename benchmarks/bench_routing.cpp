// Routing micro benchmarks: classify one OLTP statement, pick its partition and its server.
// The target: parse + classify of a typical OLTP statement under 1 us.
#include <string>

#include <benchmark/benchmark.h>

#include "routing/router.h"
#include "routing/sql_classifier.h"

using namespace odp::routing;

namespace {
ClassifiedSql g_sql;

void classify(benchmark::State& state, const char* sql) {
  std::string_view text(sql);
  for (auto _ : state) {
    classify_sql(text, g_sql);
    benchmark::DoNotOptimize(g_sql.condition_count);
  }
}
BENCHMARK_CAPTURE(classify, point_select, "SELECT c FROM sbtest1 WHERE id=4711");
BENCHMARK_CAPTURE(classify, range_select, "SELECT c FROM sbtest1 WHERE id BETWEEN 4711 AND 4810 ORDER BY c");
BENCHMARK_CAPTURE(classify, update_index, "UPDATE sbtest1 SET k=k+1 WHERE id=5");
BENCHMARK_CAPTURE(
    classify, insert,
    "INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 2, '68487932199-96439406143-93774651418-41631865787', "
    "'22195207048-70116052123-74140395089-76317954521-98694025897')");
BENCHMARK_CAPTURE(classify, in_list, "SELECT * FROM orders WHERE id IN (1,2,3) AND customer='x'");
BENCHMARK_CAPTURE(classify, weak_hint, "SELECT /*+ READ_CONSISTENCY(WEAK) */ c FROM test.orders WHERE id = 42");
BENCHMARK_CAPTURE(classify, begin, "BEGIN");

ClusterTopology topology() {
  ClusterTopology ct;
  for (int i = 0; i < 3; ++i) {
    ServerInfo s;
    s.host_port = "127.0.0.1:" + std::to_string(3401 + i);
    s.zone = "z" + std::to_string(i + 1);
    s.idc = "idc" + std::to_string(i + 1);
    s.region = i == 2 ? "r2" : "r1";
    ct.servers.push_back(s);
  }
  TenantInfo t;
  t.name = "t1";
  t.primary_zone = "z1";
  t.servers = {0, 1, 2};
  ct.tenants.push_back(t);
  auto e = std::make_shared<TableEntry>();
  e->tenant = "t1";
  e->database = "test";
  e->table = "orders";
  e->part_type = PartType::hash;
  e->key_columns.push_back({"id", 0, 5, 63, 1});
  for (uint32_t p = 0; p < 3; ++p) {
    Partition part;
    part.part_id = p;
    for (uint32_t s = 0; s < 3; ++s) part.replicas.push_back({s, s == p ? ReplicaRole::leader : ReplicaRole::follower});
    e->partitions.push_back(part);
  }
  ct.tables.emplace(table_key("t1", "test", "orders"), e);
  return ct;
}

// What a session does per statement: classify, find the table entry, pick partition and server.
void classify_and_route(benchmark::State& state) {
  ClusterTopology ct = topology();
  std::string_view sql = "SELECT c FROM orders WHERE id = 4711";
  for (auto _ : state) {
    classify_sql(sql, g_sql);
    const TableEntry* e = ct.find_table("t1", "test", g_sql.tables[0].table);
    RouteInput in;
    in.cluster = &ct;
    in.tenant = &ct.tenants[0];
    in.table = e;
    in.partition = choose_partition(*e, g_sql, {});
    in.place = {"idc1", "r1"};
    RouteDecision d = route(in);
    benchmark::DoNotOptimize(d.candidates[0]);
  }
}
BENCHMARK(classify_and_route);
}  // namespace
