#pragma once
// The session model: everything about one client session that decides where its statements may
// run and what a server connection must be told before running one. Pure: no IO, no clock; it
// allocates only when the session's state changes; serialisable (a hot upgrade writes it out in
// one process and reads it back in the next).
//
// One entry after each statement: apply(facts, outcome). The facts say what the statement is
// (statement_facts.h), the outcome what the server answered (status flags, session-track records).
// From them the model learns the session's variables and database by value, follows its
// transaction, and ties the session to its server connection whenever the server holds state odp
// cannot describe and replay elsewhere (session_ties.h): a state change nobody explained is such
// state. Whether a connection may go back to the pool is decided here, and only here.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "protocol/column_def.h"
#include "protocol/ob_login.h"
#include "proxy/client_statements.h"
#include "proxy/client_tracking.h"
#include "proxy/login_name.h"
#include "proxy/session_state.h"
#include "proxy/session_ties.h"
#include "proxy/statement_facts.h"
#include "routing/sql_classifier.h"

namespace odp::proxy {

// Who the session is, fixed at login (COM_CHANGE_USER replaces it).
struct SessionIdentity {
  LoginName login;
  std::string peer;               // client address "ip:port"
  uint32_t connection_id = 0;     // odp's id: the handshake's, CONNECTION_ID(), KILL
  uint32_t client_caps = 0;       // capabilities agreed with the client
  uint32_t mariadb_ext_caps = 0;  // MariaDB extended capabilities agreed with the client
  uint8_t charset = 45;           // the handshake's collation id
  uint32_t max_packet_size = 0;
  std::string login_database;
  std::vector<std::pair<std::string, std::string>> attributes;  // the client's connect attributes
  std::optional<std::array<uint8_t, 20>> stage1;                // SHA1(password): the saved login
  // server_mode "oceanbase": the client's token for odp's scramble, forwarded to every server the
  // session logs in to (the saved login; odp holds no password or hash).
  std::optional<protocol::ForwardedToken> forwarded;
  bool admin = false;  // root@proxysys
};

// What the server answered to one client command, gathered while the response streamed by.
struct ResponseOutcome {
  bool error = false;  // an ERR ended it
  uint16_t error_code = 0;
  bool status_known = false;  // an OK/EOF carried status flags
  uint16_t status_flags = 0;  // of the last OK/EOF
  uint64_t last_insert_id = 0;
  uint64_t affected_rows = 0;
  uint16_t warnings = 0;
  bool cursor_opened = false;  // COM_STMT_EXECUTE left a cursor open
  // Session-track records of its OK packets, in order.
  bool state_change = false;  // SESSION_TRACK_STATE_CHANGE seen
  std::optional<std::string> schema;
  std::vector<std::pair<std::string, std::string>> system_variables;
  void clear();
  // An OBServer reported ob_proxy_partition_hit = false: the statement's partition is not local
  // there (../shared/OB-VECTORS.md 3).
  bool partition_missed() const;
};

// The model's answer to apply(): variables whose values must be read back from the connection
// that ran the statement (the tracker did not report them), with `SELECT @a, @@SESSION.b...`.
struct ReadBack {
  std::vector<std::string> user_variables;
  std::vector<std::string> system_variables;
  bool empty() const { return user_variables.empty() && system_variables.empty(); }
  std::string sql() const;
};

class SessionModel {
 public:
  SessionModel() = default;

  // --- identity and login --------------------------------------------------------------------
  const SessionIdentity& identity() const { return identity_; }
  // Logged in (or COM_CHANGE_USER succeeded): a new history begins with the login's database.
  // `global_sets`, `globals_max_age_ms`: Baseline's (how old the global values of a connection it
  // takes may be).
  void start(SessionIdentity identity, uint64_t now_ms = 0, uint64_t global_sets = 0, uint64_t globals_max_age_ms = 0);
  Baseline baseline() const;
  // OceanBase: the tenant's global-variables version the session's own login saw (0: unknown;
  // start() clears it; not serialised: a moved session falls back on its login time).
  void set_global_vars_version(int64_t v) { global_vars_version_ = v; }
  // Hot upgrade: the MariaDB extended capabilities travel beside the serialised model.
  void set_mariadb_ext_caps(uint32_t caps) { identity_.mariadb_ext_caps = caps; }

  // --- variables and database ----------------------------------------------------------------
  const SessionState& vars() const { return vars_; }
  // OceanBase session records a server sent (SESS_INFO): the session's from now on, replayed to
  // its other connections by the lease.
  void learn_ob_session_info(const std::vector<protocol::ObSessionRecord>& records) {
    for (const auto& rec : records) vars_.set_ob_session_info(rec.type, rec.bytes);
  }
  const std::string& database() const { return vars_.database(); }
  // The session-track records the client asked for (its session_track_* values).
  const ClientTracking& client_tracking() const { return tracking_; }

  // --- transaction -----------------------------------------------------------------------------
  bool in_transaction() const { return ties_.has(Tie::transaction); }
  bool autocommit() const { return autocommit_; }
  // BEGIN is answered locally and held until the transaction's first statement, which decides the
  // server (a START TRANSACTION WITH CONSISTENT SNAPSHOT is not held: its snapshot is now).
  const std::string& held_begin() const { return held_begin_; }
  void hold_begin(std::string_view sql) { held_begin_.assign(sql); }
  void drop_held_begin() { held_begin_.clear(); }
  // The held BEGIN went out ahead of a statement on a connection: the transaction is there now.
  void held_begin_sent();
  // The statement that began the transaction did not run, and its connection is gone (the server
  // rolled the transaction back): no transaction; `begin_sql` ("" = none: autocommit off) is held
  // again for the statement's next attempt.
  void transaction_never_ran(std::string_view begin_sql) {
    ties_.remove(Tie::transaction);
    held_begin_.assign(begin_sql);
  }
  // Status flags for answers odp gives itself (OK to a held BEGIN...).
  uint16_t status_flags() const;
  // A `SET autocommit = v` odp answered itself (autocommit_set.h; only outside a transaction):
  // as if a server had run it and reported the variable, which the session's next statement
  // takes to its connection like any other.
  void set_autocommit_locally(bool on);

  // --- where statements may run ----------------------------------------------------------------
  TieSet ties() const { return ties_; }
  bool tied() const { return ties_.any(); }
  // The last statement left results on its connection that the next one may ask for (warnings,
  // an error, affected rows, found rows): keep that connection one statement longer when it can.
  bool keeps_results() const { return keeps_results_; }
  // Ties from a command the proxy itself sees (a cursor opened, long data sent, COM_SET_OPTION).
  void tie(Tie t) { ties_.add(t); }
  void untie(Tie t) { ties_.remove(t); }
  // ob_read_consistency set by the session (odp keeps it: a MySQL server does not know it).
  routing::Consistency consistency() const { return consistency_; }
  void set_consistency(routing::Consistency c) { consistency_ = c; }

  // --- LAST_INSERT_ID() ------------------------------------------------------------------------
  uint64_t last_insert_id() const { return last_insert_id_; }

  // --- prepared statements ---------------------------------------------------------------------
  ClientStatements& statements() { return statements_; }
  const ClientStatements& statements() const { return statements_; }

  // --- the one entry -------------------------------------------------------------------------
  // After a command's response went to the client. `sync` is the connection that ran it: it now
  // holds everything the session did (or is marked dirty when it holds more).
  ReadBack apply(const StatementFacts& facts, const ResponseOutcome& outcome, ConnSync* sync);
  // The values the read-back statement returned (text protocol, one row), or failed: then the
  // variables cannot be replayed and the session stays on the connection.
  void apply_read_back(const ReadBack& asked, const std::vector<protocol::ColumnDefinition41>& columns,
                       const std::vector<std::optional<std::string>>& row, ConnSync* sync);
  void read_back_failed() { ties_.add(Tie::unreadable_variables); }
  // Session tracking is off on the connection the session is tied to (the server refused it).
  void connection_untracked() { ties_.add(Tie::untracked_server); }

  // --- hot upgrade ---------------------------------------------------------------------------
  // The model as bytes and back. Only a session without ties is written out (it has nothing on a
  // server that could not be rebuilt from the model).
  void serialize(std::vector<uint8_t>& out) const;
  static Result<SessionModel, std::string> deserialize(std::span<const uint8_t> in);

 private:
  void learn_variables(const StatementFacts& facts, const ResponseOutcome& outcome, ReadBack& read_back);

  SessionIdentity identity_;
  uint64_t login_ms_ = 0;
  SessionState vars_;
  TieSet ties_;
  bool autocommit_ = true;
  std::string held_begin_;
  int64_t global_vars_version_ = 0;
  uint64_t global_sets_ = 0;
  uint64_t globals_max_age_ms_ = 0;
  bool keeps_results_ = false;
  uint64_t last_insert_id_ = 0;
  routing::Consistency consistency_ = routing::Consistency::unset;
  ClientStatements statements_;
  ClientTracking tracking_;
};

}  // namespace odp::proxy
