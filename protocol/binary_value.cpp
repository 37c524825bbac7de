#include "protocol/binary_value.h"

#include <cstring>

namespace odp::protocol {
namespace {

// Fixed width of a type, 0 for length-prefixed (temporal: 1-byte prefix; others: lenenc), -1 unknown.
int fixed_width(ColumnType t) {
  switch (t) {
    case ColumnType::null:
      return 0;
    case ColumnType::tiny:
      return 1;
    case ColumnType::short_:
    case ColumnType::year:
      return 2;
    case ColumnType::long_:
    case ColumnType::int24:
    case ColumnType::float_:
      return 4;
    case ColumnType::longlong:
    case ColumnType::double_:
      return 8;
    default:
      return -1;
  }
}

bool is_temporal(ColumnType t) {
  return t == ColumnType::date || t == ColumnType::datetime || t == ColumnType::timestamp || t == ColumnType::time ||
         t == ColumnType::newdate || t == ColumnType::datetime2 || t == ColumnType::timestamp2 ||
         t == ColumnType::time2;
}

bool is_lenenc(ColumnType t) {
  switch (t) {
    case ColumnType::decimal:
    case ColumnType::newdecimal:
    case ColumnType::varchar:
    case ColumnType::var_string:
    case ColumnType::string:
    case ColumnType::enum_:
    case ColumnType::set:
    case ColumnType::tiny_blob:
    case ColumnType::medium_blob:
    case ColumnType::long_blob:
    case ColumnType::blob:
    case ColumnType::bit:
    case ColumnType::geometry:
    case ColumnType::json:
    case ColumnType::vector:
      return true;
    default:
      return false;
  }
}

// Little-endian value of up to the first 8 bytes.
uint64_t le(std::span<const uint8_t> b) {
  uint64_t v = 0;
  for (size_t i = 0; i < b.size() && i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return v;
}

}  // namespace

bool read_binary_value(Reader& r, ParamType type, BinaryValue& out) {
  out.type = type;
  out.is_null = false;
  const ColumnType t = type.type;
  const int width = fixed_width(t);
  if (width >= 0) return r.bytes(static_cast<size_t>(width), out.raw);
  if (is_temporal(t)) {
    const Reader saved = r;  // a failed read consumes nothing
    uint8_t n = 0;
    if (!r.u8(n) || n > 12 || !r.bytes(n, out.raw)) {
      r = saved;
      return false;
    }
    return true;
  }
  if (is_lenenc(t)) {
    std::string_view s;
    if (!r.lenenc_str(s)) return false;
    out.raw = as_bytes(s);
    return true;
  }
  return false;
}

void put_binary_value(std::vector<uint8_t>& out, ParamType type, std::span<const uint8_t> raw) {
  const ColumnType t = type.type;
  if (fixed_width(t) >= 0) {
    put_bytes(out, raw);
  } else if (is_temporal(t)) {
    put_u8(out, static_cast<uint8_t>(raw.size()));
    put_bytes(out, raw);
  } else {
    put_lenenc_int(out, raw.size());
    put_bytes(out, raw);
  }
}

std::optional<int64_t> BinaryValue::as_int64() const {
  if (is_null) return std::nullopt;
  const uint64_t v = le(raw);
  switch (type.type) {
    case ColumnType::tiny:
      return type.is_unsigned ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int8_t>(v));
    case ColumnType::short_:
    case ColumnType::year:
      return type.is_unsigned ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int16_t>(v));
    case ColumnType::long_:
    case ColumnType::int24:
      return type.is_unsigned ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int32_t>(v));
    case ColumnType::longlong:
      return static_cast<int64_t>(v);
    default:
      return std::nullopt;
  }
}

std::optional<uint64_t> BinaryValue::as_uint64() const {
  auto v = as_int64();
  if (!v) return std::nullopt;
  if (type.type == ColumnType::longlong) return le(raw);
  return static_cast<uint64_t>(*v);
}

std::optional<double> BinaryValue::as_double() const {
  if (is_null) return std::nullopt;
  if (type.type == ColumnType::double_ && raw.size() == 8) {
    const uint64_t bits = le(raw);
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  if (type.type == ColumnType::float_ && raw.size() == 4) {
    const uint32_t bits = static_cast<uint32_t>(le(raw));
    float f = 0;
    std::memcpy(&f, &bits, sizeof f);
    return static_cast<double>(f);
  }
  return std::nullopt;
}

std::string_view BinaryValue::as_string() const {
  return {reinterpret_cast<const char*>(raw.data()), raw.size()};
}

}  // namespace odp::protocol
