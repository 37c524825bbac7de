#pragma once
// OB 2.0 extra info in the old format (flag NEW_EXTRA_INFO clear; ../shared/OB-VECTORS.md 1.4):
// pairs of serialised ObObj, a varchar key naming the record and a varchar value holding it. A
// server that does not grant PROXY_NEW_EXTRA_INFO (bit 15) and a driver that does not ask for it
// speak this format. odp keeps extra info in the new format's terms (Ob20ExtraInfoItem, type ids)
// and converts at the edges. Pure.
//
// ObObj: meta `type u8, cs_level u8, cs_type u8, scale i8`, then the value; a varchar value is
// `varint(len)` (7-bit groups, low first, high bit = more) + bytes + 0x00 (OceanBase's vstr).
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/ob20.h"
#include "protocol/wire.h"

namespace odp::protocol {

// The old format's key of a record type ("ob_trace_info", "sess_inf", "full_trc", "sess_ver"), or
// empty for a type the old format has no key for.
std::string_view ob20_old_extra_info_key(uint16_t type);

// The records of old-format `extra_info`, named by the new format's type ids; values view the
// input. Records under keys odp does not know are left out. Malformed bytes, or an ObObj that is
// not a string, are an error.
Result<std::vector<Ob20ExtraInfoItem>, DecodeError> decode_ob20_old_extra_info(std::span<const uint8_t> extra_info);

// One record in the old format appended to `out` (nothing for a type without an old key).
void encode_ob20_old_extra_info_item(uint16_t type, std::span<const uint8_t> value, std::vector<uint8_t>& out);

// A frame's extra info in whichever format its flags say.
Result<std::vector<Ob20ExtraInfoItem>, DecodeError> decode_ob20_extra_info_of(uint32_t frame_flags,
                                                                              std::span<const uint8_t> extra_info);

// New-format records re-encoded in the old format (records without an old key are dropped).
Status<DecodeError> ob20_extra_info_to_old(std::span<const uint8_t> new_format, std::vector<uint8_t>& out);

}  // namespace odp::protocol
