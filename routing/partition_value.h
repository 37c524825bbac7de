#pragma once
// One literal against one partitioning key column, as OceanBase would cast it to the column's
// type: its KEY hash, its integer value (HASH, RANGE, LIST), its order against a RANGE bound or
// LIST value. Every answer is "certain or nothing": a value whose cast the proxy cannot be sure of
// (NULL, decimals, escapes, another character set, an unknown type) gets nullopt and the statement
// is not routed by it. Pure functions, no allocation.
#include <cstdint>
#include <optional>

#include "routing/sql_classifier.h"
#include "routing/topology.h"

namespace odp::routing {

// An integer key value for HASH / RANGE / LIST (one column, integer expression): integer literals,
// and strings / decimals that hold an exact integer.
std::optional<int64_t> integer_value(const SqlValue& v);

// One step of the KEY fold (OB-VECTORS.md section 4): murmurhash64A of the value's bytes as the
// column's type and collation give them, seeded with the fold so far.
std::optional<uint64_t> key_hash(const PartKeyColumn& column, const SqlValue& value, uint64_t seed);

// RANGE_COLUMNS / LIST_COLUMNS: the value against one bound value, as the column compares
// (<0, 0, >0; MAXVALUE is above everything). Integer columns compare integers; string columns only
// under the binary collation (byte order, as VARBINARY compares).
std::optional<int> compare_column_value(const PartKeyColumn& column, const SqlValue& value, const BoundValue& bound);

}  // namespace odp::routing
