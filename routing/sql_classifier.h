#pragma once
// A fast, allocation-free look at one SQL statement: what kind it is, which tables it touches,
// its routing hints, and the literal values it gives the columns of its WHERE equalities and
// INSERT rows (so the router can find the partition). It is not a parser: it tokenizes MySQL
// syntax (comments, quoted strings and identifiers, backslash escapes, hex/bit literals) and
// recognises the shapes that matter for routing. Anything it does not understand degrades to a
// safe answer (type `other`, no keys), never an error.
//
// All string_views point into the SQL text passed to classify(); the text must outlive the result.
#include <array>
#include <cstdint>
#include <string_view>

namespace odp::routing {

enum class StmtType : uint8_t {
  other,
  select,
  insert,
  replace,
  update,
  delete_,
  set,        // SET ... (variables, NAMES, CHARACTER SET, TRANSACTION ...)
  begin,      // BEGIN [WORK], START TRANSACTION [...]
  commit,     // COMMIT [WORK]
  rollback,   // ROLLBACK [WORK] (not ROLLBACK TO SAVEPOINT: that is `savepoint`)
  savepoint,  // SAVEPOINT x, ROLLBACK TO [SAVEPOINT] x, RELEASE SAVEPOINT x
  use,        // USE db
  show,
  explain,  // EXPLAIN / DESCRIBE / DESC
  call,
  ddl,          // CREATE / ALTER / DROP / TRUNCATE / RENAME
  lock_tables,  // LOCK TABLES / LOCK TABLE
  unlock_tables,
  prepare,     // PREPARE stmt FROM ...
  execute,     // EXECUTE stmt
  deallocate,  // DEALLOCATE / DROP PREPARE
  do_,         // DO expr
  load_data,   // LOAD DATA
  handler,     // HANDLER ...
  xa,          // XA ...
  kill,
};

const char* stmt_type_name(StmtType t);

enum class Consistency : uint8_t { unset, strong, weak };

// A literal value as written in the SQL (or a `?` placeholder).
struct SqlValue {
  enum class Kind : uint8_t { integer, decimal, string, null, placeholder, other } kind = Kind::other;
  int64_t integer = 0;       // kind integer (fits in int64; larger ones are `decimal`)
  std::string_view text;     // the literal's text as written (strings: without quotes, escapes not undone)
  bool has_escapes = false;  // string contains backslash escapes or doubled quotes
  bool introducer = false;   // string written with a charset introducer (_latin1'...')
  uint16_t placeholder = 0;  // kind placeholder: 0-based index of the `?` in the statement
};

struct TableName {
  std::string_view database;  // empty when not qualified
  std::string_view table;     // without backquotes
};

// `column = value` or `column IN (v1, v2...)` found in a top-level AND chain of the WHERE clause
// (SELECT/UPDATE/DELETE), or a column of an INSERT/REPLACE (one value per row).
struct KeyCondition {
  std::string_view column;    // without qualifier/backquotes ("t.id" -> "id")
  int32_t column_index = -1;  // INSERT without a column list: the value's position in the row
  uint16_t first_value = 0;   // index into ClassifiedSql::values
  uint16_t value_count = 0;
};

struct ClassifiedSql {
  static constexpr size_t kMaxTables = 8;
  static constexpr size_t kMaxConditions = 16;
  static constexpr size_t kMaxValues = 128;

  StmtType type = StmtType::other;
  // Tables in order of appearance (FROM/JOIN/INTO/UPDATE/DELETE FROM/TABLE ...). For SELECT
  // only the outermost FROM list and its JOINs; subqueries set `has_subquery`.
  std::array<TableName, kMaxTables> tables{};
  uint8_t table_count = 0;
  bool tables_truncated = false;

  std::array<KeyCondition, kMaxConditions> conditions{};
  uint8_t condition_count = 0;
  std::array<SqlValue, kMaxValues> values{};
  uint16_t value_count = 0;
  bool values_truncated = false;  // more conditions/values than fit: routing must not trust keys
  uint16_t insert_rows = 0;       // INSERT/REPLACE ... VALUES: number of rows

  // Hints from /*+ ... */ right after the first keyword (and obproxy-style comments).
  Consistency read_consistency = Consistency::unset;  // READ_CONSISTENCY(WEAK|STRONG|FROZEN->weak)
  int64_t query_timeout_us = -1;                      // QUERY_TIMEOUT(n), -1 = none
  std::string_view target_server;                     // ODP_ROUTE_TO('ip:port') hint; empty = none

  // Session-affecting facts (drive stickiness and state replay).
  bool for_update = false;  // SELECT ... FOR UPDATE / LOCK IN SHARE MODE
  bool has_subquery = false;
  bool multi_statement = false;         // more than one statement in the text (';' followed by more)
  bool uses_found_rows = false;         // FOUND_ROWS(), ROW_COUNT() or SQL_CALC_FOUND_ROWS
  bool uses_last_insert_id = false;     // LAST_INSERT_ID()
  bool uses_connection_id = false;      // CONNECTION_ID()
  bool uses_lock_function = false;      // GET_LOCK / RELEASE_LOCK / RELEASE_ALL_LOCKS / IS_USED_LOCK / IS_FREE_LOCK
  bool uses_user_variables = false;     // reads or writes @var
  bool assigns_user_variables = false;  // SET @x = ..., @x := ..., SELECT ... INTO @x
  bool sets_session_variables = false;  // SET [SESSION|@@session.|@@] x = ..., SET NAMES/CHARACTER SET
  bool sets_autocommit = false;         // SET autocommit = v (value in autocommit_value)
  bool autocommit_value = true;
  bool creates_temporary_table = false;  // CREATE TEMPORARY TABLE
  bool drops_temporary_table = false;    // DROP TEMPORARY TABLE
  bool show_warnings = false;            // SHOW WARNINGS / SHOW ERRORS / SHOW COUNT(*) WARNINGS
  bool begins_transaction = false;       // BEGIN / START TRANSACTION / XA START (also SET autocommit=0 does not)
  bool read_only_transaction = false;    // START TRANSACTION READ ONLY
  bool with_consistent_snapshot = false;
  // Session state that servers' session trackers do not always report (MariaDB reports neither
  // `SET @@x = v` without a scope nor one-shot transaction characteristics, locks or roles): the
  // proxy reads such variables back or keeps the session on its connection.
  static constexpr size_t kMaxSessionVariables = 8;
  std::array<std::string_view, kMaxSessionVariables> session_variables{};  // SET [SESSION] x / @@x (names as written)
  uint8_t session_variable_count = 0;
  bool session_variables_truncated = false;  // more than fit
  bool sets_global_variables = false;        // SET GLOBAL x = ...
  bool resets_timestamp = false;             // SET timestamp = DEFAULT | 0 (the clock runs again)
  bool one_shot_transaction = false;         // SET TRANSACTION ... without a scope: the next transaction only
  bool sets_role = false;                    // SET ROLE
  std::string_view role;                     // its role (NONE for SET ROLE NONE), as written
  bool set_statement = false;                // SET STATEMENT ... FOR <statement> (MariaDB): for one statement
  bool global_read_lock = false;             // FLUSH TABLES [...] WITH READ LOCK | FOR EXPORT
  bool backup_lock = false;                  // BACKUP STAGE <not END> | BACKUP LOCK | LOCK INSTANCE FOR BACKUP
  bool backup_unlock = false;                // BACKUP STAGE END | BACKUP UNLOCK | UNLOCK INSTANCE
  std::string_view use_database;             // USE db: the database (without backquotes)
  uint16_t placeholder_count = 0;            // `?` markers (prepared statements)

  // Convenience.
  bool is_read() const { return type == StmtType::select && !for_update && !assigns_user_variables; }
  bool is_write() const {
    return type == StmtType::insert || type == StmtType::replace || type == StmtType::update ||
           type == StmtType::delete_ || type == StmtType::load_data;
  }
};

// Classifies one statement (the text of COM_QUERY or COM_STMT_PREPARE). Never fails, never
// allocates; `out` is fully overwritten. Text longer than `max_scan` bytes is only scanned up to
// that point for keys (the type and first tables still come from its start).
void classify_sql(std::string_view sql, ClassifiedSql& out, size_t max_scan = 64 * 1024);

}  // namespace odp::routing
