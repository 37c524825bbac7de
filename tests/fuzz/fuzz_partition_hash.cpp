// KEY partitioning hash over arbitrary bytes and seeds: murmurhash64A must equal a byte-at-a-time
// reference, and the per-collation inputs must never crash (invalid UTF-8 is refused, not read past).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "routing/partition_hash.h"
#include "tests/unit/routing/murmur_reference.h"

using namespace odp::routing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed |= uint64_t{data[i]} << (8 * i);
  const uint8_t* d = data + 8;
  const size_t n = size - 8;
  FUZZ_CHECK(murmurhash64a(d, n, seed) == odp::routing::testref::reference_murmur64a(d, n, seed));
  std::string_view s(reinterpret_cast<const char*>(d), n);
  auto bin = key_hash_string(s, kCollationBinary, seed);
  FUZZ_CHECK(bin && *bin == odp::routing::testref::reference_murmur64a(d, n, seed));
  auto mb_bin = key_hash_string(s, kCollationUtf8mb4Bin, seed);
  auto ci = key_hash_string(s, kCollationUtf8mb4GeneralCi, seed);
  FUZZ_CHECK(mb_bin.has_value() == ci.has_value());  // both refuse exactly the invalid UTF-8
  (void)key_part_index(seed, n + 1);
  return 0;
}
