// KEY partitioning hash: every vector of ../shared/OB-VECTORS.md section 2 (from OceanBase's own
// client tests), the section 4 NULL notes, and murmurhash64A against a plain byte-at-a-time
// reference on random inputs.
#include "routing/partition_hash.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/unit/routing/murmur_reference.h"

using namespace odp::routing;

namespace {
uint64_t u(int64_t v) {
  return static_cast<uint64_t>(v);
}

uint64_t reference_murmur64a(const std::vector<uint8_t>& d, uint64_t seed) {
  return testref::reference_murmur64a(d.data(), d.size(), seed);
}

// general_ci input the long way: weights of an ASCII string (upper-cased), 2 bytes LE each.
std::vector<uint8_t> ascii_weights(std::string_view s) {
  std::vector<uint8_t> out;
  for (char c : s) {
    char w = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    out.push_back(static_cast<uint8_t>(w));
    out.push_back(0);
  }
  return out;
}
}  // namespace

TEST_CASE("murmurhash64A: OceanBase's vectors (obkv-table-client-java ObHashUtilTest)") {
  // longHash(145, 0) and longHash(754623846937, 53): the integer as 8 bytes LE.
  CHECK(key_hash_int(145, 0) == u(3972054043075874492LL));
  CHECK(key_hash_int(754623846937LL, 53) == u(2452379837092619935LL));
  uint8_t le145[8] = {145, 0, 0, 0, 0, 0, 0, 0};
  CHECK(murmurhash64a(le145, 8, 0) == u(3972054043075874492LL));
  CHECK(key_hash_uint(145, 0) == u(3972054043075874492LL));
  // binary / KEY_V3 "partitionKey", seed 0.
  CHECK(key_hash_string("partitionKey", kCollationBinary, 0) == u(-6632533813747801170LL));
  CHECK(murmurhash64a("partitionKey", 12, 0) == u(-6632533813747801170LL));
  // utf8mb4_bin.
  CHECK(key_hash_string("Test Partition Key 0 c1 column c1 c1 c1", kCollationUtf8mb4Bin, 0) == u(141008085297877540LL));
  const char bytes47[] = {0x01, 0x01, 0x02, 0x7a, 0x71, 0x2b, 0x5f, 0x30};
  CHECK(key_hash_string(std::string_view(bytes47, 8), kCollationUtf8mb4Bin, 47) == u(-8699342424260018756LL));
  // utf8mb4_general_ci "abcdef": hashed as the weights 41 00 42 00 ... 46 00.
  CHECK(key_hash_string("abcdef", kCollationUtf8mb4GeneralCi, 0) == u(5483367784116059036LL));
  const uint8_t w[] = {0x41, 0, 0x42, 0, 0x43, 0, 0x44, 0, 0x45, 0, 0x46, 0};
  CHECK(murmurhash64a(w, sizeof w, 0) == u(5483367784116059036LL));
}

TEST_CASE("KEY: the NULL notes (obproxy hashes int 0, the server 4 zero bytes: so no route)") {
  const uint8_t zeros[8] = {};
  CHECK(murmurhash64a(zeros, 8, 0) == u(8217090173679840641LL));
  CHECK(key_hash_int(0, 0) == u(8217090173679840641LL));
  CHECK(murmurhash64a(zeros, 4, 0) == u(6960269033020761575LL));
}

TEST_CASE("HASH: innerHash vectors (obkv-table-client-go), |v| mod n") {
  CHECK(hash_part_index(0, 10) == 0);
  CHECK(hash_part_index(1, 10) == 1);
  CHECK(hash_part_index(11, 10) == 1);
  CHECK(hash_part_index(-1, 10) == 1);
  CHECK(hash_part_index(INT64_MIN, 10) == static_cast<size_t>(INT64_MAX % 10));
}

TEST_CASE("KEY: fold and partition index") {
  // r = (int64)h, |r|, (uint64)r % n.
  CHECK(key_part_index(5, 3) == 2);
  CHECK(key_part_index(u(-5), 3) == 2);
  CHECK(key_part_index(u(-6632533813747801170LL), 16) == static_cast<size_t>(6632533813747801170ULL % 16));
  CHECK(key_part_index(u(INT64_MIN), 10) == static_cast<size_t>((uint64_t{1} << 63) % 10));
  CHECK(key_part_index(u(3972054043075874492LL), 10) == 2);
}

TEST_CASE("KEY: per-type input rules") {
  // binary: no trimming; utf8mb4_bin and general_ci: trailing spaces stripped.
  CHECK(key_hash_string("ab ", kCollationBinary, 0) == murmurhash64a("ab ", 3, 0));
  CHECK(key_hash_string("ab  ", kCollationUtf8mb4Bin, 0) == murmurhash64a("ab", 2, 0));
  CHECK(key_hash_string("aBc  ", kCollationUtf8mb4GeneralCi, 7) ==
        key_hash_string("ABC", kCollationUtf8mb4GeneralCi, 7));
  // general_ci: an empty (or all-space) string hashes nothing; utf8mb4_bin hashes zero bytes.
  CHECK(key_hash_string("   ", kCollationUtf8mb4GeneralCi, 99) == uint64_t{99});
  CHECK(key_hash_string("", kCollationUtf8mb4Bin, 99) == murmurhash64a("", 0, 99));
  // general_ci weights: accents fold, sharp s weighs S, supplementary code points weigh U+FFFD.
  CHECK(general_ci_weight('a') == 'A');
  CHECK(general_ci_weight(0xE9) == 'E');
  CHECK(general_ci_weight(0xDF) == 'S');
  CHECK(general_ci_weight(0x1F600) == 0xFFFD);
  CHECK(general_ci_weight(0x4E2D) == 0x4E2D);
  CHECK(key_hash_string("caf\xC3\xA9", kCollationUtf8mb4GeneralCi, 0) ==
        key_hash_string("CAFE", kCollationUtf8mb4GeneralCi, 0));
  const uint8_t emoji_w[] = {0x41, 0, 0xFD, 0xFF};
  CHECK(key_hash_string("a\xF0\x9F\x98\x80", kCollationUtf8mb4GeneralCi, 0) == murmurhash64a(emoji_w, 4, 0));
  // Long strings: 128-byte chunks chained through the seed (64 weights per chunk).
  std::string s(150, 'x');
  auto all = ascii_weights(s);
  uint64_t h = 0;
  for (size_t at = 0; at < all.size(); at += 128) {
    size_t end = std::min(all.size(), at + 128);
    h = reference_murmur64a(
        std::vector<uint8_t>(all.begin() + static_cast<long>(at), all.begin() + static_cast<long>(end)), h);
  }
  CHECK(key_hash_string(s, kCollationUtf8mb4GeneralCi, 0) == h);
  // Not valid UTF-8 under a utf8mb4 collation, or another collation: no hash.
  CHECK_FALSE(key_hash_string("a\xC3", kCollationUtf8mb4GeneralCi, 0));
  CHECK_FALSE(key_hash_string("\xC0\x80", kCollationUtf8mb4Bin, 0));
  CHECK_FALSE(key_hash_string("\xED\xA0\x80", kCollationUtf8mb4GeneralCi, 0));
  CHECK(key_hash_string("\xC3", kCollationBinary, 0));
  CHECK_FALSE(key_hash_string("abc", 8, 0));
}

TEST_CASE("murmurhash64A matches a byte-at-a-time reference (random inputs, lengths 0..64)") {
  std::mt19937_64 rng(20261204);
  for (size_t len = 0; len <= 64; ++len) {
    for (int round = 0; round < 200; ++round) {
      std::vector<uint8_t> d(len);
      for (auto& b : d) b = static_cast<uint8_t>(rng());
      uint64_t seed = round == 0 ? 0 : rng();
      REQUIRE(murmurhash64a(d.data(), d.size(), seed) == reference_murmur64a(d, seed));
    }
  }
}
