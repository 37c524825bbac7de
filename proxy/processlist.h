#pragma once
// SHOW [FULL] PROCESSLIST through odp lists odp's client sessions, not a server's threads: their ids
// are the ones KILL takes here (the handshake's connection ids, as obproxy lists its client
// sessions). A server's own view stays in information_schema.PROCESSLIST. Pure.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace odp::proxy {

// One session as its worker saw it when asked.
struct SessionActivity {
  uint32_t id = 0;
  std::string user;
  std::string tenant;
  std::string host;       // the client's "ip:port"
  std::string database;   // "" = none
  bool running = false;   // a command is in progress
  uint64_t since_ms = 0;  // when it began, or when the session became idle
  std::string statement;  // the running COM_QUERY's text (capped), else ""
};

// The longest statement text a snapshot keeps (FULL shows up to this).
inline constexpr size_t kProcesslistMaxInfo = 65536;
// Info without FULL: the first 100 characters, as MySQL and MariaDB show it.
inline constexpr size_t kProcesslistShortInfo = 100;

// `SHOW [FULL] PROCESSLIST` (with optional comments and `;`): whether FULL was given; nullopt when
// `sql` is another statement.
std::optional<bool> parse_show_processlist(std::string_view sql);

// The columns: Id, User, Host, db, Command, Time, State, Info (Id and Time are integers).
const std::vector<std::string>& processlist_columns();
bool processlist_column_is_integer(size_t column);

// Whose sessions a viewer sees: a client its own user's and tenant's (as a server shows a user
// without the PROCESS privilege); root@proxysys everyone's.
struct ProcesslistViewer {
  std::string_view user;
  std::string_view tenant;
  bool everyone = false;
};

// The rows a viewer sees, by id.
std::vector<std::vector<std::optional<std::string>>> processlist_rows(std::span<const SessionActivity> sessions,
                                                                      const ProcesslistViewer& viewer, bool full,
                                                                      uint64_t now_ms);

}  // namespace odp::proxy
