#pragma once
// RANGE bounds and LIST values as the partition metadata writes them (docs/METADATA.md):
// `__all_virtual_proxy_partition.high_bound_val` and its sub-partition twin (OceanBase 4.x writes a
// RANGE bound and a LIST value list into that one column).
//   high bound: "100", "MAXVALUE", "(100)", "10, MAXVALUE", "('abc', 5)"
//   list:       "1,2,3" (one key column), "(1,'a'),(2,'b')" (several), "DEFAULT"
// Values are integers, single-quoted strings ('' and backslash escapes) or MAXVALUE. Untrusted
// input: anything else is refused (nullopt), never guessed.
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "routing/topology.h"

namespace odp::routing {

std::optional<BoundTuple> parse_high_bound(std::string_view text);

struct ListValues {
  std::vector<BoundTuple> tuples;
  bool is_default = false;
};
// `columns`: the number of key columns of the level; every tuple must have that many values.
std::optional<ListValues> parse_list_values(std::string_view text, size_t columns);

}  // namespace odp::routing
