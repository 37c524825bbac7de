#pragma once
// One fake server session (what a MariaDB thread holds for its connection): system variables
// (starting from the server's globals), user variables, the current database, temporary tables,
// prepared statements, an open transaction, and session tracking as MariaDB does it: with
// session_track_system_variables / _schema / _state_change on, OK packets carry
// SESSION_STATE_CHANGED records of what the statement changed. COM_RESET_CONNECTION and
// COM_CHANGE_USER bring it all back to a fresh login's (tracking off again).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/constants.h"
#include "tests/unit/proxy/fake_sql.h"

namespace odp::fakeio {

// The server's global variables: what a session starts with and what DEFAULT means. The ones
// clients set are listed in kClientVariables.
const std::map<std::string, std::string, std::less<>>& fake_globals();
// Two take strings, three integers (timestamp: SET timestamp = DEFAULT lets the clock run
// again, which odp models apart), tx_isolation one of the four levels.
inline constexpr const char* kClientVariables[] = {
    "sql_mode", "time_zone", "group_concat_max_len", "div_precision_increment", "timestamp", "tx_isolation"};
inline constexpr uint32_t kClientVariableCount = sizeof(kClientVariables) / sizeof(kClientVariables[0]);
inline constexpr const char* kDatabases[] = {"test", "db1", "db2"};
bool known_database(std::string_view db);

// A statement the session prepared (COM_STMT_PREPARE), by the server's id.
struct PreparedSql {
  std::string sql;
  Stmt stmt;
  std::optional<Tag> tag;                         // the tag of the text (whoever prepared it: a client, or odp again)
  std::vector<protocol::ColumnType> param_types;  // the last types bound
};

// A write of the open transaction, applied to the table at COMMIT.
struct TxWrite {
  Tag tag;
  int64_t id = 0;
  bool insert = true;
  std::string value;  // insert: the row's value; update: the text appended
};

// What one statement changed, for the session tracker.
struct Changes {
  std::vector<std::pair<std::string, std::string>> sysvars;  // the ones a tracker reports (name, value)
  bool schema = false;
  bool state = false;  // anything at all (user variables, temporary tables...)
};

struct SqlError {
  uint16_t code = 0;
  std::string state = "HY000";
  std::string message;
};

class BackendSession {
 public:
  BackendSession();
  // COM_RESET_CONNECTION keeps the database; COM_CHANGE_USER takes the new login's.
  void reset(std::string database);

  // Evaluates an expression; `params` are a prepared statement's bound values.
  std::optional<FakeValue> eval(const Expr& e, std::span<const FakeValue> params, SqlError& err) const;
  // SET: every assignment or none (the first failing one's error).
  std::optional<SqlError> apply_set(const Stmt& s, std::span<const FakeValue> params, Changes& changes);

  std::optional<std::string> sysvar(std::string_view name) const;
  FakeValue uservar(std::string_view name) const;
  void set_database(std::string db, Changes& changes);
  const std::string& database() const { return database_; }

  // The session-track records of `changes` as this session's trackers report them ("" = none).
  std::string session_state(const Changes& changes) const;
  // The same as a session with the servers' default trackers would report them: what a client
  // that asked for session tracking and set none of session_track_* gets (odp filters the
  // records its own trackers make the server send).
  std::string client_default_state(const Changes& changes) const;
  bool tracks_anything() const;

  std::set<std::string> temp_tables;
  std::map<uint32_t, PreparedSql> statements;
  // Far from odp's own ids (1, 2, 3... per client session): a client that gets a server's id
  // instead of odp's is seen at once.
  static constexpr uint32_t kFirstStatementId = 100001;
  uint32_t next_statement_id = kFirstStatementId;
  bool in_tx = false;
  std::vector<TxWrite> tx;
  uint64_t last_insert_id = 0;

 private:
  bool tracks_variable(std::string_view name) const;
  static bool listed(std::string_view list, std::string_view name);
  std::string session_state(const Changes& changes, std::string_view list, bool schema, bool state) const;
  std::map<std::string, std::string, std::less<>> sysvars_;
  std::map<std::string, FakeValue, std::less<>> uservars_;
  std::string database_;
};

}  // namespace odp::fakeio
