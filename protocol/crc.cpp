#include "protocol/crc.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace odp::protocol {
namespace {

template <typename T, T kReflectedPoly>
constexpr std::array<T, 256> make_table() {
  std::array<T, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    T c = static_cast<T>(i);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? static_cast<T>((c >> 1) ^ kReflectedPoly) : static_cast<T>(c >> 1);
    table[i] = c;
  }
  return table;
}

constexpr auto kCrc16Table = make_table<uint16_t, 0xA001>();
constexpr auto kCrc32cTable = make_table<uint32_t, 0x82F63B78u>();

// Slicing by 8 for CRC-16/ARC: table k gives a byte's effect followed by k zero bytes, so eight
// bytes fold in with eight independent lookups instead of a chain of eight. The header checksum
// is computed on every OB 2.0 frame both ways, and a byte-at-a-time chain cost more than all the
// rest of a point select's framing.
constexpr std::array<std::array<uint16_t, 256>, 8> make_crc16_slices() {
  std::array<std::array<uint16_t, 256>, 8> t{};
  t[0] = kCrc16Table;
  for (size_t k = 1; k < 8; ++k)
    for (size_t i = 0; i < 256; ++i)
      t[k][i] = static_cast<uint16_t>((t[k - 1][i] >> 8) ^ kCrc16Table[t[k - 1][i] & 0xFF]);
  return t;
}
constexpr auto kCrc16Slices = make_crc16_slices();

}  // namespace

uint16_t crc16_arc(std::span<const uint8_t> data, uint16_t crc) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  const auto& t = kCrc16Slices;
  while (n >= 8) {
    const uint16_t x = static_cast<uint16_t>(crc ^ (p[0] | (p[1] << 8)));
    crc = static_cast<uint16_t>(t[7][x & 0xFF] ^ t[6][x >> 8] ^ t[5][p[2]] ^ t[4][p[3]] ^ t[3][p[4]] ^ t[2][p[5]] ^
                                t[1][p[6]] ^ t[0][p[7]]);
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = static_cast<uint16_t>((crc >> 8) ^ kCrc16Table[(crc ^ *p++) & 0xFF]);
  return crc;
}

uint32_t crc32c_update_portable(uint32_t crc, std::span<const uint8_t> data) {
  for (uint8_t b : data) crc = (crc >> 8) ^ kCrc32cTable[(crc ^ b) & 0xFF];
  return crc;
}

#if defined(__x86_64__)
namespace {
// SSE4.2's CRC32 instruction is exactly this register update (reflected Castagnoli, no
// inversion), 8 bytes per instruction: every OB 2.0 frame's payload goes through it, both ways.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t crc, std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
}  // namespace

uint32_t crc32c_update(uint32_t crc, std::span<const uint8_t> data) {
  return kHasSse42 ? crc32c_sse42(crc, data) : crc32c_update_portable(crc, data);
}
#else
uint32_t crc32c_update(uint32_t crc, std::span<const uint8_t> data) {
  return crc32c_update_portable(crc, data);
}
#endif

}  // namespace odp::protocol
