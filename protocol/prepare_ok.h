#pragma once
// COM_STMT_PREPARE_OK: the first packet of a successful prepare response.
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/wire.h"

namespace odp::protocol {

struct PrepareOk {
  uint32_t statement_id = 0;
  uint16_t num_columns = 0;
  uint16_t num_params = 0;
  uint16_t warnings = 0;
};

// [00] id:4 columns:2 params:2 [filler:1 warnings:2]; the last 3 bytes are optional (pre-5.0
// servers) and a trailing metadata-follows byte (MySQL 8 optional metadata) is ignored.
Result<PrepareOk, DecodeError> decode_prepare_ok(std::span<const uint8_t> payload);
void encode_prepare_ok(const PrepareOk& p, std::vector<uint8_t>& payload);

}  // namespace odp::protocol
