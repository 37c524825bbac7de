#pragma once
// A RANGE partition's upper bound as OceanBase 4.x serialises it into
// `__all_virtual_proxy_partition.high_bound_val_bin` (and its sub-partition twin), which obproxy
// reads: one ObRowkey, raw bytes in a varchar cell.
//
//   rowkey  = vi64(count) object{count}
//   object  = type u8, cs_level u8, cs_type u8, scale i8, then the value by type:
//     TinyInt (1) / UTinyInt (6): one raw byte;  SmallInt..Int32 (2-4), USmallInt..UInt32 (7-9):
//     vi32;  Int (5) / UInt64 (10): vi64;  Varchar (22) / Char (23): vi64(len), the bytes, 0x00;
//     Extend (25): vi64, -2 = MAXVALUE (ObObj::MAX_OBJECT_VALUE; also 2, OP_MAX_OBJ), -3 = MINVALUE.
//   vi32 / vi64: the value as unsigned, 7-bit groups, low first, high bit = more (no zigzag: a
//   negative int64 takes 10 bytes).
// (varint and vstr: protocol/ob_serialization.h. OceanBase deps/oblib serialization.h,
// common/rowkey/ob_rowkey.cpp, common/object/ob_object.h;
// obproxy src/proxy/route/obproxy_part_mgr.cpp reads it the same way.)
//
// Only what odp compares bounds with is decoded: integers, strings, MAXVALUE. Anything else
// (other types, MINVALUE, trailing or missing bytes) is refused (nullopt), never guessed: a bound
// that cannot be read places no value in that partition. Untrusted input.
#include <optional>
#include <string_view>

#include "routing/topology.h"

namespace odp::routing {

std::optional<BoundTuple> decode_high_bound_bin(std::string_view bytes);

}  // namespace odp::routing
