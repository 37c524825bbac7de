#pragma once
// Values of the binary protocol (prepared-statement parameters and binary result rows).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/constants.h"
#include "protocol/wire.h"

namespace odp::protocol {

// A parameter's or column's type as the binary protocol sends it: type byte + unsigned flag.
struct ParamType {
  ColumnType type = ColumnType::null;
  bool is_unsigned = false;
  bool operator==(const ParamType&) const = default;
};

// One value; `raw` views the value's bytes inside the decoded payload (for length-encoded types,
// the string without its length prefix; for temporal types, without the length byte).
struct BinaryValue {
  ParamType type;
  bool is_null = false;
  std::span<const uint8_t> raw;

  // Integer types (tiny, short, year, long, int24, longlong), sign-extended unless unsigned.
  std::optional<int64_t> as_int64() const;
  std::optional<uint64_t> as_uint64() const;
  std::optional<double> as_double() const;  // float and double
  std::string_view as_string() const;       // raw bytes as text (strings, decimals, blobs)
};

// Reads one value of `type` (not NULL) from r; false if malformed/truncated or the type is unknown.
bool read_binary_value(Reader& r, ParamType type, BinaryValue& out);
// Appends the wire form of a value whose raw bytes are given (length prefixes added as the type
// requires). The inverse of read_binary_value.
void put_binary_value(std::vector<uint8_t>& out, ParamType type, std::span<const uint8_t> raw);

}  // namespace odp::protocol
