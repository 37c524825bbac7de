#pragma once
// Recognises `KILL [HARD|SOFT] [CONNECTION|QUERY] <id>` in SQL text. Clients name odp's
// connection ids (from our handshake), which the proxy must translate into the server's thread
// id before the statement reaches the server: forwarded as-is, it would kill some other
// client's server connection.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace odp::proxy {

struct KillStatement {
  bool query_only = false;  // KILL QUERY: stop the statement, keep the connection
  std::string modifier;     // "HARD" / "SOFT" / "" (MariaDB), passed through
  uint64_t id = 0;
};

std::optional<KillStatement> parse_kill_statement(std::string_view sql);
std::string format_kill_statement(const KillStatement& kill, uint64_t server_thread_id);

}  // namespace odp::proxy
