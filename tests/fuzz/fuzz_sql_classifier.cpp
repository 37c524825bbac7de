// The SQL classifier over arbitrary text, and partition choice over what it found: counts stay
// within capacity and every view it returns lies inside the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "routing/router.h"
#include "routing/sql_classifier.h"

using namespace odp::routing;

namespace {
bool inside(std::string_view v, const char* b, size_t n) {
  return v.empty() || (v.data() >= b && v.data() + v.size() <= b + n);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ClassifiedSql c;
  const char* b = reinterpret_cast<const char*>(data);
  classify_sql(std::string_view(b, size), c);
  FUZZ_CHECK(c.table_count <= ClassifiedSql::kMaxTables);
  FUZZ_CHECK(c.condition_count <= ClassifiedSql::kMaxConditions);
  FUZZ_CHECK(c.value_count <= ClassifiedSql::kMaxValues);
  for (uint8_t i = 0; i < c.table_count; ++i) {
    FUZZ_CHECK(inside(c.tables[i].table, b, size));
    FUZZ_CHECK(inside(c.tables[i].database, b, size));
  }
  for (uint8_t i = 0; i < c.condition_count; ++i) {
    const KeyCondition& k = c.conditions[i];
    FUZZ_CHECK(inside(k.column, b, size));
    FUZZ_CHECK(static_cast<size_t>(k.first_value) + k.value_count <= c.value_count);
  }
  for (uint16_t i = 0; i < c.value_count; ++i) FUZZ_CHECK(inside(c.values[i].text, b, size));
  FUZZ_CHECK(inside(c.target_server, b, size));
  FUZZ_CHECK(inside(c.use_database, b, size));
  // A table partitioned every way must accept whatever the classifier found.
  TableEntry e;
  e.key_columns.push_back({"id", 0, 5, 63, 1});
  e.partitions.resize(3);
  e.partitions[0].high_bound = {BoundValue{BoundValue::Kind::integer, 10, {}}};
  e.partitions[1].high_bound = {BoundValue{BoundValue::Kind::integer, 20, {}}};
  e.partitions[2].high_bound = {BoundValue{BoundValue::Kind::maxvalue, 0, {}}};
  e.partitions[0].list_values = {{BoundValue{BoundValue::Kind::integer, 1, {}}},
                                 {BoundValue{BoundValue::Kind::integer, 2, {}}}};
  e.partitions[2].list_default = true;
  for (PartType t : {PartType::hash, PartType::range, PartType::list, PartType::key}) {
    e.part_type = t;
    PartitionChoice p = choose_partition(e, c, {});
    FUZZ_CHECK(p.index < 3);
  }
  // Two keys and two levels: a tablet is named only with both indexes in range.
  e.key_columns.push_back({"k", 1, 22, 63, 2});
  e.sub_part_type = PartType::key;
  for (auto& part : e.partitions) part.subpartitions.resize(2);
  for (PartType t : {PartType::range_columns, PartType::list_columns, PartType::key}) {
    e.part_type = t;
    PartitionChoice p = choose_partition(e, c, {});
    FUZZ_CHECK(p.index < 3 && p.sub_index < 2);
    FUZZ_CHECK(p.kind != PartitionChoice::Kind::single || e.tablet(p.index, p.sub_index) != nullptr);
  }
  return 0;
}
