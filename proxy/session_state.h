#pragma once
// Session state kept in step across server connections by version numbers.
//
// A client session's wanted state (database, system variables, user variables) is learned from
// what its statements did on the server that ran them: the session-track records of OK packets
// (system variables, schema) and, after statements that assign user variables, their values read
// back. Each change gets a new version. The state is an immutable value (SessionVars) shared by
// pointer: a server connection remembers the value it has applied. Before a statement runs on a
// connection:
//   - it has this session's current value: nothing to do;
//   - it has an older value of this session: replay only the variables whose version is newer;
//   - it has another client's value (a pooled connection) or a fresh login's: replay the difference
//     by value (variables the other client set and this one did not go back to DEFAULT / NULL).
// One SET statement, plus COM_INIT_DB when the database differs. A database is undone only by
// COM_CHANGE_USER without one (COM_INIT_DB needs a name; MariaDB's COM_RESET_CONNECTION keeps it):
// a connection left in a database is logged in again for a session in none.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/column_def.h"
#include "protocol/ob_session_info.h"

namespace odp::proxy {

struct SessionVars {
  struct Var {
    std::string sql;  // literal to assign
    uint64_t version = 0;
  };
  uint64_t owner = 0;  // the history (session) that made this value (0: a fresh login's state)
  std::string database;
  uint64_t db_version = 0;
  uint64_t var_version = 0;
  uint64_t removed_version = 0;  // the last time a system variable went back to its login value
  uint64_t role_version = 0;
  std::map<std::string, Var, std::less<>> sysvars;   // lower-cased names
  std::map<std::string, Var, std::less<>> uservars;  // lower-cased names (MySQL: case-insensitive)
  std::string role;                                  // SET ROLE by the session ("" = the login's default role)
  // OceanBase session records (SESS_INFO) by type, the server's bytes in Var::sql (ob_session_info.h).
  std::map<uint16_t, Var> ob_info;
  // The database and every system variable, as one string: what a statement prepared in this
  // state was parsed under (prepared statements are shared only between equal contexts).
  std::string context;
  // Holds what no value undoes for another session (user variables: a variable set to NULL keeps
  // its type; privileged variables; a role): a connection with it is reset before another uses it.
  bool exclusive = false;
};
using SessionVarsPtr = std::shared_ptr<const SessionVars>;

// How a system variable reported by a server's session tracker is handled.
enum class VarClass {
  replay,           // the client's setting: modelled by value, replayed on other connections
  ignore,           // odp's own (session tracking), describes the connection, or is an OceanBase
                    // server's feedback to its proxy (ob_proxy_partition_hit...): not the client's wish
  one_shot,         // consumed by the next statement (insert_id), or a sequence that moves on
                    // (rand_seed1/2): ties the session to the connection
  client_tracking,  // session_track_system_variables/_schema/_state_change: the client's view of
                    // tracking, kept by the model and applied by filtering (client_tracking.h);
                    // server connections keep odp's
  privileged,       // replayed for this session, but another user could not set it back (sql_log_bin,
                    // pseudo_thread_id): the connection is reset before another session uses it
};
VarClass classify_system_variable(std::string_view lower_name);

// What a server connection starts with for a login that DEFAULT cannot restore: the charset
// from the handshake, IGNORE_SPACE added to sql_mode for CLIENT_IGNORE_SPACE, and wait_timeout
// taken from interactive_timeout for CLIENT_INTERACTIVE. Connections are pooled per login dialect,
// so a pooled connection's baseline is the session's.
struct Baseline {
  uint8_t charset = 45;
  bool ignore_space = false;
  bool interactive = false;
  // When the session logged in: a connection that logged in (or was reset) before has the global
  // variables of an earlier time (a SET GLOBAL since, through odp or not), so a session takes it
  // only after a reset, and sees globals no older than its login.
  uint64_t login_ms = 0;
  // OceanBase: the tenant's global-variables version at the session's login (0: unknown). A
  // connection that logged in under the same version has the same global values, however old.
  int64_t global_vars_version = 0;
  // SET GLOBALs odp had seen succeed (over all workers) when the session logged in: a connection
  // whose baseline came before one of them is reset whatever its age.
  uint64_t global_sets = 0;
  // pool.global_variables_max_age_ms: how much older than the session's login a connection's
  // global values may be (a SET GLOBAL straight on a server reaches new sessions within it;
  // 0 = not at all older: every connection that logged in or was reset before is reset).
  uint64_t globals_max_age_ms = 0;
};
// The value that puts `name` back where a fresh login of this dialect had it ("DEFAULT" for most).
std::string baseline_literal(std::string_view lower_name, const Baseline& base);

// Turns session tracking on for a connection (after login, COM_RESET_CONNECTION, COM_CHANGE_USER).
inline constexpr const char* kSessionTrackingAssignments =
    "@@SESSION.session_track_system_variables = '*', @@SESSION.session_track_schema = ON, "
    "@@SESSION.session_track_state_change = ON";

// What one server connection has applied (of whichever client used it last).
struct ConnSync {
  SessionVarsPtr applied;
  uint64_t last_insert_id = 0;  // what LAST_INSERT_ID() answers on it (replayed only when asked for)
  // Server-side state beyond `applied` (a lock, a temporary table, a one-shot setting...) of the
  // session that applied it: the connection is reset before any other session uses it.
  bool dirty = false;
  bool tracking = true;             // session tracking is on (off after a reset or COM_CHANGE_USER)
  bool needs_baseline = false;      // reset: IGNORE_SPACE / interactive wait_timeout are gone
  uint64_t baseline_ms = 0;         // when it logged in or was last reset: its global values are of then
  int64_t global_vars_version = 0;  // OceanBase: the globals' version at its login (0: unknown)
  uint64_t global_sets = 0;         // Baseline::global_sets as of baseline_ms (read before it, if anything)
};

class SessionState {
 public:
  // Starts a new history: connections opened from now on log in with `database`.
  void reset(std::string database);

  const std::string& database() const { return vars_->database; }
  uint64_t var_version() const { return vars_->var_version; }
  const SessionVarsPtr& current() const { return vars_; }

  // A statement run on a connection changed the schema / a system variable (session-track data).
  void set_database(std::string_view db);
  // `value` as the server reports it (only VarClass::replay variables are kept).
  void set_system_variable(std::string_view name, std::string_view value);
  // A value already in literal form (a serialised session being restored).
  void set_system_variable_literal(std::string_view name, std::string literal);
  // The variable is back at its login value (SET timestamp = DEFAULT).
  void clear_system_variable(std::string_view name);
  // An OceanBase server reported a session record (SESS_INFO) of `type`.
  void set_ob_session_info(uint16_t type, std::string bytes);
  // A user variable's value as an SQL literal (see user_variable_literal).
  void set_user_variable(std::string_view name, std::string literal);
  // SET ROLE succeeded (role as written, e.g. "r1" or "NONE").
  void set_role(std::string_view role);
  const std::string& role() const { return vars_->role; }

  // What must be run on a connection that has `sync` before this session's next statement: a
  // COM_RESET_CONNECTION (the connection holds state of another session that no value can undo),
  // a database to select (nullopt = none) and one SET statement ("" = none), which also turns
  // session tracking back on after a reset.
  //
  // Or, when the connection is in a database and the session in none, only `change_user`: the
  // connection logs in again as the session's login without a database (COM_CHANGE_USER, which
  // resets everything COM_RESET_CONNECTION does). Its answer may be an auth switch, so nothing can
  // follow it on the wire: once it succeeded, changed_user() records the connection's new state and
  // plan() is asked again for the rest.
  struct Replay {
    bool change_user = false;
    bool reset = false;
    std::optional<std::string> init_db;
    std::string set_sql;
    std::optional<std::string> role;  // SET ROLE to run
    // OceanBase session records the connection lacks: they go with its next request.
    std::vector<protocol::ObSessionRecord> ob_info;
    bool empty() const { return !change_user && !reset && !init_db && set_sql.empty() && !role && ob_info.empty(); }
  };
  Replay plan(const ConnSync& sync, const Baseline& base = {}) const;
  // The connection now has everything (after a replay, or because the change happened there).
  // (A replay that began with a reset also sets sync.baseline_ms: the caller knows.)
  void mark_synced(ConnSync& sync) const;
  // The connection answered COM_CHANGE_USER without a database at `now_ms`: it has a fresh login's
  // state (no database, no variables, session tracking off, the login dialect's values gone) and
  // the global values of then (`global_sets`: Baseline::global_sets read when it was sent). (What
  // LAST_INSERT_ID() answers on it is not known: the caller replays it when asked for, as after a
  // reset.)
  static void changed_user(ConnSync& sync, uint64_t now_ms, uint64_t global_sets);
  // A connection that just logged in with the current database and no variables set.
  ConnSync fresh_connection(uint64_t now_ms = 0, uint64_t global_sets = 0) const;

  size_t system_variable_count() const { return vars_->sysvars.size(); }
  size_t user_variable_count() const { return vars_->uservars.size(); }
  std::optional<std::string> system_variable(std::string_view name) const;
  std::optional<std::string> user_variable(std::string_view name) const;

 private:
  SessionVars& mutate();  // copy-on-write
  static void refresh(SessionVars& v);

  SessionVarsPtr vars_ = std::make_shared<SessionVars>();
  uint64_t next_version_ = 1;
};

// A system variable's reported value as the literal to SET it back: numbers bare, NULL bare for the
// few variables that take it, anything else quoted.
std::string system_variable_literal(std::string_view name, std::string_view value);
// 'text' with quotes and backslashes escaped.
std::string quote_sql_string(std::string_view text);
// A user variable's value as read back by `SELECT @v` (text protocol), typed by its column.
std::string user_variable_literal(const std::optional<std::string>& value, const protocol::ColumnDefinition41& column);

// The user variables a statement names (`@a`, `@`quoted``), lower-cased, without duplicates; at most
// `max` (more -> returns nullopt: too many to track).
std::optional<std::vector<std::string>> user_variables_in(std::string_view sql, size_t max = 32);

}  // namespace odp::proxy
