#pragma once
// Recognises a statement that sets only the session's autocommit to a literal:
//   SET [SESSION | LOCAL] autocommit = v      SET @@[SESSION. | LOCAL.]autocommit = v
// (= or :=, an optional `;` after), v one of 0, 1, ON, OFF, TRUE, FALSE, 'ON', 'OFF'. Outside a
// transaction such a SET changes nothing on a server but the variable, so odp can answer it
// itself and replay the value with the session's next statement (the model keeps it like any
// other variable): a round trip to a server saved for every PyMySQL or JDBC connection that
// turns autocommit off at login. Any other form (GLOBAL, DEFAULT, an expression, more
// assignments, a value a server would refuse) is left to a server, which checks it.
#include <optional>
#include <string_view>

namespace odp::proxy {

struct AutocommitSet {
  bool on = true;
  // Written `@@autocommit` (no scope): MariaDB's session tracker does not report that form (nor
  // the state change it makes), MySQL's does.
  bool bare_system_variable = false;
};
// The value it sets, or nullopt when `sql` is not exactly such a statement.
std::optional<AutocommitSet> parse_autocommit_set(std::string_view sql);

}  // namespace odp::proxy
