#include "proxy/session_state.h"

#include <doctest/doctest.h>

#include "protocol/column_def.h"

using namespace odp::proxy;
using odp::protocol::ColumnDefinition41;
using odp::protocol::ColumnType;

TEST_CASE("session state: a fresh connection needs nothing; changes replay once") {
  SessionState s;
  s.reset("test");
  ConnSync a = s.fresh_connection();
  CHECK(s.plan(a).empty());
  s.set_system_variable("sql_mode", "ANSI_QUOTES");
  s.set_system_variable("wait_timeout", "100");
  s.set_user_variable("X", "42");
  auto r = s.plan(a);
  CHECK_FALSE(r.init_db);
  CHECK(r.set_sql == "SET @@SESSION.sql_mode = 'ANSI_QUOTES', @@SESSION.wait_timeout = 100, @`x` = 42");
  s.mark_synced(a);
  CHECK(s.plan(a).empty());
  // Only what changed after the connection's version is replayed.
  s.set_system_variable("wait_timeout", "200");
  CHECK(s.plan(a).set_sql == "SET @@SESSION.wait_timeout = 200");
  // Setting the same value again is no change.
  s.mark_synced(a);
  s.set_system_variable("wait_timeout", "200");
  CHECK(s.plan(a).empty());
}

TEST_CASE("session state: a connection another client used is brought to this client's values") {
  SessionState mine, other;
  mine.reset("test");
  other.reset("other");
  other.set_system_variable("sql_mode", "ANSI");
  other.set_system_variable("wait_timeout", "5");
  other.set_user_variable("secret", "1");
  mine.set_system_variable("wait_timeout", "7");
  mine.set_user_variable("x", "2");
  ConnSync pooled;
  other.mark_synced(pooled);
  // Another session's user variables cannot be undone by value (a variable set to NULL keeps its
  // type): the connection is reset first, and everything of this session goes again.
  auto r = mine.plan(pooled);
  CHECK(r.reset);
  REQUIRE(r.init_db);
  CHECK(*r.init_db == "test");
  CHECK(r.set_sql == std::string("SET ") + kSessionTrackingAssignments + ", @@SESSION.wait_timeout = 7, @`x` = 2");
  mine.mark_synced(pooled);
  CHECK(mine.plan(pooled).empty());
  // Without user variables on it, another session's values are undone by value: back to the login
  // values (DEFAULT, or what the login dialect set).
  SessionState plain;
  plain.reset("test");
  plain.set_system_variable("sql_mode", "ANSI");
  plain.set_system_variable("character_set_client", "cp932");
  ConnSync other_conn;
  plain.mark_synced(other_conn);
  Baseline base;
  base.charset = 8;  // latin1_swedish_ci
  auto r3 = mine.plan(other_conn, base);
  CHECK_FALSE(r3.reset);
  CHECK(r3.set_sql ==
        "SET @@SESSION.character_set_client = 8, @@SESSION.sql_mode = DEFAULT, @@SESSION.wait_timeout = 7, @`x` = 2");
  // utf8mb4_unicode_ci (node mysql2's default) is no character set's default collation: a server
  // refuses it as a number for a character set variable (ERROR 1115), so it names the set itself.
  base.charset = 224;
  CHECK(mine.plan(other_conn, base)
            .set_sql.find("@@SESSION.character_set_client = (SELECT CHARACTER_SET_NAME FROM "
                          "information_schema.COLLATIONS WHERE ID = 224)") != std::string::npos);
  CHECK(baseline_literal("collation_connection", base) == "224");
  // Putting character_set_connection back resets the collation to the set's default: the login's
  // collation follows it, or the session's own when it set one.
  SessionState names;
  names.reset("test");
  names.set_system_variable("character_set_connection", "latin1");
  ConnSync names_conn;
  names.mark_synced(names_conn);
  SessionState fresh;
  fresh.reset("test");
  std::string sql = fresh.plan(names_conn, base).set_sql;
  CHECK(sql.find("character_set_connection = (SELECT") != std::string::npos);
  CHECK(sql.ends_with("@@SESSION.collation_connection = 224"));
  fresh.set_system_variable("collation_connection", "utf8mb4_bin");
  sql = fresh.plan(names_conn, base).set_sql;
  CHECK(sql.ends_with("@@SESSION.collation_connection = 'utf8mb4_bin'"));
  base.charset = 8;
  base.ignore_space = true;
  CHECK(mine.plan(other_conn, base).set_sql.find("@@SESSION.sql_mode = CONCAT(@@GLOBAL.sql_mode, ',IGNORE_SPACE')") !=
        std::string::npos);
  // A reset starts a new history: old values of the same session compare by value again.
  ConnSync before;
  mine.mark_synced(before);
  mine.reset("test");
  auto r2 = mine.plan(before);
  CHECK(r2.reset);  // its own old user variables are another history's now
}

TEST_CASE("session state: dirty or older connections are reset for another session only") {
  SessionState a, b;
  a.reset("test");
  b.reset("test");
  ConnSync conn;
  a.mark_synced(conn);
  conn.dirty = true;  // a held a lock on it when it left
  CHECK_FALSE(a.plan(conn).reset);
  CHECK(b.plan(conn).reset);
  conn.dirty = false;
  Baseline later;
  later.login_ms = 10;  // b logged in after the connection (conn.baseline_ms = 0): older globals
  CHECK(b.plan(conn, later).reset);
  CHECK_FALSE(a.plan(conn, later).reset);  // its own connection: its own values
  conn.baseline_ms = 10;
  CHECK_FALSE(b.plan(conn, later).reset);
  // After a reset the connection's session tracking is off: the replay turns it on.
  ConnSync fresh = b.fresh_connection();
  fresh.tracking = false;
  auto r = b.plan(fresh);
  CHECK_FALSE(r.reset);
  CHECK(r.set_sql == std::string("SET ") + kSessionTrackingAssignments);
}

TEST_CASE("session state: database changes replay as COM_INIT_DB") {
  SessionState s;
  s.reset("");
  ConnSync a = s.fresh_connection();
  s.set_database("other");
  auto r = s.plan(a);
  REQUIRE(r.init_db);
  CHECK(*r.init_db == "other");
  CHECK(r.set_sql.empty());
  s.mark_synced(a);
  CHECK(s.plan(a).empty());
  ConnSync b = s.fresh_connection();  // logs in with the current database
  CHECK(s.plan(b).empty());
}

TEST_CASE("session state: a connection left in a database logs in again for a session in none") {
  SessionState other, mine;
  other.reset("db1");
  ConnSync conn;
  other.mark_synced(conn);
  conn.dirty = true;
  mine.reset("");
  mine.set_system_variable("wait_timeout", "7");
  // COM_INIT_DB cannot leave a database, nor can MariaDB's COM_RESET_CONNECTION: COM_CHANGE_USER
  // without one goes alone (the rest is planned on what it leaves).
  auto r = mine.plan(conn);
  CHECK(r.change_user);
  CHECK_FALSE(r.reset);
  CHECK_FALSE(r.init_db);
  CHECK(r.set_sql.empty());
  CHECK_FALSE(r.empty());
  SessionState::changed_user(conn, 5, 0);
  CHECK_FALSE(conn.dirty);
  CHECK(conn.applied->database.empty());
  Baseline base;
  base.login_ms = 5;
  base.ignore_space = true;
  auto r2 = mine.plan(conn, base);
  CHECK_FALSE(r2.change_user);
  CHECK_FALSE(r2.reset);
  CHECK_FALSE(r2.init_db);
  CHECK(r2.set_sql ==
        std::string("SET ") + kSessionTrackingAssignments +
            ", @@SESSION.sql_mode = CONCAT(@@GLOBAL.sql_mode, ',IGNORE_SPACE'), @@SESSION.wait_timeout = 7");
  mine.mark_synced(conn);
  CHECK(mine.plan(conn, base).empty());
  // A session in a database takes a connection in none with COM_INIT_DB.
  CHECK(*other.plan(conn).init_db == "db1");
  // The session's own older connection, in the database the session has left since (dropped).
  SessionState s;
  s.reset("db2");
  ConnSync own;
  s.mark_synced(own);
  s.set_database("");
  CHECK(s.plan(own).change_user);
}

TEST_CASE("session state: variables odp owns are not replayed; literals are safe") {
  SessionState s;
  s.reset("");
  s.set_system_variable("session_track_system_variables", "*");
  s.set_system_variable("last_gtid", "1-1-1");
  s.set_system_variable("insert_id", "5");  // one-shot: ties the session instead
  CHECK(s.system_variable_count() == 0);
  s.set_system_variable("timestamp", "12345.000000");  // modelled: replayed on other connections
  CHECK(s.system_variable("timestamp") == "12345.000000");
  s.clear_system_variable("timestamp");
  CHECK(s.system_variable_count() == 0);
  CHECK(system_variable_literal("time_zone", "+00:00") == "'+00:00'");
  CHECK(system_variable_literal("x", "it's\\") == "'it\\'s\\\\'");
  CHECK(system_variable_literal("character_set_results", "NULL") == "NULL");
  CHECK(system_variable_literal("max_join_size", "-1.5") == "-1.5");
}

TEST_CASE("user variable literals keep their type") {
  ColumnDefinition41 c;
  c.type = ColumnType::longlong;
  CHECK(user_variable_literal(std::string("-7"), c) == "-7");
  CHECK(user_variable_literal(std::nullopt, c) == "CAST(NULL AS SIGNED)");  // a typed NULL keeps its type
  c.type = ColumnType::double_;
  CHECK(user_variable_literal(std::string("1.5"), c) == "1.5e0");
  CHECK(user_variable_literal(std::string("1e300"), c) == "1e300");
  c.type = ColumnType::var_string;
  c.charset = 63;
  CHECK(user_variable_literal(std::string("a'b"), c) == "X'612762'");
  c.charset = 45;
  CHECK(user_variable_literal(std::string("hi"), c) == "CONVERT(X'6869' USING utf8mb4)");
  c.type = ColumnType::newdecimal;
  CHECK(user_variable_literal(std::string("12.50"), c) == "12.50");
  CHECK(user_variable_literal(std::string("1; DROP"), c) == "CONVERT(X'313B2044524F50' USING utf8mb4)");
}

TEST_CASE("user variables named by a statement") {
  auto v = user_variables_in("SET @a = 1, @B := @@session.x, @`we ird` = '@notme' -- @no\n");
  REQUIRE(v);
  REQUIRE(v->size() == 3);
  CHECK((*v)[0] == "a");
  CHECK((*v)[1] == "b");
  CHECK((*v)[2] == "we ird");
  CHECK(user_variables_in("select 1 into @x /* @y */")->size() == 1);
  CHECK_FALSE(user_variables_in("select @a,@b,@c", 2));
  CHECK(user_variables_in("select '@", 4)->empty());
  CHECK(user_variables_in("@", 4)->size() == 0);
}

TEST_CASE("session state: OceanBase session records go to the session's connections that lack them") {
  SessionState s, other;
  s.reset("test");
  other.reset("test");
  ConnSync a = s.fresh_connection(), b = s.fresh_connection();
  s.set_ob_session_info(0, "module=pay");  // reported by the server behind `a`
  s.mark_synced(a);
  CHECK(s.plan(a).empty());
  auto r = s.plan(b);
  REQUIRE(r.ob_info.size() == 1);
  CHECK(r.ob_info[0].type == 0);
  CHECK(r.ob_info[0].bytes == "module=pay");
  CHECK(r.set_sql.empty());
  s.mark_synced(b);
  // A newer record of a type: only it goes; the same bytes again are no change.
  s.set_ob_session_info(4, "vars");
  s.set_ob_session_info(0, "module=pay");
  r = s.plan(a);
  REQUIRE(r.ob_info.size() == 1);
  CHECK(r.ob_info[0].type == 4);
  // Another session's connection: no record undoes them, so it is reset first.
  r = other.plan(a);
  CHECK(r.reset);
  CHECK(r.ob_info.empty());
  // And a connection of another session gets all of this session's records after its reset.
  ConnSync c;
  other.mark_synced(c);
  r = s.plan(c);
  CHECK(r.ob_info.size() == 2);
}

TEST_CASE(
    "session state: a connection's global values may be older than the login by the max age, not past a SET GLOBAL") {
  SessionState a, b;
  a.reset("test");
  b.reset("test");
  ConnSync conn = a.fresh_connection(1000, 3);  // logged in at 1000 ms, after odp's third SET GLOBAL
  a.mark_synced(conn);
  Baseline later;
  later.globals_max_age_ms = 1000;
  later.global_sets = 3;
  later.login_ms = 1999;  // 999 ms after the connection's values: young enough
  CHECK_FALSE(b.plan(conn, later).reset);
  later.login_ms = 2000;  // as old as the bound: reset
  CHECK(b.plan(conn, later).reset);
  later.login_ms = 1500;
  later.global_sets = 4;  // a SET GLOBAL succeeded through odp since the connection's login
  CHECK(b.plan(conn, later).reset);
  later.login_ms = 1000;  // even within the same millisecond
  CHECK(b.plan(conn, later).reset);
  CHECK_FALSE(a.plan(conn, later).reset);  // its own connection keeps its own values
  // A connection younger than the login is never reset for its globals.
  later.global_sets = 3;
  later.login_ms = 500;
  later.globals_max_age_ms = 0;
  CHECK_FALSE(b.plan(conn, later).reset);
  // Max age 0: any connection from before the login is reset.
  later.login_ms = 1001;
  CHECK(b.plan(conn, later).reset);
}

TEST_CASE("session state: OceanBase connections under the same global-variables version need no reset") {
  SessionState a, b;
  a.reset("test");
  b.reset("test");
  ConnSync conn = a.fresh_connection(5);  // logged in at 5 ms...
  conn.global_vars_version = 7;           // ...under version 7
  a.mark_synced(conn);
  Baseline later;
  later.login_ms = 10;  // b logged in after the connection did
  later.global_vars_version = 7;
  CHECK_FALSE(b.plan(conn, later).reset);  // the same globals: nothing to reset for
  later.global_vars_version = 8;           // a SET GLOBAL since
  CHECK(b.plan(conn, later).reset);
  later.globals_max_age_ms = 60000;  // the version says so, however young the connection
  CHECK(b.plan(conn, later).reset);
  later.globals_max_age_ms = 0;
  later.global_vars_version = 6;  // the connection's globals are newer than the login's
  CHECK_FALSE(b.plan(conn, later).reset);
  later.global_vars_version = 0;  // unknown: by time
  CHECK(b.plan(conn, later).reset);
  conn.global_vars_version = 0;
  later.global_vars_version = 7;
  CHECK(b.plan(conn, later).reset);
  // Other reasons to reset stay.
  conn.global_vars_version = 7;
  conn.dirty = true;
  CHECK(b.plan(conn, later).reset);
}
