#pragma once
// MurmurHash64A written the long way, independently of routing/partition_hash.cpp, for the unit
// test and the fuzzer to check it against: blocks assembled little-endian one byte at a time, the
// tail mixed in from its last byte down.
#include <cstddef>
#include <cstdint>

namespace odp::routing::testref {

inline uint64_t reference_murmur64a(const uint8_t* d, size_t n, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  uint64_t h = seed ^ (n * m);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t k = 0;
    for (int b = 0; b < 8; ++b) k |= uint64_t{d[i + b]} << (8 * b);
    k *= m;
    k ^= k >> 47;
    k *= m;
    h ^= k;
    h *= m;
  }
  if (i < n) {
    for (size_t b = n - i; b-- > 0;) h ^= uint64_t{d[i + b]} << (8 * b);
    h *= m;
  }
  h ^= h >> 47;
  h *= m;
  h ^= h >> 47;
  return h;
}

}  // namespace odp::routing::testref
