#include "tests/unit/proxy/fake_backend.h"

#include <cctype>
#include <cstdlib>

#include "protocol/wire.h"

namespace odp::fakeio {

namespace {

bool on(std::string_view v) {
  return v == "ON" || v == "on" || v == "1" || v == "TRUE" || v == "true";
}

// Boolean variables read back as ON/OFF whatever they were set with.
bool boolean_variable(std::string_view name) {
  return name == "session_track_schema" || name == "session_track_state_change" || name == "autocommit";
}

}  // namespace

const std::map<std::string, std::string, std::less<>>& fake_globals() {
  static const std::map<std::string, std::string, std::less<>> globals = {
      {"sql_mode", "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"},
      {"time_zone", "SYSTEM"},
      {"group_concat_max_len", "1048576"},
      {"div_precision_increment", "4"},
      {"timestamp", "1700000000"},  // a real server's clock; a fixed one here
      {"tx_isolation", "REPEATABLE-READ"},
      {"character_set_client", "utf8mb4"},
      {"character_set_connection", "utf8mb4"},
      {"character_set_results", "utf8mb4"},
      {"collation_connection", "utf8mb4_general_ci"},
      {"wait_timeout", "28800"},
      {"interactive_timeout", "28800"},
      {"autocommit", "ON"},
      // MariaDB's and MySQL's compiled defaults: what a client gets when it sets none.
      {"session_track_system_variables",
       "autocommit,character_set_client,character_set_connection,character_set_results,time_zone"},
      {"session_track_schema", "ON"},
      {"session_track_state_change", "OFF"},
  };
  return globals;
}

bool known_database(std::string_view db) {
  for (const char* d : kDatabases)
    if (db == d) return true;
  return false;
}

BackendSession::BackendSession() {
  reset("");
}

void BackendSession::reset(std::string database) {
  sysvars_.clear();
  for (const auto& [k, v] : fake_globals()) sysvars_.emplace(k, v);
  uservars_.clear();
  database_ = std::move(database);
  temp_tables.clear();
  statements.clear();
  in_tx = false;
  tx.clear();
  last_insert_id = 0;
}

std::optional<std::string> BackendSession::sysvar(std::string_view name) const {
  auto it = sysvars_.find(name);
  if (it == sysvars_.end()) return std::nullopt;
  return it->second;
}

FakeValue BackendSession::uservar(std::string_view name) const {
  auto it = uservars_.find(name);
  return it == uservars_.end() ? FakeValue::null() : it->second;
}

void BackendSession::set_database(std::string db, Changes& changes) {
  if (db != database_) {
    changes.schema = true;
    changes.state = true;
  }
  database_ = std::move(db);
}

std::optional<FakeValue> BackendSession::eval(const Expr& e, std::span<const FakeValue> params, SqlError& err) const {
  switch (e.kind) {
    case Expr::Kind::literal:
      return e.value;
    case Expr::Kind::placeholder:
      if (e.placeholder >= params.size()) {
        err = {1210, "HY000", "Incorrect arguments to EXECUTE"};
        return std::nullopt;
      }
      return params[e.placeholder];
    case Expr::Kind::word:
      // A bare word as a value (ON, OFF, utf8mb4...) is its text.
      return FakeValue::string(e.name);
    case Expr::Kind::sysvar: {
      auto v = e.global ? [&]() -> std::optional<std::string> {
        auto it = fake_globals().find(e.name);
        if (it == fake_globals().end()) return std::nullopt;
        return it->second;
      }()
          : sysvar(e.name);
      if (!v) {
        err = {1193, "HY000", "Unknown system variable '" + e.name + "'"};
        return std::nullopt;
      }
      return FakeValue::string(*v);
    }
    case Expr::Kind::uservar:
      return uservar(e.name);
    case Expr::Kind::default_:
    case Expr::Kind::star:
      err = {1064, "42000", "DEFAULT or * where a value is expected"};
      return std::nullopt;
    case Expr::Kind::call:
      break;
  }
  std::vector<FakeValue> args;
  for (const auto& a : e.args) {
    auto v = eval(a, params, err);
    if (!v) return std::nullopt;
    args.push_back(std::move(*v));
  }
  if (e.name == "CONVERT" && args.size() == 1) {
    if (args[0].is_null()) return FakeValue::null_of(FakeValue::Kind::string);
    return FakeValue::string(args[0].text, e.type == "BINARY" ? 63 : 45);
  }
  if (e.name == "CAST" && args.size() == 1) {
    FakeValue::Kind to = e.type.rfind("SIGNED", 0) == 0 || e.type.rfind("UNSIGNED", 0) == 0 ? FakeValue::Kind::integer
                         : e.type == "DOUBLE" || e.type.rfind("DECIMAL", 0) == 0            ? FakeValue::Kind::real
                                                                                            : FakeValue::Kind::string;
    if (args[0].is_null()) return FakeValue::null_of(to);
    if (to == FakeValue::Kind::integer) return FakeValue::integer(std::strtoll(args[0].text.c_str(), nullptr, 10));
    if (to == FakeValue::Kind::real) return FakeValue::real(std::strtod(args[0].text.c_str(), nullptr));
    return FakeValue::string(args[0].text);
  }
  if (e.name == "CONCAT") {
    std::string out;
    for (const auto& a : args) {
      if (a.is_null()) return FakeValue::null_of(FakeValue::Kind::string);
      out += a.text;
    }
    return FakeValue::string(std::move(out));
  }
  if (e.name == "DATABASE" && args.empty()) {
    return database_.empty() ? FakeValue::null_of(FakeValue::Kind::string) : FakeValue::string(database_);
  }
  if (e.name == "LAST_INSERT_ID") {
    return FakeValue::integer(
        static_cast<int64_t>(args.empty() ? last_insert_id : std::strtoull(args[0].text.c_str(), nullptr, 10)));
  }
  err = {1305, "42000", "FUNCTION " + e.name + " does not exist"};
  return std::nullopt;
}

std::optional<SqlError> BackendSession::apply_set(const Stmt& s, std::span<const FakeValue> params, Changes& changes) {
  // Evaluate everything first: a failing assignment leaves the session as it was.
  struct Pending {
    const Assignment* a;
    FakeValue value;
    bool to_default;
  };
  std::vector<Pending> pending;
  for (const auto& a : s.assignments) {
    SqlError err;
    if (a.scope == Assignment::Scope::global)
      return SqlError{1227, "42000", "Access denied; you need (at least one of) the SUPER privilege(s)"};
    if (a.scope != Assignment::Scope::user && fake_globals().find(a.name) == fake_globals().end())
      return SqlError{1193, "HY000", "Unknown system variable '" + a.name + "'"};
    if (a.value.kind == Expr::Kind::default_) {
      if (a.scope == Assignment::Scope::user) return SqlError{1064, "42000", "DEFAULT for a user variable"};
      pending.push_back({&a, FakeValue::string(fake_globals().find(a.name)->second), true});
      continue;
    }
    auto v = eval(a.value, params, err);
    if (!v) return err;
    if (a.scope != Assignment::Scope::user && v->is_null())
      return SqlError{1231, "42000", "Variable '" + a.name + "' can't be set to the value of 'NULL'"};
    pending.push_back({&a, std::move(*v), false});
  }
  for (auto& p : pending) {
    const Assignment& a = *p.a;
    changes.state = true;
    if (a.scope == Assignment::Scope::user) {
      FakeValue v = std::move(p.value);
      // A NULL keeps the variable's type (unless it came typed itself).
      if (v.is_null() && !v.typed_null) {
        auto it = uservars_.find(a.name);
        if (it != uservars_.end() && (!it->second.is_null() || it->second.typed_null)) {
          v.type = it->second.type;
          v.typed_null = true;
        }
      }
      uservars_[a.name] = std::move(v);
      continue;
    }
    std::string text = p.value.text;
    if (boolean_variable(a.name)) text = on(text) ? "ON" : "OFF";
    sysvars_[a.name] = text;
    // MariaDB's tracker misses `SET @@x = v` without a scope (odp reads those back).
    if (a.scope != Assignment::Scope::unscoped) {
      std::erase_if(changes.sysvars, [&](const auto& kv) { return kv.first == a.name; });
      changes.sysvars.emplace_back(a.name, text);
    }
  }
  return std::nullopt;
}

bool BackendSession::tracks_variable(std::string_view name) const {
  return listed(sysvars_.at("session_track_system_variables"), name);
}

bool BackendSession::listed(std::string_view list, std::string_view name) {
  if (list == "*") return true;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item == name) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

bool BackendSession::tracks_anything() const {
  return !sysvars_.at("session_track_system_variables").empty() || on(sysvars_.at("session_track_schema")) ||
         on(sysvars_.at("session_track_state_change"));
}

std::string BackendSession::session_state(const Changes& changes) const {
  return session_state(changes, sysvars_.at("session_track_system_variables"), on(sysvars_.at("session_track_schema")),
                       on(sysvars_.at("session_track_state_change")));
}

std::string BackendSession::client_default_state(const Changes& changes) const {
  const auto& g = fake_globals();
  return session_state(changes, g.at("session_track_system_variables"), on(g.at("session_track_schema")),
                       on(g.at("session_track_state_change")));
}

std::string BackendSession::session_state(const Changes& changes, std::string_view list, bool schema,
                                          bool state) const {
  // [type][lenenc data] records; written here from the protocol's description, not with odp's
  // encoder, so that the two are checked against each other.
  std::vector<uint8_t> out;
  auto record = [&](uint8_t type, const std::vector<uint8_t>& data) {
    out.push_back(type);
    protocol::put_lenenc_int(out, data.size());
    out.insert(out.end(), data.begin(), data.end());
  };
  for (const auto& [name, value] : changes.sysvars) {
    if (!listed(list, name)) continue;
    std::vector<uint8_t> data;
    protocol::put_lenenc_str(data, name);
    protocol::put_lenenc_str(data, value);
    record(0, data);
  }
  if (changes.schema && schema) {
    std::vector<uint8_t> data;
    protocol::put_lenenc_str(data, database_);
    record(1, data);
  }
  if (changes.state && state) {
    std::vector<uint8_t> data;
    protocol::put_lenenc_str(data, "1");
    record(2, data);
  }
  return std::string(out.begin(), out.end());
}

}  // namespace odp::fakeio
