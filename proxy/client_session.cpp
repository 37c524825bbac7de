// ClientSession: lifecycle, timers, backpressure and the helpers shared by the login and
// command phases (see client_session_login.cpp and client_session_command.cpp).
#include "proxy/client_session.h"

#include <algorithm>
#include <charconv>

#include "core/log.h"
#include "protocol/packet.h"
#include "protocol/resultset_writer.h"

namespace odp::proxy {

using namespace protocol;

namespace {
// Client bytes buffered while a command is in flight (pipelining) before we stop reading.
constexpr size_t kMaxBufferedClientBytes = 4u << 20;
std::atomic<uint64_t> g_next_token{1};
}  // namespace

ClientSession::ClientSession(SessionEnv& env, Conn* client, uint32_t connection_id, std::string peer)
    : env_(env), client_(client), channel_(client), id_(connection_id), peer_(std::move(peer)) {
  timer_.fn = &ClientSession::on_timer;
  timer_.ctx = this;
  token_ = g_next_token.fetch_add(1, std::memory_order_relaxed);
  client_->set_handler(this);
  core::Stats::inc(env_.stats().client_connections_accepted_total);
  core::Stats::inc(env_.stats().client_connections);
}

ClientSession::~ClientSession() {
  env_.timers().disarm(timer_);
  if (env_.pool() != nullptr) env_.pool()->cancel(this);
  server_ = nullptr;
  backends_.clear();
  dead_backends_.clear();
  query_killers_.clear();
  if (client_ != nullptr) client_->close(false);
}

void ClientSession::kill_running_query() {
  bool running = phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::after;
  if (finished_ || !running || server_ == nullptr || server_->state() != ServerConn::State::ready) return;
  LOG_INFO("kill query conn_id=%u server=%s thread=%u", id_, server_->host_port().c_str(), server_->thread_id());
  query_killers_.push_back(
      std::make_unique<QueryKiller>(env_, make_server_login(server_->host_port()), server_->thread_id()));
}

void ClientSession::start() {
  send_greeting();
  client_->start_reading();
  arm_timer(env_.config().limits.client_handshake_timeout_ms);
}

uint64_t ClientSession::idle_timeout_ms() const {
  constexpr uint64_t kMaxWaitTimeoutS = 31ull * 24 * 3600;  // MariaDB's own upper bound
  if (auto v = state_.system_variable("wait_timeout")) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seconds);
    if (ec == std::errc() && end == v->data() + v->size() && seconds > 0)
      return std::min(seconds, kMaxWaitTimeoutS) * 1000;
  }
  return env_.config().limits.client_idle_timeout_ms;
}

void ClientSession::arm_timer(uint64_t delay_ms) {
  if (delay_ms == 0) {
    env_.timers().disarm(timer_);
    return;
  }
  env_.timers().arm(timer_, env_.now_ms() + delay_ms);
}

void ClientSession::on_timer(core::Timer& t) {
  auto* self = static_cast<ClientSession*>(t.ctx);
  core::Stats& stats = self->env_.stats();
  if (self->changing_user_) {
    // A COM_CHANGE_USER (its credential look-up or the server's answer) outlived the query timeout.
    core::Stats::inc(stats.server_query_timeouts_total);
    self->send_err(self->next_client_seq_, errc::ER_QUERY_INTERRUPTED,
                   "odp: COM_CHANGE_USER cut off after limits.server_query_timeout_ms; the connection is closed",
                   "70100");
    self->close_session(true);
    return;
  }
  switch (self->phase_) {
    case Phase::greeting:
    case Phase::auth_switch:
    case Phase::lookup:
    case Phase::server_login:
      core::Stats::inc(stats.client_handshake_timeouts_total);
      LOG_INFO("client login timed out conn_id=%u peer=%s", self->id_, self->peer_.c_str());
      self->send_err(self->next_client_seq_, errc::ER_HANDSHAKE_ERROR,
                     "odp: login not completed within limits.client_handshake_timeout_ms", "08S01");
      self->close_session(true);
      return;
    case Phase::ready:
      core::Stats::inc(stats.client_idle_timeouts_total);
      LOG_INFO("client idle timeout conn_id=%u peer=%s", self->id_, self->peer_.c_str());
      self->close_session(true);
      return;
    case Phase::routing_wait:
    case Phase::rerouting:
      self->retry_poll();
      return;
    case Phase::connecting:
    case Phase::syncing:
    case Phase::after:
    case Phase::command:
    case Phase::upload:
    case Phase::change_user:
      core::Stats::inc(stats.server_query_timeouts_total);
      LOG_WARN("command timed out conn_id=%u peer=%s server=%s", self->id_, self->peer_.c_str(),
               self->server_ ? self->server_->host_port().c_str() : "-");
      if (!self->response_started_) {
        self->send_err(1, errc::ER_QUERY_INTERRUPTED,
                       "odp: query cut off after limits.server_query_timeout_ms; the connection is closed", "70100");
      }
      self->close_session(true);
      return;
    case Phase::closing:
      return;
  }
}

void ClientSession::send_to_client(std::span<const uint8_t> bytes) {
  if (client_ == nullptr) return;
  core::Stats::inc(env_.stats().client_bytes_sent_total, static_cast<int64_t>(bytes.size()));
  channel_.write(bytes);
}

void ClientSession::send_err(uint8_t seq, uint16_t code, const std::string& message, const char* sql_state) {
  ErrPacket err;
  err.code = code;
  err.sql_state = sql_state;
  err.message = message;
  std::vector<uint8_t> framed;
  encode_err_packet(seq, err, framed);
  send_to_client(framed);
}

void ClientSession::fail_protocol(const char* what, bool count_client) {
  if (count_client)
    core::Stats::inc(env_.stats().client_protocol_errors_total);
  else
    core::Stats::inc(env_.stats().server_protocol_errors_total);
  LOG_WARN("protocol error conn_id=%u peer=%s side=%s what=\"%s\"", id_, peer_.c_str(),
           count_client ? "client" : "server", what);
  close_session(true);
}

void ClientSession::update_backpressure() {
  if (client_ == nullptr) return;
  bool server_ok = server_ != nullptr && server_->state() == ServerConn::State::ready;
  // Stop reading the server while the client cannot keep up, and the client while the server
  // cannot (or while pipelined commands pile up): memory stays bounded whatever the peers do.
  bool want_server = !client_->above_high_watermark();
  if (server_ok && want_server == server_paused_) {
    server_paused_ = !want_server;
    if (want_server)
      server_->conn().start_reading();
    else
      server_->conn().stop_reading();
  }
  bool want_client = in_.size() < kMaxBufferedClientBytes && !(server_ok && server_->conn().above_high_watermark());
  if (want_client == client_paused_) {
    client_paused_ = !want_client;
    if (want_client)
      client_->start_reading();
    else
      client_->stop_reading();
  }
}

// Reads paused for backpressure end with the response: the connection may go back to the pool
// or stay while another serves, and must hear its server (the next answer, or a close). Nothing
// else comes from it meanwhile, so the client's backlog does not grow.
void ClientSession::resume_server_reads() {
  if (!server_paused_) return;
  server_paused_ = false;
  if (server_ != nullptr && server_->state() == ServerConn::State::ready) server_->conn().start_reading();
}

void ClientSession::on_stream_writable() {
  update_backpressure();
}
void ClientSession::on_server_writable(ServerConn& conn) {
  if (&conn == server_) update_backpressure();
}

void ClientSession::begin_drain() {
  draining_ = true;
  if (phase_ == Phase::ready || phase_ == Phase::greeting) close_session(true);
}

void ClientSession::terminate(const char* why) {
  LOG_INFO("closing session conn_id=%u peer=%s why=\"%s\"", id_, peer_.c_str(), why);
  close_session(true);
}

void ClientSession::close_session(bool flush_client) {
  if (finished_) return;
  bool graceful = phase_ == Phase::ready;
  phase_ = Phase::closing;
  finished_ = true;
  if (published_) env_.withdraw_session(id_);
  env_.timers().disarm(timer_);
  if (waiting_for_slot_ && env_.pool() != nullptr) env_.pool()->cancel(this);
  waiting_for_slot_ = false;
  for (auto& b : backends_) {
    // Idle connections say goodbye; the one mid-command (if any) is cut.
    bool idle = graceful || b.conn.get() != server_;
    if (idle) {
      b.conn->quit();
    } else {
      b.conn->close(false);
    }
  }
  if (client_ != nullptr) {
    client_->close(flush_client);
    channel_.detach();
    client_ = nullptr;
  }
  core::Stats::dec(env_.stats().client_connections);
  env_.session_finished(this);
}

void ClientSession::on_stream_closed(int err) {
  bool logging_in = phase_ == Phase::greeting || phase_ == Phase::auth_switch;
  if (!in_.empty() && (logging_in || phase_ == Phase::ready)) {
    // The client left in the middle of a packet: a truncated packet, not a clean goodbye.
    core::Stats::inc(env_.stats().client_protocol_errors_total);
    LOG_INFO("client closed mid-packet conn_id=%u peer=%s buffered=%zu", id_, peer_.c_str(), in_.size());
  }
  if (phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::change_user || phase_ == Phase::syncing ||
      phase_ == Phase::after || phase_ == Phase::connecting) {
    core::Stats::inc(env_.stats().client_aborts_total);
    LOG_INFO("client went away mid-command conn_id=%u peer=%s err=%d", id_, peer_.c_str(), err);
    // The server is mid-response: that connection cannot be reused or quit politely.
    if (server_ != nullptr) server_->close(false);
  }
  close_session(false);
}

void ClientSession::on_server_closed(ServerConn& conn, int err) {
  core::Stats::inc(env_.stats().server_aborts_total);
  LOG_WARN("server connection lost conn_id=%u server=%s phase=%d err=%d", id_, conn.host_port().c_str(),
           static_cast<int>(phase_), err);
  std::string host_port = conn.host_port();
  bool active = &conn == server_;
  bool busy = active && phase_ != Phase::ready;
  bool lost_state = active && (in_transaction_ || pinned_ != nullptr || lock_tables_ || env_.pool() == nullptr);
  env_.note_server_failure(host_port);
  drop_backend(conn);
  if (!busy && !lost_state && !changing_user_) {
    // An idle connection went away: the next statement that needs that server reconnects.
    return;
  }
  if (busy && plan_.login && phase_ == Phase::syncing) {
    // A pooled connection stood in for the login and its server died or hung: the client has
    // not been answered yet, so the login goes on with the next candidate.
    phase_ = Phase::server_login;
    ErrPacket lost;
    lost.code = errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE;
    lost.sql_state = "08001";
    lost.message = "odp: lost connection to server " + host_port + " during login";
    fail_over_login(host_port, lost);
    return;
  }
  if (busy && !lost_state && !changing_user_ && retry_lost_read(host_port)) return;
  if ((phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::syncing) && !response_started_) {
    send_err(1, errc::ER_NET_READ_ERROR, "odp: lost connection to server " + host_port + " during query", "08S01");
  } else if (changing_user_) {
    send_err(next_client_seq_, errc::ER_NET_READ_ERROR,
             "odp: lost connection to server " + host_port + " during COM_CHANGE_USER", "08S01");
  }
  close_session(true);
}

}  // namespace odp::proxy
