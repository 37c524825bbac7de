// ClientSession: lifecycle, the deadline, backpressure, and where server events go.
#include "proxy/client_session.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>

#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"

namespace odp::proxy {

using namespace protocol;

namespace {
std::atomic<uint64_t> g_next_token{1};
}  // namespace

ClientSession::ClientSession(SessionEnv& env, Conn* client, uint32_t connection_id, std::string peer)
    : env_(env),
      link_(client, env.stats()),
      lease_(env, model_, *this, *this),
      exchange_(env, link_),
      id_(connection_id),
      peer_(std::move(peer)) {
  timer_.fn = &ClientSession::on_timer;
  timer_.ctx = this;
  exchange_.set_client_tracking(&model_.client_tracking());
  token_ = g_next_token.fetch_add(1, std::memory_order_relaxed);
  connected_at_us_ =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  client->set_handler(this);
  core::Stats::inc(env_.stats().client_connections_accepted_total);
  core::Stats::inc(env_.stats().client_connections);
}

ClientSession::~ClientSession() {
  env_.timers().disarm(timer_);
  query_killers_.clear();
  kill_probes_.clear();
  link_.close(false);
}

void ClientSession::start() {
  send_greeting();
  link_.conn()->start_reading();
  set_timeout(env_.config().limits.client_handshake_timeout_ms);
}

SessionLocation ClientSession::location() const {
  SessionLocation where;
  where.user = user();
  where.client = peer_;
  where.worker = env_.worker_index();
  // Between statements a pooled session holds no connection: none is its (the one it used last
  // may serve another client by now).
  bool running = phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::reading_back ||
                 phase_ == Phase::acquiring || model_.tied();
  if (ServerConn* c = lease_.current(); c != nullptr && running && c->state() == ServerConn::State::ready) {
    where.server = c->host_port();
    where.server_thread_id = c->thread_id();
  }
  return where;
}

void ClientSession::kill_running_query() {
  bool running = phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::reading_back;
  ServerConn* c = lease_.current();
  if (!running || c == nullptr || c->state() != ServerConn::State::ready) return;
  LOG_INFO("kill query conn_id=%u server=%s thread=%u", id_, c->host_port().c_str(), c->thread_id());
  say_kill_query(*c, nullptr);
}

uint64_t ClientSession::idle_timeout_ms() const {
  constexpr uint64_t kMaxWaitTimeoutS = 31ull * 24 * 3600;  // MariaDB's own upper bound
  // The session's own wait_timeout once it set one (as a server would), else the proxy's limit.
  if (model_.vars().system_variable_count() > 0) {
    if (auto v = model_.vars().system_variable("wait_timeout")) {
      uint64_t seconds = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seconds);
      if (ec == std::errc() && end == v->data() + v->size() && seconds > 0)
        return std::min(seconds, kMaxWaitTimeoutS) * 1000;
    }
  }
  return env_.config().limits.client_idle_timeout_ms;
}

// One timer per session, re-armed only when a deadline comes earlier than the armed one: a
// statement usually moves the deadline later, which costs nothing until the timer fires and
// finds it moved (then it is armed again for the rest).
void ClientSession::set_deadline(uint64_t deadline_ms) {
  deadline_ms_ = deadline_ms;
  if (deadline_ms == 0) return;
  if (!timer_.armed() || timer_.deadline_ms > deadline_ms) env_.timers().arm(timer_, deadline_ms);
}

void ClientSession::on_timer(core::Timer& t) {
  auto* self = static_cast<ClientSession*>(t.ctx);
  if (self->deadline_ms_ == 0 || self->phase_ == Phase::closing) return;
  if (self->env_.now_ms() < self->deadline_ms_) {
    self->env_.timers().arm(self->timer_, self->deadline_ms_);
    return;
  }
  self->deadline_ms_ = 0;
  self->on_deadline();
}

void ClientSession::on_deadline() {
  core::Stats& stats = env_.stats();
  if (login_.changing_user) {
    // (A silence check of the statement clock: COM_CHANGE_USER is cut off at the query deadline only.)
    if (watch_.query_deadline_ms == 0 || env_.now_ms() < watch_.query_deadline_ms) {
      arm_statement_timer();
      return;
    }
    core::Stats::inc(stats.server_query_timeouts_total);
    link_.send_err(login_.next_seq, errc::ER_QUERY_INTERRUPTED,
                   "odp: COM_CHANGE_USER cut off after limits.server_query_timeout_ms; the connection is closed",
                   "70100");
    close_session(true);
    return;
  }
  switch (phase_) {
    case Phase::greeting:
    case Phase::auth_switch:
    case Phase::lookup:
    case Phase::server_login:
      core::Stats::inc(stats.client_handshake_timeouts_total);
      LOG_INFO("client login timed out conn_id=%u peer=%s", id_, peer_.c_str());
      link_.send_err(login_.next_seq, errc::ER_HANDSHAKE_ERROR,
                     "odp: login not completed within limits.client_handshake_timeout_ms", "08S01");
      close_session(true);
      return;
    case Phase::ready:
      core::Stats::inc(stats.client_idle_timeouts_total);
      LOG_INFO("client idle timeout conn_id=%u peer=%s", id_, peer_.c_str());
      close_session(true);
      return;
    case Phase::routing_wait:
    case Phase::rerouting:
      retry_poll();
      return;
    case Phase::locating:
    case Phase::killing:
    case Phase::acquiring:
    case Phase::command:
    case Phase::upload:
    case Phase::reading_back:
    case Phase::change_user:
      on_statement_deadline();  // session_timeout.cpp
      return;
    case Phase::closing:
      return;
  }
}

void ClientSession::update_backpressure() {
  if (!link_.open()) return;
  ServerConn* server = lease_.current();
  bool server_ok = server != nullptr && server->state() == ServerConn::State::ready;
  // Stop reading the server while the client cannot keep up, and the client while the server
  // cannot (or while pipelined commands pile up): memory stays bounded whatever the peers do.
  if (server_ok) {
    if (link_.above_high_watermark()) {
      server->pause_reading();
    } else {
      server->resume_reading();
    }
  }
  link_.set_reading(link_.wants_more_input() && !(server_ok && server->conn().above_high_watermark()));
}

void ClientSession::on_stream_writable() {
  update_backpressure();
}

void ClientSession::on_server_writable(ServerConn& conn) {
  if (&conn == lease_.current()) update_backpressure();
}

void ClientSession::terminate(const char* why) {
  LOG_INFO("closing session conn_id=%u peer=%s why=\"%s\"", id_, peer_.c_str(), why);
  close_session(true);
}

void ClientSession::fail_protocol(const char* what, bool client_side) {
  core::Stats::inc(client_side ? env_.stats().client_protocol_errors_total : env_.stats().server_protocol_errors_total);
  LOG_WARN("protocol error conn_id=%u peer=%s side=%s what=\"%s\"", id_, peer_.c_str(),
           client_side ? "client" : "server", what);
  close_session(true);
}

void ClientSession::close_session(bool flush_client) {
  if (phase_ == Phase::closing) return;
  bool between_commands = phase_ == Phase::ready;
  enter(Phase::closing);
  if (published_) env_.session_ended(id_);
  if (kill_.held) {
    // The KILL this session says is left unfinished: the target need not hold its connection,
    // but one the KILL went out for must not serve anyone else (it may still land).
    kill_.held = false;
    env_.release_kill_hold(
        kill_.target, kill_.pin,
        kill_.sender != nullptr && kill_.sender->sent() ? KillOutcome::unknown : KillOutcome::not_sent);
  }
  kill_.sender = nullptr;
  env_.timers().disarm(timer_);
  // Idle connections go back to the pool (reset first when the session left state on them); the
  // one mid-command is cut.
  ServerConn* busy = between_commands ? nullptr : lease_.current();
  lease_.close_all(busy);
  link_.close(flush_client);
  core::Stats::dec(env_.stats().client_connections);
  env_.session_finished(this);
}

void ClientSession::resume_ready() {
  link_.channel().end_response();
  free_done_killers();  // (a session that says nothing but KILLs frees its side connections too)
  enter(Phase::ready);
  if (drain_if_quiet()) return;
  set_timeout(idle_timeout_ms());
  process_client_input();
}

void ClientSession::on_stream_closed(int err) {
  bool logging_in = phase_ == Phase::greeting || phase_ == Phase::auth_switch;
  if (!link_.input().empty() && (logging_in || phase_ == Phase::ready)) {
    // The client left in the middle of a packet: a truncated packet, not a clean goodbye.
    core::Stats::inc(env_.stats().client_protocol_errors_total);
    LOG_INFO("client closed mid-packet conn_id=%u peer=%s buffered=%zu", id_, peer_.c_str(), link_.input().size());
  }
  if (phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::change_user ||
      phase_ == Phase::acquiring || phase_ == Phase::reading_back) {
    core::Stats::inc(env_.stats().client_aborts_total);
    LOG_INFO("client went away mid-command conn_id=%u peer=%s err=%d", id_, peer_.c_str(), err);
  }
  close_session(false);
}

// --- server events: to the lease while it readies a connection, else to the command ------------

void ClientSession::on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) {
  (void)ok_payload;
  lease_.on_conn_ready(conn);
}

void ClientSession::on_server_login_failed(ServerConn& conn, const ErrPacket& err) {
  lease_.on_conn_login_failed(conn, err);
}

void ClientSession::on_server_data(ServerConn& conn, std::span<const uint8_t> data) {
  core::Stats::inc(env_.stats().server_bytes_received_total, static_cast<int64_t>(data.size()));
  if (phase_ == Phase::closing) return;
  if (lease_.readying(conn)) {
    size_t used = lease_.on_conn_data(conn, data);
    if (used >= data.size() || phase_ == Phase::closing) return;
    data = data.subspan(used);  // a pipelined read's answer, right behind the replay's
  }
  if (&conn == lease_.current()) {
    watch_.last_heard_ms = env_.now_ms();  // the statement's server is alive (silence probe)
    switch (phase_) {
      case Phase::command:
      case Phase::upload:
        on_response_data(conn, data);
        return;
      case Phase::reading_back:
        on_read_back_data(conn, data);
        return;
      case Phase::change_user:
        handle_change_user_reply(conn, data);
        return;
      default:
        break;
    }
  }
  // Unsolicited bytes on a connection this session holds but does not use now: the server is
  // closing it (KILL, wait_timeout, shutdown). An ERR is a lost server, not a protocol violation
  // (nor are the first bytes of one, split over reads, nor anything a KILL CONNECTION of this
  // session brings).
  const bool whole_header = data.size() > kPacketHeaderBytes;
  bool goodbye = !whole_header || data[kPacketHeaderBytes] == 0xFF || lease_.doomed(conn);
  if (goodbye) {
    std::optional<ErrPacket> err;
    if (whole_header) {
      auto decoded = decode_err(data.subspan(
          kPacketHeaderBytes, std::min<size_t>(decode_header(data.data()).length, data.size() - kPacketHeaderBytes)));
      if (decoded) err = std::move(*decoded);
    }
    LOG_WARN("server closed an idle connection conn_id=%u server=%s code=%u msg=\"%s\"", id_, conn.host_port().c_str(),
             err ? err->code : 0, err ? err->message.c_str() : "?");
    core::Stats::inc(env_.stats().server_aborts_total);
  } else {
    LOG_WARN("unexpected data from idle server conn_id=%u server=%s bytes=%zu", id_, conn.host_port().c_str(),
             data.size());
    core::Stats::inc(env_.stats().server_protocol_errors_total);
  }
  // A KILL CONNECTION of this session closes the connection it was meant for: the session ends.
  bool lost_state = (&conn == lease_.current() && (model_.tied() || env_.pool() == nullptr)) || lease_.doomed(conn);
  lease_.drop(conn);
  // Outside a transaction and without state tied to it, the session lives on and the next
  // statement reconnects; otherwise the client must learn that its session state is gone.
  if (lost_state) close_session(true);
}

void ClientSession::on_server_closed(ServerConn& conn, int err) {
  core::Stats::inc(env_.stats().server_aborts_total);
  LOG_WARN("server connection lost conn_id=%u server=%s phase=%d err=%d", id_, conn.host_port().c_str(),
           static_cast<int>(phase_), err);
  if (lease_.readying(conn)) {
    lease_.on_conn_closed(conn, err);  // reports on_lease_failed
    return;
  }
  std::string host_port = conn.host_port();
  std::string why = conn.protocol_failure();  // e.g. an OB 2.0 checksum that did not match
  bool active = &conn == lease_.current();
  bool busy = active && phase_ != Phase::ready;
  bool lost_state = active && (model_.tied() || env_.pool() == nullptr);
  bool killed = lease_.doomed(conn);
  env_.note_server_failure(host_port);
  lease_.drop(conn);
  if (killed) {
    // A KILL CONNECTION of this session landed: the session ends, whatever it was doing (a read
    // is not run again elsewhere).
    if (busy && (phase_ == Phase::command || phase_ == Phase::upload) && !exchange_.response_started())
      link_.send_err(1, errc::ER_CONNECTION_KILLED, "Connection was killed", "70100");
    close_session(true);
    return;
  }
  if (!busy && !lost_state && !login_.changing_user) return;  // the next statement reconnects
  if (busy && !lost_state && !login_.changing_user && phase_ == Phase::command && retry_lost(host_port, false)) return;
  if (busy && !login_.changing_user && phase_ == Phase::command && retry_lost_transaction_start(host_port)) return;
  if ((phase_ == Phase::command || phase_ == Phase::upload) && !exchange_.response_started()) {
    link_.send_err(
        1, errc::ER_NET_READ_ERROR,
        "odp: lost connection to server " + host_port + " during query" + (why.empty() ? std::string() : ": " + why),
        "08S01");
  } else if (login_.changing_user) {
    link_.send_err(login_.next_seq, errc::ER_NET_READ_ERROR,
                   "odp: lost connection to server " + host_port + " during COM_CHANGE_USER", "08S01");
  }
  close_session(true);
}

void ClientSession::on_server_splice_ready(ServerConn& conn) {
  // Bytes that were on their way when reads stopped have been scanned since: take what is left.
  uint32_t bytes = 0;
  if (&conn == lease_.current() && phase_ == Phase::command && link_.open() && link_.passthrough())
    bytes = exchange_.response_splice_bytes();
  if (bytes == 0) {
    conn.conn().splice_to(conn.conn(), 0);  // resumes reads
    return;
  }
  conn.conn().splice_to(*link_.conn(), bytes);  // false: no pipe to be had; reads resumed instead
}

void ClientSession::on_server_spliced(ServerConn& conn, uint64_t bytes) {
  if (&conn != lease_.current() || phase_ != Phase::command) return;
  handle_step(conn, exchange_.on_response_spliced(conn, bytes, model_.identity().client_caps));
}

void ClientSession::on_stream_splice_ready() {
  // Client bytes that were on their way have been consumed since; an unfinished header among
  // them (input not empty) means the packet ended: read on instead.
  uint32_t bytes = 0;
  ServerConn* server = lease_.current();
  bool server_ok = server != nullptr && server->state() == ServerConn::State::ready;
  if (phase_ == Phase::upload && link_.input().empty() && server_ok && link_.passthrough())
    bytes = exchange_.request_splice_bytes();
  if (bytes == 0) {
    link_.conn()->splice_to(*link_.conn(), 0);  // resumes reads
    return;
  }
  link_.conn()->splice_to(server->conn(), bytes);
}

void ClientSession::on_stream_spliced(uint64_t bytes) {
  if (phase_ != Phase::upload) return;
  bool too_large = false;
  bool end = exchange_.on_request_spliced(bytes, &too_large);
  if (too_large) {
    reject_oversized_request();
    return;
  }
  if (end) end_of_upload();
  update_backpressure();
}

}  // namespace odp::proxy
