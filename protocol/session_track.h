#pragma once
// Session-state-change records carried by OK packets (cap::SESSION_TRACK and
// status::SESSION_STATE_CHANGED): OkPacket::session_state holds them back to back as
// [u8 type][lenenc length][data].
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/wire.h"

namespace odp::protocol {

enum class SessionTrackType : uint8_t {
  system_variables = 0,             // data: lenenc name, lenenc value
  schema = 1,                       // data: lenenc schema name
  state_change = 2,                 // data: lenenc "1"
  gtids = 3,                        // data: u8 encoding specification, lenenc GTID set
  transaction_characteristics = 4,  // data: lenenc SQL that would restore them
  transaction_state = 5,            // data: lenenc 8-character state string
};

// Views into the decoded bytes. `name` is set for system variables only; `value` holds the
// variable's value, the schema, "1", the GTID set, the characteristics or the transaction state.
// For types this decoder does not know, value is empty and `data` has the record's raw bytes.
struct SessionTrackRecord {
  SessionTrackType type;
  std::string_view name;
  std::string_view value;
  std::span<const uint8_t> data;  // the record's data (after its length)
};

Result<std::vector<SessionTrackRecord>, DecodeError> decode_session_track(std::span<const uint8_t> session_state);
Result<std::vector<SessionTrackRecord>, DecodeError> decode_session_track(std::string_view session_state);

// Appends one record (used by tests and by a proxy that answers SET statements itself).
void encode_session_track_record(SessionTrackType type, std::string_view name, std::string_view value,
                                 std::vector<uint8_t>& out);

}  // namespace odp::protocol
