#include "proxy/session_state.h"

#include <algorithm>
#include <atomic>
#include <cctype>

#include "core/ascii.h"
#include "protocol/constants.h"

namespace odp::proxy {

namespace {
std::string lower(std::string_view s) {
  return core::ascii_lowered(s);
}

// Variables odp sets itself on every server connection, or that describe the connection rather
// than the client's session: never replayed.
bool owned_by_proxy(std::string_view name) {
  // Also what the server reports but no client can set back (read-only or privileged values that
  // change by themselves: the last GTID, transaction flags, counters).
  static constexpr std::string_view kSkip[] = {
      "pseudo_thread_id", "timestamp",      "insert_id",     "last_insert_id", "identity",   "last_gtid",
      "in_transaction",   "gtid_seq_no",    "warning_count", "error_count",    "rand_seed1", "rand_seed2",
      "server_id",        "gtid_domain_id", "sql_log_bin",   "external_user",  "proxy_user", "wsrep_sync_wait"};
  if (name.starts_with("session_track_")) return true;
  for (auto s : kSkip)
    if (name == s) return true;
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

SessionVars& SessionState::mutate() {
  if (vars_.use_count() > 1) vars_ = std::make_shared<SessionVars>(*vars_);
  return const_cast<SessionVars&>(*vars_);  // sole owner: nobody else sees the change
}

void SessionState::reset(std::string database) {
  // A new history: versions restart, so it gets an owner id never used before.
  static std::atomic<uint64_t> next_owner{1};
  auto v = std::make_shared<SessionVars>();
  next_version_ = 1;
  v->owner = next_owner.fetch_add(1, std::memory_order_relaxed);
  v->database = std::move(database);
  v->db_version = next_version_++;
  vars_ = std::move(v);
}

void SessionState::set_database(std::string_view db) {
  if (db == vars_->database) return;
  SessionVars& v = mutate();
  v.database = std::string(db);
  v.db_version = next_version_++;
}

void SessionState::set_system_variable(std::string_view name, std::string_view value) {
  std::string key = lower(name);
  if (owned_by_proxy(key)) return;
  std::string sql = system_variable_literal(key, value);
  auto it = vars_->sysvars.find(key);
  if (it != vars_->sysvars.end() && it->second.sql == sql) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.sysvars[key] = SessionVars::Var{std::move(sql), v.var_version};
}

void SessionState::set_user_variable(std::string_view name, std::string literal) {
  std::string key = lower(name);
  auto it = vars_->uservars.find(key);
  if (it != vars_->uservars.end() && it->second.sql == literal) return;
  SessionVars& v = mutate();
  v.var_version = next_version_++;
  v.uservars[key] = SessionVars::Var{std::move(literal), v.var_version};
}

SessionState::Replay SessionState::plan(const ConnSync& sync) const {
  Replay r;
  const SessionVars& want = *vars_;
  if (sync.applied.get() == &want) return r;
  static const SessionVars kNothing;
  const SessionVars& have = sync.applied ? *sync.applied : kNothing;
  std::string sql;
  auto add = [&](std::string item) {
    sql += sql.empty() ? "SET " : ", ";
    sql += item;
  };
  const bool same_history = have.owner == want.owner && want.owner != 0;
  if (same_history) {
    // The connection has an older value of this session: only newer versions go.
    if (have.db_version != want.db_version && !want.database.empty()) r.init_db = want.database;
    if (have.var_version < want.var_version) {
      for (const auto& [name, var] : want.sysvars)
        if (var.version > have.var_version) add("@@SESSION." + name + " = " + var.sql);
      for (const auto& [name, var] : want.uservars)
        if (var.version > have.var_version) add("@`" + name + "` = " + var.sql);
    }
  } else {
    // Another client's (or a fresh login's) state: the difference by value.
    if (have.database != want.database && !want.database.empty()) r.init_db = want.database;
    for (const auto& [name, var] : want.sysvars) {
      auto it = have.sysvars.find(name);
      if (it == have.sysvars.end() || it->second.sql != var.sql) add("@@SESSION." + name + " = " + var.sql);
    }
    for (const auto& [name, var] : have.sysvars)
      if (want.sysvars.find(name) == want.sysvars.end()) add("@@SESSION." + name + " = DEFAULT");
    for (const auto& [name, var] : want.uservars) {
      auto it = have.uservars.find(name);
      if (it == have.uservars.end() || it->second.sql != var.sql) add("@`" + name + "` = " + var.sql);
    }
    for (const auto& [name, var] : have.uservars)
      if (want.uservars.find(name) == want.uservars.end()) add("@`" + name + "` = NULL");
  }
  r.set_sql = std::move(sql);
  return r;
}

ConnSync SessionState::fresh_connection() const {
  auto v = std::make_shared<SessionVars>();
  v->owner = 0;
  v->database = vars_->database;
  return ConnSync{std::move(v)};
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
  if (!value) return "NULL";
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
