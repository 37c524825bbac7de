#pragma once
// Whether a KILL may act on an idle session without a server's word. A server lets a user kill its
// own threads (MariaDB and MySQL compare the user name, not the host) and wants CONNECTION ADMIN /
// SUPER for anyone else's; it judges each KILL it receives. A KILL of a session with a statement
// running goes to the server (as the killer), which judges it. An idle session has no server
// thread to judge: odp may close it only for a killer of the same user (same cluster and tenant:
// another tenant's "app" is another account), or once the server took a KILL from the killer of
// a thread of the target's user (KillPrivilegeProbe). Anything else is refused with the server's
// own error 1095.
#include <cstdint>
#include <string>

#include "protocol/result_packets.h"
#include "proxy/login_name.h"

namespace odp::proxy {

struct KillAuthority {
  std::string user;
  std::string tenant;
  std::string cluster;
  // The server took a KILL of a thread of the target's user from this killer (the privilege).
  bool proven = false;
};

KillAuthority kill_authority_of(const LoginName& killer);
// The killer may close (or KILL QUERY) the idle target without asking a server.
bool may_kill_idle(const KillAuthority& killer, const LoginName& target);
// ER_KILL_DENIED_ERROR as the server words it, naming odp's id of the target.
protocol::ErrPacket kill_denied(uint64_t target_id);

}  // namespace odp::proxy
