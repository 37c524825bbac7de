// ClientSession, routing: choose a server for each command (the partition leader for strong reads
// and writes, followers for weak reads, the tenant's servers otherwise), keep one connection per
// server, replay the session state a connection lacks before using it, answer BEGIN and
// ob_read_consistency locally, and retry a statement that hit a stale route (error 4038).
#include <algorithm>
#include <cctype>

#include "core/ascii.h"
#include "core/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/resultset_writer.h"
#include "protocol/session_track.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"
#include "routing/router.h"

namespace odp::proxy {

using namespace protocol;

namespace {
// A classification is large (fixed arrays); one per thread, used synchronously.
thread_local routing::ClassifiedSql t_classified;

constexpr uint64_t kTableWaitMs = 500;     // first use of a table: wait this long for its location
constexpr uint64_t kRerouteWaitMs = 1000;  // after a 4038: wait this long for fresh metadata
constexpr uint64_t kPollMs = 5;
constexpr uint32_t kMaxRouteAttempts = 3;

using core::icontains;

std::vector<uint8_t> query_payload(std::string_view sql) {
  std::vector<uint8_t> p;
  encode_com_query(sql, p);
  return p;
}
}  // namespace

ClientSession::Backend* ClientSession::find_backend(const std::string& host_port) {
  for (auto& b : backends_)
    if (b.conn->host_port() == host_port && b.conn->state() == ServerConn::State::ready) return &b;
  if (ServerPool* pool = env_.pool(); pool != nullptr) {
    if (auto idle = pool->acquire(pool_key(host_port), state_.current()->owner)) {
      core::Stats::inc(env_.stats().pool_reuses_total);
      idle->conn->set_owner(*this);
      backends_.push_back(Backend{std::move(idle->conn), std::move(idle->sync)});
      return &backends_.back();
    }
  }
  return nullptr;
}

PoolKey ClientSession::pool_key(const std::string& host_port) const {
  PoolKey k;
  k.host_port = host_port;
  k.user = login_.user + "@" + login_.tenant + "#" + login_.cluster;
  k.client_capabilities = client_caps_;
  k.charset = hello_.charset;
  return k;
}

bool ClientSession::tied_to_server() const {
  // autocommit=0: the next statement opens a transaction wherever it runs, but a server might not
  // flag a read-only one as IN_TRANS; staying put is the safe side.
  return in_transaction_ || pinned_ != nullptr || lock_tables_ || !held_begin_.empty() || changing_user_ ||
         !autocommit_;
}

void ClientSession::release_backends() {
  ServerPool* pool = env_.pool();
  if (pool == nullptr || backends_.empty() || tied_to_server() || finished_) return;
  for (auto& b : backends_) {
    if (b.conn->state() != ServerConn::State::ready || b.needs_tracking_setup) continue;
    if (keep_current_ && b.conn.get() == server_) continue;
    PoolKey key = pool_key(b.conn->host_port());  // before the connection moves out
    pool->release(key, ServerPool::Idle{std::move(b.conn), std::move(b.sync), 0}, env_.now_ms());
  }
  std::erase_if(backends_, [](const Backend& b) { return b.conn == nullptr; });
  if (!keep_current_) server_ = nullptr;
  publish_location();
}

// Where `KILL <this session>` must go: the connection running its statements, or nowhere while
// its connections are pooled (a stale entry would make KILL hit another client's statement).
void ClientSession::publish_location() {
  if (!published_) return;
  uint32_t thread = server_ != nullptr ? server_->thread_id() : 0;
  if (thread == published_thread_ && (server_ == nullptr) == published_idle_) return;
  published_thread_ = thread;
  published_idle_ = server_ == nullptr;
  env_.publish_session(id_, {server_ != nullptr ? server_->host_port() : std::string(), thread, login_.user, peer_,
                             env_.worker_index()});
}

void ClientSession::on_pool_slot() {
  if (!waiting_for_slot_ || finished_) return;
  waiting_for_slot_ = false;
  if (phase_ == Phase::server_login) {
    connect_server();
    return;
  }
  execute_plan();
}

ClientSession::Backend* ClientSession::backend_of(const ServerConn& conn) {
  for (auto& b : backends_)
    if (b.conn.get() == &conn) return &b;
  return nullptr;
}

void ClientSession::drop_backend(ServerConn& conn) {
  conn.close(false);
  if (server_ == &conn) server_ = nullptr;
  // Destroying the ServerConn from inside its own callback is not safe: park it until the
  // session is idle again (it is closed and hears nothing more).
  for (auto it = backends_.begin(); it != backends_.end(); ++it) {
    if (it->conn.get() == &conn) {
      dead_backends_.push_back(std::move(it->conn));
      backends_.erase(it);
      return;
    }
  }
}

ServerLogin ClientSession::make_server_login(const std::string& host_port) const {
  const admin::ClusterConfig* cluster = env_.config().find_cluster(login_.cluster);
  ServerLogin sl;
  sl.host_port = host_port;
  sl.user = cluster != nullptr && cluster->server_mode == admin::ServerMode::mysql ? login_.user
                                                                                   : login_.user + "@" + login_.tenant;
  sl.stage1 = stage1_;
  sl.database = state_.database();
  sl.client_capabilities = client_caps_;
  sl.charset = hello_.charset;
  sl.max_packet_size = hello_.max_packet_size;
  for (const auto& kv : hello_.attributes) {
    if (kv.first.rfind("_odp", 0) != 0) sl.attributes.push_back(kv);
  }
  sl.attributes.emplace_back("_odp_client", peer_);
  sl.attributes.emplace_back("_odp_connection_id", std::to_string(id_));
  return sl;
}

void ClientSession::open_backend(const std::string& host_port) {
  phase_ = Phase::connecting;
  if (ServerPool* pool = env_.pool(); pool != nullptr && !pool->may_open(host_port)) {
    // At the per-server connection limit: wait for a pooled connection or a free slot.
    core::Stats::inc(env_.stats().pool_waits_total);
    waiting_for_slot_ = true;
    pool->wait(host_port, this);
    return;
  }
  core::Stats::inc(env_.stats().route_connects_total);
  backends_.push_back(Backend{std::make_unique<ServerConn>(env_, *this), state_.fresh_connection()});
  backends_.back().conn->login(make_server_login(host_port));
}

uint16_t ClientSession::client_status_flags() const {
  uint16_t flags = autocommit_ ? status::AUTOCOMMIT : 0;
  if (in_transaction_ || !held_begin_.empty()) flags |= status::IN_TRANS;
  return flags;
}

// The SQL a command is routed by: a query's text, a prepared statement's text, or none.
std::string_view ClientSession::request_sql() const {
  if (plan_.ps != Plan::Ps::none) return plan_.stmt_sql;
  if (request_cmd_ != Command::query || request_.size() <= kPacketHeaderBytes + 1) return {};
  return {reinterpret_cast<const char*>(request_.data() + kPacketHeaderBytes + 1),
          request_.size() - kPacketHeaderBytes - 1};
}

Command ClientSession::route_cmd() const {
  return plan_.ps != Plan::Ps::none && !plan_.stmt_sql.empty() ? Command::query : request_cmd_;
}

void ClientSession::resume_ready() {
  phase_ = Phase::ready;
  arm_timer(idle_timeout_ms());
  process_client_input();
}

void ClientSession::send_ok_local(uint16_t extra_status) {
  OkPacket ok;
  ok.status_flags = static_cast<uint16_t>(client_status_flags() | extra_status);
  std::vector<uint8_t> payload, framed;
  encode_ok(ok, client_caps_, payload);
  encode_packet(1, payload, framed);
  send_to_client(framed);
  core::Stats::inc(env_.stats().sql_request_total);
  resume_ready();
}

// Entry point for every command that goes to a server.
void ClientSession::run_command(std::span<const uint8_t> packet, Command cmd) {
  request_.assign(packet.begin(), packet.end());
  request_cmd_ = cmd;
  plan_ = Plan{};
  plan_.deadline_ms = env_.now_ms() + kTableWaitMs;
  route_params_.clear();
  switch (plan_route(cmd, request_sql())) {
    case PlanOutcome::answered:
      return;
    case PlanOutcome::wait:
      phase_ = Phase::routing_wait;
      arm_timer(kPollMs);
      return;
    case PlanOutcome::go:
      execute_plan();
      return;
  }
}

ClientSession::PlanOutcome ClientSession::plan_route(Command cmd, std::string_view sql, bool allow_local) {
  plan_.candidates.clear();
  plan_.next = 0;
  plan_.reason = "";
  const bool sticky = pinned_ != nullptr || in_transaction_ || lock_tables_;
  std::string current = server_ != nullptr ? server_->host_port() : std::string();
  if (sticky && !current.empty()) {
    plan_.candidates.push_back(current);
    plan_.reason = pinned_ != nullptr ? pinned_ : (lock_tables_ ? "sticky: LOCK TABLES" : "sticky: transaction");
    if (cmd == Command::query) {
      // Still look at the statement for what it changes (locks, temporary tables, variables).
      routing::classify_sql(sql, t_classified);
      if (allow_local && local_answer(t_classified, sql)) return PlanOutcome::answered;
      plan_for_sql(sql, t_classified);
    }
    return PlanOutcome::go;
  }
  if (cmd != Command::query) {
    // Without a pool, statement ids pass through unchanged and the session keeps its connection.
    if (cmd == Command::stmt_prepare) plan_.pin_reason = "sticky: prepared statements";
    if (cmd == Command::set_option) plan_.pin_reason = "sticky: COM_SET_OPTION";
    if (!current.empty()) {
      plan_.candidates.push_back(current);
      plan_.reason = "same server as the last statement";
      return PlanOutcome::go;
    }
    routing::classify_sql("", t_classified);  // no statement: the tenant's servers
    auto outcome = route_by_topology(t_classified);
    if (outcome) return *outcome;
  } else {
    routing::ClassifiedSql& c = t_classified;
    routing::classify_sql(sql, c);
    if (allow_local && local_answer(c, sql)) return PlanOutcome::answered;
    plan_for_sql(sql, c);
    const bool needs_same_server =
        c.uses_found_rows || c.uses_connection_id || c.show_warnings ||
        (c.uses_user_variables && !c.assigns_user_variables && !state_.user_variable_count());
    if (needs_same_server && !current.empty()) {
      plan_.candidates.push_back(current);
      plan_.reason = "same server as the last statement (session function or warnings)";
      return PlanOutcome::go;
    }
    auto outcome = route_by_topology(c);
    if (outcome) return *outcome;
  }
  // No topology (tests, or before discovery): the cluster's first server, as the foundation did.
  if (!current.empty()) {
    plan_.candidates.push_back(current);
  } else {
    const admin::ClusterConfig* cluster = env_.config().find_cluster(login_.cluster);
    if (cluster != nullptr && !cluster->rootservice_list.empty())
      plan_.candidates.push_back(cluster->rootservice_list.front());
  }
  plan_.reason = "no location known: first server";
  return PlanOutcome::go;
}

std::optional<ClientSession::PlanOutcome> ClientSession::route_by_topology(const routing::ClassifiedSql& c) {
  const routing::Snapshot* snap = env_.routing_snapshot();
  const routing::ClusterTopology* ct = snap != nullptr ? snap->find_cluster(login_.cluster) : nullptr;
  if (ct != nullptr && !ct->servers.empty()) {
    plan_.generation = snap->generation;
    const routing::TenantInfo* tenant = ct->find_tenant(login_.tenant);
    const routing::TableEntry* entry = nullptr;
    if (c.table_count > 0 && c.type != routing::StmtType::ddl && c.type != routing::StmtType::show) {
      std::string_view db = c.tables[0].database.empty() ? std::string_view(state_.database()) : c.tables[0].database;
      entry = ct->find_table(login_.tenant, db, c.tables[0].table);
      if (entry == nullptr && ct->discovered && !db.empty()) {
        std::string key = routing::table_key(login_.tenant, db, c.tables[0].table);
        bool known_missing = ct->missing_tables.find(key) != ct->missing_tables.end();
        if (!known_missing) {
          env_.request_table(login_.cluster, login_.tenant, std::string(db), std::string(c.tables[0].table));
          if (env_.now_ms() < plan_.deadline_ms) {
            // The first statement on a table waits (bounded) for its location: a strong read
            // must not land on a lagging follower.
            return PlanOutcome::wait;
          }
        }
      }
      if (entry != nullptr) {
        plan_.cluster = login_.cluster;
        plan_.tenant = login_.tenant;
        plan_.database = std::string(db);
        plan_.table = std::string(c.tables[0].table);
      }
    }
    routing::RouteInput in;
    in.cluster = ct;
    in.tenant = tenant;
    in.table = entry;
    if (entry != nullptr) in.partition = routing::choose_partition(*entry, c, route_params_);
    routing::Consistency consistency = c.read_consistency;
    if (consistency == routing::Consistency::unset) consistency = session_consistency_;
    if (consistency == routing::Consistency::unset)
      consistency = env_.config().routing.read_consistency == admin::ReadConsistency::weak
                        ? routing::Consistency::weak
                        : routing::Consistency::strong;
    in.weak = consistency == routing::Consistency::weak && c.is_read() && !c.multi_statement && autocommit_ &&
              !in_transaction_ && held_begin_.empty();
    plan_.weak = in.weak;
    routing::parse_route_policy(env_.config().routing.route_policy, in.policy);
    in.place.idc = env_.config().routing.proxy_idc;
    in.place.region = env_.config().routing.proxy_region;
    for (size_t i = 0; i < ct->servers.size() && i < 64 && !plan_.leader_confirmed; ++i)
      if (env_.server_avoided(ct->servers[i].host_port)) in.avoid |= uint64_t{1} << i;
    routing::RouteDecision d = routing::route(in);
    for (uint8_t i = 0; i < d.count; ++i) plan_.candidates.push_back(ct->servers[d.candidates[i]].host_port);
    plan_.reason = d.reason;
    plan_.retryable = entry != nullptr && !in_transaction_ && held_begin_.empty() && autocommit_ &&
                      !c.multi_statement && pinned_ == nullptr;
    // A text query, or a prepared one outside a cursor (an execute re-prepares where it lands).
    bool resendable =
        request_cmd_ == Command::query || (request_cmd_ == Command::stmt_execute && plan_.pin_reason == nullptr);
    plan_.replayable_read = c.is_read() && !c.multi_statement && resendable && !in_transaction_ &&
                            held_begin_.empty() && autocommit_ && pinned_ == nullptr;
    if (plan_.weak) core::Stats::inc(env_.stats().route_weak_reads_total);
    if (d.to_leader) core::Stats::inc(env_.stats().route_leader_total);
    if (!plan_.candidates.empty()) return PlanOutcome::go;
  }
  return std::nullopt;
}

// What the statement means for the session once it succeeds.
void ClientSession::plan_for_sql(std::string_view sql, const routing::ClassifiedSql& c) {
  if (c.creates_temporary_table) plan_.pin_reason = "sticky: temporary table";
  if (c.uses_lock_function) plan_.pin_reason = "sticky: user-level lock";
  if (c.type == routing::StmtType::handler) plan_.pin_reason = "sticky: HANDLER";
  if (c.type == routing::StmtType::xa) plan_.pin_reason = "sticky: XA transaction";
  if (c.type == routing::StmtType::prepare) plan_.pin_reason = "sticky: prepared statements";
  plan_.calc_found_rows = c.uses_found_rows;
  plan_.wants_last_insert_id = c.uses_last_insert_id;
  if (c.type == routing::StmtType::lock_tables) plan_.lock_tables = 1;
  if (c.type == routing::StmtType::unlock_tables) plan_.lock_tables = 0;
  if (c.assigns_user_variables) {
    auto names = user_variables_in(sql);
    if (names) {
      plan_.fetch_user_vars = std::move(*names);
    } else {
      plan_.pin_reason = "sticky: too many user variables";
    }
  }
}

bool ClientSession::local_answer(const routing::ClassifiedSql& c, std::string_view sql) {
  if (c.multi_statement) return false;
  if (c.type == routing::StmtType::begin && !in_transaction_ && held_begin_.empty() && pinned_ == nullptr &&
      !lock_tables_) {
    // Held until the first real statement, which decides the server.
    held_begin_ = std::string(sql);
    core::Stats::inc(env_.stats().route_held_begins_total);
    send_ok_local();
    return true;
  }
  if ((c.type == routing::StmtType::commit || c.type == routing::StmtType::rollback) && !held_begin_.empty() &&
      !in_transaction_) {
    held_begin_.clear();  // the transaction never reached a server: nothing to end
    send_ok_local();
    return true;
  }
  if (c.type == routing::StmtType::set && icontains(sql, "ob_read_consistency")) {
    // An OceanBase session variable a MySQL server does not know: odp keeps it.
    if (icontains(sql, "weak") || icontains(sql, "frozen")) {
      session_consistency_ = routing::Consistency::weak;
    } else if (icontains(sql, "strong")) {
      session_consistency_ = routing::Consistency::strong;
    } else {
      send_err(1, errc::ER_WRONG_VALUE_FOR_VAR, "odp: ob_read_consistency must be 'STRONG' or 'WEAK'", "42000");
      resume_ready();
      return true;
    }
    send_ok_local();
    return true;
  }
  return false;
}

void ClientSession::execute_plan() {
  while (plan_.next < plan_.candidates.size()) {
    const std::string& hp = plan_.candidates[plan_.next];
    Backend* b = find_backend(hp);
    if (b == nullptr) {
      if (env_.server_avoided(hp) && plan_.next + 1 < plan_.candidates.size()) {
        ++plan_.next;
        continue;
      }
      open_backend(hp);
      return;
    }
    if (server_ != b->conn.get()) {
      if (server_ != nullptr) core::Stats::inc(env_.stats().route_switches_total);
      server_ = b->conn.get();
    }
    publish_location();
    start_preamble(*b);
    return;
  }
  core::Stats::inc(env_.stats().route_failures_total);
  send_err(1, errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
           "odp: no server available for this statement (tried " + std::to_string(plan_.candidates.size()) + ")");
  resume_ready();
}

void ClientSession::start_preamble(Backend& b) {
  preamble_.clear();
  preamble_next_ = 0;
  if (b.needs_tracking_setup) preamble_.push_back(query_payload(kSessionTrackingSetup));
  SessionState::Replay r = state_.plan(b.sync);
  if (r.init_db) {
    std::vector<uint8_t> p;
    p.push_back(static_cast<uint8_t>(Command::init_db));
    p.insert(p.end(), r.init_db->begin(), r.init_db->end());
    preamble_.push_back(std::move(p));
  }
  if (!r.set_sql.empty()) preamble_.push_back(query_payload(r.set_sql));
  if (plan_.wants_last_insert_id && b.sync.last_insert_id != last_insert_id_) {
    preamble_.push_back(query_payload("DO LAST_INSERT_ID(" + std::to_string(last_insert_id_) + ")"));
    b.sync.last_insert_id = last_insert_id_;
  }
  if (!preamble_.empty()) core::Stats::inc(env_.stats().session_replays_total);
  if (!held_begin_.empty()) {
    preamble_.push_back(query_payload(held_begin_));
    plan_.sent_begin = true;
  }
  plan_.prepare_step = -1;
  if (plan_.ps != Plan::Ps::none && b.conn->statements().find(plan_.stmt_key) == nullptr) {
    // The statement was prepared elsewhere (or never): prepare it here first.
    std::vector<uint8_t> p;
    p.push_back(static_cast<uint8_t>(Command::stmt_prepare));
    p.insert(p.end(), plan_.stmt_sql.begin(), plan_.stmt_sql.end());
    plan_.prepare_step = static_cast<int>(preamble_.size());
    preamble_.push_back(std::move(p));
    if (plan_.ps != Plan::Ps::prepare) core::Stats::inc(env_.stats().ps_reprepares_total);
  }
  if (plan_.login && preamble_.empty()) {
    // A pooled connection stands in for a login: one round trip proves its server still answers
    // (a hung one is caught by expect_reply() and the login moves on to the next candidate).
    preamble_.push_back({static_cast<uint8_t>(Command::ping)});
  }
  if (preamble_.empty()) {
    continue_after_preamble();
    return;
  }
  phase_ = Phase::syncing;
  send_next_preamble();
}

void ClientSession::send_next_preamble() {
  const auto& p = preamble_[preamble_next_];
  auto bytes = internal_.begin(p, server_->capabilities());
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(bytes.size()));
  server_->write(bytes);
  server_->expect_reply(env_.config().limits.server_connect_timeout_ms);
}

void ClientSession::on_internal_data(std::span<const uint8_t> data) {
  size_t used = 0;
  auto step = internal_.feed(data, &used);
  if (step == InternalQuery::Step::more) return;
  if (step == InternalQuery::Step::error || used < data.size()) {
    LOG_WARN("bad answer to an internal statement conn_id=%u server=%s: %s", id_, server_->host_port().c_str(),
             internal_.failure() ? internal_.failure() : "bytes after the response");
    if (phase_ == Phase::syncing)
      send_err(1, errc::ER_NET_READ_ERROR, "odp: lost step with server " + server_->host_port());
    drop_backend(*server_);
    fail_protocol("malformed answer to an internal statement", false);
    return;
  }
  Backend* b = backend_of(*server_);
  if (phase_ == Phase::after) {
    // The values of the user variables the statement assigned: remember them as literals.
    if (!internal_.error() && internal_.rows().size() == 1 &&
        internal_.columns().size() == plan_.fetch_user_vars.size()) {
      for (size_t i = 0; i < plan_.fetch_user_vars.size(); ++i)
        state_.set_user_variable(plan_.fetch_user_vars[i],
                                 user_variable_literal(internal_.rows()[0][i], internal_.columns()[i]));
      if (b != nullptr) state_.mark_synced(b->sync);
    } else {
      // Values we cannot read back cannot be replayed elsewhere: stay on this server.
      pinned_ = "sticky: user variables";
    }
    phase_ = Phase::ready;
    response_done();
    return;
  }
  // syncing
  if (internal_.error()) {
    const ErrPacket& err = *internal_.error();
    LOG_WARN("session replay failed conn_id=%u server=%s code=%u msg=\"%s\"", id_, server_->host_port().c_str(),
             err.code, err.message.c_str());
    core::Stats::inc(env_.stats().session_replay_failures_total);
    std::vector<uint8_t> framed;
    if (plan_.login) {
      // Selecting the client's database failed (1049 unknown database...): the login fails.
      encode_err_packet(next_client_seq_, err, framed);
      send_to_client(framed);
      close_session(true);
      return;
    }
    encode_err_packet(1, err, framed);
    send_to_client(framed);
    resume_ready();
    return;
  }
  if (static_cast<int>(preamble_next_) == plan_.prepare_step) take_prepared(internal_);
  if (++preamble_next_ < preamble_.size()) {
    send_next_preamble();
    return;
  }
  if (b != nullptr) {
    b->needs_tracking_setup = false;
    state_.mark_synced(b->sync);
  }
  if (plan_.sent_begin) {
    held_begin_.clear();
    in_transaction_ = true;
  }
  continue_after_preamble();
}

void ClientSession::continue_after_preamble() {
  if (plan_.login) {
    // Logged in on a pooled connection: the client gets an OK of our own.
    if (published_ == false && server_ != nullptr) {
      env_.publish_session(id_, {server_->host_port(), server_->thread_id(), login_.user, peer_, env_.worker_index()});
      published_ = true;
    }
    plan_.login = false;
    OkPacket ok;
    ok.status_flags = status::AUTOCOMMIT;
    std::vector<uint8_t> payload;
    encode_ok(ok, client_caps_, payload);
    finish_login(payload);
    return;
  }
  if (changing_user_) {
    send_change_user_to_server();  // it waited for a server connection
    return;
  }
  if (plan_.streamed || request_.empty()) {
    resume_ready();  // a streamed request waits in the input buffer: let it through now
    return;
  }
  if (plan_.ps != Plan::Ps::none) {
    finish_ps_command();
    return;
  }
  forward_command(request_, request_cmd_);
}

// After a response went to the client: what it changed for the session.
void ClientSession::after_response() {
  Backend* b = server_ != nullptr ? backend_of(*server_) : nullptr;
  if (tracker_.status_known()) {
    uint16_t flags = tracker_.last_status_flags();
    in_transaction_ = (flags & status::IN_TRANS) != 0;
    autocommit_ = (flags & status::AUTOCOMMIT) != 0;
  }
  if (b != nullptr) state_.mark_synced(b->sync);  // it ran everything the client did
  bool ok = !tracker_.last_was_error();
  if (tracker_.status_known() && tracker_.last_insert_id() != 0) {
    last_insert_id_ = tracker_.last_insert_id();
    if (b != nullptr) b->sync.last_insert_id = last_insert_id_;
  }
  // SHOW WARNINGS / FOUND_ROWS() / ROW_COUNT() after this statement need its connection. Kept for
  // one more statement only while connections are not capped: under pool.max_server_connections a
  // kept connection of an idle client would hold a slot others wait for.
  keep_current_ = env_.config().pool.max_server_connections == 0 &&
                  (!ok || tracker_.last_warnings() > 0 || tracker_.last_affected_rows() > 0 || plan_.calc_found_rows);
  if (ok) {
    if (plan_.pin_reason != nullptr && pinned_ == nullptr) {
      pinned_ = plan_.pin_reason;
      core::Stats::inc(env_.stats().route_pinned_sessions_total);
    }
    if (plan_.lock_tables >= 0) lock_tables_ = plan_.lock_tables == 1;
    if (request_cmd_ == Command::reset_connection || request_cmd_ == Command::change_user) {
      // The server forgot everything; so does the session, and other connections go.
      for (auto& other : backends_)
        if (other.conn.get() != server_) dead_backends_.push_back(std::move(other.conn));
      std::erase_if(backends_, [](const Backend& x) { return x.conn == nullptr; });
      state_.reset(request_cmd_ == Command::change_user ? hello_.database : state_.database());
      client_stmts_.clear();  // the server forgot its prepared statements
      server_->statements().clear();
      if (b = backend_of(*server_); b != nullptr) {
        b->sync = state_.fresh_connection();
        // COM_CHANGE_USER resets the server's session variables, tracking included.
        b->needs_tracking_setup = request_cmd_ == Command::change_user && server_->tracks_session_state();
      }
      pinned_ = nullptr;
      lock_tables_ = false;
      held_begin_.clear();
      session_consistency_ = routing::Consistency::unset;
    }
  }
  if (ok && !plan_.fetch_user_vars.empty() && server_ != nullptr && b != nullptr) {
    start_fetch_user_vars();
  }
}

void ClientSession::start_fetch_user_vars() {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < plan_.fetch_user_vars.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += "@`" + plan_.fetch_user_vars[i] + "`";
  }
  phase_ = Phase::after;
  auto bytes = internal_.begin(query_payload(sql), server_->capabilities());
  server_->write(bytes);
}

std::vector<uint8_t> ClientSession::take_ok_state(std::span<const uint8_t> ok_payload) {
  if (server_ == nullptr) return {};
  auto ok = decode_ok(ok_payload, server_->capabilities());
  if (!ok || !(ok->status_flags & status::SESSION_STATE_CHANGED)) return {};
  if (server_->tracks_session_state()) {
    auto records = decode_session_track(std::string_view(ok->session_state));
    if (records) {
      for (const auto& r : records.value()) {
        if (r.type == SessionTrackType::system_variables) {
          state_.set_system_variable(r.name, r.value);
        } else if (r.type == SessionTrackType::schema) {
          state_.set_database(r.value);
        }
      }
    }
  }
  if (client_caps_ & cap::SESSION_TRACK) return {};
  // The client did not ask for session tracking: give it the OK it expects.
  std::vector<uint8_t> out;
  encode_ok_without_session_state(std::move(ok.value()), client_caps_, out, ok_payload[0]);
  return out;
}

// The server says it does not lead the partition (error 4038): the route was stale. When the
// statement may be re-sent (nothing reached the client, no transaction), refresh and retry.
bool ClientSession::handle_not_master(std::span<const uint8_t> data) {
  if (response_started_ || data.size() < kPacketHeaderBytes + 3) return false;
  PacketHeader h = decode_header(data.data());
  if (data.size() != kPacketHeaderBytes + h.length || data[kPacketHeaderBytes] != 0xFF) return false;
  uint16_t code = static_cast<uint16_t>(data[kPacketHeaderBytes + 1] | (data[kPacketHeaderBytes + 2] << 8));
  if (code != errc::OB_NOT_MASTER) return false;
  core::Stats::inc(env_.stats().route_not_master_total);
  if (!plan_.table.empty()) env_.mark_table_dirty(plan_.cluster, plan_.tenant, plan_.database, plan_.table);
  if (!plan_.retryable || plan_.attempts + 1 >= kMaxRouteAttempts || in_transaction_) return false;
  ++plan_.attempts;
  plan_.leader_confirmed = true;
  core::Stats::inc(env_.stats().route_retries_total);
  LOG_INFO("stale route conn_id=%u table=%s.%s server=%s: waiting for fresh metadata, attempt %u", id_,
           plan_.database.c_str(), plan_.table.c_str(), server_->host_port().c_str(), plan_.attempts);
  plan_.deadline_ms = env_.now_ms() + kRerouteWaitMs;
  phase_ = Phase::rerouting;
  arm_timer(kPollMs);
  return true;
}

// The server died under a read that had not answered yet. A read has nothing to undo, so, as
// after a stale route, it runs again once the metadata may have moved on (the dead server is
// avoided meanwhile). Writes are never re-sent: they may have committed before the crash.
bool ClientSession::retry_lost_read(const std::string& host_port) {
  // While the connection is being readied (syncing) the statement itself has not gone out yet:
  // any statement may run elsewhere then. Once sent, only a read may.
  bool unsent = phase_ == Phase::syncing;
  if (!(plan_.replayable_read || unsent) || response_started_ || request_.empty()) return false;
  if (phase_ != Phase::command && !unsent) return false;
  if (plan_.attempts + 1 >= kMaxRouteAttempts) return false;
  ++plan_.attempts;
  core::Stats::inc(env_.stats().route_retries_total);
  LOG_INFO("server lost under a read conn_id=%u server=%s: running it again, attempt %u", id_, host_port.c_str(),
           plan_.attempts);
  if (!plan_.table.empty()) env_.mark_table_dirty(plan_.cluster, plan_.tenant, plan_.database, plan_.table);
  response_scanner_.reset();  // the dead server may have left part of a header
  if ((plan_.table.empty() || plan_.weak) && plan_.next + 1 < plan_.candidates.size()) {
    // Any of the candidates may serve (no table, or a weak read): the next one, now.
    ++plan_.next;
    execute_plan();
    return true;
  }
  plan_.deadline_ms = env_.now_ms() + kRerouteWaitMs;
  phase_ = Phase::rerouting;
  arm_timer(kPollMs);
  return true;
}

void ClientSession::retry_poll() {
  if (phase_ == Phase::routing_wait) {
    // (A local answer cannot come out of a second look: the first one would have given it.)
    if (plan_route(route_cmd(), request_sql(), false) == PlanOutcome::wait) {
      arm_timer(kPollMs);
      return;
    }
    arm_timer(env_.config().limits.server_query_timeout_ms);
    execute_plan();
    return;
  }
  // rerouting: wait for a newer snapshot, then route again.
  const routing::Snapshot* snap = env_.routing_snapshot();
  bool fresh = snap != nullptr && snap->generation > plan_.generation;
  if (!fresh && env_.now_ms() < plan_.deadline_ms) {
    arm_timer(kPollMs);
    return;
  }
  uint32_t attempts = plan_.attempts;
  uint64_t deadline = plan_.deadline_ms;
  PlanOutcome outcome = plan_route(route_cmd(), request_sql(), false);
  plan_.attempts = attempts;
  plan_.deadline_ms = deadline;
  if (outcome == PlanOutcome::wait && env_.now_ms() < deadline) {
    arm_timer(kPollMs);  // the entry is being re-read: keep waiting
    return;
  }
  arm_timer(env_.config().limits.server_query_timeout_ms);
  execute_plan();
}

}  // namespace odp::proxy
