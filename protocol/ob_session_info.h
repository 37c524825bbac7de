#pragma once
// Session sync the OceanBase way (../shared/OB-VECTORS.md 1.4, capability PROXY_SESSION_SYNC):
// an OBServer reports session state it keeps (application info, client id, system variables...)
// as SESS_INFO records in the new-format extra info of its OB 2.0 responses; a proxy keeps the
// latest record of each type per client session and sends those a connection lacks in the extra
// info of its next request there. The bytes are the server's own: odp never looks inside. Pure.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "protocol/ob20.h"
#include "protocol/wire.h"

namespace odp::protocol {

// SESS_INFO record types (obproxy ob_2_0_protocol_struct.h).
namespace obsess {
constexpr uint16_t APPLICATION_INFO = 0;
constexpr uint16_t APPLICATION_CONTEXT = 1;
constexpr uint16_t CLIENT_ID = 2;
constexpr uint16_t CONTROL_INFO = 3;
constexpr uint16_t SYS_VAR = 4;
constexpr uint16_t TXN_STATIC = 5;  // 5..8: a transaction's state, for moving it between servers
constexpr uint16_t TXN_EXTRA = 8;
}  // namespace obsess

struct ObSessionRecord {
  uint16_t type = 0;
  std::string bytes;  // the server's serialisation, opaque
};

// The session records among a frame's extra-info `items` (either format, decoded) appended to
// `out`, later ones of a type after earlier ones. A transaction's records (TXN_*) are left out: odp
// keeps a transaction on the server it began on, so no other server needs them. Other extra-info
// records are skipped.
Status<DecodeError> collect_session_info(std::span<const Ob20ExtraInfoItem> items, std::vector<ObSessionRecord>& out);

// New-format extra info carrying `records` as one SESS_INFO record, appended to `out`.
void encode_session_info(std::span<const ObSessionRecord> records, std::vector<uint8_t>& out);

}  // namespace odp::protocol
