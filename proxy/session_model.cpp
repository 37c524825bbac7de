#include "proxy/session_model.h"

#include <algorithm>

#include "base/ascii.h"
#include "protocol/constants.h"

namespace odp::proxy {

using protocol::cap::IGNORE_SPACE;
using protocol::cap::INTERACTIVE;

void ResponseOutcome::clear() {
  error = false;
  error_code = 0;
  status_known = false;
  status_flags = 0;
  last_insert_id = 0;
  affected_rows = 0;
  warnings = 0;
  cursor_opened = false;
  state_change = false;
  schema.reset();
  system_variables.clear();  // keeps its capacity: no allocation per statement
}

std::string ReadBack::sql() const {
  std::string sql = "SELECT ";
  bool first = true;
  for (const auto& name : user_variables) {
    sql += first ? "@`" : ", @`";
    for (char c : name) sql += c == '`' ? std::string("``") : std::string(1, c);
    sql += '`';
    first = false;
  }
  for (const auto& name : system_variables) {
    sql += first ? "@@SESSION.`" : ", @@SESSION.`";
    for (char c : name) sql += c == '`' ? std::string("``") : std::string(1, c);
    sql += '`';
    first = false;
  }
  return sql;
}

void SessionModel::start(SessionIdentity identity, uint64_t now_ms, uint64_t global_sets, uint64_t globals_max_age_ms) {
  identity_ = std::move(identity);
  login_ms_ = now_ms;
  global_sets_ = global_sets;
  globals_max_age_ms_ = globals_max_age_ms;
  vars_.reset(identity_.login_database);
  ties_ = TieSet{};
  autocommit_ = true;
  held_begin_.clear();
  keeps_results_ = false;
  last_insert_id_ = 0;
  consistency_ = routing::Consistency::unset;
  statements_.clear();
  tracking_ = ClientTracking{};
  global_vars_version_ = 0;
}

bool ResponseOutcome::partition_missed() const {
  for (const auto& [name, value] : system_variables)
    if (base::iequals(name, "ob_proxy_partition_hit"))
      return base::iequals(value, "false") || value == "0" || base::iequals(value, "off");
  return false;
}

Baseline SessionModel::baseline() const {
  Baseline b;
  b.charset = identity_.charset;
  b.ignore_space = (identity_.client_caps & IGNORE_SPACE) != 0;
  b.interactive = (identity_.client_caps & INTERACTIVE) != 0;
  b.login_ms = login_ms_;
  b.global_vars_version = global_vars_version_;
  b.global_sets = global_sets_;
  b.globals_max_age_ms = globals_max_age_ms_;
  return b;
}

void SessionModel::held_begin_sent() {
  held_begin_.clear();
  ties_.add(Tie::transaction);
}

uint16_t SessionModel::status_flags() const {
  uint16_t flags = autocommit_ ? protocol::status::AUTOCOMMIT : 0;
  if (in_transaction() || !held_begin_.empty()) flags |= protocol::status::IN_TRANS;
  return flags;
}

void SessionModel::set_autocommit_locally(bool on) {
  autocommit_ = on;
  vars_.set_system_variable("autocommit", on ? "ON" : "OFF");  // as a server's tracker reports it
  keeps_results_ = false;                                      // a SET leaves no warnings or counts behind
}

ReadBack SessionModel::apply(const StatementFacts& facts, const ResponseOutcome& outcome, ConnSync* sync) {
  ReadBack read_back;
  if (facts.resets_session && !outcome.error) {
    // COM_RESET_CONNECTION / COM_CHANGE_USER: the server forgot everything, so does the session.
    // (COM_CHANGE_USER's caller has already started the new identity.)
    std::string db = facts.command == protocol::Command::change_user ? identity_.login_database : vars_.database();
    vars_.reset(std::move(db));
    ties_ = TieSet{};
    autocommit_ = true;
    held_begin_.clear();
    keeps_results_ = false;
    last_insert_id_ = 0;
    consistency_ = routing::Consistency::unset;
    statements_.clear();
    tracking_ = ClientTracking{};
    if (sync != nullptr) {
      // The server took its globals of now: at least as new as the session's login.
      *sync = vars_.fresh_connection(std::max(sync->baseline_ms, login_ms_), std::max(sync->global_sets, global_sets_));
      // COM_CHANGE_USER resets session tracking; COM_RESET_CONNECTION too (on MariaDB), and both
      // drop IGNORE_SPACE from sql_mode: the next statement's replay turns them back on.
      sync->tracking = false;
      sync->needs_baseline = true;
    }
    return read_back;
  }

  const bool succeeded = !outcome.error;
  // Ties are the safe side: a multi-statement that failed half way may still have taken them.
  if (succeeded || facts.multi_statement) ties_.add(facts.ties);
  if (succeeded && !facts.multi_statement) ties_.remove(facts.releases);
  if (facts.autocommit >= 0 && succeeded) autocommit_ = facts.autocommit == 1;
  if (outcome.status_known) {
    autocommit_ = (outcome.status_flags & protocol::status::AUTOCOMMIT) != 0;
    if (outcome.status_flags & protocol::status::IN_TRANS) {
      ties_.add(Tie::transaction);
    } else {
      ties_.remove(Tie::transaction);
      // SET TRANSACTION without a scope applies to the next transaction; a statement outside any
      // transaction (other than a SET) was that transaction.
      if (facts.type != routing::StmtType::set && !facts.ties.has(Tie::one_shot_transaction))
        ties_.remove(Tie::one_shot_transaction);
    }
  }
  if (outcome.cursor_opened) ties_.add(Tie::cursor);

  learn_variables(facts, outcome, read_back);

  if (outcome.status_known && outcome.last_insert_id != 0) {
    last_insert_id_ = outcome.last_insert_id;
    if (sync != nullptr) sync->last_insert_id = last_insert_id_;
  }
  keeps_results_ = outcome.error || outcome.warnings > 0 || outcome.affected_rows > 0 || facts.computes_found_rows;
  if (sync != nullptr) {
    vars_.mark_synced(*sync);  // it ran everything the client did
    // The client changed its trackers there: odp's go back on before the connection's next use.
    if (facts.sets_client_tracking) sync->tracking = false;
    // While tied, the connection holds more than the variables: if the session ends now, the
    // connection is reset before anyone else uses it.
    sync->dirty = ties_.any();
  }
  return read_back;
}

void SessionModel::learn_variables(const StatementFacts& facts, const ResponseOutcome& outcome, ReadBack& read_back) {
  // The server says session state changed. A statement whose changes odp models (SET, USE, user
  // variables) explains it, and so do the records that came with it (a write reports last_gtid).
  // A flag alone, or from a procedure (which may create a temporary table, set a role...), is
  // state odp cannot see: the session stays where that state is.
  const bool named = !outcome.system_variables.empty() || outcome.schema.has_value();
  const bool may_do_anything = facts.type == routing::StmtType::call || facts.type == routing::StmtType::execute;
  if (outcome.state_change && !facts.explains_state_change && (!named || may_do_anything))
    ties_.add(Tie::unexplained_state);
  for (const auto& [name, value] : outcome.system_variables) {
    std::string key = base::ascii_lowered(name);
    // An OBServer says the session created a temporary table (in a procedure, say): it lives on
    // that connection only.
    if (key == "_ob_proxy_session_temporary_table_used" && (value == "1" || base::iequals(value, "true")))
      ties_.add(Tie::temporary_table);
    switch (classify_system_variable(key)) {
      case VarClass::replay:
      case VarClass::privileged:
        // SET timestamp = DEFAULT reports the old fixed value; the clock runs again.
        if (key == "timestamp" && facts.resets_timestamp) break;
        vars_.set_system_variable(key, value);
        break;
      case VarClass::client_tracking:
        tracking_.learn(key, value);
        break;
      case VarClass::ignore:
        break;
      case VarClass::one_shot:
        ties_.add(Tie::one_shot_variable);
        break;
    }
  }
  if (facts.resets_timestamp && !outcome.error) vars_.clear_system_variable("timestamp");
  if (!facts.role.empty() && !outcome.error) vars_.set_role(facts.role);
  if (outcome.schema) {
    vars_.set_database(*outcome.schema);
  } else if (!facts.database.empty() && !outcome.error) {
    vars_.set_database(facts.database);
  }
  if (outcome.error && !facts.multi_statement) return;
  // What the tracker did not report is read back: user variables (never reported by name) and
  // session variables set in forms the tracker misses (MariaDB: `SET @@x = v`).
  read_back.user_variables = facts.user_variables;
  for (const auto& name : facts.system_variables) {
    if (name == "timestamp" && facts.resets_timestamp) continue;
    bool reported = false;
    for (const auto& kv : outcome.system_variables)
      if (base::iequals(kv.first, name)) reported = true;
    if (!reported) read_back.system_variables.push_back(name);
  }
}

void SessionModel::apply_read_back(const ReadBack& asked, const std::vector<protocol::ColumnDefinition41>& columns,
                                   const std::vector<std::optional<std::string>>& row, ConnSync* sync) {
  size_t users = asked.user_variables.size();
  if (columns.size() != users + asked.system_variables.size() || row.size() != columns.size()) {
    read_back_failed();
    return;
  }
  for (size_t i = 0; i < users; ++i)
    vars_.set_user_variable(asked.user_variables[i], user_variable_literal(row[i], columns[i]));
  for (size_t i = 0; i < asked.system_variables.size(); ++i) {
    const auto& value = row[users + i];
    const std::string& name = asked.system_variables[i];
    switch (classify_system_variable(name)) {
      case VarClass::replay:
      case VarClass::privileged:
        vars_.set_system_variable(name, value ? std::string_view(*value) : std::string_view("NULL"));
        break;
      case VarClass::client_tracking:
        tracking_.learn(name, value ? std::string_view(*value) : std::string_view());
        break;
      case VarClass::ignore:
        break;
      case VarClass::one_shot:
        ties_.add(Tie::one_shot_variable);
        break;
    }
  }
  if (sync != nullptr) {
    vars_.mark_synced(*sync);
    sync->dirty = ties_.any();
    for (const auto& name : asked.system_variables)
      if (is_client_tracking_variable(name)) sync->tracking = false;  // odp's trackers go back on
  }
}

}  // namespace odp::proxy
