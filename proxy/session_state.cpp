#include "proxy/session_state.h"

#include <algorithm>
#include <atomic>
#include <cctype>

#include "base/ascii.h"
#include "protocol/constants.h"
#include "proxy/client_tracking.h"

namespace odp::proxy {

namespace {
std::string lower(std::string_view s) {
  return base::ascii_lowered(s);
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (name == n) return true;
  return false;
}
bool is_number(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
  if (i == v.size()) return false;
  bool digits = false, dot = false;
  for (; i < v.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(v[i]))) {
      digits = true;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

std::string hex_literal(std::string_view bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out = "X'";
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  out += '\'';
  return out;
}

bool utf8mb4_family(uint16_t charset) {
  // utf8mb4_general_ci (45), utf8mb4_bin (46), utf8mb4_unicode_ci and friends (224-247), MariaDB's
  // and MySQL 8's newer utf8mb4 collations (255 and up).
  return charset == 45 || charset == 46 || (charset >= 224 && charset <= 247) || charset >= 255;
}
}  // namespace

VarClass classify_system_variable(std::string_view name) {
  // The trackers odp needs are its own on a server connection; the client's values of them are
  // the model's (client_tracking.h). The others change by themselves or describe the connection
  // (the last GTID, transaction flags, counters, the server's identity).
  if (is_client_tracking_variable(name)) return VarClass::client_tracking;
  if (one_of(name, {"last_gtid", "in_transaction", "warning_count", "error_count", "external_user", "proxy_user",
                    "wsrep_sync_wait", "last_insert_id", "identity", "gtid_seq_no", "gtid_domain_id", "server_id"}))
    return VarClass::ignore;
  // An OBServer tracks these for its proxy (../shared/OB-VECTORS.md 3): what it negotiated, whether
  // the statement hit a local partition, versions and trace ids. Another server would refuse them
  // in a SET.
  if (one_of(name, {"ob_capability_flag", "ob_proxy_partition_hit", "ob_proxy_global_variables_version",
                    "ob_proxy_user_privilege", "ob_proxy_set_trx_executed", "_ob_proxy_session_temporary_table_used",
                    "ob_statement_trace_id", "ob_client_reroute_info", "ob_safe_weak_read_snapshot"}))
    return VarClass::ignore;
  if (one_of(name, {"insert_id", "rand_seed1", "rand_seed2"})) return VarClass::one_shot;
  if (one_of(name, {"sql_log_bin", "pseudo_thread_id", "pseudo_slave_mode", "sql_log_off", "wsrep_on"}))
    return VarClass::privileged;
  return VarClass::replay;
}

std::string baseline_literal(std::string_view name, const Baseline& base) {
  // A login sets the connection's character set variables from the handshake's collation id;
  // a numeric value assigns them by that id.
  // A collation id sets collation_connection; a character set variable takes a number only when it
  // is its character set's default collation (MariaDB: `SET character_set_client = 224` is
  // ERROR 1115), so otherwise the server names the character set of the id itself.
  if (name == "collation_connection") return std::to_string(base.charset);
  if (one_of(name, {"character_set_client", "character_set_connection", "character_set_results"})) {
    if (base.charset == 8 || base.charset == 33 || base.charset == 63) return std::to_string(base.charset);
    return "(SELECT CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID = " + std::to_string(base.charset) +
           ")";
  }
  if (name == "sql_mode" && base.ignore_space) return "CONCAT(@@GLOBAL.sql_mode, ',IGNORE_SPACE')";
  if (name == "wait_timeout" && base.interactive) return "@@GLOBAL.interactive_timeout";
  return "DEFAULT";
}

SessionVars& SessionState::mutate() {
  if (vars_.use_count() > 1) vars_ = std::make_shared<SessionVars>(*vars_);
  return const_cast<SessionVars&>(*vars_);  // sole owner: nobody else sees the change
}

void SessionState::refresh(SessionVars& v) {
  // No value undoes another session's OceanBase records either: a reset does.
  v.exclusive = !v.uservars.empty() || !v.role.empty() || !v.ob_info.empty();
  v.context.assign(v.database);
  v.context.push_back('\0');
  for (const auto& [name, var] : v.sysvars) {
    if (classify_system_variable(name) == VarClass::privileged) v.exclusive = true;
    v.context.append(name);
    v.context.push_back('=');
    v.context.append(var.sql);
    v.context.push_back('\0');
  }
}

void SessionState::reset(std::string database) {
  // A new history: versions restart, so it gets an owner id never used before.
  static std::atomic<uint64_t> next_owner{1};
  auto v = std::make_shared<SessionVars>();
  next_version_ = 1;
  v->owner = next_owner.fetch_add(1, std::memory_order_relaxed);
  v->database = std::move(database);
  v->db_version = next_version_++;
  refresh(*v);
  vars_ = std::move(v);
}

void SessionState::set_database(std::string_view db) {
  if (db == vars_->database) return;
  SessionVars& v = mutate();
  v.database = std::string(db);
  v.db_version = next_version_++;
  refresh(v);
}

void SessionState::set_system_variable(std::string_view name, std::string_view value) {
  std::string key = lower(name);
  VarClass cls = classify_system_variable(key);
  if (cls != VarClass::replay && cls != VarClass::privileged) return;
  std::string sql = system_variable_literal(key, value);
  auto it = vars_->sysvars.find(key);
  if (it != vars_->sysvars.end() && it->second.sql == sql) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.sysvars[key] = SessionVars::Var{std::move(sql), v.var_version};
  refresh(v);
}

void SessionState::set_system_variable_literal(std::string_view name, std::string literal) {
  std::string key = lower(name);
  auto it = vars_->sysvars.find(key);
  if (it != vars_->sysvars.end() && it->second.sql == literal) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.sysvars[key] = SessionVars::Var{std::move(literal), v.var_version};
  refresh(v);
}

void SessionState::clear_system_variable(std::string_view name) {
  std::string key = lower(name);
  if (vars_->sysvars.find(key) == vars_->sysvars.end()) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.sysvars.erase(key);
  refresh(v);
  // A removed variable has no version left to compare: histories of this session that had it
  // must learn it by value, so the removal counts as a change of every variable.
  v.removed_version = v.var_version;
}

void SessionState::set_user_variable(std::string_view name, std::string literal) {
  std::string key = lower(name);
  auto it = vars_->uservars.find(key);
  if (it != vars_->uservars.end() && it->second.sql == literal) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.uservars[key] = SessionVars::Var{std::move(literal), v.var_version};
  refresh(v);
}

void SessionState::set_ob_session_info(uint16_t type, std::string bytes) {
  auto it = vars_->ob_info.find(type);
  if (it != vars_->ob_info.end() && it->second.sql == bytes) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.ob_info[type] = SessionVars::Var{std::move(bytes), v.var_version};
  refresh(v);
}

void SessionState::set_role(std::string_view role) {
  if (role == vars_->role) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.role.assign(role);
  v.role_version = v.var_version;
  refresh(v);
}

SessionState::Replay SessionState::plan(const ConnSync& sync, const Baseline& base) const {
  Replay r;
  const SessionVars& want = *vars_;
  const bool same_history = sync.applied && sync.applied->owner == want.owner && want.owner != 0;
  static const SessionVars kNothing;
  const SessionVars* have = sync.applied ? sync.applied.get() : &kNothing;
  // A database no value undoes: only a new login without one leaves it (whoever's state it is).
  if (want.database.empty() && !have->database.empty()) {
    r.change_user = true;
    return r;
  }
  // Another session's connection keeps what no value undoes: its user variables (a variable set
  // to NULL keeps its type), privileged variables another user could not set back, state marked
  // dirty (a lock...), and global values older than this session's login. OceanBase numbers the
  // globals (a version no older: values no older, however old the connection). Else by time: from
  // before a SET GLOBAL odp saw succeed since, or older than the login by globals_max_age_ms (what
  // a SET GLOBAL straight on a server may take to reach new sessions).
  const bool versioned = base.global_vars_version != 0 && sync.global_vars_version != 0;
  const bool older_globals =
      versioned ? sync.global_vars_version < base.global_vars_version
                : sync.global_sets < base.global_sets ||
                      (sync.baseline_ms < base.login_ms && base.login_ms - sync.baseline_ms >= base.globals_max_age_ms);
  r.reset = !same_history && (sync.dirty || have->exclusive || older_globals);
  if (!r.reset && sync.tracking && have == &want) return r;
  SessionVars after_reset;
  if (r.reset) {
    // COM_RESET_CONNECTION keeps the database and brings every variable back to its global
    // value, except the charset (kept from the handshake).
    after_reset.database = have->database;
    have = &after_reset;
  }
  std::string sql;
  auto add = [&](std::string_view a, std::string_view b, std::string_view c) {
    sql += sql.empty() ? "SET " : ", ";
    sql += a;
    sql += b;
    sql += c;
  };
  if (r.reset || !sync.tracking) add(kSessionTrackingAssignments, "", "");
  if (r.reset || sync.needs_baseline) {
    if (base.ignore_space && want.sysvars.find("sql_mode") == want.sysvars.end())
      add("@@SESSION.sql_mode = ", baseline_literal("sql_mode", base), "");
    if (base.interactive && want.sysvars.find("wait_timeout") == want.sysvars.end())
      add("@@SESSION.wait_timeout = ", baseline_literal("wait_timeout", base), "");
  }
  if (same_history && !r.reset && want.removed_version <= have->var_version) {
    // The connection has an older value of this session: only newer versions go.
    if (have->db_version != want.db_version && !want.database.empty()) r.init_db = want.database;
    if (have->role_version != want.role_version && !want.role.empty()) r.role = want.role;
    if (have->var_version < want.var_version) {
      for (const auto& [name, var] : want.sysvars)
        if (var.version > have->var_version) add("@@SESSION.", name, " = " + var.sql);
      for (const auto& [name, var] : want.uservars)
        if (var.version > have->var_version) add("@`", name, "` = " + var.sql);
      for (const auto& [type, var] : want.ob_info)
        if (var.version > have->var_version) r.ob_info.push_back(protocol::ObSessionRecord{type, var.sql});
    }
  } else {
    // Another client's (or a fresh login's, or a reset) state: the difference by value.
    if (have->database != want.database && !want.database.empty()) r.init_db = want.database;
    if (have->role != want.role && !want.role.empty()) r.role = want.role;
    // Values put back first, then the session's own: setting character_set_connection sets
    // collation_connection to that set's default collation, so the collation follows it.
    bool connection_charset_back = false;
    for (const auto& [name, var] : have->sysvars) {
      if (want.sysvars.find(name) != want.sysvars.end()) continue;
      add("@@SESSION.", name, " = " + baseline_literal(name, base));
      connection_charset_back = connection_charset_back || name == "character_set_connection";
    }
    for (const auto& [name, var] : want.sysvars) {
      auto it = have->sysvars.find(name);
      if (it == have->sysvars.end() || it->second.sql != var.sql ||
          (connection_charset_back && name == "collation_connection"))
        add("@@SESSION.", name, " = " + var.sql);
    }
    if (connection_charset_back && want.sysvars.find("collation_connection") == want.sysvars.end())
      add("@@SESSION.collation_connection = ", baseline_literal("collation_connection", base), "");
    for (const auto& [name, var] : want.uservars) {
      auto it = have->uservars.find(name);
      if (it == have->uservars.end() || it->second.sql != var.sql) add("@`", name, "` = " + var.sql);
    }
    for (const auto& [type, var] : want.ob_info) {
      auto it = have->ob_info.find(type);
      if (it == have->ob_info.end() || it->second.sql != var.sql)
        r.ob_info.push_back(protocol::ObSessionRecord{type, var.sql});
    }
    // (Another session's user variables force a reset above; the same session's own ones that
    // it no longer has cannot happen: user variables are never removed, only set.)
  }
  r.set_sql = std::move(sql);
  return r;
}

void SessionState::mark_synced(ConnSync& sync) const {
  sync.applied = vars_;
  sync.dirty = false;
  sync.tracking = true;
  sync.needs_baseline = false;
}

void SessionState::changed_user(ConnSync& sync, uint64_t now_ms, uint64_t global_sets) {
  sync.applied = std::make_shared<const SessionVars>();  // owner 0 (a login's state), no database
  sync.dirty = false;
  sync.tracking = false;
  sync.needs_baseline = true;
  sync.baseline_ms = now_ms;
  sync.global_vars_version = 0;  // of now: unknown
  sync.global_sets = global_sets;
  sync.last_insert_id = 0;
}

ConnSync SessionState::fresh_connection(uint64_t now_ms, uint64_t global_sets) const {
  auto v = std::make_shared<SessionVars>();
  v->owner = 0;
  v->database = vars_->database;
  ConnSync s;
  s.applied = std::move(v);
  s.baseline_ms = now_ms;
  s.global_sets = global_sets;
  return s;
}

std::optional<std::string> SessionState::system_variable(std::string_view name) const {
  auto it = vars_->sysvars.find(lower(name));
  if (it == vars_->sysvars.end()) return std::nullopt;
  return it->second.sql;
}

std::optional<std::string> SessionState::user_variable(std::string_view name) const {
  auto it = vars_->uservars.find(lower(name));
  if (it == vars_->uservars.end()) return std::nullopt;
  return it->second.sql;
}

std::string quote_sql_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    if (c == '\0') {
      out += "\\0";
      continue;
    }
    out += c;
  }
  out += '\'';
  return out;
}

std::string system_variable_literal(std::string_view name, std::string_view value) {
  if (is_number(value)) return std::string(value);
  // Variables whose NULL is a real value, reported as the text "NULL".
  if ((name == "character_set_results" || name == "sql_select_limit") && (value == "NULL" || value.empty()))
    return "NULL";
  return quote_sql_string(value);
}

std::string user_variable_literal(const std::optional<std::string>& value, const protocol::ColumnDefinition41& column) {
  using protocol::ColumnType;
  if (!value) {
    // A variable set to NULL keeps the type of its last value (CREATE TABLE ... AS SELECT @v
    // shows it): a typed NULL puts the same type on another connection.
    switch (column.type) {
      case ColumnType::tiny:
      case ColumnType::short_:
      case ColumnType::long_:
      case ColumnType::longlong:
      case ColumnType::int24:
        return (column.flags & protocol::colflag::UNSIGNED) ? "CAST(NULL AS UNSIGNED)" : "CAST(NULL AS SIGNED)";
      case ColumnType::float_:
      case ColumnType::double_:
        return "CAST(NULL AS DOUBLE)";
      case ColumnType::decimal:
      case ColumnType::newdecimal:
        return "CAST(NULL AS DECIMAL(65," + std::to_string(std::min<int>(column.decimals, 30)) + "))";
      default:
        return "NULL";
    }
  }
  switch (column.type) {
    case ColumnType::tiny:
    case ColumnType::short_:
    case ColumnType::long_:
    case ColumnType::longlong:
    case ColumnType::int24:
    case ColumnType::decimal:
    case ColumnType::newdecimal:
      if (is_number(*value)) return *value;
      break;
    case ColumnType::float_:
    case ColumnType::double_: {
      // A double stays a double: scientific notation makes MariaDB read the literal as one.
      bool plain = is_number(*value);
      bool sci = !plain && value->find_first_of("eE") != std::string::npos && value->size() < 64 &&
                 std::all_of(value->begin(), value->end(), [](char c) {
                   return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '-' ||
                          c == '+';
                 });
      if (plain) return *value + "e0";
      if (sci) return *value;
      break;
    }
    default:
      break;
  }
  if (column.charset == 63) return hex_literal(*value);  // binary
  if (utf8mb4_family(column.charset)) return "CONVERT(" + hex_literal(*value) + " USING utf8mb4)";
  return quote_sql_string(*value);
}

std::optional<std::vector<std::string>> user_variables_in(std::string_view sql, size_t max) {
  std::vector<std::string> names;
  auto add = [&](std::string name) {
    if (name.empty()) return true;
    if (std::find(names.begin(), names.end(), name) != names.end()) return true;
    if (names.size() == max) return false;
    names.push_back(std::move(name));
    return true;
  };
  size_t i = 0;
  const size_t n = sql.size();
  auto skip_quoted = [&](char q) {
    ++i;
    while (i < n) {
      if (sql[i] == '\\' && q != '`') {
        i += 2;
        continue;
      }
      if (sql[i] == q) {
        if (i + 1 < n && sql[i + 1] == q) {
          i += 2;
          continue;
        }
        ++i;
        return;
      }
      ++i;
    }
  };
  while (i < n) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      skip_quoted(c);
    } else if (c == '#' || (c == '-' && i + 2 < n && sql[i + 1] == '-' && (sql[i + 2] == ' ' || sql[i + 2] == '\t'))) {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*' && !(i + 2 < n && sql[i + 2] == '!')) {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if (c == '@') {
      if (i + 1 < n && sql[i + 1] == '@') {
        i += 2;  // a system variable: skip its name
        while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '.')) ++i;
        continue;
      }
      ++i;
      if (i < n && (sql[i] == '`' || sql[i] == '\'' || sql[i] == '"')) {
        char q = sql[i];
        size_t start = i + 1;
        skip_quoted(q);
        size_t end = i > start ? i - 1 : start;
        if (!add(lower(sql.substr(start, end - start)))) return std::nullopt;
      } else {
        size_t start = i;
        while (i < n &&
               (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '$' || sql[i] == '.'))
          ++i;
        if (!add(lower(sql.substr(start, i - start)))) return std::nullopt;
      }
    } else {
      ++i;
    }
  }
  return names;
}

}  // namespace odp::proxy
