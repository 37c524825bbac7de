#include "protocol/rows.h"

namespace odp::protocol {

namespace {
constexpr size_t kBinaryRowBitmapOffset = 2;
}

Status<DecodeError> decode_text_row_into(std::span<const uint8_t> payload, size_t num_columns, TextRow& out) {
  out.clear();
  // Each column takes at least one byte: a cheap bound before reserving.
  if (num_columns > payload.size()) return Err{DecodeError{"text row: fewer bytes than columns"}};
  out.reserve(num_columns);
  Reader r(payload);
  for (size_t i = 0; i < num_columns; ++i) {
    uint8_t first = 0;
    if (!r.peek(first)) return Err{DecodeError{"text row: truncated"}};
    if (first == 0xFB) {
      (void)r.skip(1);
      out.emplace_back(std::nullopt);
      continue;
    }
    std::string_view v;
    if (!r.lenenc_str(v)) return Err{DecodeError{"text row: malformed value"}};
    out.emplace_back(v);
  }
  if (!r.empty()) return Err{DecodeError{"text row: trailing bytes"}};
  return Ok{};
}

Result<TextRow, DecodeError> decode_text_row(std::span<const uint8_t> payload, size_t num_columns) {
  TextRow row;
  if (auto st = decode_text_row_into(payload, num_columns, row); !st) return Err{st.error()};
  return row;
}

void encode_text_row(const std::vector<std::optional<std::string_view>>& values, std::vector<uint8_t>& payload) {
  for (const auto& v : values) {
    if (v) {
      put_lenenc_str(payload, *v);
    } else {
      put_u8(payload, 0xFB);
    }
  }
}

Result<std::vector<BinaryValue>, DecodeError> decode_binary_row(std::span<const uint8_t> payload,
                                                                std::span<const ParamType> column_types) {
  Reader r(payload);
  uint8_t header = 0;
  if (!r.u8(header) || header != 0x00) return Err{DecodeError{"binary row: header is not 0x00"}};
  const size_t n = column_types.size();
  std::span<const uint8_t> bitmap;
  if (!r.bytes((n + 7 + kBinaryRowBitmapOffset) / 8, bitmap)) return Err{DecodeError{"binary row: truncated bitmap"}};
  std::vector<BinaryValue> values(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t bit = i + kBinaryRowBitmapOffset;
    values[i].type = column_types[i];
    values[i].is_null = (bitmap[bit / 8] >> (bit % 8)) & 1;
    if (values[i].is_null) continue;
    if (!read_binary_value(r, column_types[i], values[i])) return Err{DecodeError{"binary row: malformed value"}};
  }
  if (!r.empty()) return Err{DecodeError{"binary row: trailing bytes"}};
  return values;
}

void encode_binary_row(const std::vector<BinaryValue>& values, std::vector<uint8_t>& payload) {
  put_u8(payload, 0x00);
  const size_t n = values.size();
  std::vector<uint8_t> bitmap((n + 7 + kBinaryRowBitmapOffset) / 8, 0);
  for (size_t i = 0; i < n; ++i) {
    const size_t bit = i + kBinaryRowBitmapOffset;
    if (values[i].is_null) bitmap[bit / 8] = static_cast<uint8_t>(bitmap[bit / 8] | (1u << (bit % 8)));
  }
  put_bytes(payload, bitmap);
  for (const auto& v : values) {
    if (!v.is_null) put_binary_value(payload, v.type, v.raw);
  }
}

}  // namespace odp::protocol
