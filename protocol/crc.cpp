#include "protocol/crc.h"

#include <array>

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

}  // namespace

uint16_t crc16_arc(std::span<const uint8_t> data, uint16_t crc) {
  for (uint8_t b : data) crc = static_cast<uint16_t>((crc >> 8) ^ kCrc16Table[(crc ^ b) & 0xFF]);
  return crc;
}

uint32_t crc32c_update(uint32_t crc, std::span<const uint8_t> data) {
  for (uint8_t b : data) crc = (crc >> 8) ^ kCrc32cTable[(crc ^ b) & 0xFF];
  return crc;
}

}  // namespace odp::protocol
