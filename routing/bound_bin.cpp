#include "routing/bound_bin.h"

#include <cstdint>

#include "protocol/ob_serialization.h"

namespace odp::routing {

namespace {

using protocol::read_ob_varint;
using protocol::Reader;

constexpr uint64_t kMaxObjects = 128;  // obproxy's own bound on a rowkey
// ObObj::MAX_OBJECT_VALUE (UINT64_MAX - 1), what set_max_value() writes and is_max_value() checks
// (obproxy src/common/ob_object.h); ObActionFlag::OP_MAX_OBJ (2) names the same in older code.
constexpr int64_t kExtendMaxValue = -2;
constexpr int64_t kActionFlagMaxObj = 2;

bool read_object(Reader& in, BoundValue& out) {
  uint8_t type = 0, level = 0, collation = 0, scale = 0;
  if (!in.u8(type) || !in.u8(level) || !in.u8(collation) || !in.u8(scale)) return false;
  uint64_t u = 0;
  uint8_t b = 0;
  out = BoundValue{};
  switch (type) {
    case 1:  // TinyInt
      if (!in.u8(b)) return false;
      out.integer = static_cast<int8_t>(b);
      return true;
    case 6:  // UTinyInt
      if (!in.u8(b)) return false;
      out.integer = b;
      return true;
    case 2:
    case 3:
    case 4:  // SmallInt, MediumInt, Int32: the int32 as unsigned
      if (!read_ob_varint(in, u, 32)) return false;
      out.integer = static_cast<int32_t>(static_cast<uint32_t>(u));
      return true;
    case 7:
    case 8:
    case 9:  // USmallInt, UMediumInt, UInt32
      if (!read_ob_varint(in, u, 32)) return false;
      out.integer = static_cast<int64_t>(u);
      return true;
    case 5:  // Int
      if (!read_ob_varint(in, u)) return false;
      out.integer = static_cast<int64_t>(u);
      return true;
    case 10:  // UInt64: as far as int64 goes (odp compares bounds as int64)
      if (!read_ob_varint(in, u) || u > static_cast<uint64_t>(INT64_MAX)) return false;
      out.integer = static_cast<int64_t>(u);
      return true;
    case protocol::obtype::kVarchar:
    case protocol::obtype::kChar: {
      std::span<const uint8_t> s;
      if (!protocol::read_ob_vstr(in, s)) return false;
      out.kind = BoundValue::Kind::text;
      out.text.assign(reinterpret_cast<const char*>(s.data()), s.size());
      return true;
    }
    case protocol::obtype::kExtend:  // MAXVALUE (MINVALUE and the rest are no upper bound odp can place)
      if (!read_ob_varint(in, u) ||
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
  Reader in(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  uint64_t count = 0;
  if (!read_ob_varint(in, count) || count == 0 || count > kMaxObjects) return std::nullopt;
  BoundTuple tuple(static_cast<size_t>(count));
  for (BoundValue& v : tuple)
    if (!read_object(in, v)) return std::nullopt;
  if (!in.empty()) return std::nullopt;
  return tuple;
}

}  // namespace odp::routing
