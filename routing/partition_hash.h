#pragma once
// OceanBase's KEY partitioning, bit-exact (MySQL mode; ../shared/OB-VECTORS.md sections 2 and 4).
//
// A KEY-partitioned table's partition is murmurhash64A folded over the key columns: h = 0, then for
// each column h = hash(value, seed = h), where the bytes hashed depend on the column's type and
// collation; r = (int64)h, r = |r|, partition index = (uint64)r % partition count. NULL keys are
// hashed differently by OceanBase's server and by obproxy, so a NULL key gets no route here.
// Pure functions, no allocation.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace odp::routing {

// MurmurHash64A (m = 0xc6a4a7935bd1e995, r = 47, h = seed ^ (len * m), little-endian blocks).
uint64_t murmurhash64a(const void* data, size_t len, uint64_t seed);

// Collation ids (__all_virtual_proxy_partition_info.part_key_collation_type).
inline constexpr uint32_t kCollationUtf8mb4GeneralCi = 45;
inline constexpr uint32_t kCollationUtf8mb4Bin = 46;
inline constexpr uint32_t kCollationBinary = 63;

// An integer key value (any int/uint column type): the value widened to 8 bytes LE.
uint64_t key_hash_int(int64_t value, uint64_t seed);
uint64_t key_hash_uint(uint64_t value, uint64_t seed);

// A string key value (varchar/char/varbinary/binary) under `collation`:
// - binary (63): the bytes as they are;
// - utf8mb4_bin (46): trailing 0x20 bytes stripped;
// - utf8mb4_general_ci (45): trailing spaces stripped, each code point replaced by its sort weight
//   (2 bytes LE, 3 when above U+FFFF), hashed in 128-byte chunks chained through the seed; nothing
//   hashed when no code point remains.
// nullopt: another collation, or bytes that are not valid UTF-8 under a utf8mb4 collation.
std::optional<uint64_t> key_hash_string(std::string_view bytes, uint32_t collation, uint64_t seed);

// The sort weight of a code point under utf8mb4_general_ci (U+FFFD above U+FFFF).
uint32_t general_ci_weight(uint32_t code_point);

// The partition index of a folded KEY hash among `part_num` partitions (part_num > 0).
size_t key_part_index(uint64_t folded_hash, size_t part_num);

// HASH partitioning (MySQL mode): |v| mod n (INT64_MIN -> INT64_MAX).
size_t hash_part_index(int64_t value, size_t part_num);

}  // namespace odp::routing
