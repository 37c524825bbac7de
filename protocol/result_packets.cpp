#include "protocol/result_packets.h"

namespace odp::protocol {

Result<OkPacket, DecodeError> decode_ok(std::span<const uint8_t> payload, uint32_t caps) {
  Reader r(payload);
  uint8_t header = 0;
  if (!r.u8(header) || (header != 0x00 && header != 0xFE)) return Err{DecodeError{"ok: header is not 0x00/0xFE"}};
  OkPacket ok;
  if (!r.lenenc_int(ok.affected_rows) || !r.lenenc_int(ok.last_insert_id)) {
    return Err{DecodeError{"ok: truncated affected rows / last insert id"}};
  }
  if (caps & cap::PROTOCOL_41) {
    if (!r.u16(ok.status_flags) || !r.u16(ok.warnings)) return Err{DecodeError{"ok: truncated status/warnings"}};
  } else if (caps & cap::TRANSACTIONS) {
    if (!r.u16(ok.status_flags)) return Err{DecodeError{"ok: truncated status"}};
  }
  if (caps & cap::SESSION_TRACK) {
    if (!r.empty()) {
      std::string_view info;
      if (!r.lenenc_str(info)) return Err{DecodeError{"ok: truncated info"}};
      ok.info.assign(info);
    }
    if ((ok.status_flags & status::SESSION_STATE_CHANGED) && !r.empty()) {
      std::string_view state;
      if (!r.lenenc_str(state)) return Err{DecodeError{"ok: truncated session state"}};
      ok.session_state.assign(state);
    }
  } else {
    ok.info.assign(r.rest());
  }
  return ok;
}

void encode_ok(const OkPacket& ok, uint32_t caps, std::vector<uint8_t>& payload, uint8_t header) {
  put_u8(payload, header);
  put_lenenc_int(payload, ok.affected_rows);
  put_lenenc_int(payload, ok.last_insert_id);
  if (caps & cap::PROTOCOL_41) {
    put_u16(payload, ok.status_flags);
    put_u16(payload, ok.warnings);
  } else if (caps & cap::TRANSACTIONS) {
    put_u16(payload, ok.status_flags);
  }
  if (caps & cap::SESSION_TRACK) {
    const bool state = (ok.status_flags & status::SESSION_STATE_CHANGED) != 0;
    if (!ok.info.empty() || state) put_lenenc_str(payload, ok.info);
    if (state) put_lenenc_str(payload, ok.session_state);
  } else {
    put_bytes(payload, ok.info);
  }
}

void encode_ok_without_session_state(OkPacket ok, uint32_t client_caps, std::vector<uint8_t>& payload, uint8_t header) {
  ok.status_flags &= static_cast<uint16_t>(~status::SESSION_STATE_CHANGED);
  ok.session_state.clear();
  encode_ok(ok, client_caps & ~cap::SESSION_TRACK, payload, header);
}

Result<ErrPacket, DecodeError> decode_err(std::span<const uint8_t> payload) {
  Reader r(payload);
  uint8_t header = 0;
  if (!r.u8(header) || header != 0xFF) return Err{DecodeError{"err: header is not 0xFF"}};
  ErrPacket e;
  if (!r.u16(e.code)) return Err{DecodeError{"err: truncated error code"}};
  uint8_t marker = 0;
  if (r.peek(marker) && marker == '#') {
    std::string_view state;
    if (!r.skip(1) || !r.fixed_str(5, state)) return Err{DecodeError{"err: truncated sql state"}};
    e.sql_state.assign(state);
  }
  e.message.assign(r.rest());
  return e;
}

void encode_err(const ErrPacket& err, std::vector<uint8_t>& payload) {
  put_u8(payload, 0xFF);
  put_u16(payload, err.code);
  put_u8(payload, '#');
  std::string state = err.sql_state.substr(0, 5);
  state.resize(5, '0');
  put_bytes(payload, state);
  put_bytes(payload, err.message);
}

Result<EofPacket, DecodeError> decode_eof(std::span<const uint8_t> payload) {
  if (payload.empty() || payload[0] != 0xFE) return Err{DecodeError{"eof: header is not 0xFE"}};
  if (payload.size() >= 9) return Err{DecodeError{"eof: packet too long for an EOF"}};
  Reader r(payload.subspan(1));
  EofPacket e;
  if (r.empty()) return e;
  if (!r.u16(e.warnings) || !r.u16(e.status_flags)) return Err{DecodeError{"eof: truncated warnings/status"}};
  return e;
}

void encode_eof(const EofPacket& eof, std::vector<uint8_t>& payload) {
  put_u8(payload, 0xFE);
  put_u16(payload, eof.warnings);
  put_u16(payload, eof.status_flags);
}

bool is_ok(std::span<const uint8_t> payload) {
  return payload.size() >= 7 && payload[0] == 0x00;
}
bool is_err(std::span<const uint8_t> payload) {
  return !payload.empty() && payload[0] == 0xFF;
}
bool is_eof_packet(std::span<const uint8_t> payload, uint32_t /*caps*/) {
  return !payload.empty() && payload[0] == 0xFE && payload.size() < 9;
}
bool is_ok_terminator(std::span<const uint8_t> payload) {
  return !payload.empty() && payload[0] == 0xFE && payload.size() < kMaxPacketChunk;
}
bool is_eof_packet(uint8_t first_byte, uint32_t payload_len) {
  return first_byte == 0xFE && payload_len >= 1 && payload_len < 9;
}
bool is_ok_terminator(uint8_t first_byte, uint32_t payload_len) {
  return first_byte == 0xFE && payload_len >= 1 && payload_len < kMaxPacketChunk;
}

}  // namespace odp::protocol
