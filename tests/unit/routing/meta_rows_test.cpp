#include "routing/meta_rows.h"

#include <doctest/doctest.h>

using namespace odp::routing;

namespace {
using Row = std::vector<std::optional<std::string>>;

ClusterTopology three_servers() {
  ClusterTopology ct;
  for (int i = 0; i < 3; ++i) {
    ServerInfo s;
    s.ip = "127.0.0.1";
    s.sql_port = static_cast<uint16_t>(3401 + i);
    s.host_port = "127.0.0.1:" + std::to_string(3401 + i);
    ct.servers.push_back(s);
  }
  return ct;
}

MetaRows schema_rows() {
  MetaRows m;
  m.columns = {"table_id", "tablet_id", "svr_ip", "sql_port", "role", "part_num", "schema_version"};
  return m;
}
// A replica row: tablet, server index (0-based), leader?
Row replica(uint64_t table_id, uint64_t tablet, int server, bool leader, int part_num) {
  return {std::to_string(table_id), std::to_string(tablet),   "127.0.0.1", std::to_string(3401 + server),
          leader ? "1" : "2",       std::to_string(part_num), "1"};
}

MetaRows info_rows() {
  MetaRows m;
  m.columns = {"tenant_name",  "table_id",       "part_level",    "part_num",
               "part_type",    "part_key_num",   "part_key_name", "part_key_type",
               "part_key_idx", "part_key_level", "part_expr",     "part_key_collation_type",
               "sub_part_num", "sub_part_type",  "sub_part_expr"};
  return m;
}

MetaRows partition_rows() {
  MetaRows m;
  m.columns = {"tenant_name", "table_id", "part_id", "part_name", "tablet_id", "high_bound_val"};
  return m;
}

MetaRows sub_partition_rows() {
  MetaRows m;
  m.columns = {"tenant_name", "table_id", "part_id", "sub_part_id", "part_name", "tablet_id", "high_bound_val"};
  return m;
}
}  // namespace

TEST_CASE("meta rows: a KEY over two columns keeps the expression's key order") {
  ClusterTopology ct = three_servers();
  MetaRows schema = schema_rows();
  for (int p = 0; p < 6; ++p) schema.rows.push_back(replica(7, 70 + p, p % 3, true, 6));
  MetaRows info = info_rows();
  // Rows ordered by part_key_idx (serial is the table's first column) but KEY(vendor, serial).
  info.rows = {{"t1", "7", "1", "6", "1", "2", "serial", "5", "0", "1", "vendor, serial", "63", "0", "255", ""},
               {"t1", "7", "1", "6", "1", "2", "vendor", "22", "1", "1", "vendor, serial", "63", "0", "255", ""}};
  MetaRows parts = partition_rows();
  for (int p = 0; p < 6; ++p)
    parts.rows.push_back({"t1", "7", std::to_string(p), "p" + std::to_string(p), std::to_string(70 + p), std::nullopt});
  auto b = build_table("t1", "test", "devices", schema, info, parts, {}, schema, ct, 0);
  REQUIRE(b.ok());
  REQUIRE(b->entry);
  const TableEntry& e = *b->entry;
  CHECK(e.part_type == PartType::key);
  CHECK_FALSE(e.two_level());
  REQUIRE(e.key_columns.size() == 2);
  CHECK(e.key_columns[0].name == "vendor");
  CHECK(e.key_columns[0].index == 1);
  CHECK(e.key_columns[0].type == 22);
  CHECK(e.key_columns[1].name == "serial");
  CHECK(e.key_columns[1].index == 0);
  CHECK(e.key_names() == "vendor,serial");
  CHECK(e.partitions[4].leader()->server == 1);
}

TEST_CASE("meta rows: a level partitioned by an expression, not columns, has no key to place by") {
  ClusterTopology ct = three_servers();
  MetaRows schema = schema_rows();
  for (int p = 0; p < 3; ++p) schema.rows.push_back(replica(6, 60 + p, p, true, 3));
  MetaRows info = info_rows();
  info.rows = {{"t1", "6", "1", "3", "0", "1", "id", "5", "0", "1", "id DIV 10", "63", "0", "255", ""}};
  auto b = build_table("t1", "test", "t", schema, info, partition_rows(), {}, schema, ct, 0);
  REQUIRE(b.ok());
  CHECK(b->entry->part_type == PartType::hash);
  CHECK(b->entry->key_columns.empty());
  info.rows[0][10] = "`id`";
  b = build_table("t1", "test", "t", schema, info, partition_rows(), {}, schema, ct, 0);
  REQUIRE(b.ok());
  CHECK(b->entry->key_columns.size() == 1);
}

TEST_CASE("meta rows: RANGE_COLUMNS bounds and LIST_COLUMNS values") {
  ClusterTopology ct = three_servers();
  MetaRows schema = schema_rows();
  for (int p = 0; p < 3; ++p) schema.rows.push_back(replica(8, 80 + p, p, true, 3));
  MetaRows info = info_rows();
  info.rows = {{"t1", "8", "1", "3", "4", "2", "site", "5", "0", "1", "site,seq", "63", "0", "255", ""},
               {"t1", "8", "1", "3", "4", "2", "seq", "5", "1", "1", "site,seq", "63", "0", "255", ""}};
  MetaRows parts = partition_rows();
  // Listed out of order: the entry keeps them in ascending bound order.
  parts.rows = {{"t1", "8", "2", "p2", "82", "MAXVALUE, MAXVALUE"},
                {"t1", "8", "0", "p0", "80", "(10, 100)"},
                {"t1", "8", "1", "p1", "81", "10, MAXVALUE"}};
  auto b = build_table("t1", "test", "readings", schema, info, parts, {}, schema, ct, 0);
  REQUIRE(b.ok());
  REQUIRE(b->entry);
  const TableEntry& e = *b->entry;
  CHECK(e.part_type == PartType::range_columns);
  REQUIRE(e.partitions.size() == 3);
  CHECK(e.partitions[0].name == "p0");
  REQUIRE(e.partitions[0].high_bound.size() == 2);
  CHECK(e.partitions[0].high_bound[1].integer == 100);
  CHECK(e.partitions[1].name == "p1");
  CHECK(e.partitions[1].high_bound[1].kind == BoundValue::Kind::maxvalue);
  CHECK(e.partitions[2].name == "p2");
  CHECK(e.partitions[2].leader()->server == 2);

  info.rows[0][4] = info.rows[1][4] = "6";  // LIST_COLUMNS
  parts.rows = {{"t1", "8", "0", "p0", "80", "(1,1),(1,2)"},
                {"t1", "8", "1", "p1", "81", "(2, 'x')"},
                {"t1", "8", "2", "p2", "82", "DEFAULT"}};
  b = build_table("t1", "test", "readings", schema, info, parts, {}, schema, ct, 0);
  REQUIRE(b.ok());
  const TableEntry& l = *b->entry;
  CHECK(l.part_type == PartType::list_columns);
  CHECK(l.partitions[0].list_values.size() == 2);
  CHECK(l.partitions[1].list_values[0][1].text == "x");
  CHECK(l.partitions[2].list_default);
  // A value list of the wrong width is left empty (nothing matches it), not misread.
  parts.rows[0][5] = "1,2";
  b = build_table("t1", "test", "readings", schema, info, parts, {}, schema, ct, 0);
  REQUIRE(b.ok());
  CHECK(b->entry->partitions[0].list_values.empty());
}

TEST_CASE("meta rows: RANGE x HASH, sub-partitions with their own tablets and leaders") {
  ClusterTopology ct = three_servers();
  MetaRows schema = schema_rows();
  // 3 partitions x 2 sub-partitions; tablets 90 + 2p + s; leaders spread.
  for (int p = 0; p < 3; ++p)
    for (int s = 0; s < 2; ++s)
      for (int srv = 0; srv < 3; ++srv)
        schema.rows.push_back(replica(9, 90 + 2 * p + s, srv, srv == (2 * p + s) % 3, 3));
  MetaRows info = info_rows();
  info.rows = {{"t1", "9", "2", "3", "3", "1", "id", "5", "0", "1", "id", "63", "2", "0", "region_id"},
               {"t1", "9", "2", "3", "3", "1", "region_id", "5", "1", "2", "id", "63", "2", "0", "region_id"}};
  CHECK(has_sub_partitions(info));
  MetaRows parts = partition_rows();
  parts.rows = {{"t1", "9", "0", "p0", std::nullopt, "1000"},
                {"t1", "9", "1", "p1", std::nullopt, "2000"},
                {"t1", "9", "2", "p2", std::nullopt, "MAXVALUE"}};
  MetaRows subs = sub_partition_rows();
  for (int p = 0; p < 3; ++p)
    for (int s = 0; s < 2; ++s)
      subs.rows.push_back({"t1", "9", std::to_string(p), std::to_string(s),
                           "p" + std::to_string(p) + "sp" + std::to_string(s), std::to_string(90 + 2 * p + s),
                           std::nullopt});
  auto b = build_table("t1", "test", "shipments", schema, info, parts, subs, schema, ct, 0);
  REQUIRE(b.ok());
  REQUIRE(b->entry);
  const TableEntry& e = *b->entry;
  CHECK(e.part_type == PartType::range);
  CHECK(e.sub_part_type == PartType::hash);
  CHECK(e.partitioned());
  REQUIRE(e.key_columns.size() == 2);
  CHECK(e.key_columns[0].name == "id");
  CHECK(e.key_columns[0].level == 1);
  CHECK(e.key_columns[1].name == "region_id");
  CHECK(e.key_columns[1].level == 2);
  CHECK(e.key_names() == "id;region_id");
  REQUIRE(e.partitions.size() == 3);
  for (int p = 0; p < 3; ++p) {
    const Partition& part = e.partitions[static_cast<size_t>(p)];
    CHECK(part.replicas.empty());  // the partition has no tablet of its own
    REQUIRE(part.subpartitions.size() == 2);
    for (int s = 0; s < 2; ++s) {
      const Partition& sub = part.subpartitions[static_cast<size_t>(s)];
      CHECK(sub.name == "p" + std::to_string(p) + "sp" + std::to_string(s));
      CHECK(sub.tablet_id == static_cast<uint64_t>(90 + 2 * p + s));
      REQUIRE(sub.leader() != nullptr);
      CHECK(sub.leader()->server == static_cast<ServerIndex>((2 * p + s) % 3));
      CHECK(sub.replicas.size() == 3);
    }
  }
  CHECK(e.tablet(1, 1) == &e.partitions[1].subpartitions[1]);
  // Sub-partitioning named but its rows missing: partitions without sub-partitions (no tablet).
  b = build_table("t1", "test", "shipments", schema, info, parts, {}, schema, ct, 0);
  REQUIRE_FALSE(b.ok());  // the sub-partition query's columns are required
  MetaRows no_rows = sub_partition_rows();
  b = build_table("t1", "test", "shipments", schema, info, parts, no_rows, schema, ct, 0);
  REQUIRE(b.ok());
  CHECK(b->entry->tablet(1, 0) == nullptr);
}

TEST_CASE("meta rows: replicas by tablet; the first tablet's rows twice count once; the tablets to ask for") {
  ClusterTopology ct = three_servers();
  MetaRows entry = schema_rows();
  // OceanBase answers the entry (tablet_id = 0) with the first tablet's rows, as the batch does.
  entry.rows = {replica(7, 70, 0, true, 2), replica(7, 70, 1, false, 2)};
  MetaRows batch = schema_rows();
  batch.rows = {replica(7, 70, 0, true, 2), replica(7, 70, 1, false, 2), replica(7, 71, 2, true, 2),
                replica(7, 99, 1, true, 2)};  // a tablet the table does not have: ignored
  MetaRows info = info_rows();
  info.rows = {{"t1", "7", "1", "2", "0", "1", "id", "5", "0", "1", "id", "63", "0", "255", ""}};
  MetaRows parts = partition_rows();
  parts.rows = {{"t1", "7", "0", "p0", "70", std::nullopt},
                {"t1", "7", "1", "p1", "71", std::nullopt},
                {"t1", "7", "1", "p1", "71", std::nullopt},
                {"t1", "7", "9", "p9", "garbage", std::nullopt}};
  CHECK(leaf_tablets(info, parts, {}) == std::vector<uint64_t>{70, 71});
  auto b = build_table("t1", "test", "t", entry, info, parts, {}, batch, ct, 0);
  REQUIRE(b.ok());
  const TableEntry& e = *b->entry;
  CHECK(e.partitions[0].replicas.size() == 2);
  CHECK(e.partitions[0].leader()->server == 0);
  CHECK(e.partitions[1].replicas.size() == 1);
  CHECK(e.partitions[1].leader()->server == 2);
  // Replica rows without the columns they need: an error, not a guess.
  MetaRows bad;
  bad.columns = {"tablet_id", "svr_ip"};
  bad.rows = {{"70", "127.0.0.1"}};
  CHECK_FALSE(build_table("t1", "test", "t", entry, info, parts, {}, bad, ct, 0).ok());
}

TEST_CASE("meta rows: RANGE bounds from high_bound_val_bin, the server's serialisation, before the text") {
  ClusterTopology ct = three_servers();
  MetaRows schema = schema_rows();
  for (int p = 0; p < 3; ++p) schema.rows.push_back(replica(9, 90 + p, p, true, 3));
  MetaRows info = info_rows();
  info.rows = {{"t1", "9", "1", "3", "3", "1", "id", "5", "0", "1", "id", "63", "0", "255", ""}};
  MetaRows parts;
  parts.columns = {"tenant_name", "table_id",           "part_id",       "part_name",
                   "tablet_id",   "high_bound_val_bin", "high_bound_val"};
  const std::string int1000("\x01\x05\x05\x3F\xFF\xE8\x07", 7);  // ObRowkey (Int 1000)
  const std::string int2000("\x01\x05\x05\x3F\xFF\xD0\x0F", 7);
  const std::string maxvalue("\x01\x19\x07\x00\xFF\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 15);
  // p1's text disagrees (the binary wins); p2 has only the binary; p0's binary is unreadable (the text).
  parts.rows = {{"t1", "9", "0", "p0", "90", std::string("\x01\x13", 2), "1000"},
                {"t1", "9", "1", "p1", "91", int2000, "1500"},
                {"t1", "9", "2", "p2", "92", maxvalue, ""}};
  auto b = build_table("t1", "test", "events", schema, info, parts, {}, schema, ct, 0);
  REQUIRE(b.ok());
  const TableEntry& e = *b->entry;
  REQUIRE(e.partitions.size() == 3);
  REQUIRE(e.partitions[0].high_bound.size() == 1);
  CHECK(e.partitions[0].high_bound[0].integer == 1000);
  REQUIRE(e.partitions[1].high_bound.size() == 1);
  CHECK(e.partitions[1].high_bound[0].integer == 2000);
  REQUIRE(e.partitions[2].high_bound.size() == 1);
  CHECK(e.partitions[2].high_bound[0].kind == BoundValue::Kind::maxvalue);
  // Only the binary column: enough.
  parts.columns = {"tenant_name", "table_id", "part_id", "part_name", "tablet_id", "high_bound_val_bin"};
  parts.rows = {{"t1", "9", "0", "p0", "90", int1000},
                {"t1", "9", "1", "p1", "91", int2000},
                {"t1", "9", "2", "p2", "92", maxvalue}};
  b = build_table("t1", "test", "events", schema, info, parts, {}, schema, ct, 0);
  REQUIRE(b.ok());
  CHECK(b->entry->partitions[0].high_bound[0].integer == 1000);
  // Neither column: refused with the column's name.
  parts.columns = {"tenant_name", "table_id", "part_id", "part_name", "tablet_id", "other"};
  b = build_table("t1", "test", "events", schema, info, parts, {}, schema, ct, 0);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().find("high_bound_val") != std::string::npos);
}
