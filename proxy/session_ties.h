#pragma once
// Why a client session may not leave the server connection it is on. Each tie is server-side
// state that odp cannot describe by value and replay elsewhere: while any is set the session's
// statements all go to that one connection, and a connection that still carries one when its
// session ends is reset (COM_RESET_CONNECTION) before another client may use it.
#include <cstdint>

namespace odp::proxy {

enum class Tie : uint8_t {
  transaction,           // SERVER_STATUS_IN_TRANS, or a held BEGIN that reached the server
  lock_tables,           // LOCK TABLES, until UNLOCK TABLES
  global_read_lock,      // FLUSH TABLES WITH READ LOCK / FOR EXPORT, until UNLOCK TABLES
  backup_lock,           // BACKUP STAGE / BACKUP LOCK / LOCK INSTANCE FOR BACKUP, until its unlock
  user_lock,             // GET_LOCK and friends
  temporary_table,       // CREATE TEMPORARY TABLE
  sql_prepare,           // PREPARE name FROM ... (SQL-level prepared statements)
  cursor,                // COM_STMT_EXECUTE opened a cursor: COM_STMT_FETCH must find it
  long_data,             // COM_STMT_SEND_LONG_DATA waits on the connection for its execute
  xa,                    // XA transaction
  handler,               // HANDLER ... OPEN
  one_shot_transaction,  // SET TRANSACTION ... for the next transaction only
  role,                  // SET ROLE
  one_shot_variable,     // insert_id: consumed by the next INSERT on that connection
  privileged_variable,   // sql_log_bin, pseudo_thread_id, rand_seed1/2: not for others to undo
  unexplained_state,     // the server reported a session state change odp cannot explain
  untracked_server,      // the server does not report session state changes at all
  unreadable_variables,  // user variables odp could not read back
  set_option,            // COM_SET_OPTION (multi-statements on/off) is per connection
  count
};

constexpr const char* tie_reason(Tie t) {
  switch (t) {
    case Tie::transaction:
      return "sticky: transaction";
    case Tie::lock_tables:
      return "sticky: LOCK TABLES";
    case Tie::global_read_lock:
      return "sticky: global read lock";
    case Tie::backup_lock:
      return "sticky: backup lock";
    case Tie::user_lock:
      return "sticky: user-level lock";
    case Tie::temporary_table:
      return "sticky: temporary table";
    case Tie::sql_prepare:
      return "sticky: prepared statements";
    case Tie::cursor:
      return "sticky: cursor";
    case Tie::long_data:
      return "sticky: long data";
    case Tie::xa:
      return "sticky: XA transaction";
    case Tie::handler:
      return "sticky: HANDLER";
    case Tie::one_shot_transaction:
      return "sticky: SET TRANSACTION for the next transaction";
    case Tie::role:
      return "sticky: SET ROLE";
    case Tie::one_shot_variable:
      return "sticky: insert_id";
    case Tie::privileged_variable:
      return "sticky: privileged session variable";
    case Tie::unexplained_state:
      return "sticky: unexplained session state change";
    case Tie::untracked_server:
      return "sticky: server without session tracking";
    case Tie::unreadable_variables:
      return "sticky: user variables";
    case Tie::set_option:
      return "sticky: COM_SET_OPTION";
    case Tie::count:
      break;
  }
  return "sticky";
}

class TieSet {
 public:
  constexpr TieSet() = default;
  static constexpr TieSet of(Tie t) {
    TieSet s;
    s.add(t);
    return s;
  }
  constexpr void add(Tie t) { bits_ |= bit(t); }
  constexpr void add(TieSet other) { bits_ |= other.bits_; }
  constexpr void remove(Tie t) { bits_ &= ~bit(t); }
  constexpr void remove(TieSet other) { bits_ &= ~other.bits_; }
  constexpr bool has(Tie t) const { return (bits_ & bit(t)) != 0; }
  constexpr bool any() const { return bits_ != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr uint32_t bits() const { return bits_; }
  static constexpr TieSet from_bits(uint32_t b) {
    TieSet s;
    s.bits_ = b & ((1u << static_cast<unsigned>(Tie::count)) - 1);
    return s;
  }
  // The first reason set (for `explain route`, logs and `show proxysession`), or "".
  const char* reason() const {
    for (unsigned i = 0; i < static_cast<unsigned>(Tie::count); ++i)
      if (bits_ & (1u << i)) return tie_reason(static_cast<Tie>(i));
    return "";
  }
  // Held on the server while the connection lives, and able to make other sessions wait (row
  // and table locks, an open transaction's read view and undo, a cursor) or unknown. A session
  // that ends with one of these closes its connection, as a client's own disconnect would: the
  // server releases them at once. Parked in the pool until someone reuses it, the connection
  // would keep other clients waiting on locks nobody will ever release.
  constexpr bool holds_what_others_wait_for() const {
    const uint32_t blocking = bit(Tie::transaction) | bit(Tie::lock_tables) | bit(Tie::global_read_lock) |
                              bit(Tie::backup_lock) | bit(Tie::user_lock) | bit(Tie::xa) | bit(Tie::handler) |
                              bit(Tie::cursor) | bit(Tie::unexplained_state) | bit(Tie::untracked_server);
    return (bits_ & blocking) != 0;
  }
  constexpr bool operator==(const TieSet&) const = default;

 private:
  static constexpr uint32_t bit(Tie t) { return 1u << static_cast<unsigned>(t); }
  uint32_t bits_ = 0;
};

}  // namespace odp::proxy
