#pragma once
// Where one row of key values falls in a table: the partition, and in a two-level table the
// sub-partition (whose tablet has the replicas). Each level is placed by its own key columns and
// partitioning function, exactly as OceanBase (MySQL mode) places it:
// - HASH: |v| mod n over one integer expression;
// - KEY: h = 0, h = murmur(column_i, seed h) over the key columns in key order, |h| mod n;
// - RANGE / RANGE_COLUMNS: the first partition whose bound tuple is above the row's tuple
//   (lexicographic, MAXVALUE above everything);
// - LIST / LIST_COLUMNS: the partition listing the row's tuple, else the DEFAULT one.
// A value that is missing, NULL or not certain leaves the row unplaced. Pure, no allocation.
#include <cstdint>
#include <span>
#include <vector>

#include "routing/sql_classifier.h"
#include "routing/topology.h"

namespace odp::routing {

// One row: a value for each of entry.key_columns (same positions); null = no value known.
using KeyRow = std::span<const SqlValue* const>;

// The index in `parts` (the partitions, or one partition's sub-partitions) that the row's `level`
// key columns select under `type`; -1 when they cannot be placed.
int locate_in_level(const TableEntry& entry, uint8_t level, PartType type, const std::vector<Partition>& parts,
                    KeyRow row);

struct TabletPlace {
  int index = -1;      // in entry.partitions
  int sub_index = -1;  // in that partition's sub-partitions (two-level tables)
};
// Both levels of a two-level table, or the one level; `index` -1 when the row is not placed, and
// for a two-level table both are -1 unless both levels could be placed (a partition with
// sub-partitions has no leader: only its sub-partitions' tablets do).
TabletPlace locate_row(const TableEntry& entry, KeyRow row);

}  // namespace odp::routing
