// ClientSession, routing: routing::route_statement decides where a command runs; the session
// waits (bounded) for a table's location on first use, keeps a tied session on its connection,
// walks the candidates when servers fail, and retries a statement that hit a stale route.
#include "base/log.h"
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
// The failover wait is bounded by routing.failover_wait_ms. Attempts come as fast as fresh metadata
// does (a re-read every ~100 ms while the entry is dirty), so a count bound would cut the wait
// short (64 attempts once ended it after 6.4 s while a leader election took 7): this one only
// stops a loop the clock would not.
constexpr uint32_t kMaxFailoverAttempts = 10000;

bool avoided_by(const void* ctx, std::string_view host_port) {
  return static_cast<const Locations*>(ctx)->server_avoided(host_port);
}
}  // namespace

routing::ClassifiedSql* ClientSession::classified() {
  return &t_classified;
}

// The session may not leave its connection: a transaction, a lock, a temporary table...
bool ClientSession::sticky() const {
  return model_.tied() && lease_.current() != nullptr;
}

ClientSession::RouteOutcome ClientSession::plan_route(const routing::ClassifiedSql* c, Command cmd, bool give_up_wait) {
  plan_.count = 0;
  plan_.next = 0;
  plan_.reason = "";
  plan_.from_text = c != nullptr;
  ServerConn* current = lease_.current();
  auto only = [&](ServerConn* conn, const char* reason) {
    plan_.candidates[0] = conn->server();
    plan_.count = 1;
    plan_.reason = reason;
    return RouteOutcome::go;
  };
  if (sticky()) return only(current, model_.ties().reason());
  // Commands without a statement stay where the session last ran, if anywhere.
  if (c == nullptr && cmd != Command::ping && cmd != Command::change_user && current != nullptr)
    return only(current, "same server as the last statement");
  if (c != nullptr && current != nullptr) {
    // Results the last statement left on its connection (warnings, found rows).
    bool needs_same = facts_->reads_connection_results || (c->uses_user_variables && !c->assigns_user_variables &&
                                                           model_.vars().user_variable_count() == 0);
    if (needs_same) return only(current, "same server as the last statement (session function or warnings)");
  }

  const SessionIdentity& id = model_.identity();
  const admin::Config& cfg = env_.config();
  routing::StatementRouteRequest req;
  req.snapshot = env_.routing_snapshot();
  req.cluster = id.login.cluster;
  req.tenant = id.login.tenant;
  req.database = model_.database();
  req.sql = c;
  req.params = std::span<const routing::SqlValue>(params_.data(), param_count_);
  req.session_consistency = model_.consistency();
  req.default_consistency = cfg.routing.read_consistency == admin::ReadConsistency::weak ? routing::Consistency::weak
                                                                                         : routing::Consistency::strong;
  req.in_transaction = model_.in_transaction() || !model_.held_begin().empty() || !model_.autocommit();
  req.tied = model_.tied();
  req.starts_transaction =
      !model_.in_transaction() && !model_.tied() && (!model_.held_begin().empty() || !model_.autocommit());
  req.give_up_table_wait = give_up_wait;
  req.leader_confirmed = plan_.leader_confirmed;
  req.policy = env_.route_policy();
  req.place.idc = cfg.routing.proxy_idc;
  req.place.region = cfg.routing.proxy_region;
  req.avoided = &avoided_by;
  req.avoided_ctx = static_cast<const Locations*>(&env_);
  routing::StatementRoute r = routing::route_statement(req);
  if (r.outcome == routing::StatementRoute::Outcome::wait_for_table) {
    env_.request_table(id.login.cluster, id.login.tenant, std::string(r.table_database), std::string(r.table_name));
    return RouteOutcome::wait;
  }
  // What may be sent again holds wherever the statement goes (also without any topology).
  plan_.retryable = r.retryable;
  plan_.starts_transaction = req.starts_transaction;
  if (req.starts_transaction) plan_.begin_sql = model_.held_begin();  // "" when autocommit is off
  plan_.replayable_read = r.replayable_read;
  plan_.rerunnable_transaction_start = r.rerunnable_transaction_start;
  if (r.has_table) {
    plan_.table_database.assign(r.table_database);
    plan_.table_name.assign(r.table_name);
  } else {
    plan_.table_database.clear();
    plan_.table_name.clear();
  }
  if (r.outcome == routing::StatementRoute::Outcome::route) {
    ServerDirectory& dir = env_.directory();
    for (uint8_t i = 0; i < r.count; ++i) {
      ServerId sid = dir.intern(r.candidates[i]);
      if (sid != kNoServer) plan_.candidates[plan_.count++] = sid;
    }
    plan_.reason = r.reason;
    plan_.generation = r.generation;
    plan_.weak = r.weak;
    if (r.weak) core::Stats::inc(env_.stats().route_weak_reads_total);
    if (r.to_leader) core::Stats::inc(env_.stats().route_leader_total);
    if (plan_.count > 0) return RouteOutcome::go;
  }
  // No topology (tests, or before discovery): the session's server, else the cluster's first.
  if (current != nullptr) return only(current, "no location known: the session's server");
  const admin::ClusterConfig* cluster = cfg.find_cluster(id.login.cluster);
  if (cluster != nullptr && !cluster->rootservice_list.empty()) {
    ServerId sid = env_.directory().intern(cluster->rootservice_list.front());
    if (sid != kNoServer) plan_.candidates[plan_.count++] = sid;
  }
  plan_.reason = "no location known: first server";
  return RouteOutcome::go;
}

// Routes the command in the request and starts readying its connection (or waits for a table).
void ClientSession::route_and_run(const routing::ClassifiedSql* c, Command cmd) {
  plan_.deadline_ms = env_.now_ms() + kTableWaitMs;
  plan_.needs.last_insert_id = facts_->uses_last_insert_id;
  if (plan_route(c, cmd) == RouteOutcome::wait) {
    enter(Phase::routing_wait);
    set_timeout(kPollMs);
    return;
  }
  execute_plan();
}

void ClientSession::execute_plan() {
  while (plan_.next < plan_.count) {
    ServerId sid = plan_.candidates[plan_.next];
    const std::string& hp = env_.directory().host_port(sid);
    if (lease_.held(sid) == nullptr && env_.server_avoided(hp) && plan_.next + 1 < plan_.count) {
      ++plan_.next;
      continue;
    }
    if (phase_ != Phase::server_login && phase_ != Phase::change_user) enter(Phase::acquiring);
    // A plain text read may follow the replay steps at once (one round trip instead of two).
    plan_.needs.pipeline = phase_ == Phase::acquiring && plan_.replayable_read && !plan_.streamed &&
                           ps_.cmd == Command::sleep && exchange_.command() == Command::query;
    lease_.acquire(sid, plan_.needs);
    return;
  }
  core::Stats::inc(env_.stats().route_failures_total);
  link_.send_err(1, errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
                 "odp: no server available for this statement (tried " + std::to_string(plan_.count) + ")", "08001");
  finish_command();
}

void ClientSession::retry_poll() {
  const routing::ClassifiedSql* c = plan_.from_text ? classified() : nullptr;
  // The statement's classification is redone (the thread-local one may have been reused since).
  if (c != nullptr) {
    if (ps_.shape) {
      c = &ps_.shape->classified;
    } else if (exchange_.command() == Command::query) {
      std::string_view sql(reinterpret_cast<const char*>(exchange_.request().data() + kPacketHeaderBytes + 1),
                           exchange_.request().size() - kPacketHeaderBytes - 1);
      routing::classify_sql(sql, *classified());
    }
  }
  Command cmd = exchange_.command();
  if (phase_ == Phase::routing_wait) {
    bool give_up = env_.now_ms() >= plan_.deadline_ms;
    if (plan_route(c, cmd, give_up) == RouteOutcome::wait) {
      set_timeout(kPollMs);
      return;
    }
    start_statement_clock();
    execute_plan();
    return;
  }
  // rerouting: wait for a newer snapshot, then route again.
  const routing::Snapshot* snap = env_.routing_snapshot();
  bool fresh = snap != nullptr && snap->generation > plan_.generation;
  if (!fresh && env_.now_ms() < plan_.deadline_ms) {
    set_timeout(kPollMs);
    return;
  }
  uint32_t attempts = plan_.attempts;
  uint64_t deadline = plan_.deadline_ms;
  uint64_t failover_until = plan_.failover_until_ms;
  RouteOutcome outcome = plan_route(c, cmd, env_.now_ms() >= deadline);
  plan_.attempts = attempts;
  plan_.deadline_ms = deadline;
  plan_.failover_until_ms = failover_until;
  if (outcome == RouteOutcome::wait) {
    set_timeout(kPollMs);  // the entry is being re-read: keep waiting
    return;
  }
  start_statement_clock();
  execute_plan();
}

// A statement that never ran may be tried again: twice at once (a stale route is routine), then
// for as long as routing.failover_wait_ms allows from the first failure, while a new leader is
// elected and the locations catch up.
bool ClientSession::may_retry_unran() {
  if (plan_.attempts + 1 < kMaxRouteAttempts) return true;
  uint64_t now = env_.now_ms();
  if (plan_.failover_until_ms == 0) plan_.failover_until_ms = now + env_.config().routing.failover_wait_ms;
  return now < plan_.failover_until_ms && plan_.attempts < kMaxFailoverAttempts;
}

// The server says it does not lead the partition (error 4038) or sends the statement elsewhere
// (5727, reroute): the route was stale. When the
// statement may be re-sent (nothing reached the client, no transaction or one it begins), refresh
// and retry.
bool ClientSession::retry_not_master(ServerConn& conn) {
  core::Stats::inc(env_.stats().route_not_master_total);
  const SessionIdentity& id = model_.identity();
  if (!plan_.table_name.empty())
    env_.mark_table_dirty(id.login.cluster, id.login.tenant, plan_.table_database, plan_.table_name);
  if (!plan_.retryable || !may_retry_unran()) return false;
  if (model_.in_transaction() || !model_.autocommit()) {
    if (!plan_.starts_transaction) return false;
    // The transaction's first statement did not run: it has done nothing yet. Closing its
    // connection rolls it back on the server; it begins again where the statement goes next.
    lease_.drop(conn);
    model_.transaction_never_ran(plan_.begin_sql);
  }
  ++plan_.attempts;
  plan_.leader_confirmed = true;
  core::Stats::inc(env_.stats().route_retries_total);
  LOG_INFO("stale route conn_id=%u table=%s.%s server=%s: waiting for fresh metadata, attempt %u", id_,
           plan_.table_database.c_str(), plan_.table_name.c_str(), conn.host_port().c_str(), plan_.attempts);
  plan_.deadline_ms = env_.now_ms() + kRerouteWaitMs;
  enter(Phase::rerouting);
  set_timeout(kPollMs);
  return true;
}

// OceanBase refused the statement before running it: the server is starting or stopping, or does
// not serve the tenant. Every worker avoids it for a while, its connection goes, and the statement
// runs elsewhere as one that was never sent (the first statement of a transaction too: the
// transaction had done nothing).
bool ClientSession::retry_refused(ServerConn& conn, uint16_t code) {
  std::string host_port = conn.host_port();
  core::Stats::inc(env_.stats().route_server_refusals_total);
  LOG_INFO("server refused before running conn_id=%u server=%s code=%u", id_, host_port.c_str(), code);
  env_.note_server_failure(host_port);
  if (!plan_.retryable) return false;
  if (model_.in_transaction() || !model_.autocommit()) {
    if (!plan_.starts_transaction || !may_retry_unran()) return false;
    model_.transaction_never_ran(plan_.begin_sql);
  } else if (model_.tied()) {
    return false;  // its state lives on that connection
  }
  lease_.drop(conn);
  return retry_lost(host_port, true);
}

// The server died (or hung) under a command that had not answered yet. A read has nothing to
// undo, so, as after a stale route, it runs again once the metadata may have moved on (the dead
// server is avoided meanwhile). Writes are never re-sent once sent: they may have committed.
bool ClientSession::retry_lost(const std::string& host_port, bool unsent) {
  if (!(plan_.replayable_read || unsent) || exchange_.response_started() || exchange_.request().empty()) return false;
  if (unsent ? !may_retry_unran() : plan_.attempts + 1 >= kMaxRouteAttempts) return false;
  ++plan_.attempts;
  core::Stats::inc(env_.stats().route_retries_total);
  LOG_INFO("server lost under a command conn_id=%u server=%s: running it again, attempt %u", id_, host_port.c_str(),
           plan_.attempts);
  const SessionIdentity& id = model_.identity();
  if (!plan_.table_name.empty())
    env_.mark_table_dirty(id.login.cluster, id.login.tenant, plan_.table_database, plan_.table_name);
  exchange_.reset_response();  // the dead server may have left part of a header
  if ((plan_.table_name.empty() || plan_.weak) && plan_.next + 1 < plan_.count) {
    // Any of the candidates may serve (no table, or a weak read): the next one, now.
    ++plan_.next;
    execute_plan();
    return true;
  }
  plan_.deadline_ms = env_.now_ms() + kRerouteWaitMs;
  enter(Phase::rerouting);
  set_timeout(kPollMs);
  return true;
}

// The statement that began a transaction lost its server before any of its answer came: the
// server rolled the transaction back with the connection, so nothing of it happened. It begins
// again where the statement goes next (bounded like a statement that never ran).
bool ClientSession::retry_lost_transaction_start(const std::string& host_port) {
  if (!plan_.rerunnable_transaction_start || env_.pool() == nullptr || exchange_.response_started()) return false;
  if (!may_retry_unran()) return false;
  model_.transaction_never_ran(plan_.begin_sql);
  return retry_lost(host_port, true);
}

}  // namespace odp::proxy
