// ClientSession, the command on its connection: the lease says a connection is ready, the
// exchange sends the command and streams the response, the model learns what it changed, and the
// session reads back what the server did not report before it takes the next command.
#include "base/log.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::on_lease_ready(ServerConn& conn) {
  switch (phase_) {
    case Phase::server_login: {
      // Logged in (a pooled connection stood in for the login, or a fresh one logged in).
      LOG_DEBUG("session ready conn_id=%u peer=%s user=%s server=%s thread=%u", id_, peer_.c_str(), user().c_str(),
                conn.host_port().c_str(), conn.thread_id());
      // The server took the login's database for this user: the next login naming it needs no server.
      if (!model_.database().empty())
        env_.note_database_usable(model_.identity().login.cluster, model_.identity().login.user, model_.database());
      finish_login(login_ok_payload());
      return;
    }
    case Phase::change_user:
      if (model_.identity().forwarded) {
        finish_change_user_by_login(conn);
      } else {
        send_change_user_to_server(conn);
      }
      return;
    case Phase::acquiring:
      break;
    default:
      return;
  }
  if (plan_.streamed) {
    resume_ready();  // the streamed request waits in the input buffer: let it through now
    return;
  }
  if (ps_.cmd != Command::sleep) {
    send_stmt_command(conn);
    return;
  }
  send_command(conn);
}

void ClientSession::on_lease_failed(const BackendLease::Failure& f) {
  if (phase_ == Phase::closing) return;
  if (f.kind == BackendLease::Failure::Kind::refused && f.err.code == errc::ER_ACCESS_DENIED_ERROR) {
    // The server no longer takes the password odp let the client in with: read it again next time.
    env_.forget_credential(model_.identity().login.cluster, model_.identity().login.user);
  }
  const bool unreachable =
      f.kind == BackendLease::Failure::Kind::unreachable || f.kind == BackendLease::Failure::Kind::lost;
  if (phase_ == Phase::server_login) {
    // The client has not been answered yet: another candidate (the next in the tenant's zone
    // and LDC order) may serve the login.
    if (unreachable) {
      LOG_INFO("login candidate failed conn_id=%u server=%s: %s", id_, f.host_port.c_str(), f.err.message.c_str());
      ++plan_.next;
      login_to_next_candidate(&f.err);
      return;
    }
    // The server refused the login itself (in server_mode "oceanbase" it is the only judge).
    if (f.err.code == errc::ER_ACCESS_DENIED_ERROR) core::Stats::inc(env_.stats().client_auth_failures_total);
    link_.send_err(login_.next_seq, f.err);
    close_session(true);
    return;
  }
  if (phase_ == Phase::change_user) {
    link_.send_err(login_.next_seq, f.err);
    close_session(true);
    return;
  }
  if (f.after_command) {
    // A read went out behind the replay and nothing of its answer reached the client: a lost
    // server runs it again elsewhere, a failed step's ERR is its answer.
    if (phase_ != Phase::command) return;
    if ((f.kind == BackendLease::Failure::Kind::lost || f.kind == BackendLease::Failure::Kind::unreachable) &&
        (retry_lost(f.host_port, false) || retry_lost_transaction_start(f.host_port)))
      return;
    link_.send_err(1, f.err);
    finish_command();
    return;
  }
  if (phase_ != Phase::acquiring) return;
  if (unreachable && plan_.starts_transaction && model_.in_transaction() && lease_.current() == nullptr) {
    // The held BEGIN ran, then the connection went before the statement did (a step after it
    // failed): the server rolled the empty transaction back; it begins again elsewhere.
    model_.transaction_never_ran(plan_.begin_sql);
  }
  if (model_.tied() && lease_.current() == nullptr &&
      (f.kind == BackendLease::Failure::Kind::replay || f.kind == BackendLease::Failure::Kind::lost)) {
    // The connection the session is tied to (a temporary table, a transaction...) was dropped
    // while it was readied (a statement prepared again, a replay): as when it closes between
    // commands, the client must learn that its session state is gone.
    LOG_WARN("tied server connection lost while readied conn_id=%u server=%s code=%u: %s", id_, f.host_port.c_str(),
             f.err.code, f.err.message.c_str());
    link_.send_err(1, f.err);
    close_session(true);
    return;
  }
  if (unreachable) {
    LOG_INFO("route candidate failed conn_id=%u server=%s code=%u: %s", id_, f.host_port.c_str(), f.err.code,
             f.err.message.c_str());
    // Nothing of the command was sent: any candidate may take it.
    if (plan_.next + 1 < plan_.count) {
      ++plan_.next;
      execute_plan();
      return;
    }
    // The last candidate refused or dropped the connection before the command went out: the
    // statement never ran; once the locations move on (a new leader), it runs there.
    if (retry_lost(f.host_port, true)) return;
  }
  link_.send_err(1, f.err);
  if (plan_.streamed) {
    // The streamed request still waits in the input: it cannot be answered command by command.
    fail_protocol("no server connection for a streamed request", false);
    return;
  }
  finish_command();
}

void ClientSession::send_command(ServerConn& conn) {
  // An OB 2.0 driver's trace records go on with its request (kept for a retry elsewhere).
  if (link_.channel().ob20()) {
    if (plan_.trace.empty()) plan_.trace = link_.channel().take_request_trace();
    conn.send_trace_info(plan_.trace);
  }
  if (!exchange_.send(conn, model_.identity().client_caps)) {
    // No answer comes (COM_STMT_CLOSE...).
    finish_command();
    return;
  }
  enter(Phase::command);
}

void ClientSession::on_response_data(ServerConn& conn, std::span<const uint8_t> data) {
  // A statement odp stopped (limits.server_query_timeout_ms) ends with the server's ERR 1317:
  // the client gets odp's, which names the limit (session_timeout.cpp).
  if (watch_.killing && replace_kill_answer(conn, data)) return;
  bool hide = phase_ == Phase::command && plan_.retryable && exchange_.command() != Command::stmt_prepare;
  Exchange::Step step = exchange_.on_server_data(conn, data, model_.identity().client_caps, hide);
  if (step == Exchange::Step::hidden_err) {
    // 4038 and 5727 say the route was wrong (the server is fine); the others that the server
    // cannot serve the statement now.
    uint16_t code = exchange_.hidden_code();
    bool retried = code == errc::OB_NOT_MASTER || code == errc::OB_ERR_REROUTE ? retry_not_master(conn)
                                                                               : retry_refused(conn, code);
    if (retried) return;
    step = exchange_.on_server_data(conn, data, model_.identity().client_caps, false);
  }
  handle_step(conn, step);
}

void ClientSession::handle_step(ServerConn& conn, Exchange::Step step) {
  switch (step) {
    case Exchange::Step::more:
      update_backpressure();
      exchange_.maybe_splice_response(conn);
      return;
    case Exchange::Step::done:
      response_done();
      return;
    case Exchange::Step::local_infile:
      conn.continue_ob20_request();
      link_.channel().end_response();  // the client's file continues its request
      enter(Phase::upload);
      process_client_input();
      update_backpressure();
      return;
    case Exchange::Step::hidden_err:  // handled by on_response_data
      return;
    case Exchange::Step::failed:
      if (lease_.doomed(conn)) {
        // A KILL CONNECTION of this session landed mid-command (its ERR may come while the client
        // still sends a LOCAL INFILE): the session ends; the server did not break the protocol.
        LOG_INFO("connection killed mid-command conn_id=%u server=%s", id_, conn.host_port().c_str());
        lease_.drop(conn);
        close_session(true);
        return;
      }
      LOG_WARN("server broke the protocol conn_id=%u server=%s: %s", id_, conn.host_port().c_str(),
               exchange_.failure() ? exchange_.failure() : "?");
      lease_.drop(conn);
      fail_protocol("malformed response from server", false);
      return;
  }
}

void ClientSession::response_done() {
  if (exchange_.last_was_error()) core::Stats::inc(env_.stats().sql_request_errors_total);
  after_response();
}

// After a response went to the client: what it changed for the session.
void ClientSession::after_response() {
  ServerConn* conn = lease_.current();
  ConnSync* sync = conn != nullptr ? lease_.sync_of(*conn) : nullptr;
  bool was_tied = model_.ties().any() && !model_.ties().has(Tie::transaction);
  if (ps_.cmd != Command::sleep) after_stmt_command();
  if (conn != nullptr && conn->syncs_session_info()) {
    // Before apply(), which marks the connection as having the session's state, these records too.
    conn->take_session_info(ob_records_);
    model_.learn_ob_session_info(ob_records_);
  }
  ReadBack rb = model_.apply(*facts_, exchange_.outcome(), sync);
  // Sessions that log in from now on see the new global values on any connection.
  if (facts_->sets_global_variables && !exchange_.outcome().error) env_.note_global_variable_set();
  if (!plan_.table_name.empty() && exchange_.outcome().partition_missed()) {
    // An OBServer ran the statement but its partition is not local there: the route was stale.
    core::Stats::inc(env_.stats().route_partition_misses_total);
    const SessionIdentity& id = model_.identity();
    env_.mark_table_dirty(id.login.cluster, id.login.tenant, plan_.table_database, plan_.table_name);
  }
  if (!was_tied && model_.tied() && !model_.ties().has(Tie::transaction)) {
    core::Stats::inc(env_.stats().session_ties_total);
    LOG_DEBUG("session tied conn_id=%u reason=\"%s\"", id_, model_.ties().reason());
  }
  if (facts_->resets_session && conn != nullptr) {
    // The server forgot the session's statements: so do the connection's cache and the others.
    conn->statements().clear();
  }
  if (!rb.empty() && conn != nullptr && sync != nullptr) {
    start_read_back(rb);
    return;
  }
  finish_command();
}

void ClientSession::start_read_back(const ReadBack& rb) {
  read_back_ = rb;
  ServerConn* conn = lease_.current();
  enter(Phase::reading_back);
  read_back_query_.set_extended_type_info((conn->mariadb_capabilities() & mariadb_cap::EXTENDED_TYPE_INFO) != 0);
  auto bytes = read_back_query_.begin_query(read_back_.sql(), conn->capabilities());
  conn->write(bytes);
  conn->expect_reply(env_.config().limits.server_connect_timeout_ms);
}

void ClientSession::on_read_back_data(ServerConn& conn, std::span<const uint8_t> data) {
  size_t used = 0;
  auto step = read_back_query_.feed(data, &used);
  if (step == InternalQuery::Step::more) return;
  if (step == InternalQuery::Step::error || used < data.size()) {
    if (lease_.doomed(conn)) {
      // A KILL CONNECTION of this session landed (its ERR right behind the answer): it ends.
      LOG_INFO("connection killed while reading back conn_id=%u server=%s", id_, conn.host_port().c_str());
      lease_.drop(conn);
      close_session(true);
      return;
    }
    LOG_WARN("bad answer to reading variables back conn_id=%u server=%s: %s", id_, conn.host_port().c_str(),
             read_back_query_.failure() ? read_back_query_.failure() : "bytes after the response");
    lease_.drop(conn);
    fail_protocol("malformed answer to an internal statement", false);
    return;
  }
  ConnSync* sync = lease_.sync_of(conn);
  if (read_back_query_.error() || read_back_query_.overflowed() || read_back_query_.rows().size() != 1) {
    // Values odp cannot read back (or too large to keep) cannot be replayed: stay on this server.
    model_.read_back_failed();
    if (sync != nullptr) sync->dirty = true;
  } else {
    model_.apply_read_back(read_back_, read_back_query_.columns(), read_back_query_.rows()[0], sync);
  }
  finish_command();
}

// The command is over: connections nothing ties the session to go back to the pool, and the next
// command (maybe already buffered) goes on.
void ClientSession::finish_command() {
  link_.channel().end_response();  // OB 2.0 clients: the response's last frame says so
  lease_.reap();
  free_done_killers();
  // SHOW WARNINGS / FOUND_ROWS() / ROW_COUNT() after this statement want its connection: kept for
  // one more statement, unless a session waiting for a connection needs it first.
  lease_.release(model_.keeps_results());
  if (watch_.kill_unanswered) {
    // odp's KILL QUERY of this statement (past its timeout) is still on its way: the next command
    // waits for it, or the KILL could stop that one instead (session_timeout.cpp).
    watch_.next_after_kill = true;
    enter(Phase::killing);
    return;
  }
  resume_ready();  // (closes the session instead when it drains and its transaction is over)
  update_backpressure();
}

void ClientSession::maybe_splice() {
  if (ServerConn* c = lease_.current(); c != nullptr && phase_ == Phase::command) exchange_.maybe_splice_response(*c);
}

}  // namespace odp::proxy
