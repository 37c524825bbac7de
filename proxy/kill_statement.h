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

// Where KILLs stand in a multi-statement (a COM_QUERY of several statements). A KILL the server
// gets as text would name odp's id as a server thread id, so odp must act on every one of them:
// a leading KILL runs first as odp's own (the rest follows when it succeeded, as a server stops a
// multi-statement at its first error); a KILL further on would have to wait for the statements
// before it, which odp does not split, so such a text is refused before anything of it runs.
struct KillsInText {
  bool multi = false;    // more than one statement
  bool leading = false;  // the first statement starts with KILL
  bool later = false;    // a statement after the first starts with KILL
  size_t first_end = 0;  // offset of the `;` that ends the first statement (when multi)
};
KillsInText find_kills(std::string_view sql);
std::string format_kill_statement(const KillStatement& kill, uint64_t server_thread_id);

}  // namespace odp::proxy
