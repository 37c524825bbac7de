// The session model without sockets: statements and the server's answers in, ties, variables and
// what to read back out (session_model.h).
#include "proxy/session_model.h"

#include <doctest/doctest.h>

#include "protocol/constants.h"
#include "protocol/session_track.h"

using namespace odp;
using namespace odp::proxy;
namespace status = odp::protocol::status;

namespace {
StatementFacts facts(std::string_view sql) {
  routing::ClassifiedSql c;
  routing::classify_sql(sql, c);
  StatementFacts f;
  facts_for_sql(c, sql, f);
  return f;
}

ResponseOutcome ok(uint16_t flags = status::AUTOCOMMIT) {
  ResponseOutcome o;
  o.status_known = true;
  o.status_flags = flags;
  return o;
}

SessionModel started() {
  SessionModel m;
  SessionIdentity id;
  id.login.user = "app";
  id.login_database = "test";
  id.charset = 8;
  id.client_caps = protocol::cap::IGNORE_SPACE;
  m.start(id, 100);
  return m;
}
}  // namespace

TEST_CASE("session model: a plain statement leaves nothing tied and nothing to read back") {
  SessionModel m = started();
  ConnSync sync = m.vars().fresh_connection(100);
  ReadBack rb = m.apply(facts("SELECT * FROM t WHERE id = 1"), ok(), &sync);
  CHECK(rb.empty());
  CHECK_FALSE(m.tied());
  CHECK_FALSE(sync.dirty);
  CHECK(m.vars().plan(sync, m.baseline()).empty());
  Baseline b = m.baseline();
  CHECK(b.charset == 8);
  CHECK(b.ignore_space);
  CHECK(b.login_ms == 100);
}

TEST_CASE("session model: transactions tie by the status flags; a one-shot SET TRANSACTION until the next one") {
  SessionModel m = started();
  ConnSync sync;
  m.apply(facts("INSERT INTO t VALUES (1)"), ok(status::AUTOCOMMIT | status::IN_TRANS), &sync);
  CHECK(m.in_transaction());
  CHECK(m.ties().has(Tie::transaction));
  CHECK(sync.dirty);  // if the session ended now, the connection would be reset first
  m.apply(facts("COMMIT"), ok(), &sync);
  CHECK_FALSE(m.tied());
  CHECK_FALSE(sync.dirty);

  m.apply(facts("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"), ok(), &sync);
  CHECK(m.ties().has(Tie::one_shot_transaction));
  m.apply(facts("SELECT 1"), ok(), &sync);  // that was the next transaction
  CHECK_FALSE(m.tied());
}

TEST_CASE("session model: locks tie until their unlock") {
  SessionModel m = started();
  ConnSync sync;
  m.apply(facts("FLUSH TABLES WITH READ LOCK"), ok(), &sync);
  CHECK(m.ties().has(Tie::global_read_lock));
  m.apply(facts("UNLOCK TABLES"), ok(), &sync);
  CHECK_FALSE(m.tied());
  m.apply(facts("BACKUP STAGE START"), ok(), &sync);
  CHECK(m.ties().has(Tie::backup_lock));
  m.apply(facts("BACKUP STAGE END"), ok(), &sync);
  CHECK_FALSE(m.tied());
  m.apply(facts("LOCK TABLES t WRITE"), ok(), &sync);
  CHECK(m.ties().has(Tie::lock_tables));
  // A failed unlock releases nothing.
  ResponseOutcome err = ok();
  err.error = true;
  m.apply(facts("UNLOCK TABLES"), err, &sync);
  CHECK(m.ties().has(Tie::lock_tables));
}

TEST_CASE("session model: state changes nothing explains tie the session; a write's last_gtid does not") {
  SessionModel m = started();
  ConnSync sync;
  ResponseOutcome o = ok();
  o.state_change = true;
  m.apply(facts("CALL make_temp_table()"), o, &sync);
  CHECK(m.ties().has(Tie::unexplained_state));

  SessionModel w = started();
  ResponseOutcome written = ok();
  written.state_change = true;
  written.system_variables.emplace_back("last_gtid", "0-1-7");
  written.schema = "test";
  w.apply(facts("INSERT INTO t VALUES (2)"), written, &sync);
  CHECK_FALSE(w.tied());
  CHECK(w.vars().system_variable_count() == 0);  // last_gtid describes the connection

  // A procedure's flag is never explained by the records that come with it.
  SessionModel p = started();
  p.apply(facts("CALL p()"), written, &sync);
  CHECK(p.ties().has(Tie::unexplained_state));
}

TEST_CASE("session model: variables the tracker misses are read back; user variables always") {
  SessionModel m = started();
  ConnSync sync;
  // MariaDB reports `SET sql_mode = x` but not `SET @@sql_mode = x`.
  ResponseOutcome reported = ok();
  reported.system_variables.emplace_back("sql_mode", "ANSI_QUOTES");
  ReadBack rb = m.apply(facts("SET sql_mode = 'ANSI_QUOTES', @@optimizer_switch = 'index_merge=off'"), reported, &sync);
  REQUIRE(rb.system_variables.size() == 1);
  CHECK(rb.system_variables[0] == "optimizer_switch");
  CHECK(m.vars().system_variable("sql_mode") == "'ANSI_QUOTES'");

  protocol::ColumnDefinition41 col;
  col.type = protocol::ColumnType::var_string;
  m.apply_read_back(rb, {col}, {std::string("index_merge=off")}, &sync);
  CHECK(m.vars().system_variable("optimizer_switch") == "'index_merge=off'");

  ReadBack users = m.apply(facts("SET @a = 1, @B := 2"), ok(), &sync);
  REQUIRE(users.user_variables.size() == 2);
  CHECK(users.sql() == "SELECT @`a`, @`b`");
  protocol::ColumnDefinition41 num;
  num.type = protocol::ColumnType::longlong;
  m.apply_read_back(users, {num, num}, {std::string("1"), std::nullopt}, &sync);
  CHECK(m.vars().user_variable("a") == "1");
  CHECK(m.vars().user_variable("b") == "CAST(NULL AS SIGNED)");
  // Values that could not be read back cannot be replayed: the session stays.
  m.read_back_failed();
  CHECK(m.ties().has(Tie::unreadable_variables));
}

TEST_CASE("session model: timestamp is modelled and reset; one-shot and privileged variables") {
  SessionModel m = started();
  ConnSync sync;
  ResponseOutcome set = ok();
  set.system_variables.emplace_back("timestamp", "1000000000.000000");
  m.apply(facts("SET timestamp = 1000000000"), set, &sync);
  CHECK(m.vars().system_variable("timestamp") == "1000000000.000000");
  // SET timestamp = DEFAULT reports the old fixed value: the clock runs again.
  m.apply(facts("SET timestamp = DEFAULT"), set, &sync);
  CHECK_FALSE(m.vars().system_variable("timestamp"));

  m.apply(facts("SET insert_id = 5"), ok(), &sync);
  CHECK(m.ties().has(Tie::one_shot_variable));

  SessionModel p = started();
  ResponseOutcome bin = ok();
  bin.system_variables.emplace_back("sql_log_bin", "OFF");
  p.apply(facts("SET sql_log_bin = 0"), bin, &sync);
  CHECK_FALSE(p.tied());  // replayed for this session...
  CHECK(p.vars().system_variable("sql_log_bin") == "'OFF'");
  CHECK(p.vars().current()->exclusive);  // ...and reset before another session uses its connection
}

TEST_CASE("session model: an OBServer's feedback to its proxy is not the client's state") {
  SessionModel m = started();
  ConnSync sync;
  ResponseOutcome o = ok(status::AUTOCOMMIT | status::SESSION_STATE_CHANGED);
  o.state_change = true;
  o.system_variables.emplace_back("ob_proxy_partition_hit", "false");
  o.system_variables.emplace_back("ob_statement_trace_id", "Y0-1");
  o.system_variables.emplace_back("ob_capability_flag", "33024");
  o.system_variables.emplace_back("ob_proxy_global_variables_version", "1700000000");
  m.apply(facts("UPDATE orders SET amount = 1 WHERE id = 4"), o, &sync);
  CHECK(m.vars().system_variable_count() == 0);  // nothing to replay elsewhere
  CHECK_FALSE(m.tied());
  CHECK(o.partition_missed());
  o.system_variables[0].second = "TRUE";
  CHECK_FALSE(o.partition_missed());
  o.system_variables[0].second = "0";
  CHECK(o.partition_missed());
  CHECK_FALSE(ok().partition_missed());
  // A temporary table the server saw created (in a procedure, say) ties the session.
  ResponseOutcome temp = ok(status::AUTOCOMMIT | status::SESSION_STATE_CHANGED);
  temp.state_change = true;
  temp.system_variables.emplace_back("_ob_proxy_session_temporary_table_used", "1");
  m.apply(facts("CALL make_temp()"), temp, &sync);
  CHECK(m.ties().has(Tie::temporary_table));
  CHECK(m.vars().system_variable_count() == 0);
}

TEST_CASE("session model: roles are replayed for the session; USE and COM_INIT_DB set the database") {
  SessionModel m = started();
  ConnSync sync;
  m.apply(facts("SET ROLE `r1`"), ok(), &sync);
  CHECK(m.vars().role() == "r1");
  ConnSync other = m.vars().fresh_connection(100);
  auto r = m.vars().plan(other, m.baseline());
  REQUIRE(r.role);
  CHECK(*r.role == "r1");
  m.apply(facts("USE other"), ok(), &sync);
  CHECK(m.database() == "other");
  StatementFacts init;
  facts_for_command(protocol::Command::init_db, init);
  init.database = "third";
  m.apply(init, ok(), &sync);
  CHECK(m.database() == "third");
}

TEST_CASE("session model: COM_RESET_CONNECTION forgets everything and the connection re-arms tracking") {
  SessionModel m = started();
  ConnSync sync;
  m.apply(facts("CREATE TEMPORARY TABLE tt (a INT)"), ok(), &sync);
  CHECK(m.ties().has(Tie::temporary_table));
  StatementFacts reset;
  facts_for_command(protocol::Command::reset_connection, reset);
  m.apply(reset, ok(), &sync);
  CHECK_FALSE(m.tied());
  CHECK_FALSE(sync.tracking);
  CHECK(sync.needs_baseline);
  auto r = m.vars().plan(sync, m.baseline());
  CHECK(r.set_sql.find("session_track_system_variables") != std::string::npos);
  CHECK(r.set_sql.find("IGNORE_SPACE") != std::string::npos);  // MariaDB's reset drops it
}

TEST_CASE("session model: serialised and read back whole") {
  SessionModel m = started();
  ConnSync sync;
  ResponseOutcome o = ok();
  o.system_variables.emplace_back("sql_mode", "ANSI");
  m.apply(facts("SET sql_mode = 'ANSI'"), o, &sync);
  ReadBack rb = m.apply(facts("SET @x = 42"), ok(), &sync);
  protocol::ColumnDefinition41 num;
  num.type = protocol::ColumnType::longlong;
  m.apply_read_back(rb, {num}, {std::string("42")}, &sync);
  m.set_consistency(routing::Consistency::weak);
  ClientStmt stmt;
  stmt.shape = make_statement_shape("SELECT ?");
  stmt.num_params = 1;
  stmt.types = {protocol::ParamType{protocol::ColumnType::longlong, true}};
  uint32_t id = m.statements().add(std::move(stmt));

  std::vector<uint8_t> bytes;
  m.serialize(bytes);
  auto back = SessionModel::deserialize(bytes);
  REQUIRE(back.ok());
  CHECK(back->identity().login.user == "app");
  CHECK(back->identity().charset == 8);
  CHECK(back->database() == "test");
  CHECK(back->vars().system_variable("sql_mode") == "'ANSI'");
  CHECK(back->vars().user_variable("x") == "42");
  CHECK(back->consistency() == routing::Consistency::weak);
  REQUIRE(back->statements().find(id) != nullptr);
  CHECK(back->statements().find(id)->sql() == "SELECT ?");
  CHECK(back->statements().find(id)->types == std::vector<protocol::ParamType>{{protocol::ColumnType::longlong, true}});

  // Every truncation is refused, never read past.
  for (size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(SessionModel::deserialize(std::span(bytes).first(n)).ok());
  bytes.push_back(0);
  CHECK_FALSE(SessionModel::deserialize(bytes).ok());
}

TEST_CASE("session model: OceanBase session records move with a serialised session") {
  SessionModel m = started();
  std::vector<uint8_t> without;
  m.serialize(without);
  m.learn_ob_session_info({{0, "module=pay"}, {4, std::string("\0v", 2)}});
  std::vector<uint8_t> bytes;
  m.serialize(bytes);
  auto back = SessionModel::deserialize(bytes);
  REQUIRE(back.ok());
  const auto& info = back->vars().current()->ob_info;
  REQUIRE(info.size() == 2);
  CHECK(info.at(0).sql == "module=pay");
  CHECK(info.at(4).sql == std::string("\0v", 2));
  // The section is optional (a session without records reads as before); a cut one is refused.
  for (size_t n = without.size() + 1; n < bytes.size(); ++n)
    CHECK_FALSE(SessionModel::deserialize(std::span(bytes).first(n)).ok());
  bytes.push_back(0);
  CHECK_FALSE(SessionModel::deserialize(bytes).ok());
}

TEST_CASE("session model: a proxy login's forwarded token survives serialisation (hot upgrade)") {
  SessionIdentity id;
  id.login.user = "app";
  id.login.tenant = "t1";
  id.login.cluster = "c1";
  protocol::ForwardedToken token;
  token.token = std::string("\x01\x00\xff token bytes", 15);
  for (size_t i = 0; i < token.scramble.size(); ++i) token.scramble[i] = static_cast<uint8_t>(i + 1);
  id.forwarded = token;
  SessionModel m;
  m.start(id);
  std::vector<uint8_t> bytes;
  m.serialize(bytes);
  auto back = SessionModel::deserialize(bytes);
  REQUIRE(back.ok());
  REQUIRE(back->identity().forwarded.has_value());
  CHECK(back->identity().forwarded->token == token.token);
  CHECK(back->identity().forwarded->scramble == token.scramble);
  CHECK_FALSE(back->identity().stage1.has_value());
  for (size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(SessionModel::deserialize(std::span(bytes).first(n)).ok());
}

TEST_CASE("session model: the client's session tracking is its own; the connection gets odp's trackers back") {
  SessionModel m = started();
  CHECK(m.client_tracking().is_default());
  ConnSync sync;
  // `SET session_track_system_variables = ''` stops the tracker reporting even the other
  // variables of the same statement: the model reads back what it named and was not reported.
  ResponseOutcome quiet = ok();
  ReadBack rb = m.apply(facts("SET session_track_system_variables = '', sql_mode = 'ANSI'"), quiet, &sync);
  CHECK_FALSE(sync.tracking);  // odp's trackers go back on before the connection's next statement
  REQUIRE(rb.system_variables.size() == 2);
  CHECK(rb.system_variables[0] == "session_track_system_variables");
  CHECK(rb.system_variables[1] == "sql_mode");
  protocol::ColumnDefinition41 col;
  col.type = protocol::ColumnType::var_string;
  m.apply_read_back(rb, {col, col}, {std::string(""), std::string("ANSI")}, &sync);
  CHECK_FALSE(sync.tracking);
  CHECK(m.client_tracking().system_variables.empty());
  CHECK_FALSE(m.client_tracking().tracks_variable("autocommit"));
  CHECK(m.vars().system_variable("sql_mode") == "'ANSI'");
  // Not a variable the connection is replayed with: the client's trackers are applied by filtering.
  CHECK_FALSE(m.vars().system_variable("session_track_system_variables").has_value());
  CHECK(m.vars().plan(sync, m.baseline()).set_sql.find("session_track_system_variables = '*'") != std::string::npos);

  ResponseOutcome reported = ok();
  reported.system_variables.emplace_back("session_track_state_change", "ON");
  m.apply(facts("SET session_track_state_change = 1"), reported, &sync);
  CHECK(m.client_tracking().state_change);
  CHECK_FALSE(sync.tracking);

  std::vector<uint8_t> bytes;
  m.serialize(bytes);
  auto back = SessionModel::deserialize(bytes);
  REQUIRE(back.ok());
  CHECK(back->client_tracking().system_variables.empty());
  CHECK(back->client_tracking().state_change);
  CHECK(back->client_tracking().schema);
  // The section (type, an empty list, the flags) is optional; cut inside, it is refused.
  CHECK(SessionModel::deserialize(std::span(bytes).first(bytes.size() - 3)).ok());
  for (size_t n = bytes.size() - 2; n < bytes.size(); ++n)
    CHECK_FALSE(SessionModel::deserialize(std::span(bytes).first(n)).ok());

  // COM_RESET_CONNECTION: the server's defaults again.
  StatementFacts reset;
  facts_for_command(protocol::Command::reset_connection, reset);
  m.apply(reset, ok(), &sync);
  CHECK(m.client_tracking().is_default());
}

namespace {
// What the Exchange does with an OK's session state for a tracking client: decoded once, then
// filtered; bytes that do not parse go as they came (nullopt).
std::optional<std::string> filtered(std::string_view bytes, const ClientTracking& tracking) {
  auto records = protocol::decode_session_track(bytes);
  return records ? filter_session_state(records.value(), tracking) : std::nullopt;
}
}  // namespace

TEST_CASE("client tracking: an OK's records filtered to what the client's trackers ask for") {
  using protocol::SessionTrackType;
  std::vector<uint8_t> raw;
  protocol::encode_session_track_record(SessionTrackType::system_variables, "sql_mode", "ANSI", raw);
  protocol::encode_session_track_record(SessionTrackType::system_variables, "Autocommit", "OFF", raw);
  protocol::encode_session_track_record(SessionTrackType::schema, "", "test", raw);
  size_t before_state = raw.size();
  // MariaDB sends the state-change flag raw: type 2, length 1, "1".
  raw.insert(raw.end(), {2, 1, '1'});
  protocol::encode_session_track_record(SessionTrackType::transaction_state, "", "T_______", raw);
  std::string all(raw.begin(), raw.end());

  ClientTracking defaults;
  auto kept = filtered(all, defaults);
  REQUIRE(kept);
  auto records = protocol::decode_session_track(*kept);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 3);  // autocommit (in the default list), the schema, the transaction state
  CHECK(records.value()[0].name == "Autocommit");
  CHECK(records.value()[1].type == SessionTrackType::schema);
  CHECK(records.value()[2].type == SessionTrackType::transaction_state);

  ClientTracking everything;
  everything.system_variables = "*";
  everything.state_change = true;
  CHECK_FALSE(filtered(all, everything));  // all stay: the server's bytes go as they came

  ClientTracking listed;
  listed.system_variables = " SQL_MODE , time_zone";
  listed.schema = false;
  listed.state_change = true;
  kept = filtered(std::string_view(all).substr(0, before_state + 3), listed);
  REQUIRE(kept);
  records = protocol::decode_session_track(*kept);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK(records.value()[0].name == "sql_mode");
  CHECK(records.value()[1].type == SessionTrackType::state_change);
  CHECK(kept->substr(kept->size() - 3) == std::string("\x02\x01"
                                                      "1",
                                                      3));  // raw, as it came

  ClientTracking none;
  none.system_variables = "";
  none.schema = false;
  kept = filtered(std::string_view(all).substr(0, before_state + 3), none);
  REQUIRE(kept);
  CHECK(kept->empty());
  CHECK_FALSE(filtered(std::string("\x00\x09", 2), none));  // malformed: passed as it came
}

TEST_CASE("client tracking: the statement that sets the client's trackers is reported by the new ones") {
  using protocol::SessionTrackType;
  // odp's connection reports everything; the client (list '') just turned state changes on.
  std::vector<uint8_t> raw;
  protocol::encode_session_track_record(SessionTrackType::system_variables, "session_track_state_change", "ON", raw);
  raw.insert(raw.end(), {2, 1, '1'});
  ClientTracking quiet;
  quiet.system_variables = "";
  auto kept = filtered(std::string(raw.begin(), raw.end()), quiet);
  REQUIRE(kept);
  CHECK(*kept == std::string("\x02\x01"
                             "1",
                             3));
  CHECK_FALSE(quiet.state_change);  // the model learns it when the statement is applied, not here
}

TEST_CASE("client statements: 0xFFFFFFFF names the statement prepared last, while it exists") {
  SessionModel m = started();
  ClientStatements& s = m.statements();
  CHECK(s.resolve(ClientStatements::kLastPrepared) == ClientStatements::kLastPrepared);  // none yet
  ClientStmt a;
  a.shape = make_statement_shape("SELECT ?");
  uint32_t id = s.add(std::move(a));
  s.prepared(id);
  CHECK(s.resolve(ClientStatements::kLastPrepared) == id);
  CHECK(s.resolve(id) == id);
  s.prepared(0);  // a prepare failed since: nothing is "last"
  CHECK(s.resolve(ClientStatements::kLastPrepared) == ClientStatements::kLastPrepared);
  s.prepared(id);
  s.erase(id);  // closed
  CHECK(s.resolve(ClientStatements::kLastPrepared) == ClientStatements::kLastPrepared);
}

TEST_CASE("session model: SET autocommit answered locally is replayed as a server's report of it would be") {
  SessionModel m = started();
  ConnSync fresh = m.vars().fresh_connection(100);
  m.set_autocommit_locally(false);
  CHECK_FALSE(m.autocommit());
  CHECK((m.status_flags() & status::AUTOCOMMIT) == 0);
  CHECK_FALSE(m.keeps_results());
  // A connection that never had it gets it before the next statement...
  SessionState::Replay r = m.vars().plan(fresh, m.baseline());
  CHECK(r.set_sql.find("autocommit = 'OFF'") != std::string::npos);

  // ...and one that another session left with the same value (the server reported it) needs
  // nothing: the local answer and the server's report are the same value.
  SessionModel other = started();
  ConnSync used = other.vars().fresh_connection(100);
  ResponseOutcome reported = ok(0);
  reported.system_variables = {{"autocommit", "OFF"}};
  other.apply(facts("SET autocommit = 0"), reported, &used);
  CHECK(m.vars().plan(used, m.baseline()).empty());

  // Back on: the connection left off is set back.
  m.set_autocommit_locally(true);
  CHECK(m.autocommit());
  CHECK((m.status_flags() & status::AUTOCOMMIT) != 0);
  CHECK(m.vars().plan(used, m.baseline()).set_sql.find("autocommit = 'ON'") != std::string::npos);
}
