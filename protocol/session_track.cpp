#include "protocol/session_track.h"

namespace odp::protocol {
namespace {

Status<DecodeError> decode_record_data(SessionTrackRecord& rec) {
  Reader d(rec.data);
  switch (rec.type) {
    case SessionTrackType::system_variables:
      if (!d.lenenc_str(rec.name) || !d.lenenc_str(rec.value)) {
        return Err{DecodeError{"session track: malformed system variable"}};
      }
      break;
    case SessionTrackType::gtids: {
      uint8_t spec = 0;
      if (!d.u8(spec) || !d.lenenc_str(rec.value)) return Err{DecodeError{"session track: malformed GTIDs"}};
      break;
    }
    case SessionTrackType::schema:
    case SessionTrackType::state_change:
    case SessionTrackType::transaction_characteristics:
    case SessionTrackType::transaction_state:
      // MySQL wraps these values in a lenenc string; MariaDB sends the state-change flag raw
      // ("1" with a record length of 1). Take the record as it is when it is not a lenenc string.
      if (!d.lenenc_str(rec.value) || !d.empty()) {
        rec.value = std::string_view(reinterpret_cast<const char*>(rec.data.data()), rec.data.size());
      }
      break;
    default:
      break;  // unknown type: keep the raw data
  }
  return Ok{};
}

}  // namespace

Result<std::vector<SessionTrackRecord>, DecodeError> decode_session_track(std::span<const uint8_t> session_state) {
  std::vector<SessionTrackRecord> out;
  Reader r(session_state);
  while (!r.empty()) {
    uint8_t type = 0;
    uint64_t len = 0;
    SessionTrackRecord rec{};
    if (!r.u8(type) || !r.lenenc_int(len) || len > r.remaining() || !r.bytes(static_cast<size_t>(len), rec.data)) {
      return Err{DecodeError{"session track: truncated record"}};
    }
    rec.type = static_cast<SessionTrackType>(type);
    if (auto st = decode_record_data(rec); !st) return Err{st.error()};
    out.push_back(rec);
  }
  return out;
}

Result<std::vector<SessionTrackRecord>, DecodeError> decode_session_track(std::string_view session_state) {
  return decode_session_track(as_bytes(session_state));
}

void encode_session_track_record(SessionTrackType type, std::string_view name, std::string_view value,
                                 std::vector<uint8_t>& out) {
  std::vector<uint8_t> data;
  switch (type) {
    case SessionTrackType::system_variables:
      put_lenenc_str(data, name);
      put_lenenc_str(data, value);
      break;
    case SessionTrackType::gtids:
      put_u8(data, 0);
      put_lenenc_str(data, value);
      break;
    default:
      put_lenenc_str(data, value);
      break;
  }
  put_u8(out, static_cast<uint8_t>(type));
  put_lenenc_int(out, data.size());
  put_bytes(out, data);
}

}  // namespace odp::protocol
