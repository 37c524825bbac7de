#pragma once
// What a client sees of session tracking. odp turns the trackers on for each server connection
// (kSessionTrackingAssignments: every variable, the schema, every state change), whatever the
// client asked for: it learns each session's state from them. A client that speaks
// CLIENT_SESSION_TRACK gets only the records its own session_track_system_variables,
// session_track_schema and session_track_state_change would have a server send it directly.
//
// The client's values of those three are the session's, not a server connection's: a SET of them
// runs on the server (which checks the value; the model reads back what the tracker did not
// report), the model keeps the new value, and odp turns its own trackers back on on that
// connection before its next statement. A fresh session starts from the servers' compiled
// defaults (MariaDB and MySQL agree on them); a server whose global values differ is not asked.
// session_track_transaction_info and session_track_gtids are not odp's: ordinary variables,
// replayed like any other.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/session_track.h"

namespace odp::proxy {

struct ClientTracking {
  static constexpr std::string_view kDefaultVariables =
      "autocommit,character_set_client,character_set_connection,character_set_results,time_zone";
  std::string system_variables{kDefaultVariables};  // as the server reports it: a list, or "*"
  bool schema = true;
  bool state_change = false;

  bool is_default() const { return system_variables == kDefaultVariables && schema && !state_change; }
  // The client's new value of `lower_name` (one of the three), as the tracker reports it or
  // SELECT @@x reads it back. False for any other name.
  bool learn(std::string_view lower_name, std::string_view value);
  // session_track_system_variables names it (names compare case-insensitively; "*" names all).
  bool tracks_variable(std::string_view name) const;
};

// session_track_system_variables, session_track_schema, session_track_state_change.
bool is_client_tracking_variable(std::string_view lower_name);

// The session-state records of an OK (decoded OkPacket::session_state) as this client's settings
// would have them, encoded: nullopt when every record stays.
std::optional<std::string> filter_session_state(std::span<const protocol::SessionTrackRecord> records,
                                                const ClientTracking& tracking);

}  // namespace odp::proxy
