#include "proxy/session_env.h"

#include "protocol/constants.h"

namespace odp::proxy {

admin::InternalResult LoginServices::run_internal_command(std::string_view) {
  admin::InternalResult r;
  r.kind = admin::InternalResult::Kind::error;
  r.error_code = protocol::errc::ER_NOT_SUPPORTED_YET;
  r.message = "odp: internal commands are not available here";
  return r;
}

}  // namespace odp::proxy
