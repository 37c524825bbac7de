#include "routing/bound_bin.h"

#include <cstdint>

namespace odp::routing {

namespace {

constexpr uint64_t kMaxObjects = 128;  // obproxy's own bound on a rowkey
// ObObj::MAX_OBJECT_VALUE (UINT64_MAX - 1), what set_max_value() writes and is_max_value() checks
// (obproxy src/common/ob_object.h); ObActionFlag::OP_MAX_OBJ (2) names the same in older code.
constexpr int64_t kExtendMaxValue = -2;
constexpr int64_t kActionFlagMaxObj = 2;

struct In {
  std::string_view s;
  size_t pos = 0;

  bool byte(uint8_t& out) {
    if (pos >= s.size()) return false;
    out = static_cast<uint8_t>(s[pos++]);
    return true;
  }
  // 7-bit groups, low first; at most `max_bytes` of them, and no bits beyond `bits`.
  bool varint(uint64_t& out, int bits) {
    out = 0;
    const int max_bytes = (bits + 6) / 7;
    for (int i = 0; i < max_bytes; ++i) {
      uint8_t b = 0;
      if (!byte(b)) return false;
      const int shift = 7 * i;
      const uint64_t group = b & 0x7F;
      if (shift + 7 > bits && (group >> (bits - shift)) != 0) return false;  // more than `bits` bits
      out |= group << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;  // still more after the last group
  }
};

bool read_object(In& in, BoundValue& out) {
  uint8_t type = 0, level = 0, collation = 0, scale = 0;
  if (!in.byte(type) || !in.byte(level) || !in.byte(collation) || !in.byte(scale)) return false;
  uint64_t u = 0;
  uint8_t b = 0;
  out = BoundValue{};
  switch (type) {
    case 1:  // TinyInt
      if (!in.byte(b)) return false;
      out.integer = static_cast<int8_t>(b);
      return true;
    case 6:  // UTinyInt
      if (!in.byte(b)) return false;
      out.integer = b;
      return true;
    case 2:
    case 3:
    case 4:  // SmallInt, MediumInt, Int32: the int32 as unsigned
      if (!in.varint(u, 32)) return false;
      out.integer = static_cast<int32_t>(static_cast<uint32_t>(u));
      return true;
    case 7:
    case 8:
    case 9:  // USmallInt, UMediumInt, UInt32
      if (!in.varint(u, 32)) return false;
      out.integer = static_cast<int64_t>(u);
      return true;
    case 5:  // Int
      if (!in.varint(u, 64)) return false;
      out.integer = static_cast<int64_t>(u);
      return true;
    case 10:  // UInt64: as far as int64 goes (odp compares bounds as int64)
      if (!in.varint(u, 64) || u > static_cast<uint64_t>(INT64_MAX)) return false;
      out.integer = static_cast<int64_t>(u);
      return true;
    case 22:
    case 23: {  // Varchar, Char: vi64 length, the bytes, a NUL the length does not count
      if (!in.varint(u, 64) || u >= in.s.size() - in.pos) return false;
      out.kind = BoundValue::Kind::text;
      out.text.assign(in.s.substr(in.pos, static_cast<size_t>(u)));
      in.pos += static_cast<size_t>(u);
      return in.byte(b) && b == 0;
    }
    case 25:  // Extend: MAXVALUE (MINVALUE and the rest are not upper bounds odp can place)
      if (!in.varint(u, 64) ||
          (static_cast<int64_t>(u) != kExtendMaxValue && static_cast<int64_t>(u) != kActionFlagMaxObj))
        return false;
      out.kind = BoundValue::Kind::maxvalue;
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<BoundTuple> decode_high_bound_bin(std::string_view bytes) {
  In in{bytes};
  uint64_t count = 0;
  if (!in.varint(count, 64) || count == 0 || count > kMaxObjects) return std::nullopt;
  BoundTuple tuple(static_cast<size_t>(count));
  for (BoundValue& v : tuple)
    if (!read_object(in, v)) return std::nullopt;
  if (in.pos != bytes.size()) return std::nullopt;
  return tuple;
}

}  // namespace odp::routing
