#include "proxy/backend_lease.h"

#include <algorithm>

#include "base/ascii.h"
#include "base/log.h"
#include "protocol/auth.h"
#include "protocol/commands.h"
#include "protocol/packet.h"

namespace odp::proxy {

using namespace protocol;

BackendLease::BackendLease(SessionEnv& env, SessionModel& model, Events& events, ServerConn::Owner& owner)
    : env_(env), model_(model), events_(events), owner_(owner) {}

BackendLease::~BackendLease() {
  if (env_.pool() != nullptr) {
    env_.pool()->cancel(this);
    env_.pool()->unkeep(this);
  }
  current_ = nullptr;
  held_.clear();
  dead_.clear();
}

BackendLease::Held* BackendLease::find(const ServerConn& conn) {
  for (auto& h : held_)
    if (h.conn.get() == &conn) return &h;
  return nullptr;
}

ServerConn* BackendLease::held(ServerId server) const {
  for (const auto& h : held_)
    if (h.conn->server() == server && h.conn->state() == ServerConn::State::ready) return h.conn.get();
  return nullptr;
}

ConnSync* BackendLease::sync_of(const ServerConn& conn) {
  Held* h = find(conn);
  return h == nullptr ? nullptr : &h->sync;
}

bool BackendLease::holds(const ServerConn& conn) const {
  return std::any_of(held_.begin(), held_.end(), [&](const Held& h) { return h.conn.get() == &conn; });
}

bool BackendLease::holds_thread(std::string_view host_port, uint32_t thread_id) const {
  return std::any_of(held_.begin(), held_.end(), [&](const Held& h) {
    return h.conn->state() == ServerConn::State::ready && h.conn->thread_id() == thread_id &&
           h.conn->host_port() == host_port;
  });
}

bool BackendLease::readying(const ServerConn& conn) const {
  return readying_ == &conn &&
         (state_ == State::connecting || state_ == State::changing_user || state_ == State::syncing);
}

ServerPool::Ticket BackendLease::ticket_for(ServerId server) const {
  for (const auto& [s, t] : tickets_)
    if (s == server) return t;
  return {};
}

void BackendLease::remember_ticket(ServerId server, ServerPool::Ticket ticket) {
  for (auto& [s, t] : tickets_) {
    if (s == server) {
      t = ticket;
      return;
    }
  }
  tickets_.emplace_back(server, ticket);
}

void BackendLease::acquire(ServerId server, const Needs& needs) {
  // A connection paused for a slow client (backpressure) reads again for the next command.
  for (auto& h : held_) h.conn->resume_reading();
  const bool kept = pool_keeping();
  if (env_.pool() != nullptr) env_.pool()->unkeep(this);
  needs_ = needs;
  target_ = server;
  changed_user_ = false;
  if (needs.fresh_login) {
    // A login of its own takes a slot under the cap like any connection: at the cap it waits in
    // line, and an idle connection (of any dialect) gives its slot up for it.
    if (kept) release(false);
    ServerPool* pool = env_.pool();
    if (pool != nullptr && !pool->may_open(server)) {
      wait_in_line(*pool, PoolKey{server, kOwnConnectionDialect});  // a slot, never a pooled connection
      return;
    }
    open(server);
    return;
  }
  for (auto& h : held_) {
    if (h.conn->server() == server && h.conn->state() == ServerConn::State::ready) {
      ready(h);
      return;
    }
  }
  ServerPool* pool = env_.pool();
  if (pool != nullptr) {
    // The connection kept for this statement's sake serves another server: it goes back before
    // this session takes (or waits for) one. A session waiting in line holding a connection
    // nobody may reclaim could close a cycle with sessions waiting for that one.
    if (kept) release(false);
    uint64_t history = model_.vars().current()->owner;
    if (auto idle = pool->acquire(key(server), history, ticket_for(server), model_.database().empty())) {
      core::Stats::inc(env_.stats().pool_reuses_total);
      adopt(std::move(*idle));
      return;
    }
    if (!pool->may_open(server)) {
      // At the cap: wait in line for a connection given back, or a free slot.
      // Nothing else this session holds may wait with it: two sessions each holding the other's
      // server (a leader switch swaps where their statements go) would wait forever.
      wait_in_line(*pool, key(server));
      return;
    }
  }
  open(server);
}

// At the cap: the session waits in line, holding nothing (its other connections go back first).
void BackendLease::wait_in_line(ServerPool& pool, PoolKey key) {
  release(false);
  core::Stats::inc(env_.stats().pool_waits_total);
  state_ = State::waiting;
  pool.wait(this, key, env_.now_ms());
}

void BackendLease::open(ServerId server) {
  core::Stats::inc(env_.stats().route_connects_total);
  state_ = State::connecting;
  held_.push_back(Held{std::make_unique<ServerConn>(env_, owner_),
                       model_.vars().fresh_connection(env_.now_ms(), env_.global_variable_sets())});
  readying_ = held_.back().conn.get();
  ServerLogin login = login_;
  login.host_port = env_.directory().host_port(server);
  login.server = server;
  login.database = model_.database();
  readying_->login(std::move(login));
}

void BackendLease::adopt(PooledConn pooled) {
  pooled.conn->set_owner(owner_);
  pooled.conn->resume_reading();
  held_.push_back(Held{std::move(pooled.conn), std::move(pooled.sync)});
  ready(held_.back());
}

void BackendLease::on_pool_handoff(PooledConn pooled) {
  if (state_ != State::waiting) {
    // Not waiting any more: the connection goes back.
    ServerId server = pooled.conn->server();  // before the connection moves out
    if (env_.pool() != nullptr) env_.pool()->release(key(server), std::move(pooled), env_.now_ms());
    return;
  }
  core::Stats::inc(env_.stats().pool_reuses_total);
  adopt(std::move(pooled));
}

void BackendLease::on_pool_slot() {
  if (state_ != State::waiting) return;  // the pool wakes the next waiter itself
  open(target_);
}

void BackendLease::on_pool_timeout() {
  if (state_ != State::waiting) return;
  core::Stats::inc(env_.stats().pool_wait_timeouts_total);
  ErrPacket err;
  err.code = errc::ER_CON_COUNT_ERROR;
  err.sql_state = "HY000";
  const std::string& hp = env_.directory().host_port(target_);
  err.message = "odp: no connection to server " + hp + " came free within pool.max_wait_ms (" +
                std::to_string(env_.pool() != nullptr ? env_.pool()->limits().max_per_server : 0) +
                " connections per worker, pool.max_server_connections)";
  fail(Failure::Kind::busy, err, hp);
}

void BackendLease::on_conn_ready(ServerConn& conn) {
  env_.note_server_success(conn.host_port());
  Held* h = find(conn);
  if (h == nullptr || state_ != State::connecting || readying_ != &conn) return;
  h->sync.tracking = conn.tracks_session_state();
  h->sync.global_vars_version = conn.global_vars_version();
  if (!conn.tracks_session_state()) model_.connection_untracked();
  ready(*h, true);
}

void BackendLease::on_conn_login_failed(ServerConn& conn, const ErrPacket& err) {
  std::string host_port = conn.host_port();
  bool was_readying = readying_ == &conn;
  env_.note_server_failure(host_port);
  drop(conn);
  if (!was_readying) return;
  // The server's verdict on the login itself (password, database) holds on every server.
  bool refused = err.code == errc::ER_ACCESS_DENIED_ERROR || err.code == errc::ER_BAD_DB_ERROR ||
                 err.code == errc::ER_DBACCESS_DENIED_ERROR;
  fail(refused ? Failure::Kind::refused : Failure::Kind::unreachable, err, host_port);
}

void BackendLease::ready(Held& h, bool fresh) {
  state_ = State::syncing;
  readying_ = h.conn.get();
  pipelined_ = false;
  ServerConn& conn = *h.conn;
  steps_.clear();
  step_ = 0;
  std::vector<uint8_t> out;
  auto add = [&](StepKind kind, Command cmd, std::string_view body) {
    steps_.push_back(kind);
    std::vector<uint8_t> payload;
    payload.push_back(static_cast<uint8_t>(cmd));
    payload.insert(payload.end(), body.begin(), body.end());
    encode_packet(0, payload, out);
  };
  if (needs_.bare) {
    state_ = State::idle;
    readying_ = nullptr;
    current_ = h.conn.get();
    events_.on_lease_ready(conn);
    return;
  }
  SessionState::Replay r = model_.vars().plan(h.sync, model_.baseline());
  if (r.change_user) {
    if (login_.ob) {
      // A proxy login has no password to answer COM_CHANGE_USER with: a login of its own instead.
      ServerId server = conn.server();
      ServerConn* gone = h.conn.get();
      drop(*gone);
      open(server);
      return;
    }
    change_user(h);
    return;
  }
  ran_reset_ = r.reset;
  // OceanBase session records go with the command (hand_over): after any reset the steps run.
  ob_info_ = std::move(r.ob_info);
  if (r.reset) {
    note_reset_sent();
    core::Stats::inc(env_.stats().pool_resets_total);
    add(StepKind::reset, Command::reset_connection, {});
  }
  if (r.init_db) add(StepKind::init_db, Command::init_db, *r.init_db);
  if (!r.set_sql.empty()) add(StepKind::set, Command::query, r.set_sql);
  if (r.role) {
    std::string sql = "SET ROLE ";
    if (base::iequals(*r.role, "NONE")) {
      sql += "NONE";
    } else {
      sql += '`';
      for (char c : *r.role) sql += c == '`' ? std::string("``") : std::string(1, c);
      sql += '`';
    }
    add(StepKind::role, Command::query, sql);
  }
  if (needs_.last_insert_id && (r.reset || changed_user_ || h.sync.last_insert_id != model_.last_insert_id())) {
    add(StepKind::last_insert_id, Command::query, "DO LAST_INSERT_ID(" + std::to_string(model_.last_insert_id()) + ")");
  }
  if (!steps_.empty()) core::Stats::inc(env_.stats().session_replays_total);
  if (needs_.held_begin && !model_.held_begin().empty()) add(StepKind::begin, Command::query, model_.held_begin());
  if (needs_.prepare != nullptr &&
      (r.reset || conn.statements().find(needs_.prepare, model_.vars().current()->context) == nullptr)) {
    add(StepKind::prepare, Command::stmt_prepare, needs_.prepare->sql);
  }
  if (needs_.check_alive && !fresh && steps_.empty()) add(StepKind::ping, Command::ping, {});
  if (steps_.empty()) {
    finish_steps(h);
    return;
  }
  if (r.reset) conn.statements().clear();  // the reset closes them on the server
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(out.size()));
  conn.write(out);
  conn.expect_reply(env_.config().limits.server_connect_timeout_ms);
  internal_.expect(steps_[0] == StepKind::reset     ? Command::reset_connection
                   : steps_[0] == StepKind::init_db ? Command::init_db
                   : steps_[0] == StepKind::prepare ? Command::stmt_prepare
                   : steps_[0] == StepKind::ping    ? Command::ping
                                                    : Command::query,
                   conn.capabilities());
  // A plain read goes out now, behind the steps; their answers are read first (on_conn_data).
  pipelined_ = needs_.pipeline && std::find(steps_.begin(), steps_.end(), StepKind::begin) == steps_.end() &&
               std::find(steps_.begin(), steps_.end(), StepKind::prepare) == steps_.end();
  if (pipelined_) {
    core::Stats::inc(env_.stats().session_replays_pipelined_total);
    hand_over(h);
  }
}

void BackendLease::note_reset_sent() {
  reset_sent_ms_ = env_.now_ms();
  reset_sent_global_sets_ = env_.global_variable_sets();
}

// The session may send its command on the connection.
void BackendLease::hand_over(Held& h) {
  if (current_ != nullptr && current_ != h.conn.get()) core::Stats::inc(env_.stats().route_switches_total);
  if (h.conn->syncs_session_info()) {
    // Records from before this session's command (another session's, the replay's) are not news
    // for this session: what it learns is what its own commands report.
    std::vector<protocol::ObSessionRecord> stale;
    h.conn->take_session_info(stale);
    h.conn->send_session_info(ob_info_);
  }
  ob_info_.clear();
  current_ = h.conn.get();
  events_.on_lease_ready(*h.conn);
}

// The connection is in a database and the session in none: it logs in again as the session's
// login without a database. Alone on the wire: the server may answer with an auth switch, and would
// take whatever followed for the answer to it.
void BackendLease::change_user(Held& h) {
  state_ = State::changing_user;
  ServerConn& conn = *h.conn;
  core::Stats::inc(env_.stats().pool_database_clears_total);
  ComChangeUser cu;
  cu.username = login_.user;
  // The server checks the response against the scramble of its own handshake.
  if (login_.stage1) cu.auth_response = native_password_response(*login_.stage1, conn.scramble());
  cu.charset = login_.charset;
  cu.auth_plugin_name = kNativePasswordPlugin;
  cu.attributes = login_.attributes;  // the pool key's: the connection presents them already
  std::vector<uint8_t> payload, out;
  encode_com_change_user(cu, conn.capabilities(), payload);
  encode_packet(0, payload, out);
  change_user_in_.emplace(kMaxLoginPacketBytes);
  note_reset_sent();
  LOG_DEBUG("pooled connection leaves its database (COM_CHANGE_USER) server=%s", conn.host_port().c_str());
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(out.size()));
  conn.write(out);
  conn.expect_reply(env_.config().limits.server_connect_timeout_ms);
}

void BackendLease::on_change_user_data(Held& h, std::span<const uint8_t> data) {
  ServerConn& conn = *h.conn;
  while (state_ == State::changing_user && change_user_in_) {
    auto fed = change_user_in_->feed(data);
    if (!fed) {
      lose(conn, "an oversized answer to COM_CHANGE_USER");
      return;
    }
    data = data.subspan(*fed);
    if (!change_user_in_->has_packet()) return;
    std::vector<uint8_t> payload(change_user_in_->payload().begin(), change_user_in_->payload().end());
    uint8_t seq = change_user_in_->seq();
    change_user_in_->pop();
    if (!payload.empty() && payload[0] == 0xFE) {
      auto answer = conn.answer_auth_switch(payload, login_.stage1);
      if (!answer) {
        lose(conn, "an authentication method odp cannot answer after COM_CHANGE_USER");
        return;
      }
      std::vector<uint8_t> framed;
      encode_packet(static_cast<uint8_t>(seq + 1), {reinterpret_cast<const uint8_t*>(answer->data()), answer->size()},
                    framed);
      conn.write(framed);
      conn.expect_reply(env_.config().limits.server_connect_timeout_ms);
      continue;
    }
    if (!payload.empty() && payload[0] == 0xFF) {
      // The step's ERR is the answer, as for any replay step, and the connection (logged in as
      // nobody now) goes. A refused password is the server's verdict on the login (changed since).
      auto err = decode_err(payload);
      if (!err) {
        lose(conn, "a malformed ERR for COM_CHANGE_USER");
        return;
      }
      LOG_WARN("session replay failed server=%s code=%u msg=\"%s\" (COM_CHANGE_USER)", conn.host_port().c_str(),
               err->code, err->message.c_str());
      core::Stats::inc(env_.stats().session_replay_failures_total);
      change_user_in_.reset();
      state_ = State::idle;
      readying_ = nullptr;
      std::string hp = conn.host_port();
      drop(conn);
      fail(err->code == errc::ER_ACCESS_DENIED_ERROR ? Failure::Kind::refused : step_failure_kind(err->code, hp), *err,
           hp);
      return;
    }
    if (payload.empty() || payload[0] != 0x00 || !data.empty() || change_user_in_->mid_packet()) {
      lose(conn, "an unexpected answer to COM_CHANGE_USER");
      return;
    }
    // Logged in again without a database: the server closed its statements and forgot the state.
    change_user_in_.reset();
    conn.statements().clear();
    SessionState::changed_user(h.sync, reset_sent_ms_, reset_sent_global_sets_);
    changed_user_ = true;
    ready(h);
    return;
  }
}

void BackendLease::lose(ServerConn& conn, const std::string& why) {
  core::Stats::inc(env_.stats().server_protocol_errors_total);
  std::string hp = conn.host_port();
  LOG_WARN("server %s sent %s: connection dropped", hp.c_str(), why.c_str());
  change_user_in_.reset();
  drop(conn);
  ErrPacket err;
  err.code = errc::ER_NET_READ_ERROR;
  err.sql_state = "08S01";
  err.message = "odp: server " + hp + " sent " + why;
  fail(Failure::Kind::lost, err, hp);
}

size_t BackendLease::on_conn_data(ServerConn& conn, std::span<const uint8_t> data) {
  const size_t total = data.size();
  Held* h = find(conn);
  if (h != nullptr && state_ == State::changing_user && readying_ == &conn) {
    on_change_user_data(*h, data);
    return total;
  }
  if (h == nullptr || state_ != State::syncing || readying_ != &conn) return total;
  while (!data.empty()) {
    size_t used = 0;
    auto step = internal_.feed(data, &used);
    if (step == InternalQuery::Step::more) return total;
    data = data.subspan(used);
    if (step == InternalQuery::Step::error) {
      LOG_WARN("bad answer to odp's own statement server=%s: %s", conn.host_port().c_str(),
               internal_.failure() ? internal_.failure() : "?");
      // (A KILL CONNECTION of the session landing mid-answer is no fault of the server's.)
      if (!doomed(conn)) core::Stats::inc(env_.stats().server_protocol_errors_total);
      std::string hp = conn.host_port();
      drop(conn);
      ErrPacket err;
      err.code = errc::ER_NET_READ_ERROR;
      err.sql_state = "08S01";
      err.message = "odp: lost step with server " + hp;
      fail(Failure::Kind::lost, err, hp);
      return total;
    }
    StepKind kind = steps_[step_];
    if (internal_.error()) {
      ErrPacket err = *internal_.error();
      if (kind == StepKind::prepare) {
        LOG_INFO("statement prepared again failed server=%s code=%u msg=\"%s\"", conn.host_port().c_str(), err.code,
                 err.message.c_str());
      } else {
        LOG_WARN("session replay failed server=%s code=%u msg=\"%s\"", conn.host_port().c_str(), err.code,
                 err.message.c_str());
        core::Stats::inc(env_.stats().session_replay_failures_total);
      }
      // The steps behind it ran or failed too, and their answers may still be on their way: the
      // connection's state is unknown and it cannot be used now.
      state_ = State::idle;
      readying_ = nullptr;
      std::string hp = conn.host_port();
      drop(conn);
      fail(step_failure_kind(err.code, hp), err, hp);
      return total;
    }
    if (kind == StepKind::prepare) take_prepared(*h);
    if (++step_ == steps_.size()) {
      if (pipelined_) {
        finish_steps(*h);
        return total - data.size();  // the rest is the command's answer
      }
      if (!data.empty()) {
        if (!doomed(conn)) core::Stats::inc(env_.stats().server_protocol_errors_total);
        std::string hp = conn.host_port();
        drop(conn);
        ErrPacket err;
        err.code = errc::ER_NET_READ_ERROR;
        err.sql_state = "08S01";
        err.message = "odp: server " + hp + " sent bytes nobody asked for";
        fail(Failure::Kind::lost, err, hp);
        return total;
      }
      finish_steps(*h);
      return total;
    }
    StepKind next = steps_[step_];
    internal_.expect(next == StepKind::init_db   ? Command::init_db
                     : next == StepKind::prepare ? Command::stmt_prepare
                     : next == StepKind::ping    ? Command::ping
                                                 : Command::query,
                     conn.capabilities());
  }
  return total;
}

void BackendLease::finish_steps(Held& h) {
  bool began = std::find(steps_.begin(), steps_.end(), StepKind::begin) != steps_.end();
  if (ran_reset_) {
    h.sync.baseline_ms = reset_sent_ms_;
    h.sync.global_sets = reset_sent_global_sets_;
    h.sync.global_vars_version = 0;  // the globals of then, whose version is not known
  }
  model_.vars().mark_synced(h.sync);
  if (needs_.last_insert_id) h.sync.last_insert_id = model_.last_insert_id();
  if (began) model_.held_begin_sent();
  state_ = State::idle;
  readying_ = nullptr;
  if (pipelined_) {
    pipelined_ = false;  // the session has had the connection since the steps went out
    return;
  }
  hand_over(h);
}

void BackendLease::take_prepared(Held& h) {
  auto ok = internal_.prepare_ok();
  if (!ok || needs_.prepare == nullptr) return;
  ServerStmt s;
  // The shape is shared: find the ShapePtr through the session's statements (they hold it).
  for (const auto& [id, stmt] : model_.statements().all()) {
    if (stmt.shape.get() == needs_.prepare) {
      s.shape = stmt.shape;
      break;
    }
  }
  if (!s.shape) return;
  s.context = model_.vars().current()->context;
  s.id = ok->statement_id;
  s.num_params = ok->num_params;
  s.num_columns = ok->num_columns;
  to_close_.clear();
  h.conn->statements().insert(std::move(s), to_close_);
  close_statements(*h.conn, to_close_);
}

void BackendLease::close_statements(ServerConn& conn, const std::vector<uint32_t>& ids) {
  for (uint32_t id : ids) {
    std::vector<uint8_t> p, framed;
    encode_com_stmt_close(id, p);
    encode_packet(0, p, framed);
    conn.write(framed);  // no answer comes
  }
}

void BackendLease::fail(Failure::Kind kind, const ErrPacket& err, const std::string& host_port) {
  state_ = State::idle;
  ob_info_.clear();
  readying_ = nullptr;
  Failure f{kind, err, host_port};
  f.after_command = pipelined_;
  pipelined_ = false;
  events_.on_lease_failed(f);
}

// An OceanBase server that is starting or stopping (or does not serve the tenant) refuses every
// statement before running it, the replay's too: that server is unusable for now, the session's
// state is intact, and the command may go elsewhere.
BackendLease::Failure::Kind BackendLease::step_failure_kind(uint16_t code, const std::string& host_port) {
  if (!refused_before_running(code)) return Failure::Kind::replay;
  core::Stats::inc(env_.stats().route_server_refusals_total);
  env_.note_server_failure(host_port);
  return Failure::Kind::unreachable;
}

void BackendLease::on_conn_closed(ServerConn& conn, int err) {
  std::string hp = conn.host_port();
  std::string why = conn.protocol_failure();  // e.g. an OB 2.0 frame that failed its checks
  bool was_readying = readying_ == &conn;
  env_.note_server_failure(hp);
  drop(conn);
  if (!was_readying) return;
  ErrPacket e;
  e.code = errc::ER_NET_READ_ERROR;
  e.sql_state = "08S01";
  e.message = "odp: lost connection to server " + hp + (err == ETIMEDOUT ? " (no answer in time)" : "") +
              (why.empty() ? std::string() : ": " + why);
  fail(Failure::Kind::lost, e, hp);
}

void BackendLease::abandon() {
  if (state_ == State::waiting && env_.pool() != nullptr) env_.pool()->cancel(this);
  if ((state_ == State::syncing || state_ == State::changing_user) && readying_ != nullptr) {
    // Answers to the steps are still on their way: this connection cannot serve anything else.
    drop(*readying_);
  }
  state_ = State::idle;
  readying_ = nullptr;
  pipelined_ = false;
  change_user_in_.reset();
}

void BackendLease::reap() {
  ServerPool* pool = env_.pool();
  if (pool == nullptr) return;
  for (auto& conn : dead_) pool->bury(std::move(conn));
  dead_.clear();
}

void BackendLease::drop(ServerConn& conn) {
  conn.close(false);
  if (current_ == &conn) current_ = nullptr;
  if (readying_ == &conn) readying_ = nullptr;
  // Destroying the ServerConn from inside its own callback is not safe: park it until the
  // session is idle again (it is closed and hears nothing more).
  for (auto it = held_.begin(); it != held_.end(); ++it) {
    if (it->conn.get() == &conn) {
      dead_.push_back(std::move(it->conn));
      held_.erase(it);
      return;
    }
  }
}

void BackendLease::on_pool_reclaim() {
  if (state_ == State::idle) release(false);
}

void BackendLease::drop_others(ServerConn& keep) {
  for (auto& h : held_) {
    if (h.conn.get() == &keep) continue;
    h.conn->quit();
    dead_.push_back(std::move(h.conn));
  }
  std::erase_if(held_, [](const Held& h) { return h.conn == nullptr; });
  current_ = &keep;
}

void BackendLease::drop_all() {
  for (auto& h : held_) {
    h.conn->quit();
    dead_.push_back(std::move(h.conn));
  }
  held_.clear();
  current_ = nullptr;
}

void BackendLease::release(bool keep_current) {
  ServerPool* pool = env_.pool();
  if (pool == nullptr || held_.empty() || model_.tied() || state_ != State::idle) return;
  // A role the session set survives COM_RESET_CONNECTION (MariaDB): such a connection serves this
  // session only (its statements still move between servers), and closes with it.
  if (!model_.vars().role().empty()) return;
  // Kept only while nobody waits for its server (else it is theirs now).
  if (keep_current && current_ != nullptr && !pool->keep(this, current_->server())) keep_current = false;
  for (auto& h : held_) {
    if (h.conn->state() != ServerConn::State::ready) continue;
    if (keep_current && h.conn.get() == current_) continue;
    if (!h.pins.empty()) continue;  // a KILL is on its way to it: nobody else may run there yet
    if (h.retired) {
      if (h.conn.get() == current_) current_ = nullptr;
      h.conn->quit();
      dead_.push_back(std::move(h.conn));
      continue;
    }
    // Statements no client holds any more are closed on the server before others use it.
    to_close_.clear();
    h.conn->statements().sweep_unused(to_close_);
    close_statements(*h.conn, to_close_);
    ServerId server = h.conn->server();
    if (h.conn.get() == current_) current_ = nullptr;
    // Paused for a slow client's sake: idle in the pool it must hear the server close it.
    h.conn->resume_reading();
    remember_ticket(server,
                    pool->release(key(server), PooledConn{std::move(h.conn), std::move(h.sync)}, env_.now_ms()));
  }
  std::erase_if(held_, [](const Held& h) { return h.conn == nullptr; });
}

void BackendLease::close_all(ServerConn* busy) {
  abandon();
  ServerPool* pool = env_.pool();
  if (pool != nullptr) pool->unkeep(this);
  for (auto& h : held_) {
    bool idle = h.conn.get() != busy && h.conn->state() == ServerConn::State::ready;
    if (!idle) {
      h.conn->close(false);
      continue;
    }
    // A KILL may still land on a pinned or retired connection: nobody else may take it. One
    // the session left holding locks or a transaction is closed, so the server frees them now.
    bool holds_locks = h.conn.get() == current_ && model_.ties().holds_what_others_wait_for();
    if (holds_locks) core::Stats::inc(env_.stats().pool_closed_holding_locks_total);
    if (pool == nullptr || (h.sync.applied && !h.sync.applied->role.empty()) || !h.pins.empty() || h.retired ||
        holds_locks) {
      h.conn->quit();
      continue;
    }
    // A connection the session was tied to holds state no value undoes (a lock, a temporary
    // table, a transaction): whoever takes it next resets it first.
    if (model_.tied() || h.sync.dirty) h.sync.dirty = true;
    to_close_.clear();
    h.conn->statements().sweep_unused(to_close_);
    close_statements(*h.conn, to_close_);
    h.conn->resume_reading();
    ServerId server = h.conn->server();  // before the connection moves out
    pool->release(key(server), PooledConn{std::move(h.conn), std::move(h.sync)}, env_.now_ms());
  }
  held_.clear();
  current_ = nullptr;
}

void BackendLease::pin(ServerConn& conn, uint64_t pin, bool connection) {
  if (Held* h = find(conn)) h->pins.emplace_back(pin, connection);
}

void BackendLease::unpin(uint64_t pin, bool retire) {
  for (auto& h : held_) {
    auto it = std::find_if(h.pins.begin(), h.pins.end(), [&](const auto& p) { return p.first == pin; });
    if (it == h.pins.end()) continue;
    h.pins.erase(it);
    if (retire) h.retired = true;
    return;
  }
}

bool BackendLease::doomed(const ServerConn& conn) const {
  for (const auto& h : held_) {
    if (h.conn.get() != &conn) continue;
    return std::any_of(h.pins.begin(), h.pins.end(), [](const auto& p) { return p.second; });
  }
  return false;
}

}  // namespace odp::proxy
