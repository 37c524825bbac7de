#include "routing/partition_locate.h"

#include <optional>

#include "routing/partition_hash.h"
#include "routing/partition_value.h"

namespace odp::routing {

namespace {
constexpr size_t kMaxLevelColumns = 16;

// The key columns of one level and the row's values for them, in key order.
struct LevelKey {
  const PartKeyColumn* columns[kMaxLevelColumns];
  const SqlValue* values[kMaxLevelColumns];
  size_t count = 0;
  bool complete = true;  // every column has a value
};

LevelKey level_key(const TableEntry& entry, uint8_t level, KeyRow row) {
  LevelKey k;
  for (size_t i = 0; i < entry.key_columns.size(); ++i) {
    if (entry.key_columns[i].level != level) continue;
    if (k.count == kMaxLevelColumns || i >= row.size() || row[i] == nullptr) {
      k.complete = false;
      continue;
    }
    k.columns[k.count] = &entry.key_columns[i];
    k.values[k.count] = row[i];
    ++k.count;
  }
  return k;
}

// A value against a bound value: *_COLUMNS forms compare as the column's type; RANGE / LIST
// compare the integer expression's value.
std::optional<int> compare(bool columns_form, const PartKeyColumn& column, const SqlValue& value,
                           const BoundValue& bound) {
  if (columns_form) return compare_column_value(column, value, bound);
  auto v = integer_value(value);
  if (!v) return std::nullopt;
  if (bound.kind == BoundValue::Kind::maxvalue) return -1;
  if (bound.kind != BoundValue::Kind::integer) return std::nullopt;
  return *v < bound.integer ? -1 : *v > bound.integer ? 1 : 0;
}

int locate_range(const LevelKey& k, bool columns_form, const std::vector<Partition>& parts) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const BoundTuple& bound = parts[i].high_bound;
    if (bound.size() != k.count) return -1;
    // Lexicographic: the row is below the bound at the first column where they differ.
    bool below = false;
    for (size_t c = 0; c < k.count; ++c) {
      auto cmp = compare(columns_form, *k.columns[c], *k.values[c], bound[c]);
      if (!cmp) return -1;
      if (*cmp != 0) {
        below = *cmp < 0;
        break;
      }
    }
    if (below) return static_cast<int>(i);
  }
  return -1;
}

int locate_list(const LevelKey& k, bool columns_form, const std::vector<Partition>& parts) {
  int fallback = -1;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].list_default) fallback = static_cast<int>(i);
    for (const BoundTuple& tuple : parts[i].list_values) {
      if (tuple.size() != k.count) return -1;
      bool equal = true;
      for (size_t c = 0; c < k.count && equal; ++c) {
        auto cmp = compare(columns_form, *k.columns[c], *k.values[c], tuple[c]);
        if (!cmp) return -1;  // not certain: it might be this tuple
        equal = *cmp == 0;
      }
      if (equal) return static_cast<int>(i);
    }
  }
  return fallback;
}
}  // namespace

int locate_in_level(const TableEntry& entry, uint8_t level, PartType type, const std::vector<Partition>& parts,
                    KeyRow row) {
  const size_t n = parts.size();
  if (n == 0) return -1;
  if (type == PartType::none) return 0;
  LevelKey k = level_key(entry, level, row);
  if (!k.complete || k.count == 0) return -1;
  switch (type) {
    case PartType::hash: {
      if (k.count != 1) return -1;
      auto v = integer_value(*k.values[0]);
      if (!v) return -1;
      return static_cast<int>(hash_part_index(*v, n));  // MySQL mode: |v| mod n
    }
    case PartType::key:
    case PartType::key_implicit: {
      uint64_t h = 0;
      for (size_t c = 0; c < k.count; ++c) {
        auto next = key_hash(*k.columns[c], *k.values[c], h);
        if (!next) return -1;
        h = *next;
      }
      return static_cast<int>(key_part_index(h, n));
    }
    case PartType::range:
      return k.count == 1 ? locate_range(k, false, parts) : -1;
    case PartType::range_columns:
      return locate_range(k, true, parts);
    case PartType::list:
      return k.count == 1 ? locate_list(k, false, parts) : -1;
    case PartType::list_columns:
      return locate_list(k, true, parts);
    case PartType::none:
      break;
  }
  return -1;
}

TabletPlace locate_row(const TableEntry& entry, KeyRow row) {
  TabletPlace out;
  int index = locate_in_level(entry, 1, entry.part_type, entry.partitions, row);
  if (index < 0) return out;
  if (!entry.two_level()) {
    out.index = index;
    return out;
  }
  const Partition& p = entry.partitions[static_cast<size_t>(index)];
  int sub = locate_in_level(entry, 2, entry.sub_part_type, p.subpartitions, row);
  if (sub < 0) return out;
  out.index = index;
  out.sub_index = sub;
  return out;
}

}  // namespace odp::routing
