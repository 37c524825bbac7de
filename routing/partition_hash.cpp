#include "routing/partition_hash.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <iterator>

namespace odp::routing {

namespace {
constexpr uint64_t kM = 0xc6a4a7935bd1e995ULL;
constexpr int kR = 47;

struct WeightRange {
  uint16_t first;
  uint16_t last;
  int32_t delta;
};
constexpr WeightRange kWeightRanges[] = {
#include "routing/general_ci_weights.inc"
};

uint64_t load_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// One code point from valid UTF-8 (as MySQL's utf8mb4 decoder accepts it: no overlongs, no
// surrogates, at most U+10FFFF). Returns its length, 0 when invalid or truncated.
size_t decode_utf8(const unsigned char* s, const unsigned char* e, uint32_t& cp) {
  const unsigned char c = s[0];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  auto cont = [&](size_t i) { return s + i < e && (s[i] & 0xC0) == 0x80; };
  if (c < 0xC2) return 0;
  if (c < 0xE0) {
    if (!cont(1)) return 0;
    cp = (uint32_t{c} & 0x1F) << 6 | (s[1] & 0x3Fu);
    return 2;
  }
  if (c < 0xF0) {
    if (!cont(1) || !cont(2)) return 0;
    cp = (uint32_t{c} & 0x0F) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (c < 0xF5) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    cp = (uint32_t{c} & 0x07) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

std::string_view strip_trailing_spaces(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
}  // namespace

uint64_t murmurhash64a(const void* data, size_t len, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed ^ (static_cast<uint64_t>(len) * kM);
  const size_t blocks = len / 8;
  for (size_t i = 0; i < blocks; ++i) {
    uint64_t k = load_le64(p + i * 8);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h ^= k;
    h *= kM;
  }
  const unsigned char* tail = p + blocks * 8;
  const size_t rest = len & 7;
  if (rest != 0) {
    for (size_t i = rest; i-- > 0;) h ^= static_cast<uint64_t>(tail[i]) << (8 * i);
    h *= kM;
  }
  h ^= h >> kR;
  h *= kM;
  h ^= h >> kR;
  return h;
}

uint64_t key_hash_int(int64_t value, uint64_t seed) {
  return key_hash_uint(static_cast<uint64_t>(value), seed);
}

uint64_t key_hash_uint(uint64_t value, uint64_t seed) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(value >> (8 * i));
  return murmurhash64a(b, sizeof b, seed);
}

uint32_t general_ci_weight(uint32_t cp) {
  if (cp > 0xFFFF) return 0xFFFD;
  const auto* end = std::end(kWeightRanges);
  const auto* it = std::upper_bound(std::begin(kWeightRanges), end, cp,
                                    [](uint32_t v, const WeightRange& r) { return v < r.first; });
  if (it == std::begin(kWeightRanges)) return cp;
  --it;
  if (cp > it->last) return cp;
  return static_cast<uint32_t>(static_cast<int32_t>(cp) + it->delta);
}

std::optional<uint64_t> key_hash_string(std::string_view bytes, uint32_t collation, uint64_t seed) {
  switch (collation) {
    case kCollationBinary:
      return murmurhash64a(bytes.data(), bytes.size(), seed);
    case kCollationUtf8mb4Bin: {
      std::string_view s = strip_trailing_spaces(bytes);
      const auto* p = reinterpret_cast<const unsigned char*>(s.data());
      const auto* e = p + s.size();
      for (uint32_t cp = 0; p < e;) {
        size_t n = decode_utf8(p, e, cp);
        if (n == 0) return std::nullopt;
        p += n;
      }
      return murmurhash64a(s.data(), s.size(), seed);
    }
    case kCollationUtf8mb4GeneralCi: {
      std::string_view s = strip_trailing_spaces(bytes);
      const auto* p = reinterpret_cast<const unsigned char*>(s.data());
      const auto* e = p + s.size();
      constexpr size_t kBuffer = 128;
      unsigned char buf[kBuffer];
      size_t len = 0;
      uint64_t h = seed;
      while (p < e) {
        uint32_t cp = 0;
        size_t n = decode_utf8(p, e, cp);
        if (n == 0) return std::nullopt;
        p += n;
        const uint32_t w = general_ci_weight(cp);
        // Flush before a weight that would not fit (2 bytes; 3 above U+FFFF).
        if (len > kBuffer - 2 || (len == kBuffer - 2 && w > 0xFFFF)) {
          h = murmurhash64a(buf, len, h);
          len = 0;
        }
        buf[len++] = static_cast<unsigned char>(w);
        buf[len++] = static_cast<unsigned char>(w >> 8);
        if (w > 0xFFFF) buf[len++] = static_cast<unsigned char>(w >> 16);
      }
      if (len > 0) h = murmurhash64a(buf, len, h);
      return h;
    }
    default:
      return std::nullopt;
  }
}

size_t key_part_index(uint64_t folded_hash, size_t part_num) {
  int64_t r = static_cast<int64_t>(folded_hash);
  if (r < 0) r = r == INT64_MIN ? INT64_MIN : -r;  // OceanBase negates; INT64_MIN stays (as uint64: 2^63)
  return static_cast<size_t>(static_cast<uint64_t>(r) % part_num);
}

size_t hash_part_index(int64_t value, size_t part_num) {
  uint64_t v =
      value == INT64_MIN ? static_cast<uint64_t>(INT64_MAX) : static_cast<uint64_t>(value < 0 ? -value : value);
  return static_cast<size_t>(v % part_num);
}

}  // namespace odp::routing
