#pragma once
// Checksums of the OceanBase 2.0 protocol.
#include <cstdint>
#include <span>

namespace odp::protocol {

// CRC-16/ARC: polynomial 0x8005 reflected, initial value 0, no final XOR ("123456789" -> 0xBB3D).
// Pass a previous result as `crc` to continue over more data.
uint16_t crc16_arc(std::span<const uint8_t> data, uint16_t crc = 0);

// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected) as a raw register update: no initial or final
// inversion. OceanBase's payload checksum is crc32c_update(0, data). The standard CRC-32C is
// ~crc32c_update(~0u, data) ("123456789" -> 0xE3069283).
// Uses the CPU's CRC32 instruction where there is one (x86-64 SSE4.2).
uint32_t crc32c_update(uint32_t crc, std::span<const uint8_t> data);
// The same, a byte at a time from a table: the fallback, and the reference the fast path is
// tested against.
uint32_t crc32c_update_portable(uint32_t crc, std::span<const uint8_t> data);

}  // namespace odp::protocol
