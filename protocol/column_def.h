#pragma once
// Protocol::ColumnDefinition41: one column of a result set or prepared statement.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "protocol/constants.h"
#include "protocol/wire.h"

namespace odp::protocol {

struct ColumnDefinition41 {
  std::string catalog = "def";
  std::string schema;
  std::string table;
  std::string org_table;
  std::string name;
  std::string org_name;
  uint16_t charset = charset::utf8mb4_general_ci;
  uint32_t column_length = 0;
  ColumnType type = ColumnType::var_string;
  uint16_t flags = 0;
  uint8_t decimals = 0;
  // COM_FIELD_LIST responses append the column's default value (lenenc) after the fixed fields.
  bool has_default = false;
  std::string extended_type_info;  // MariaDB EXTENDED_TYPE_INFO entries, raw (when agreed)
  std::string default_value;
};

// `extended_type_info`: MariaDB's EXTENDED_TYPE_INFO was agreed: a lenenc block of typed entries
// (type name, format) follows the column's original name.
Result<ColumnDefinition41, DecodeError> decode_column_definition41(std::span<const uint8_t> payload,
                                                                   bool extended_type_info = false);
void encode_column_definition41(const ColumnDefinition41& c, std::vector<uint8_t>& payload,
                                bool extended_type_info = false);

}  // namespace odp::protocol
