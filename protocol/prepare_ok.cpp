#include "protocol/prepare_ok.h"

namespace odp::protocol {

Result<PrepareOk, DecodeError> decode_prepare_ok(std::span<const uint8_t> payload) {
  Reader r(payload);
  uint8_t header = 0;
  if (!r.u8(header) || header != 0x00) return Err{DecodeError{"prepare ok: header is not 0x00"}};
  PrepareOk p;
  if (!r.u32(p.statement_id) || !r.u16(p.num_columns) || !r.u16(p.num_params)) {
    return Err{DecodeError{"prepare ok: truncated"}};
  }
  if (!r.empty()) {
    if (!r.skip(1) || !r.u16(p.warnings)) return Err{DecodeError{"prepare ok: truncated warning count"}};
  }
  return p;
}

void encode_prepare_ok(const PrepareOk& p, std::vector<uint8_t>& payload) {
  put_u8(payload, 0x00);
  put_u32(payload, p.statement_id);
  put_u16(payload, p.num_columns);
  put_u16(payload, p.num_params);
  put_u8(payload, 0x00);
  put_u16(payload, p.warnings);
}

}  // namespace odp::protocol
