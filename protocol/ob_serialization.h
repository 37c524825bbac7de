#pragma once
// OceanBase's serialisation primitives (oblib lib/utility/serialization.h, common/object): what
// the old-format OB 2.0 extra info (ob20_old_extra_info.h) and a RANGE partition's
// high_bound_val_bin (routing/bound_bin.h) are made of. Pure.
//
//   varint (encode_vi32 / encode_vi64): the value as unsigned, 7-bit groups, low first, high bit =
//     more; no zigzag, so a negative int64 takes 10 bytes.
//   vstr (encode_vstr): varint(len), the bytes, one 0x00 the length does not count.
//   ObObj: its meta `type u8, cs_level u8, cs_type u8, scale i8`, then the value by type.
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/wire.h"

namespace odp::protocol {

// ObObjType ids (OceanBase ob_obj_type.h) odp reads or writes.
namespace obtype {
inline constexpr uint8_t kVarchar = 22;
inline constexpr uint8_t kChar = 23;
inline constexpr uint8_t kExtend = 25;
}  // namespace obtype

// A varint of at most `bits` (32 or 64) bits: more groups, or bits beyond, are an error.
bool read_ob_varint(Reader& r, uint64_t& v, int bits = 64);
void put_ob_varint(std::vector<uint8_t>& out, uint64_t v);

// A vstr's bytes (without its NUL); false when cut short or the NUL is not there.
bool read_ob_vstr(Reader& r, std::span<const uint8_t>& s);
void put_ob_vstr(std::vector<uint8_t>& out, std::span<const uint8_t> s);

}  // namespace odp::protocol
