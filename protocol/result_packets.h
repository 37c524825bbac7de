#pragma once
// Generic response packets: OK, ERR, EOF. Payloads only.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "protocol/constants.h"
#include "protocol/wire.h"

namespace odp::protocol {

struct OkPacket {
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status_flags = 0;
  uint16_t warnings = 0;
  std::string info;
  // The session-state-change records (the contents of the lenenc string that follows `info`, without
  // its length prefix). Present when cap::SESSION_TRACK and status::SESSION_STATE_CHANGED; decode
  // them with protocol/session_track.h.
  std::string session_state;
};

// Accepts 0x00 and 0xFE (the DEPRECATE_EOF terminator) headers. With cap::SESSION_TRACK the info
// string is lenenc and may be absent altogether (servers omit it when empty).
Result<OkPacket, DecodeError> decode_ok(std::span<const uint8_t> payload, uint32_t caps);
// With cap::SESSION_TRACK, info is written as lenenc when non-empty or when session state follows.
void encode_ok(const OkPacket& ok, uint32_t caps, std::vector<uint8_t>& payload, uint8_t header = 0x00);
// The OK as a client without cap::SESSION_TRACK expects it (a proxy that asked the server for
// session tracking on the client's behalf): no session-state records, no SESSION_STATE_CHANGED.
void encode_ok_without_session_state(OkPacket ok, uint32_t client_caps, std::vector<uint8_t>& payload,
                                     uint8_t header = 0x00);

struct ErrPacket {
  uint16_t code = 0;
  std::string sql_state = "HY000";
  std::string message;
};
// The '#' + 5-char SQL state is optional (handshake-time errors may lack it); sql_state is then
// "HY000".
Result<ErrPacket, DecodeError> decode_err(std::span<const uint8_t> payload);
// Always writes the '#' marker; a sql_state that is not 5 bytes is padded/truncated to 5.
void encode_err(const ErrPacket& err, std::vector<uint8_t>& payload);

struct EofPacket {
  uint16_t warnings = 0;
  uint16_t status_flags = 0;
};
// 0xFE and fewer than 9 bytes; a bare 0xFE (pre-4.1) has zero warnings and flags.
Result<EofPacket, DecodeError> decode_eof(std::span<const uint8_t> payload);
void encode_eof(const EofPacket& eof, std::vector<uint8_t>& payload);

bool is_ok(std::span<const uint8_t> payload);  // 0x00 header and at least 7 bytes
bool is_err(std::span<const uint8_t> payload);
// An EOF packet: 0xFE and fewer than 9 bytes. `caps` is accepted for symmetry; the test does not
// depend on it (with DEPRECATE_EOF a server sends no EOF packets at all).
bool is_eof_packet(std::span<const uint8_t> payload, uint32_t caps);
// The DEPRECATE_EOF terminator (an OK packet with a 0xFE header): 0xFE and shorter than 0xFFFFFF. A
// row starting with 0xFE (a lenenc string of 2^24 bytes or more) fills a whole 0xFFFFFF chunk.
bool is_ok_terminator(std::span<const uint8_t> payload);
// Same tests for callers that saw only the first byte and the physical payload length.
bool is_eof_packet(uint8_t first_byte, uint32_t payload_len);
bool is_ok_terminator(uint8_t first_byte, uint32_t payload_len);

}  // namespace odp::protocol
