#pragma once
// CONNECTION_ID() answers odp's connection id. Clients know odp's id (from our handshake; KILL <id>
// through odp takes it), while a session's statements run on pooled server connections whose
// thread ids change from statement to statement. So each call is rewritten in the SQL text, keeping
// what the client sees of the function apart from its value:
//
//  - the value's type: a call becomes `IF(1, CAST(<id> AS UNSIGNED), CONNECTION_ID())`. The dead
//    branch is the server's own function, so the result's type is the union of an unsigned literal
//    and the function's type, which is the function's type (INT UNSIGNED, length 10, NOT NULL,
//    binary on MariaDB 10.11): the result metadata of `SELECT CONNECTION_ID()`, the types of
//    `CREATE TABLE ... AS SELECT CONCAT(CONNECTION_ID())` and of enclosing expressions (`+ 1`,
//    `- 1000` overflowing as unsigned, CONCAT, comparisons) are those of the function. A bare
//    literal is not: its column is named `117` and CONCAT(117) is varchar(3), not varchar(10).
//  - the column's name: a select item that contains a call and has no alias gets
//    `AS `<the item's original text>`` (backquotes doubled), the name the server would have given
//    it. MariaDB names an unaliased item by its exact text, from its first token to its last,
//    whitespace and comments inside kept, executable-comment markers (`/*!50000`, `*/`) left out,
//    cut to 255 bytes (an alias is cut the same way, so the full text is passed). Every select list
//    is aliased, not only the outermost one: derived tables, CTEs, CREATE TABLE ... AS SELECT and
//    scalar subqueries take their names from inner select lists.
//  - stored SQL: nothing is rewritten in CREATE/ALTER VIEW, CREATE PROCEDURE/FUNCTION/TRIGGER/
//    EVENT/PACKAGE, ALTER EVENT, PREPARE (its text is a string anyway), ALTER TABLE, nor in the
//    column definitions of CREATE TABLE (DEFAULT CONNECTION_ID() and generated columns are stored
//    expressions). A literal there would freeze the creator's id into the definition; unrewritten,
//    a view returns the server thread id of the connection that queries it, like directly on the
//    server. A routine, trigger or event ends the rewriting of the whole text (its body may hold
//    `;`); a view, ALTER or PREPARE only its own statement.
//  - KILL [QUERY|CONNECTION] CONNECTION_ID() gets the plain number, so the text parses as a KILL of
//    odp's id again (parse_kill_statement).
//
// A call is `CONNECTION_ID ( )` in any case, spaces and comments allowed, the name also backquoted
// (MariaDB calls the function for `CONNECTION_ID`() too), not `db.CONNECTION_ID()` (a stored
// function), not inside strings, comments or quoted names. The rules and their known limits are at
// the top of connection_id_rewrite.cpp.
//
// Returns nullopt, without allocating, when the text has no call to rewrite (the common case: a
// case-insensitive substring check comes first).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace odp::proxy {

std::optional<std::string> rewrite_connection_id(std::string_view sql, uint32_t connection_id);

}  // namespace odp::proxy
