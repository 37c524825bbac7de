#pragma once
// Framed responses the proxy writes itself (internal commands, errors): packets with headers.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/constants.h"
#include "protocol/result_packets.h"

namespace odp::protocol {

// Writes a complete text result set: column count, one VAR_STRING utf8mb4 column definition per
// name (or of the type `types` gives it: a number, in the binary collation), EOF unless cap::DEPRECATE_EOF, the rows
// (nullopt = SQL NULL), then EOF or a 0xFE OK. status_flags go into the terminating packet; `extended_type_info`:
// MariaDB's EXTENDED_TYPE_INFO was agreed (column definitions carry an empty block). Returns the next sequence number.
uint8_t encode_text_resultset(const std::vector<std::string>& column_names,
                              const std::vector<std::vector<std::optional<std::string>>>& rows, uint32_t caps,
                              uint8_t first_seq, std::vector<uint8_t>& out_framed,
                              uint16_t status_flags = status::AUTOCOMMIT, bool extended_type_info = false,
                              std::span<const ColumnType> types = {});

// One framed ERR / OK packet. Return the next sequence number.
uint8_t encode_err_packet(uint8_t seq, const ErrPacket& err, std::vector<uint8_t>& out_framed);
uint8_t encode_ok_packet(uint8_t seq, const OkPacket& ok, uint32_t caps, std::vector<uint8_t>& out_framed);

}  // namespace odp::protocol
