#pragma once
// The internal commands root@proxysys runs (`show proxystat`, `show proxyconfig`, `kill
// proxysession N`, ...): parsed and answered here as a pure function of the statement text and a
// context the caller gathers. Nothing here does IO; the session encodes the result on the wire
// (protocol::encode_text_resultset) and nothing is ever forwarded to a server.
//
// Statements are case-insensitive, tolerate any whitespace, `-- `, `#` and `/* */` comments and
// trailing semicolons. Anything that is not a known command is an ERR, never a guess.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/config.h"
#include "base/result.h"
#include "routing/topology.h"

namespace odp::admin {

// One client session as `show proxysession` lists it. (`show [full] processlist` of root@proxysys is
// the sessions' own listing, proxy/processlist.h, over every user.)
struct SessionInfo {
  uint32_t id;
  std::string user;
  std::string client;         // "ip:port" of the client
  std::string server;         // "ip:port" of the server it is bound to, "" when none (shown as NULL)
  uint32_t server_thread_id;  // the server's connection id, 0 when none (shown as NULL)
  std::string state;          // free text; "", "idle", "sleep" and "connected" show as Command "Sleep"
  std::string database;       // "" = none (shown as NULL)
  uint64_t idle_ms;
};

struct InternalContext {
  std::vector<std::pair<std::string, int64_t>> stats;  // name, value (filled by the caller)
  const Config* config = nullptr;
  std::vector<SessionInfo> sessions;
  std::string version;
  std::vector<std::pair<std::string, std::string>> info;  // extra rows for show proxyinfo
  // `alter proxyconfig set key = value`: the dotted key and the value text (quotes removed).
  std::function<Result<Ok, std::string>(const std::string&, const std::string&)> alter_config;
  // `kill ...`: the session id and whether only its running query is to be cut (`kill query`).
  // Returns false when there is no such session (or it cannot be killed that way).
  std::function<bool(uint32_t, bool)> kill_session;
  // `alter proxy upgrade`: starts a hot upgrade like SIGUSR2 (the outcome is in odp's log).
  std::function<Result<Ok, std::string>()> upgrade;
  // Routing commands: the snapshot the calling worker holds (may be null) and what that worker
  // knows of server health.
  const routing::Snapshot* snapshot = nullptr;
  std::vector<std::pair<std::string, std::pair<uint32_t, uint64_t>>> congestion;  // server, failures, avoided ms
};

struct InternalResult {
  enum class Kind { ok, error, rows } kind = Kind::ok;
  uint16_t error_code = 0;
  std::string sql_state = "HY000";
  std::string message;         // error
  uint64_t affected_rows = 0;  // ok
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // rows; nullopt = SQL NULL
};

// Which pieces of context a statement needs, so the caller gathers only those (stats and the
// session list cost a cross-thread walk). Cheap: reads only the first words of the statement.
struct InternalNeeds {
  bool stats = false;
  bool sessions = false;
};
InternalNeeds internal_command_needs(std::string_view sql);

// Parses and runs one statement. Never throws for any input; the work is linear in its length
// (apart from LIKE, which is at most length x pattern length).
InternalResult execute_internal_command(std::string_view sql, const InternalContext& ctx);

// MySQL LIKE: `%` any run of characters, `_` exactly one (UTF-8) character, backslash escapes
// the next character (a trailing backslash is literal). Case-insensitive for ASCII letters.
bool like_match(std::string_view text, std::string_view pattern);

}  // namespace odp::admin
