#include "protocol/column_def.h"

namespace odp::protocol {

Result<ColumnDefinition41, DecodeError> decode_column_definition41(std::span<const uint8_t> payload,
                                                                   bool extended_type_info) {
  Reader r(payload);
  ColumnDefinition41 c;
  std::string_view catalog, schema, table, org_table, name, org_name;
  if (!r.lenenc_str(catalog) || !r.lenenc_str(schema) || !r.lenenc_str(table) || !r.lenenc_str(org_table) ||
      !r.lenenc_str(name) || !r.lenenc_str(org_name)) {
    return Err{DecodeError{"column definition: truncated name fields"}};
  }
  c.catalog.assign(catalog);
  c.schema.assign(schema);
  c.table.assign(table);
  c.org_table.assign(org_table);
  c.name.assign(name);
  c.org_name.assign(org_name);
  if (extended_type_info) {
    std::string_view ext;
    if (!r.lenenc_str(ext)) return Err{DecodeError{"column definition: truncated extended type info"}};
    c.extended_type_info.assign(ext);
  }
  uint64_t fixed_len = 0;
  if (!r.lenenc_int(fixed_len) || fixed_len < 10 || fixed_len > r.remaining()) {
    return Err{DecodeError{"column definition: bad fixed-fields length"}};
  }
  const size_t fixed_end = r.pos() + static_cast<size_t>(fixed_len);
  uint8_t type = 0;
  if (!r.u16(c.charset) || !r.u32(c.column_length) || !r.u8(type) || !r.u16(c.flags) || !r.u8(c.decimals)) {
    return Err{DecodeError{"column definition: truncated fixed fields"}};
  }
  c.type = static_cast<ColumnType>(type);
  (void)r.skip(fixed_end - r.pos());  // filler (and any future fixed fields)
  if (!r.empty()) {
    std::string_view def;
    if (!r.lenenc_str(def)) return Err{DecodeError{"column definition: truncated default value"}};
    c.has_default = true;
    c.default_value.assign(def);
  }
  return c;
}

void encode_column_definition41(const ColumnDefinition41& c, std::vector<uint8_t>& payload, bool extended_type_info) {
  put_lenenc_str(payload, c.catalog);
  put_lenenc_str(payload, c.schema);
  put_lenenc_str(payload, c.table);
  put_lenenc_str(payload, c.org_table);
  put_lenenc_str(payload, c.name);
  put_lenenc_str(payload, c.org_name);
  // A client that agreed to it (libmariadb asks) parses this block: without it, every later field
  // is read one place off and the client reports a malformed packet.
  if (extended_type_info) put_lenenc_str(payload, c.extended_type_info);
  put_lenenc_int(payload, 0x0c);
  put_u16(payload, c.charset);
  put_u32(payload, c.column_length);
  put_u8(payload, static_cast<uint8_t>(c.type));
  put_u16(payload, c.flags);
  put_u8(payload, c.decimals);
  put_u16(payload, 0);
  if (c.has_default) put_lenenc_str(payload, c.default_value);
}

}  // namespace odp::protocol
