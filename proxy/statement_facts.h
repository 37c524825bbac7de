#pragma once
// What one client command means for the session model (session_model.h): from the command and,
// for SQL, the classifier's view of the text. Built once per statement (for a prepared statement
// once at prepare time and kept with it); the common statement (a plain SELECT) yields no ties,
// nothing to read back and allocates nothing.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/constants.h"
#include "proxy/session_ties.h"
#include "routing/sql_classifier.h"

namespace odp::proxy {

struct StatementFacts {
  protocol::Command command = protocol::Command::query;
  routing::StmtType type = routing::StmtType::other;
  TieSet ties;      // server-side state the statement creates when it succeeds
  TieSet releases;  // ties it ends when it succeeds (UNLOCK TABLES, BACKUP STAGE END...)
  bool begins_transaction = false;
  bool consistent_snapshot = false;    // START TRANSACTION WITH CONSISTENT SNAPSHOT: not held
  bool ends_transaction = false;       // COMMIT / ROLLBACK
  bool multi_statement = false;        // several statements in one COM_QUERY
  bool resets_session = false;         // COM_RESET_CONNECTION / COM_CHANGE_USER
  bool sets_global_variables = false;  // SET GLOBAL: pooled connections hold older globals
  bool resets_timestamp = false;       // SET timestamp = DEFAULT
  bool sets_session_variables = false;
  // SET of the client's session tracking (client_tracking.h): the connection gets odp's back.
  bool sets_client_tracking = false;
  // A state change the server reports for this statement is explained by what odp models or
  // reads back (SET, USE, user variables), so it ties nothing by itself.
  bool explains_state_change = false;
  // The statement asks for results the previous statement left on its connection (FOUND_ROWS(),
  // ROW_COUNT(), SHOW WARNINGS, LAST_INSERT_ID() is replayed instead) or CONNECTION_ID().
  bool reads_connection_results = false;
  bool uses_last_insert_id = false;
  bool uses_user_variables = false;
  bool computes_found_rows = false;  // SQL_CALC_FOUND_ROWS: the next FOUND_ROWS() wants this connection
  // Variables to read back after the statement ran (lower-cased names): user variables it assigns,
  // and session variables it sets by name (the tracker misses `SET @@x = v`).
  std::vector<std::string> user_variables;
  std::vector<std::string> system_variables;
  int8_t autocommit = -1;  // SET autocommit = v: 0/1, -1 not set
  // The database the command selects when it succeeds (COM_INIT_DB, USE db): learned even from a
  // server that does not report schema changes.
  std::string database;
  std::string role;  // SET ROLE's role: replayed on the session's other connections
};

// Facts of a COM_QUERY (or of a prepared statement's text) from its classification.
void facts_for_sql(const routing::ClassifiedSql& c, std::string_view sql, StatementFacts& out);
// Facts of a command without SQL text (COM_PING, COM_INIT_DB, COM_STMT_FETCH...).
void facts_for_command(protocol::Command cmd, StatementFacts& out);

}  // namespace odp::proxy
