#include "tests/unit/proxy/fake_expect.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "tests/unit/proxy/fake_backend.h"
#include "tests/unit/proxy/fake_known_issues.h"

namespace odp::fakeio {

namespace {

std::string show(const std::optional<std::string>& v) {
  return v ? "'" + *v + "'" : std::string("NULL");
}

template <typename T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// The client a value was made by (see FakeClient's value formats), 0 when none.
uint32_t owner_of(const std::string& text) {
  if (text.size() > 2 && text[0] == 'c' && std::isdigit(static_cast<unsigned char>(text[1]))) {
    return static_cast<uint32_t>(std::strtoul(text.c_str() + 1, nullptr, 10));
  }
  if (text.rfind("sim:", 0) == 0) {
    auto t = parse_tag_value(text.substr(0, text.find('|')));
    return t ? t->client : 0;
  }
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return 0;
  if (text.find('.') != std::string::npos) return static_cast<uint32_t>(std::floor(d / 1000));
  if (d >= 7e9) return static_cast<uint32_t>((static_cast<int64_t>(d) - 7000000000LL) / 100000);
  return 0;
}

// A result column's type as the kind of value it holds (-1: none of them, e.g. an untyped NULL).
int kind_of(protocol::ColumnType t) {
  switch (t) {
    case protocol::ColumnType::longlong:
      return static_cast<int>(FakeValue::Kind::integer);
    case protocol::ColumnType::double_:
      return static_cast<int>(FakeValue::Kind::real);
    case protocol::ColumnType::var_string:
      return static_cast<int>(FakeValue::Kind::string);
    default:
      return -1;
  }
}

}  // namespace

const char* write_state_name(WriteState s) {
  switch (s) {
    case WriteState::sent:
      return "sent";
    case WriteState::acked:
      return "acked";
    case WriteState::failed:
      return "failed";
    case WriteState::unknown:
      return "unknown";
    case WriteState::tx_acked:
      return "tx_acked";
    case WriteState::tx_unknown:
      return "tx_unknown";
    case WriteState::uncommitted:
      return "uncommitted";
  }
  return "?";
}

ClientModel::ClientModel(uint32_t client, std::string login_db, bool strict) : client_(client), strict_(strict) {
  for (const char* v : kClientVariables) sysvars_[v] = {fake_globals().at(v)};
  dbs_ = {std::move(login_db)};
}

void ClientModel::fail(const Sent& s, const std::string& what) {
  if (failure_.empty())
    failure_ = "client " + std::to_string(client_) + " command " + tag_text(s.tag) + " (" + step_name(s.step.kind) +
               "): " + what;
}

int64_t ClientModel::new_row(int partition) {
  int64_t base = static_cast<int64_t>(client_) * 1000000 + static_cast<int64_t>(kPartitions) * next_row_++;
  return base + ((partition - static_cast<int>(base % kPartitions)) + kPartitions) % kPartitions;
}

std::optional<int64_t> ClientModel::some_row(Rng& r, bool in_partition, int partition) const {
  std::vector<int64_t> ids;
  for (const auto& [id, w] : rows_)
    if (!in_partition || FakeCluster::partition_of(id) == partition) ids.push_back(id);
  if (ids.empty()) return std::nullopt;
  return ids[r.below(ids.size())];
}

std::optional<uint32_t> ClientModel::some_statement(Rng& r, int kind) const {
  std::vector<uint32_t> ids;
  for (const auto& [id, st] : stmts_)
    if (st.kind == kind) ids.push_back(id);
  if (ids.empty()) return std::nullopt;
  return ids[r.below(ids.size())];
}

void ClientModel::sending(Sent& s) {
  switch (s.step.kind) {
    case StepKind::begin:
      sending_tx_ = next_tx_++;
      s.tx = sending_tx_;
      tx_partition_ = static_cast<int>(s.step.a % kPartitions);
      return;
    case StepKind::commit:
    case StepKind::rollback:
    case StepKind::reset_connection:
    case StepKind::change_user:
      s.tx = sending_tx_;
      sending_tx_ = 0;
      return;
    case StepKind::insert_row:
    case StepKind::update_row:
    case StepKind::execute_write: {
      s.tx = sending_tx_;
      WriteNote w;
      w.tag = s.tag;
      w.row = s.row;
      w.insert = s.step.kind != StepKind::update_row;
      w.tx = s.tx;
      writes_.push_back(w);
      rows_[s.row].push_back(writes_.size() - 1);
      return;
    }
    case StepKind::stmt_close:
      stmts_.erase(s.stmt);
      return;
    default:
      return;
  }
}

bool ClientModel::local_allowed(const Sent& s, const Outcome& o) const {
  StepKind k = s.step.kind;
  bool kill = k == StepKind::kill_query || k == StepKind::kill_connection || k == StepKind::process_kill;
  if (o.kind == Outcome::Kind::local_ok)
    return kill || k == StepKind::begin || k == StepKind::commit || k == StepKind::rollback ||
           k == StepKind::set_consistency;
  if (!strict_) return true;
  // Without faults odp answers with its own error only when no pooled connection came free in
  // time, a KILL names a session that is not there (or whose thread ended meanwhile: the side
  // connection's ERR, relayed), or a KILL CONNECTION of this session lands on the connection its
  // command runs on (or is being readied on).
  if (kill) return o.code == protocol::errc::ER_NO_SUCH_THREAD;
  return o.code == protocol::errc::ER_CON_COUNT_ERROR ||
         (kills_ && (o.code == protocol::errc::ER_CONNECTION_KILLED || o.code == protocol::errc::ER_NET_READ_ERROR));
}

void ClientModel::answered(const Sent& s, const Outcome& o) {
  outcomes_[s.tag] = o.kind;
  if (o.kind == Outcome::Kind::local_err) local_codes_.insert(o.code);
  if ((o.kind == Outcome::Kind::local_ok || o.kind == Outcome::Kind::local_err) && !local_allowed(s, o)) {
    fail(s, o.kind == Outcome::Kind::local_ok
                ? "odp answered OK itself"
                : "odp answered with its own error " + std::to_string(o.code) + " '" + o.message + "'");
  }
  const bool server = o.kind == Outcome::Kind::server;
  const ResultInfo* info = o.info;
  if (server && info->error &&
      (info->code == protocol::errc::ER_CONNECTION_KILLED || info->code == protocol::errc::ER_QUERY_INTERRUPTED)) {
    // A KILL (or the server killing its own connection) stopped the command before it did
    // anything (the fake servers only stop a statement that waits, or one just arrived).
    if (s.step.kind == StepKind::commit || s.step.kind == StepKind::rollback) {
      Outcome lost;
      lost.kind = Outcome::Kind::lost;
      answered(s, lost);
    } else if (WriteNote* w = find_write(s.tag)) {
      w->state = WriteState::failed;
      w->applied_by = s.tag;
    }
    return;
  }
  switch (s.step.kind) {
    case StepKind::insert_row:
    case StepKind::update_row:
    case StepKind::execute_write:
      write_answer(s, o);
      return;
    case StepKind::create_temp:
    case StepKind::drop_temp:
    case StepKind::read_temp:
    case StepKind::call_make_temp:
      temp_answer(s, o);
      return;
    case StepKind::begin:
      if (server && info->error) fail(s, "BEGIN failed: " + info->message);
      in_tx_ = true;
      return;
    case StepKind::commit:
    case StepKind::rollback: {
      bool ok = o.kind == Outcome::Kind::local_ok || (server && !info->error);
      if (server && info->error) fail(s, "COMMIT/ROLLBACK failed: " + info->message);
      bool commit = s.step.kind == StepKind::commit;
      for (WriteNote& w : writes_) {
        if (w.tx != s.tx || (w.state != WriteState::tx_acked && w.state != WriteState::tx_unknown)) continue;
        w.applied_by = s.tag;
        if (ok) {
          w.state = !commit                           ? WriteState::failed
                    : w.state == WriteState::tx_acked ? WriteState::acked
                                                      : WriteState::unknown;
        } else {
          w.state = WriteState::unknown;
          w.local_error = w.local_error || o.kind == Outcome::Kind::local_err;
        }
      }
      in_tx_ = false;
      return;
    }
    case StepKind::prepare:
    case StepKind::prepare_read:
    case StepKind::prepare_write:
      if (server) {
        if (info->error) {
          fail(s, "PREPARE failed: " + info->message);
        } else if (o.odp_stmt_id != 0) {
          StmtNote n;
          n.kind = s.step.kind == StepKind::prepare ? 0 : s.step.kind == StepKind::prepare_read ? 1 : 2;
          n.prepared = s.tag;
          stmts_[o.odp_stmt_id] = n;
        }
      }
      return;
    case StepKind::execute:
    case StepKind::execute_read:
      if (!server) return;
      if (auto it = stmts_.find(s.stmt); it != stmts_.end() && info->prepared_as != it->second.prepared) {
        fail(s, "the server ran a statement prepared as " +
                    (info->prepared_as ? tag_text(*info->prepared_as) : std::string("?")) + ", not the client's " +
                    tag_text(it->second.prepared));
        return;
      }
      if (info->error) {
        fail(s, "EXECUTE failed: " + info->message);
        return;
      }
      if (s.step.kind == StepKind::execute_read) {
        std::optional<std::string> got;
        if (!info->rows.empty()) {
          got = info->rows[0][0];
          if (info->rows[0].size() < 2 || info->rows[0][1] != tag_value(s.tag))
            fail(s, "the statement's parameters came back wrong");
        }
        check_row(s, s.row, got);
      }
      return;
    case StepKind::read_row:
      if (!server) return;
      if (info->error) {
        fail(s, "SELECT failed: " + info->message);
        return;
      }
      check_row(s, s.row, info->rows.empty() ? std::nullopt : info->rows[0][0]);
      return;
    default:
      state_answer(s, o);
      return;
  }
}

void ClientModel::state_answer(const Sent& s, const Outcome& o) {
  const bool server = o.kind == Outcome::Kind::server;
  const bool unsure = o.kind == Outcome::Kind::local_err || o.kind == Outcome::Kind::lost;
  const ResultInfo* info = o.info;
  auto single = [&]() -> std::optional<std::optional<std::string>> {
    if (info->error || info->rows.size() != 1 || info->rows[0].size() != 1) {
      fail(s, info->error ? "failed: " + info->message : "not one value");
      return std::nullopt;
    }
    return info->rows[0][0];
  };
  switch (s.step.kind) {
    case StepKind::set_sysvar:
      if (server && info->error) fail(s, "SET failed: " + info->message);
      if (server && !info->error) sysvars_[s.var] = {s.value};
      if (unsure) add_unique(sysvars_[s.var], std::optional<std::string>(s.value));
      return;
    case StepKind::read_sysvar: {
      if (!server) return;
      auto v = single();
      if (!v) return;
      check_owner(s, "@@" + s.var, *v);
      const auto& want = sysvars_[s.var];
      if (std::find(want.begin(), want.end(), *v) == want.end()) {
        std::string w;
        for (const auto& x : want) w += " " + show(x);
        fail(s, "SELECT @@" + s.var + " returned " + show(*v) + ", expected one of" + w);
      }
      return;
    }
    case StepKind::set_uservar: {
      auto& now = uservars_[s.var];
      if (now.empty()) now.push_back(UserValue{});
      UserValue u;
      if (s.null) {
        // A NULL keeps the variable's type when it has one (and only one is possible).
        std::optional<FakeValue::Kind> type = now[0].type;
        for (const auto& x : now)
          if (x.type != type) type.reset();
        u.type = type;
      } else {
        u.text = s.value;
        u.type = s.type;
      }
      if (server && info->error) fail(s, "SET failed: " + info->message);
      if (server && !info->error) now = {u};
      if (unsure) add_unique(now, u);
      return;
    }
    case StepKind::read_uservar: {
      if (!server) return;
      auto v = single();
      if (!v) return;
      check_owner(s, "@" + s.var, *v);
      const int string_kind = static_cast<int>(FakeValue::Kind::string);
      int got_type = info->types.empty() ? -1 : kind_of(info->types[0]);
      auto& want = uservars_[s.var];
      if (want.empty()) want.push_back(UserValue{});
      bool matched = false;
      for (const auto& x : want) {
        if (x.text != *v) continue;
        int want_type = x.type ? static_cast<int>(*x.type) : -1;
        // A NULL of no type, or of a string's, reads back as either (odp replays it as NULL).
        bool loose = !x.text && (want_type == -1 || want_type == string_kind);
        if (loose ? (got_type == -1 || got_type == string_kind) : got_type == want_type) matched = true;
      }
      if (!matched) {
        std::string w;
        for (const auto& x : want)
          w += " " + show(x.text) + "/" + std::to_string(x.type ? static_cast<int>(*x.type) : -1);
        fail(s, "SELECT @" + s.var + " returned " + show(*v) + " of type " + std::to_string(got_type) +
                    ", expected one of" + w);
      }
      return;
    }
    case StepKind::use_db:
    case StepKind::init_db: {
      bool known = known_database(s.db);
      if (server && !info->error) {
        if (!known) fail(s, "selecting database '" + s.db + "' that does not exist succeeded");
        dbs_ = {s.db};
      } else if (server) {
        if (known || info->code != protocol::errc::ER_BAD_DB_ERROR) fail(s, "failed: " + info->message);
      } else if (unsure && known) {
        add_unique(dbs_, s.db);
      }
      return;
    }
    case StepKind::read_database: {
      if (!server) return;
      auto v = single();
      if (!v) return;
      std::string db = v->value_or("");
      if (std::find(dbs_.begin(), dbs_.end(), db) == dbs_.end()) {
        // Fixed (a connection in a database logs in again without one for a session in none):
        // counted, and no longer tolerated.
        bool none_wanted = std::find(dbs_.begin(), dbs_.end(), std::string()) != dbs_.end();
        if (none_wanted && !db.empty()) ++KnownIssues::counts().database_not_cleared;
        std::string w;
        for (const auto& x : dbs_) w += " '" + x + "'";
        fail(s, "SELECT DATABASE() returned '" + db + "', expected one of" + w);
      }
      return;
    }
    case StepKind::reset_connection:
    case StepKind::change_user: {
      std::optional<std::string> db;
      if (s.step.kind == StepKind::change_user) db = s.db;
      if (server && info->error) fail(s, "failed: " + info->message);
      if (server && !info->error) reset_state(true, db);
      if (unsure) reset_state(false, db);
      return;
    }
    case StepKind::ping:
    case StepKind::ok:
    case StepKind::select:
    case StepKind::big_select:
    case StepKind::multi:
    case StepKind::infile:
    case StepKind::big_insert:
      if (server && info->error) fail(s, "failed: " + info->message);
      return;
    case StepKind::err:
      if (server && (!info->error || info->code != protocol::errc::ER_PARSE_ERROR))
        fail(s, "expected the server's ERR 1064");
      return;
    case StepKind::set_consistency:
      // An OceanBase variable a MySQL server does not know: odp keeps it.
      if (server) fail(s, "SET ob_read_consistency reached a server");
      return;
    case StepKind::sleep_short:
      if (server && info->error && info->code != protocol::errc::ER_QUERY_INTERRUPTED &&
          info->code != protocol::errc::ER_CONNECTION_KILLED)
        fail(s, "failed: " + info->message);
      return;
    default:
      return;  // KILLs: any answer; COM_STMT_CLOSE: none
  }
}

void ClientModel::reset_state(bool certain, std::optional<std::string> db) {
  for (auto& [name, want] : sysvars_) {
    if (certain) want.clear();
    add_unique(want, std::optional<std::string>(fake_globals().at(name)));
  }
  if (certain) {
    uservars_.clear();
    temp_ = Tri::no;
    stmts_.clear();
  } else {
    for (auto& [name, want] : uservars_) add_unique(want, UserValue{});
    if (temp_ == Tri::yes) temp_ = Tri::maybe;
  }
  if (db) {
    if (certain) dbs_.clear();
    add_unique(dbs_, *db);
  }
  // The reset rolls back a transaction left open.
  for (WriteNote& w : writes_) {
    if (w.state == WriteState::tx_acked || w.state == WriteState::tx_unknown)
      w.state = certain ? WriteState::failed : WriteState::unknown;
  }
  in_tx_ = false;
}

void ClientModel::check_owner(const Sent& s, const std::string& what, const std::optional<std::string>& text) {
  if (!text) return;
  uint32_t owner = owner_of(*text);
  if (owner != 0 && owner != client_) {
    fail(s, what + " returned '" + *text + "', a value client " + std::to_string(owner) +
                " set: session state leaked between clients");
  }
}

void ClientModel::temp_answer(const Sent& s, const Outcome& o) {
  if (o.kind != Outcome::Kind::server) {
    if (s.step.kind != StepKind::read_temp && (temp_ != Tri::no || s.step.kind != StepKind::drop_temp))
      temp_ = Tri::maybe;
    return;
  }
  const ResultInfo& info = *o.info;
  const bool creates = s.step.kind == StepKind::create_temp || s.step.kind == StepKind::call_make_temp;
  const bool ok = !info.error;
  const uint16_t missing = s.step.kind == StepKind::drop_temp ? 1051 : 1146;
  if (creates) {
    if (ok && temp_ == Tri::yes) fail(s, "created t_tmp again: the session's temporary table was lost");
    if (!ok && info.code == 1050 && temp_ == Tri::no)
      fail(s, "t_tmp exists already: another client's temporary table is visible");
    if (!ok && info.code != 1050) fail(s, "failed: " + info.message);
    temp_ = Tri::yes;
    return;
  }
  if (ok && temp_ == Tri::no) fail(s, "found a t_tmp the client never created: another client's temporary table");
  if (!ok && info.code == missing && temp_ == Tri::yes) fail(s, "the session's temporary table t_tmp was lost");
  if (!ok && info.code != missing) fail(s, "failed: " + info.message);
  temp_ = s.step.kind == StepKind::drop_temp ? Tri::no : ok ? Tri::yes : Tri::no;
}

}  // namespace odp::fakeio
