#pragma once
// Reads a server's handshake once (blocking, bounded by a timeout) to learn the version string,
// capabilities and charset that odp then presents to its clients, so that clients see the
// dialect of the database behind the proxy.
#include <string>

#include "base/result.h"
#include "proxy/session_env.h"

namespace odp::proxy {

Result<BackendInfo, std::string> probe_backend(const std::string& host_port, int timeout_ms);

}  // namespace odp::proxy
