#include "protocol/resultset_writer.h"

#include <algorithm>

#include "protocol/column_def.h"
#include "protocol/packet.h"
#include "protocol/wire.h"

namespace odp::protocol {
namespace {

// utf8mb4 has up to 4 bytes per character; clients divide column_length by that to size columns.
constexpr uint32_t kUtf8mb4MaxBytesPerChar = 4;

uint32_t display_length(size_t column, const std::string& name,
                        const std::vector<std::vector<std::optional<std::string>>>& rows) {
  size_t widest = std::max<size_t>(name.size(), 1);
  for (const auto& row : rows) {
    if (column < row.size() && row[column]) widest = std::max(widest, row[column]->size());
  }
  const uint64_t bytes = static_cast<uint64_t>(widest) * kUtf8mb4MaxBytesPerChar;
  return static_cast<uint32_t>(std::min<uint64_t>(bytes, 0xFFFFFFFFu));
}

}  // namespace

uint8_t encode_text_resultset(const std::vector<std::string>& column_names,
                              const std::vector<std::vector<std::optional<std::string>>>& rows, uint32_t caps,
                              uint8_t first_seq, std::vector<uint8_t>& out_framed, uint16_t status_flags,
                              bool extended_type_info, std::span<const ColumnType> types) {
  uint8_t seq = first_seq;
  std::vector<uint8_t> payload;
  put_lenenc_int(payload, column_names.size());
  seq = encode_packet(seq, payload, out_framed);
  for (size_t i = 0; i < column_names.size(); ++i) {
    ColumnDefinition41 col;
    col.name = column_names[i];
    col.org_name = column_names[i];
    col.charset = charset::utf8mb4_general_ci;
    col.column_length = display_length(i, column_names[i], rows);
    col.type = i < types.size() ? types[i] : ColumnType::var_string;
    if (col.type != ColumnType::var_string) {  // a number: binary collation, as servers send them
      col.charset = charset::binary;
      col.flags = colflag::NOT_NULL | colflag::BINARY;
      col.column_length = display_length(i, column_names[i], rows) / kUtf8mb4MaxBytesPerChar;
    }
    payload.clear();
    encode_column_definition41(col, payload, extended_type_info);
    seq = encode_packet(seq, payload, out_framed);
  }
  const bool deprecate_eof = (caps & cap::DEPRECATE_EOF) != 0;
  if (!deprecate_eof) {
    payload.clear();
    encode_eof(EofPacket{0, status_flags}, payload);
    seq = encode_packet(seq, payload, out_framed);
  }
  for (const auto& row : rows) {
    payload.clear();
    for (size_t i = 0; i < column_names.size(); ++i) {
      if (i < row.size() && row[i]) {
        put_lenenc_str(payload, *row[i]);
      } else {
        put_u8(payload, 0xFB);  // NULL (also for a row shorter than the column list)
      }
    }
    seq = encode_packet(seq, payload, out_framed);
  }
  payload.clear();
  if (deprecate_eof) {
    OkPacket ok;
    ok.status_flags = status_flags;
    encode_ok(ok, caps, payload, 0xFE);
  } else {
    encode_eof(EofPacket{0, status_flags}, payload);
  }
  return encode_packet(seq, payload, out_framed);
}

uint8_t encode_err_packet(uint8_t seq, const ErrPacket& err, std::vector<uint8_t>& out_framed) {
  std::vector<uint8_t> payload;
  encode_err(err, payload);
  return encode_packet(seq, payload, out_framed);
}

uint8_t encode_ok_packet(uint8_t seq, const OkPacket& ok, uint32_t caps, std::vector<uint8_t>& out_framed) {
  std::vector<uint8_t> payload;
  encode_ok(ok, caps, payload);
  return encode_packet(seq, payload, out_framed);
}

}  // namespace odp::protocol
