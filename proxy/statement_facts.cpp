#include "proxy/statement_facts.h"

#include "base/ascii.h"
#include "proxy/session_state.h"

namespace odp::proxy {

using routing::StmtType;

namespace {}  // namespace

void facts_for_command(protocol::Command cmd, StatementFacts& out) {
  out = StatementFacts{};
  out.command = cmd;
  switch (cmd) {
    case protocol::Command::reset_connection:
    case protocol::Command::change_user:
      out.resets_session = true;
      break;
    case protocol::Command::init_db:
      out.explains_state_change = true;
      break;
    case protocol::Command::set_option:
      out.ties.add(Tie::set_option);
      break;
    default:
      break;
  }
}

void facts_for_sql(const routing::ClassifiedSql& c, std::string_view sql, StatementFacts& out) {
  out = StatementFacts{};
  out.command = protocol::Command::query;
  out.type = c.type;
  out.multi_statement = c.multi_statement;
  out.begins_transaction = c.begins_transaction;
  out.consistent_snapshot = c.with_consistent_snapshot;
  out.ends_transaction = c.type == StmtType::commit || c.type == StmtType::rollback;
  out.sets_global_variables = c.sets_global_variables;
  out.resets_timestamp = c.resets_timestamp;
  out.sets_session_variables = c.sets_session_variables;
  out.uses_last_insert_id = c.uses_last_insert_id;
  out.uses_user_variables = c.uses_user_variables;
  out.computes_found_rows = c.uses_found_rows;
  out.reads_connection_results = c.uses_found_rows || c.show_warnings;
  if (c.sets_autocommit) out.autocommit = c.autocommit_value ? 1 : 0;
  if (c.type == StmtType::use && !c.multi_statement) out.database.assign(c.use_database);

  if (c.type == StmtType::lock_tables) out.ties.add(Tie::lock_tables);
  if (c.type == StmtType::unlock_tables) {
    out.releases.add(Tie::lock_tables);
    out.releases.add(Tie::global_read_lock);
  }
  if (c.global_read_lock) out.ties.add(Tie::global_read_lock);
  if (c.backup_lock) out.ties.add(Tie::backup_lock);
  if (c.backup_unlock) out.releases.add(Tie::backup_lock);
  if (c.uses_lock_function) out.ties.add(Tie::user_lock);
  if (c.creates_temporary_table) out.ties.add(Tie::temporary_table);
  if (c.type == StmtType::handler) out.ties.add(Tie::handler);
  if (c.type == StmtType::xa) out.ties.add(Tie::xa);
  if (c.type == StmtType::prepare) out.ties.add(Tie::sql_prepare);
  if (c.one_shot_transaction) out.ties.add(Tie::one_shot_transaction);
  if (c.sets_role && !c.multi_statement) {
    if (c.role.empty()) {
      out.ties.add(Tie::unexplained_state);  // a role odp could not read: stay where it is
    } else {
      out.role.assign(c.role);
    }
  }

  // What the server's tracker reports for these statements is what odp models.
  out.explains_state_change = c.type == StmtType::set || c.type == StmtType::use || c.uses_user_variables ||
                              c.type == StmtType::begin || out.ends_transaction || out.ties.any();

  if (c.type == StmtType::set && !c.set_statement) {
    for (uint8_t i = 0; i < c.session_variable_count; ++i) {
      std::string name = base::ascii_lowered(c.session_variables[i]);
      switch (classify_system_variable(name)) {
        case VarClass::one_shot:
          out.ties.add(Tie::one_shot_variable);
          break;
        case VarClass::ignore:
          break;
        case VarClass::client_tracking:
          out.sets_client_tracking = true;
          out.system_variables.push_back(std::move(name));
          break;
        case VarClass::replay:
        case VarClass::privileged:
          out.system_variables.push_back(std::move(name));
          break;
      }
    }
    if (c.session_variables_truncated) out.ties.add(Tie::unexplained_state);
  }
  if (c.assigns_user_variables) {
    if (auto names = user_variables_in(sql)) {
      out.user_variables = std::move(*names);
    } else {
      out.ties.add(Tie::unreadable_variables);
    }
  }
}

}  // namespace odp::proxy
