#include "routing/partition_locate.h"

#include <cstring>

#include <doctest/doctest.h>

#include "routing/partition_hash.h"
#include "routing/router.h"
#include "tests/unit/routing/bound_values.h"
#include "tests/unit/routing/murmur_reference.h"

using namespace odp::routing;
using namespace odp::routing::test;

namespace {
SqlValue integer(int64_t v) {
  SqlValue s;
  s.kind = SqlValue::Kind::integer;
  s.integer = v;
  return s;
}
SqlValue string(std::string_view t) {
  SqlValue s;
  s.kind = SqlValue::Kind::string;
  s.text = t;
  return s;
}
SqlValue null_value() {
  SqlValue s;
  s.kind = SqlValue::Kind::null;
  return s;
}
std::vector<Partition> parts(size_t n) {
  std::vector<Partition> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].part_id = static_cast<int64_t>(i);
    out[i].name = "p" + std::to_string(i);
  }
  return out;
}
TabletPlace place(const TableEntry& e, std::initializer_list<const SqlValue*> row) {
  std::vector<const SqlValue*> r(row);
  return locate_row(e, r);
}
uint64_t ref_int(int64_t v, uint64_t seed) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
  return testref::reference_murmur64a(b, 8, seed);
}
uint64_t ref_bytes(std::string_view s, uint64_t seed) {
  return testref::reference_murmur64a(reinterpret_cast<const uint8_t*>(s.data()), s.size(), seed);
}
int ref_index(uint64_t h, int n) {
  int64_t r = static_cast<int64_t>(h);
  uint64_t u = r < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(r) : static_cast<uint64_t>(r);
  return static_cast<int>(u % static_cast<uint64_t>(n));
}

// KEY(vendor VARBINARY, serial BIGINT) PARTITIONS 6, like the sandbox's test.devices.
TableEntry devices() {
  TableEntry e;
  e.table = "devices";
  e.part_type = PartType::key;
  e.key_columns = {{"vendor", 0, 22, 63, 1}, {"serial", 1, 5, 63, 1}};
  e.partitions = parts(6);
  return e;
}
}  // namespace

TEST_CASE("KEY over several columns: the fold h = murmur(col_i, seed h), in key order") {
  TableEntry e = devices();
  int found[6] = {};
  for (int64_t serial = 0; serial < 60; ++serial) {
    SqlValue vendor = string("acme"), s = integer(serial);
    const uint64_t h = ref_int(serial, ref_bytes("acme", 0));
    TabletPlace p = place(e, {&vendor, &s});
    CHECK(p.index == ref_index(h, 6));
    CHECK(p.sub_index == -1);
    found[p.index]++;
  }
  for (int n : found) CHECK(n > 0);  // the values spread over every partition
  // The order matters: folding serial first gives other partitions for some values.
  bool differs = false;
  for (int64_t serial = 0; serial < 20; ++serial)
    differs |=
        ref_index(ref_int(serial, ref_bytes("acme", 0)), 6) != ref_index(ref_bytes("acme", ref_int(serial, 0)), 6);
  CHECK(differs);
  // The OB-VECTORS seeded vector: longHash(754623846937, seed 53).
  CHECK(key_hash_int(754623846937, 53) == 2452379837092619935ULL);
}

TEST_CASE("KEY over several columns: a NULL or unknown value in any column places nothing") {
  TableEntry e = devices();
  SqlValue vendor = string("acme"), serial = integer(7), null = null_value(), dec;
  dec.kind = SqlValue::Kind::decimal;
  dec.text = "7.5";
  CHECK(place(e, {&vendor, &serial}).index >= 0);
  CHECK(place(e, {&vendor, &null}).index == -1);
  CHECK(place(e, {&null, &serial}).index == -1);
  CHECK(place(e, {&vendor, &dec}).index == -1);
  CHECK(place(e, {&vendor, nullptr}).index == -1);
  CHECK(place(e, {&vendor}).index == -1);  // a row shorter than the key
}

TEST_CASE("RANGE_COLUMNS: lexicographic tuples, MAXVALUE per column") {
  // RANGE COLUMNS(site, seq): p0 < (10, 100), p1 < (10, MAXVALUE), p2 < (20, 0), p3 < (MAXVALUE, MAXVALUE).
  TableEntry e;
  e.part_type = PartType::range_columns;
  e.key_columns = {{"site", 0, 5, 63, 1}, {"seq", 1, 5, 63, 1}};
  e.partitions = parts(4);
  e.partitions[0].high_bound = {bint(10), bint(100)};
  e.partitions[1].high_bound = {bint(10), bmax()};
  e.partitions[2].high_bound = {bint(20), bint(0)};
  e.partitions[3].high_bound = {bmax(), bmax()};
  auto at = [&](int64_t a, int64_t b) {
    SqlValue x = integer(a), y = integer(b);
    return place(e, {&x, &y}).index;
  };
  CHECK(at(9, 1000000) == 0);
  CHECK(at(10, 99) == 0);
  CHECK(at(10, 100) == 1);  // bounds are exclusive
  CHECK(at(10, INT64_MAX) == 1);
  CHECK(at(11, -5) == 2);
  CHECK(at(20, -1) == 2);
  CHECK(at(20, 0) == 3);
  CHECK(at(INT64_MAX, INT64_MAX) == 3);
  SqlValue s = integer(10), null = null_value(), str = string("12");
  CHECK(place(e, {&s, &null}).index == -1);
  CHECK(place(e, {&str, &s}).index == 2);  // '12' casts to the integer column exactly
  // An expression (NOW(), a + 1) is not a value; a column the row is decided before does not matter.
  SqlValue expr, one = integer(1);
  expr.kind = SqlValue::Kind::other;
  CHECK(place(e, {&s, &expr}).index == -1);
  CHECK(place(e, {&one, &expr}).index == 0);
  // Without a MAXVALUE partition, values above every bound are not placed.
  e.partitions.pop_back();
  CHECK(at(30, 0) == -1);
  // A bound tuple of the wrong width (bad metadata): nothing placed.
  e.partitions[0].high_bound = {bint(10)};
  CHECK(at(1, 1) == -1);
}

TEST_CASE("RANGE_COLUMNS on a binary string column compares bytes; other collations are not routed") {
  TableEntry e;
  e.part_type = PartType::range_columns;
  e.key_columns = {{"code", 0, 22, 63, 1}};
  e.partitions = parts(3);
  e.partitions[0].high_bound = {btext("g")};
  e.partitions[1].high_bound = {btext("n")};
  e.partitions[2].high_bound = {bmax()};
  SqlValue a = string("apple"), g = string("g"), z = string("zebra");
  CHECK(place(e, {&a}).index == 0);
  CHECK(place(e, {&g}).index == 1);
  CHECK(place(e, {&z}).index == 2);
  e.key_columns[0].collation = 45;
  CHECK(place(e, {&a}).index == -1);
}

TEST_CASE("LIST_COLUMNS: tuple membership and DEFAULT") {
  TableEntry e;
  e.part_type = PartType::list_columns;
  e.key_columns = {{"country", 0, 4, 63, 1}, {"kind", 1, 4, 63, 1}};
  e.partitions = parts(3);
  e.partitions[0].list_values = {{bint(1), bint(1)}, {bint(1), bint(2)}};
  e.partitions[1].list_values = {{bint(2), bint(1)}};
  e.partitions[2].list_default = true;
  auto at = [&](int64_t a, int64_t b) {
    SqlValue x = integer(a), y = integer(b);
    return place(e, {&x, &y}).index;
  };
  CHECK(at(1, 2) == 0);
  CHECK(at(2, 1) == 1);
  CHECK(at(2, 2) == 2);
  e.partitions[2].list_default = false;
  CHECK(at(2, 2) == -1);  // no DEFAULT partition: not placed
}

namespace {
// RANGE(id) x HASH(region_id): p0 < 1000, p1 < 2000, p2 MAXVALUE, 2 sub-partitions each, like
// the sandbox's test.shipments.
TableEntry shipments() {
  TableEntry e;
  e.table = "shipments";
  e.part_type = PartType::range;
  e.sub_part_type = PartType::hash;
  e.key_columns = {{"id", 0, 5, 63, 1}, {"region_id", 1, 5, 63, 2}};
  e.partitions = parts(3);
  e.partitions[0].high_bound = {bint(1000)};
  e.partitions[1].high_bound = {bint(2000)};
  e.partitions[2].high_bound = {bmax()};
  for (auto& p : e.partitions) {
    p.subpartitions = parts(2);
    for (auto& sp : p.subpartitions) sp.name = p.name + "sp" + std::to_string(sp.part_id);
  }
  return e;
}
}  // namespace

TEST_CASE("two levels: the partition by the level-1 key, the sub-partition by the level-2 key") {
  TableEntry e = shipments();
  auto at = [&](int64_t id, int64_t region) {
    SqlValue x = integer(id), y = integer(region);
    return place(e, {&x, &y});
  };
  CHECK(at(5, 3).index == 0);
  CHECK(at(5, 3).sub_index == 1);
  CHECK(at(1500, 4).index == 1);
  CHECK(at(1500, 4).sub_index == 0);
  CHECK(at(5000, -7).index == 2);
  CHECK(at(5000, -7).sub_index == 1);
  REQUIRE(e.tablet(2, 1) != nullptr);
  CHECK(e.tablet(2, 1)->name == "p2sp1");
  // Only the first level known: no tablet (a partition with sub-partitions has no leader).
  SqlValue id = integer(5);
  TabletPlace p = place(e, {&id, nullptr});
  CHECK(p.index == -1);
  CHECK(p.sub_index == -1);
  CHECK(e.tablet(0, -1) == nullptr);
  // KEY x KEY: each level folds its own columns from seed 0.
  TableEntry kk;
  kk.part_type = PartType::key;
  kk.sub_part_type = PartType::key;
  kk.key_columns = {{"a", 0, 5, 63, 1}, {"b", 1, 5, 63, 2}};
  kk.partitions = parts(4);
  for (auto& q : kk.partitions) q.subpartitions = parts(3);
  SqlValue a = integer(145), b = integer(754623846937);
  TabletPlace t = place(kk, {&a, &b});
  CHECK(t.index == ref_index(ref_int(145, 0), 4));
  CHECK(t.sub_index == ref_index(ref_int(754623846937, 0), 3));
}

TEST_CASE("choose_partition: several key columns from WHERE equalities, IN lists and INSERT rows") {
  TableEntry e = devices();
  ClassifiedSql c;
  auto choose = [&](std::string_view sql, std::vector<SqlValue> params = {}) {
    classify_sql(sql, c);
    return choose_partition(e, c, params);
  };
  SqlValue vendor = string("acme"), serial = integer(42);
  const int want = place(e, {&vendor, &serial}).index;
  REQUIRE(want >= 0);
  PartitionChoice p = choose("SELECT * FROM devices WHERE vendor = 'acme' AND serial = 42");
  CHECK(p.kind == PartitionChoice::Kind::single);
  CHECK(p.index == want);
  CHECK(choose("SELECT * FROM devices WHERE serial = 42 AND x > 3 AND vendor = 'acme'").index == want);
  CHECK(choose("SELECT * FROM devices WHERE (vendor, serial) = ('acme', 42)").index == want);
  CHECK(choose("UPDATE devices SET x = 1 WHERE vendor = ? AND serial = ?", {string("acme"), integer(42)}).index ==
        want);
  CHECK(choose("INSERT INTO devices (serial, note, vendor) VALUES (42, 'n', 'acme')").index == want);
  CHECK(choose("INSERT INTO devices VALUES ('acme', 42, 'n')").index == want);  // by column position
  // One key column missing, or an OR: unknown.
  CHECK(choose("SELECT * FROM devices WHERE vendor = 'acme'").kind == PartitionChoice::Kind::unknown);
  CHECK(choose("SELECT * FROM devices WHERE vendor = 'acme' OR serial = 42").kind == PartitionChoice::Kind::unknown);
  CHECK(choose("SELECT * FROM devices WHERE vendor = 'acme' AND serial = NULL").kind == PartitionChoice::Kind::unknown);
  // IN lists: every combination is placed; several tablets -> multiple.
  int spread = 0;
  for (int64_t s = 0; s < 12; ++s) {
    SqlValue v = integer(s);
    spread |= 1 << place(e, {&vendor, &v}).index;
  }
  CHECK(spread != 1);
  CHECK(choose("SELECT * FROM devices WHERE vendor IN ('acme') AND serial IN (0,1,2,3,4,5,6,7,8,9,10,11)").kind ==
        PartitionChoice::Kind::multiple);
  CHECK(choose("SELECT * FROM devices WHERE vendor IN ('acme', 'acme') AND serial = 42").index == want);
  // Multi-row INSERT: every row placed.
  p = choose("INSERT INTO devices (vendor, serial) VALUES ('acme', 42), ('acme', 42)");
  CHECK(p.kind == PartitionChoice::Kind::single);
  p = choose("INSERT INTO devices (vendor, serial) VALUES ('acme', 42), ('acme', NULL)");
  CHECK(p.kind == PartitionChoice::Kind::unknown);
}

TEST_CASE("choose_partition and route on a two-level table: the sub-partition's leader") {
  TableEntry e = shipments();
  e.partitions[1].subpartitions[0].replicas = {{2, ReplicaRole::leader}, {0, ReplicaRole::follower}};
  ClassifiedSql c;
  classify_sql("INSERT INTO shipments (id, region_id, what) VALUES (1500, 4, 'x')", c);
  PartitionChoice p = choose_partition(e, c, {});
  CHECK(p.kind == PartitionChoice::Kind::single);
  CHECK(p.index == 1);
  CHECK(p.sub_index == 0);
  ClusterTopology ct;
  for (int i = 0; i < 3; ++i) {
    ServerInfo s;
    s.host_port = "127.0.0.1:" + std::to_string(3401 + i);
    ct.servers.push_back(s);
  }
  RouteInput in;
  in.cluster = &ct;
  in.table = &e;
  in.partition = p;
  RouteDecision d = route(in);
  REQUIRE(d.count >= 1);
  CHECK(d.candidates[0] == 2);
  CHECK(d.to_leader);
  // Only the partition known: unknown, the tenant's servers.
  classify_sql("SELECT * FROM shipments WHERE id = 1500", c);
  p = choose_partition(e, c, {});
  CHECK(p.kind == PartitionChoice::Kind::unknown);
  in.partition = p;
  d = route(in);
  CHECK_FALSE(d.to_leader);
  // Two rows in different sub-partitions of one partition: multiple.
  classify_sql("INSERT INTO shipments (id, region_id) VALUES (1500, 4), (1501, 5)", c);
  p = choose_partition(e, c, {});
  CHECK(p.kind == PartitionChoice::Kind::multiple);
}

TEST_CASE("two levels: every function works at either level (LIST x KEY, HASH x RANGE, KEY x LIST_COLUMNS)") {
  // LIST(country) x KEY(name VARCHAR general_ci): the sub-partition is the KEY of the name alone.
  TableEntry lk;
  lk.part_type = PartType::list;
  lk.sub_part_type = PartType::key;
  lk.key_columns = {{"country", 0, 4, 63, 1}, {"name", 1, 22, 45, 2}};
  lk.partitions = parts(2);
  lk.partitions[0].list_values = {{bint(1)}, {bint(2)}};
  lk.partitions[1].list_default = true;
  for (auto& p : lk.partitions) p.subpartitions = parts(8);
  SqlValue country = integer(2), name = string("ABCDEF  ");
  TabletPlace t = place(lk, {&country, &name});
  CHECK(t.index == 0);
  CHECK(t.sub_index == 4);  // "abcdef" under utf8mb4_general_ci: 5483367784116059036 % 8
  country = integer(9);
  CHECK(place(lk, {&country, &name}).index == 1);

  // HASH(id) x RANGE(at): sub-partitions have their own bounds (per partition).
  TableEntry hr;
  hr.part_type = PartType::hash;
  hr.sub_part_type = PartType::range;
  hr.key_columns = {{"id", 0, 5, 63, 1}, {"at", 1, 4, 63, 2}};
  hr.partitions = parts(2);
  for (auto& p : hr.partitions) {
    p.subpartitions = parts(2);
    p.subpartitions[0].high_bound = {bint(100)};
    p.subpartitions[1].high_bound = {bmax()};
  }
  SqlValue id = integer(-3), at = integer(150);
  t = place(hr, {&id, &at});
  CHECK(t.index == 1);
  CHECK(t.sub_index == 1);
  at = integer(99);
  CHECK(place(hr, {&id, &at}).sub_index == 0);

  // KEY(a) x LIST_COLUMNS(b, c).
  TableEntry kl;
  kl.part_type = PartType::key;
  kl.sub_part_type = PartType::list_columns;
  kl.key_columns = {{"a", 0, 5, 63, 1}, {"b", 1, 5, 63, 2}, {"c", 2, 22, 63, 2}};
  kl.partitions = parts(10);
  for (auto& p : kl.partitions) {
    p.subpartitions = parts(2);
    p.subpartitions[0].list_values = {{bint(1), btext("x")}};
    p.subpartitions[1].list_values = {{bint(1), btext("y")}, {bint(2), btext("x")}};
  }
  SqlValue a = integer(145), b = integer(2), c = string("x");
  t = place(kl, {&a, &b, &c});
  CHECK(t.index == 2);  // murmur64A(le64(145), 0) = 3972054043075874492 -> p2 of 10
  CHECK(t.sub_index == 1);
  b = integer(3);
  CHECK(place(kl, {&a, &b, &c}).index == -1);  // no such list value and no DEFAULT: unplaced
}
