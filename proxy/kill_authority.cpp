#include "proxy/kill_authority.h"

#include "protocol/constants.h"

namespace odp::proxy {

KillAuthority kill_authority_of(const LoginName& killer) {
  KillAuthority a;
  a.user = killer.user;
  a.tenant = killer.tenant;
  a.cluster = killer.cluster;
  return a;
}

bool may_kill_idle(const KillAuthority& killer, const LoginName& target) {
  if (killer.proven) return true;
  // Case-sensitive, as the servers compare user names (strcmp).
  return !killer.user.empty() && killer.user == target.user && killer.tenant == target.tenant &&
         killer.cluster == target.cluster;
}

protocol::ErrPacket kill_denied(uint64_t target_id) {
  protocol::ErrPacket err;
  err.code = protocol::errc::ER_KILL_DENIED_ERROR;
  err.sql_state = "HY000";
  err.message = "You are not owner of thread " + std::to_string(target_id);
  return err;
}

}  // namespace odp::proxy
