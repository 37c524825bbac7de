#pragma once
// Hot upgrade phase 2: an idle client session moves from the old process to the new one. The
// old process sends, on a unix SOCK_SEQPACKET socket shared with the new one, one message per
// session: the client's socket (SCM_RIGHTS) and the bytes below. The new process adopts the
// socket into a session in Phase::ready restored from the model, with the same connection id.
//
// What moves: the SessionModel (identity, variables, database, autocommit, prepared statements
// by SQL, LAST_INSERT_ID, consistency), the connection id, the peer address and whether the
// client speaks the compressed protocol. Only a session at a quiet point moves (ready, nothing
// buffered or in flight, no ties): the compressed numbering restarts at each command, so the
// flag is all the channel needs. What does not: server connections (they stay in the old
// process's pool and close with it), TLS sessions (the TLS state is not exportable: drained).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace odp::proxy {

struct HandoverMessage {
  static constexpr uint8_t kCompressed = 1;
  uint32_t connection_id = 0;
  uint8_t flags = 0;
  uint32_t mariadb_ext_caps = 0;  // not in the model's bytes
  std::string peer;
  std::vector<uint8_t> model;  // SessionModel::serialize

  bool compressed() const { return (flags & kCompressed) != 0; }
};

void encode_handover(const HandoverMessage& m, std::vector<uint8_t>& out);
Result<HandoverMessage, std::string> decode_handover(std::span<const uint8_t> in);

// Sends `bytes` with `fd` attached on the seqpacket socket `sock` without blocking. Returns 0, or
// the errno (EAGAIN: try again later; EMSGSIZE: never fits).
int send_handover(int sock, int fd, std::span<const uint8_t> bytes);
// Blocks for the next message. Returns its bytes and sets `fd` (-1 when none came with it); an
// empty result with fd -1 is the end (the peer closed) or an error (`err` set).
std::vector<uint8_t> recv_handover(int sock, int& fd, int& err);

}  // namespace odp::proxy
