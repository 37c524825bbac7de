#pragma once
// Result-set rows: text protocol (COM_QUERY) and binary protocol (COM_STMT_EXECUTE / FETCH).
// Decoded values view the payload, which must outlive them.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/binary_value.h"
#include "protocol/wire.h"

namespace odp::protocol {

using TextRow = std::vector<std::optional<std::string_view>>;  // nullopt = SQL NULL

// Exactly num_columns values (0xFB = NULL, else lenenc strings) filling the payload.
Result<TextRow, DecodeError> decode_text_row(std::span<const uint8_t> payload, size_t num_columns);
// Same, reusing `out`'s storage.
Status<DecodeError> decode_text_row_into(std::span<const uint8_t> payload, size_t num_columns, TextRow& out);
void encode_text_row(const std::vector<std::optional<std::string_view>>& values, std::vector<uint8_t>& payload);

// [0x00][NULL bitmap, bit offset 2][values of the non-NULL columns]; types from the column
// definitions (type + UNSIGNED flag).
Result<std::vector<BinaryValue>, DecodeError> decode_binary_row(std::span<const uint8_t> payload,
                                                                std::span<const ParamType> column_types);
void encode_binary_row(const std::vector<BinaryValue>& values, std::vector<uint8_t>& payload);

}  // namespace odp::protocol
