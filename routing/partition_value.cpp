#include "routing/partition_value.h"

#include <charconv>
#include <climits>
#include <string_view>

#include "routing/partition_hash.h"

namespace odp::routing {

namespace {
// OceanBase's integer column types (ObObjType): 1..5 signed, 6..10 unsigned, with their ranges.
bool integer_type(int32_t t) {
  return t >= 1 && t <= 10;
}
bool in_range(int32_t t, int64_t v) {
  switch (t) {
    case 1:
      return v >= -128 && v <= 127;  // TINYINT
    case 2:
      return v >= -32768 && v <= 32767;  // SMALLINT
    case 3:
      return v >= -8388608 && v <= 8388607;  // MEDIUMINT
    case 4:
      return v >= INT32_MIN && v <= INT32_MAX;  // INT
    case 5:
      return true;  // BIGINT
    case 6:
      return v >= 0 && v <= 255;  // TINYINT UNSIGNED
    case 7:
      return v >= 0 && v <= 65535;  // SMALLINT UNSIGNED
    case 8:
      return v >= 0 && v <= 16777215;  // MEDIUMINT UNSIGNED
    case 9:
      return v >= 0 && v <= static_cast<int64_t>(UINT32_MAX);  // INT UNSIGNED
    case 10:
      return v >= 0;  // BIGINT UNSIGNED (as far as int64 goes)
    default:
      return false;
  }
}

// A string literal that OceanBase casts to exactly this integer: an optional '-' and digits, nothing
// else (spaces, signs, decimals and exponents are left to the server: not routed).
bool plain_integer_text(std::string_view t, int64_t& out) {
  if (t.empty()) return false;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && ptr == t.data() + t.size();
}

bool ascii_only(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// The value of an integer column given `value`, when the cast is certain.
std::optional<int64_t> integer_column_value(int32_t type, const SqlValue& value) {
  int64_t v = 0;
  if (value.kind == SqlValue::Kind::integer) {
    v = value.integer;
  } else if (value.kind == SqlValue::Kind::string && !value.has_escapes) {
    if (!plain_integer_text(value.text, v)) return std::nullopt;
  } else {
    return std::nullopt;  // NULL (no route), decimals (rounding), anything else
  }
  if (!in_range(type, v)) return std::nullopt;
  return v;
}

bool string_type(int32_t t) {
  return t == 22 || t == 23;
}

// The bytes a string column stores for `value` (into `buf` for integers), when certain.
std::optional<std::string_view> string_column_value(const PartKeyColumn& column, const SqlValue& value, char* buf,
                                                    size_t cap) {
  // BINARY(n) pads with zero bytes: its stored value is not the literal.
  if (column.type == 23 && column.collation == kCollationBinary) return std::nullopt;
  if (value.kind == SqlValue::Kind::integer) {
    auto [end, ec] = std::to_chars(buf, buf + cap, value.integer);
    if (ec != std::errc()) return std::nullopt;
    return std::string_view(buf, static_cast<size_t>(end - buf));
  }
  if (value.kind != SqlValue::Kind::string || value.has_escapes) return std::nullopt;
  // The literal's bytes are taken as utf8mb4 (the client's character set is not known here): only
  // ASCII is certain whatever the client's or an introducer's character set.
  if (value.introducer && !ascii_only(value.text)) return std::nullopt;
  return value.text;
}
}  // namespace

std::optional<int64_t> integer_value(const SqlValue& v) {
  if (v.kind == SqlValue::Kind::integer) return v.integer;
  if (v.kind == SqlValue::Kind::string || v.kind == SqlValue::Kind::decimal) {
    std::string_view t = v.text;
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    int64_t out = 0;
    if (t.empty() || v.has_escapes) return std::nullopt;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    if (ec == std::errc() && ptr == t.data() + t.size()) return out;
  }
  return std::nullopt;
}

std::optional<uint64_t> key_hash(const PartKeyColumn& column, const SqlValue& value, uint64_t seed) {
  if (integer_type(column.type)) {
    auto v = integer_column_value(column.type, value);
    if (!v) return std::nullopt;
    return key_hash_int(*v, seed);
  }
  if (!string_type(column.type)) return std::nullopt;
  char buf[24];
  auto bytes = string_column_value(column, value, buf, sizeof buf);
  if (!bytes) return std::nullopt;
  return key_hash_string(*bytes, column.collation, seed);
}

std::optional<int> compare_column_value(const PartKeyColumn& column, const SqlValue& value, const BoundValue& bound) {
  // Any literal is below MAXVALUE; NULL and expressions (which may be NULL) are not certain.
  const bool literal = value.kind == SqlValue::Kind::integer || value.kind == SqlValue::Kind::decimal ||
                       value.kind == SqlValue::Kind::string;
  if (bound.kind == BoundValue::Kind::maxvalue) return literal ? std::optional<int>(-1) : std::nullopt;
  if (integer_type(column.type)) {
    if (bound.kind != BoundValue::Kind::integer) return std::nullopt;
    auto v = integer_column_value(column.type, value);
    if (!v) return std::nullopt;
    return *v < bound.integer ? -1 : *v > bound.integer ? 1 : 0;
  }
  if (!string_type(column.type) || column.collation != kCollationBinary || bound.kind != BoundValue::Kind::text)
    return std::nullopt;
  char buf[24];
  auto bytes = string_column_value(column, value, buf, sizeof buf);
  if (!bytes) return std::nullopt;
  int c = bytes->compare(bound.text);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace odp::routing
