// The fake client's steps: what each one sends (see fake_script.h for the steps, fake_expect.h
// for what is expected of the answers).
#include <cstdio>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/wire.h"
#include "tests/unit/proxy/fake_backend.h"
#include "tests/unit/proxy/fake_client.h"

namespace odp::fakeio {

using namespace protocol;

namespace {

constexpr size_t kMaxPipelined = 4;
constexpr const char* kUserVariables[] = {"u1", "u2", "u3"};

// Values a client sets carry its number (so that another client reading one is seen at once):
// strings "c<client>_<seq>", integers 7000000000 + client * 100000 + seq, reals client * 1000 + ...
std::string string_value(uint32_t client, uint32_t seq) {
  return "c" + std::to_string(client) + "_" + std::to_string(seq);
}
int64_t int_value(uint32_t client, uint32_t seq) {
  return 7000000000LL + static_cast<int64_t>(client) * 100000 + seq % 100000;
}
std::string real_value(uint32_t client, uint32_t seq) {
  return FakeValue::real(client * 1000.0 + seq % 999 + 0.25).text;
}

void put_param(std::vector<uint8_t>& types, std::vector<uint8_t>& values, int64_t v) {
  types.push_back(static_cast<uint8_t>(ColumnType::longlong));
  types.push_back(0);
  put_u64(values, static_cast<uint64_t>(v));
}
void put_param(std::vector<uint8_t>& types, std::vector<uint8_t>& values, const std::string& v) {
  types.push_back(static_cast<uint8_t>(ColumnType::var_string));
  types.push_back(0);
  put_lenenc_str(values, v);
}

}  // namespace

void FakeClient::next_step() {
  while (state_ == State::running || state_ == State::waiting) {
    if (step_ >= plan_.script.size()) break;
    const Step& st = plan_.script[step_];
    if (!outstanding_.empty()) {
      bool may = plan_.pipeline && pipelinable(st.kind) && pipelinable(outstanding_.back().step.kind) &&
                 outstanding_.size() < kMaxPipelined;
      if (!may) return;
    }
    ++step_;
    Sent s;
    std::vector<uint8_t> payload;
    bool answered = build(st, s, payload);
    model_.sending(s);
    send_command(payload);
    if (state_ == State::closed) return;
    if (answered) {
      outstanding_.push_back(std::move(s));
      state_ = State::waiting;
    }
  }
  if (step_ >= plan_.script.size() && outstanding_.empty() && state_ != State::closed && state_ != State::quitting &&
      state_ != State::idle) {
    if (plan_.quit_at_end) {
      state_ = State::quitting;
      quit_sent_ = true;
      send_command({static_cast<uint8_t>(Command::quit)});
    } else {
      state_ = State::idle;
    }
  }
}

bool FakeClient::build(const Step& step, Sent& s, std::vector<uint8_t>& p) {
  Rng& r = sim_.rng();
  Step st = step;
  // Steps that need something the session does not have become one that makes it.
  if (st.kind == StepKind::execute && !model_.some_statement(r, 0)) st.kind = StepKind::ping;
  // An execute runs whichever statement of the table the client has, else prepares one.
  if (st.kind == StepKind::execute_read && !model_.some_statement(r, 1) && model_.some_statement(r, 2))
    st.kind = StepKind::execute_write;
  if (st.kind == StepKind::execute_write && !model_.some_statement(r, 2) && model_.some_statement(r, 1))
    st.kind = StepKind::execute_read;
  if (st.kind == StepKind::execute_read && !model_.some_statement(r, 1)) st.kind = StepKind::prepare_read;
  if (st.kind == StepKind::execute_write && !model_.some_statement(r, 2)) st.kind = StepKind::prepare_write;
  if (st.kind == StepKind::stmt_close && !model_.some_statement(r, 0) && !model_.some_statement(r, 1) &&
      !model_.some_statement(r, 2))
    st.kind = StepKind::ping;
  s.step = st;
  s.tag = Tag{id_, ++seq_};
  s.solo = solo(st.kind);
  const uint32_t seq = s.tag.seq;
  auto query = [&](const std::string& sql) {
    put_u8(p, static_cast<uint8_t>(Command::query));
    put_bytes(p, sql + tag_comment(s.tag));
  };
  auto partition = [&] {
    // Inside a transaction every write stays on the partition its BEGIN chose.
    return model_.in_tx_sending() ? model_.tx_partition() : static_cast<int>(r.below(kPartitions));
  };
  switch (st.kind) {
    case StepKind::select:
      query("SELECT rows=" + std::to_string(st.a));
      break;
    case StepKind::big_select:
      query("SELECT big=" + std::to_string((16u << 20) + st.a));
      break;
    case StepKind::ok:
      query("DO ok");
      break;
    case StepKind::err:
      query("DO err");
      break;
    case StepKind::multi:
      query("CALL multi(" + std::to_string(1 + st.a % 4) + ")");
      break;
    case StepKind::infile:
      query("LOAD DATA LOCAL INFILE 'data.csv' INTO TABLE t");
      break;
    case StepKind::big_insert:
      query("INSERT INTO t VALUES ('" + std::string((16u << 20) + st.a, 'z') + "')");
      break;
    case StepKind::ping:
      put_u8(p, static_cast<uint8_t>(Command::ping));
      break;
    case StepKind::init_db:
      s.db = kDatabases[st.a % 3];
      put_u8(p, static_cast<uint8_t>(Command::init_db));
      put_bytes(p, s.db);
      break;
    case StepKind::prepare:
    case StepKind::prepare_read:
    case StepKind::prepare_write: {
      std::string sql = st.kind == StepKind::prepare        ? "SELECT ?"
                        : st.kind == StepKind::prepare_read ? "SELECT v, ? FROM test.kv WHERE id = ?"
                                                            : "INSERT INTO test.kv (id, v) VALUES (?, ?)";
      put_u8(p, static_cast<uint8_t>(Command::stmt_prepare));
      put_bytes(p, sql + tag_comment(s.tag));
      break;
    }
    case StepKind::execute:
    case StepKind::execute_read:
    case StepKind::execute_write: {
      int kind = st.kind == StepKind::execute ? 0 : st.kind == StepKind::execute_read ? 1 : 2;
      s.stmt = *model_.some_statement(r, kind);
      std::vector<uint8_t> types, values;
      size_t n = 1;
      if (kind == 0) {
        put_param(types, values, tag_value(s.tag));
      } else if (kind == 1) {
        auto row = model_.some_row(r, false, 0);
        s.row = row ? *row : model_.new_row(static_cast<int>(r.below(kPartitions)));
        put_param(types, values, tag_value(s.tag));
        put_param(types, values, s.row);
        n = 2;
      } else {
        s.row = model_.new_row(partition());
        s.value = tag_value(s.tag);
        put_param(types, values, s.row);
        put_param(types, values, s.value);
        n = 2;
      }
      put_u8(p, static_cast<uint8_t>(Command::stmt_execute));
      put_u32(p, s.stmt);
      put_u8(p, 0);  // no cursor
      put_u32(p, 1);
      for (size_t i = 0; i < (n + 7) / 8; ++i) put_u8(p, 0);  // no NULLs
      put_u8(p, 1);                                           // types follow
      p.insert(p.end(), types.begin(), types.end());
      p.insert(p.end(), values.begin(), values.end());
      break;
    }
    case StepKind::stmt_close: {
      auto id = model_.some_statement(r, 0);
      if (!id) id = model_.some_statement(r, 1);
      if (!id) id = model_.some_statement(r, 2);
      s.stmt = *id;
      put_u8(p, static_cast<uint8_t>(Command::stmt_close));
      put_u32(p, s.stmt);
      return false;  // no answer comes
    }
    case StepKind::sleep:
      query("SELECT SLEEP(1000000)");
      break;
    case StepKind::sleep_short:
      query("SELECT SLEEP(2)");
      break;
    case StepKind::change_user: {
      static const char* kDbs[] = {"", "test", "db1", "db2"};
      s.db = kDbs[st.a % 4];
      put_u8(p, static_cast<uint8_t>(Command::change_user));
      put_null_str(p, kUser);
      std::string auth = native_password_response_from_password(plan_.password, proxy_scramble_);
      put_u8(p, static_cast<uint8_t>(auth.size()));
      put_bytes(p, auth);
      put_null_str(p, s.db);
      put_u16(p, charset::utf8mb4_general_ci);
      put_null_str(p, kNativePasswordPlugin);
      // The tag rides in the connect attributes, which odp passes through.
      std::vector<uint8_t> attrs;
      put_lenenc_str(attrs, "_sim_tag");
      put_lenenc_str(attrs, tag_value(s.tag));
      put_lenenc_int(p, attrs.size());
      p.insert(p.end(), attrs.begin(), attrs.end());
      break;
    }
    case StepKind::set_sysvar: {
      uint32_t v = st.a % kClientVariableCount;
      s.var = kClientVariables[v];
      std::string literal;
      if (st.b >= 4) {
        s.value = fake_globals().at(s.var);  // = DEFAULT: the global value
        literal = "DEFAULT";
      } else if (v < 2) {
        s.value = string_value(id_, seq);
        literal = "'" + s.value + "'";
      } else if (v < 5) {
        s.value = std::to_string(int_value(id_, seq));
        literal = s.value;
      } else {
        static const char* kLevels[] = {"READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE"};
        s.value = kLevels[(id_ + seq) % 4];
        literal = "'" + s.value + "'";
      }
      static const char* kForms[] = {"SET SESSION ", "SET @@SESSION.", "SET ", "SET @@"};
      query(kForms[st.b % 4] + s.var + " = " + literal);
      break;
    }
    case StepKind::set_uservar: {
      s.var = kUserVariables[st.a % 3];
      s.null = st.b == 1;
      std::string literal = "NULL";
      if (!s.null) {
        switch (st.a % 3) {
          case 0:
            s.type = FakeValue::Kind::string;
            s.value = string_value(id_, seq);
            literal = "'" + s.value + "'";
            break;
          case 1:
            s.type = FakeValue::Kind::integer;
            s.value = std::to_string(int_value(id_, seq));
            literal = s.value;
            break;
          default:
            s.type = FakeValue::Kind::real;
            s.value = real_value(id_, seq);
            literal = s.value;
            break;
        }
      }
      query("SET @" + s.var + " = " + literal);
      break;
    }
    case StepKind::read_sysvar:
      s.var = kClientVariables[st.a % kClientVariableCount];
      query(std::string(r.chance(500) ? "SELECT @@SESSION." : "SELECT @@") + s.var);
      break;
    case StepKind::read_uservar:
      s.var = kUserVariables[st.a % 3];
      query("SELECT @" + s.var);
      break;
    case StepKind::read_database:
      query("SELECT DATABASE()");
      break;
    case StepKind::use_db:
      s.db = st.a < 3 ? kDatabases[st.a] : "nosuch";
      query("USE " + s.db);
      break;
    case StepKind::reset_connection:
      put_u8(p, static_cast<uint8_t>(Command::reset_connection));
      break;
    case StepKind::set_consistency:
      query(std::string("SET ob_read_consistency = '") + (st.a == 1 ? "WEAK" : "STRONG") + "'");
      break;
    case StepKind::insert_row:
    case StepKind::update_row: {
      std::optional<int64_t> row;
      if (st.kind == StepKind::update_row) row = model_.some_row(r, model_.in_tx_sending(), model_.tx_partition());
      if (!row) {
        s.step.kind = StepKind::insert_row;
        s.row = model_.new_row(partition());
        s.value = tag_value(s.tag);
        query("INSERT INTO test.kv (id, v) VALUES (" + std::to_string(s.row) + ", '" + s.value + "')");
      } else {
        s.row = *row;
        s.value = "|" + tag_value(s.tag);
        query("UPDATE test.kv SET v = CONCAT(v, '" + s.value + "') WHERE id = " + std::to_string(s.row));
      }
      break;
    }
    case StepKind::read_row: {
      auto row = model_.some_row(r, model_.in_tx_sending(), model_.tx_partition());
      s.row = row ? *row : model_.new_row(partition());
      query("SELECT v FROM test.kv WHERE id = " + std::to_string(s.row));
      break;
    }
    case StepKind::begin:
      query(r.chance(500) ? "BEGIN" : "START TRANSACTION");
      break;
    case StepKind::commit:
      query("COMMIT");
      break;
    case StepKind::rollback:
      query("ROLLBACK");
      break;
    case StepKind::create_temp:
      query("CREATE TEMPORARY TABLE t_tmp (c INT)");
      break;
    case StepKind::drop_temp:
      query("DROP TEMPORARY TABLE t_tmp");
      break;
    case StepKind::read_temp:
      query("SELECT COUNT(*) FROM t_tmp");
      break;
    case StepKind::call_make_temp:
      query("CALL sim_make_temp()");
      break;
    case StepKind::kill_query:
    case StepKind::kill_connection:
      s.target = st.a;
      world_.kill_sent(s.target);
      query(std::string(st.kind == StepKind::kill_query ? "KILL QUERY " : "KILL CONNECTION ") +
            std::to_string(s.target));
      break;
    case StepKind::process_kill:
      s.target = st.a;
      world_.kill_sent(s.target);
      put_u8(p, static_cast<uint8_t>(Command::process_kill));
      put_u32(p, s.target);
      break;
  }
  return true;
}

}  // namespace odp::fakeio
