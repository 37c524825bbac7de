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
// One SET statement, plus COM_INIT_DB when the database differs.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/column_def.h"

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
  std::map<std::string, Var, std::less<>> sysvars;   // lower-cased names
  std::map<std::string, Var, std::less<>> uservars;  // lower-cased names (MySQL: case-insensitive)
};
using SessionVarsPtr = std::shared_ptr<const SessionVars>;

// What one server connection has applied (of whichever client used it last).
struct ConnSync {
  SessionVarsPtr applied;
  uint64_t last_insert_id = 0;  // what LAST_INSERT_ID() answers on it (replayed only when asked for)
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
  // `value` as the server reports it. Variables odp owns (session tracking itself) are ignored.
  void set_system_variable(std::string_view name, std::string_view value);
  // A user variable's value as an SQL literal (see user_variable_literal).
  void set_user_variable(std::string_view name, std::string literal);

  // What must be replayed on a connection that has `sync`: a database to select (nullopt = none)
  // and one SET statement ("" = none).
  struct Replay {
    std::optional<std::string> init_db;
    std::string set_sql;
    bool empty() const { return !init_db && set_sql.empty(); }
  };
  Replay plan(const ConnSync& sync) const;
  // The connection now has everything (after a replay, or because the change happened there).
  void mark_synced(ConnSync& sync) const { sync.applied = vars_; }
  // A connection that just logged in with the current database and no variables set.
  ConnSync fresh_connection() const;

  size_t system_variable_count() const { return vars_->sysvars.size(); }
  size_t user_variable_count() const { return vars_->uservars.size(); }
  std::optional<std::string> system_variable(std::string_view name) const;
  std::optional<std::string> user_variable(std::string_view name) const;

 private:
  SessionVars& mutate();  // copy-on-write

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
