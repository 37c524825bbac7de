#include "proxy/server_conn.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <openssl/rand.h>

#include "base/log.h"
#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"

namespace odp::proxy {

using namespace protocol;

uint32_t proxy_capabilities() {
  return cap::LONG_PASSWORD | cap::FOUND_ROWS | cap::LONG_FLAG | cap::CONNECT_WITH_DB | cap::NO_SCHEMA | cap::ODBC |
         cap::LOCAL_FILES | cap::IGNORE_SPACE | cap::PROTOCOL_41 | cap::INTERACTIVE | cap::IGNORE_SIGPIPE |
         cap::TRANSACTIONS | cap::RESERVED | cap::SECURE_CONNECTION | cap::MULTI_STATEMENTS | cap::MULTI_RESULTS |
         cap::PS_MULTI_RESULTS | cap::PLUGIN_AUTH | cap::CONNECT_ATTRS | cap::PLUGIN_AUTH_LENENC_DATA |
         cap::CAN_HANDLE_EXPIRED_PASSWORDS | cap::SESSION_TRACK | cap::DEPRECATE_EOF | cap::REMEMBER_OPTIONS;
}

ServerConn::ServerConn(SessionEnv& env, Owner& owner) : env_(env), owner_(&owner) {
  timer_.fn = &ServerConn::on_timer;
  timer_.ctx = this;
}

ServerConn::~ServerConn() {
  close(false);
}

void ServerConn::close(bool flush) {
  env_.timers().disarm(timer_);
  if (counted_) {
    counted_ = false;
    env_.server_connection_closed(login_.server);
  }
  if (conn_ != nullptr) {
    conn_->close(flush);
    conn_ = nullptr;
    if (state_ != State::idle && state_ != State::connecting) core::Stats::dec(env_.stats().server_connections);
  }
  state_ = State::closed;
}

void ServerConn::quit() {
  if (conn_ != nullptr && state_ == State::ready) {
    static constexpr uint8_t kQuit[] = {1, 0, 0, 0, static_cast<uint8_t>(Command::quit)};
    write(kQuit);
    close(true);
    return;
  }
  close(false);
}

void ServerConn::login(ServerLogin login) {
  login_ = std::move(login);
  int err = 0;
  state_ = State::connecting;
  counted_ = login_.pooled;
  env_.timers().arm(timer_, env_.now_ms() + env_.config().limits.server_connect_timeout_ms);
  if (counted_) env_.server_connection_opened(login_.server);
  conn_ = env_.connect(login_.host_port, env_.config().limits.server_connect_timeout_ms, this, err, login_.opener);
  if (conn_ == nullptr) {
    fail_login(errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
               "odp: cannot connect to server " + login_.host_port + ": " + std::string(strerror(err)));
  }
}

void ServerConn::fail_login(uint16_t code, const std::string& message) {
  core::Stats::inc(env_.stats().server_connect_failures_total);
  LOG_WARN("server login failed server=%s user=%s code=%u msg=\"%s\"", login_.host_port.c_str(), login_.user.c_str(),
           code, message.c_str());
  close(false);
  ErrPacket err;
  err.code = code;
  err.sql_state = code == errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE ? "08001" : "08S01";
  err.message = message;
  owner_->on_server_login_failed(*this, err);
}

void ServerConn::on_stream_connected(int err) {
  if (err != 0) {
    fail_login(errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
               "odp: cannot connect to server " + login_.host_port + ": " + std::string(strerror(err)));
    return;
  }
  state_ = State::greeting;
  core::Stats::inc(env_.stats().server_connections);
  conn_->start_reading();
}

void ServerConn::on_stream_writable() {
  if (state_ == State::ready) owner_->on_server_writable(*this);
}

void ServerConn::on_stream_splice_ready() {
  if (state_ == State::ready) {
    owner_->on_server_splice_ready(*this);
  } else {
    conn_->splice_to(*conn_, 0);  // never asked for outside the command phase: just read on
  }
}

void ServerConn::on_stream_spliced(uint64_t bytes) {
  owner_->on_server_spliced(*this, bytes);
}

void ServerConn::on_stream_closed(int err) {
  if (state_ == State::ready) {
    owner_->on_server_closed(*this, err);
    return;
  }
  fail_login(errc::ER_NET_READ_ERROR, "odp: server " + login_.host_port + " closed the connection during login" +
                                          (err != 0 ? std::string(": ") + strerror(err) : std::string()));
}

void ServerConn::expect_reply(uint64_t within_ms) {
  if (state_ == State::ready && within_ms > 0) env_.timers().arm(timer_, env_.now_ms() + within_ms);
}

void ServerConn::on_timer(core::Timer& t) {
  auto* self = static_cast<ServerConn*>(t.ctx);
  const std::string& server = self->login_.host_port;
  if (self->state_ == State::ready) {
    LOG_WARN("server %s did not answer an internal statement in time: taken for hung", server.c_str());
    self->close(false);
    self->owner_->on_server_closed(*self, ETIMEDOUT);
    return;
  }
  if (self->state_ == State::closed || self->state_ == State::idle) return;
  // TCP may connect to a hung server (the kernel accepts for it); its greeting never comes.
  self->fail_login(errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
                   "odp: server " + server + " did not complete the login within limits.server_connect_timeout_ms");
}

void ServerConn::write(std::span<const uint8_t> bytes) {
  if (!ob20_out_) {
    conn_->write(bytes);
    return;
  }
  ob20_scratch_.clear();
  ob20_out_->wrap(bytes, ob20_scratch_, ob20_expect_);
  conn_->write(ob20_scratch_);
}

bool ServerConn::unwrap_ob20(std::span<const uint8_t> data) {
  ob20_scratch_.clear();
  auto fed = ob20_in_->feed(data, ob20_expect_, ob20_scratch_);
  if (fed) return true;
  core::Stats::inc(env_.stats().server_ob20_errors_total);
  protocol_failure_ = std::string("OB 2.0 frame refused (") + fed.error().what + ")";
  LOG_WARN("server %s: %s: connection closed", login_.host_port.c_str(), protocol_failure_.c_str());
  if (state_ != State::ready) {
    fail_login(errc::ER_HANDSHAKE_ERROR, "odp: server " + login_.host_port + " sent a bad " + protocol_failure_);
    return false;
  }
  close(false);
  owner_->on_server_closed(*this, EBADMSG);
  return false;
}

void ServerConn::on_stream_data(std::span<const uint8_t> data) {
  if (ob20_in_ && (state_ == State::ready || state_ == State::setup)) {
    if (!unwrap_ob20(data)) return;
    if (ob20_scratch_.empty()) return;
    // The owner may write (which reuses the scratch buffer) while it reads: the unwrapped bytes are
    // moved out of it first, and the buffer is taken back afterwards when nothing replaced it.
    std::vector<uint8_t> plain;
    plain.swap(ob20_scratch_);
    on_plain_data(plain);
    if (ob20_scratch_.empty()) ob20_scratch_.swap(plain);
    return;
  }
  on_plain_data(data);
}

void ServerConn::on_plain_data(std::span<const uint8_t> data) {
  if (state_ == State::ready) {
    if (timer_.armed()) env_.timers().disarm(timer_);  // expect_reply(): the answer is coming
    owner_->on_server_data(*this, data);
    return;
  }
  if (state_ == State::setup) {
    on_setup_data(data);
    return;
  }
  if (state_ != State::greeting && state_ != State::authenticating) return;
  std::span<const uint8_t> rest = data;
  while (state_ == State::greeting || state_ == State::authenticating) {
    auto fed = login_in_.feed(rest);
    if (!fed) {
      core::Stats::inc(env_.stats().server_protocol_errors_total);
      fail_login(errc::ER_HANDSHAKE_ERROR, "odp: oversized login packet from server " + login_.host_port);
      return;
    }
    rest = rest.subspan(*fed);
    if (!login_in_.has_packet()) return;
    std::vector<uint8_t> payload(login_in_.payload().begin(), login_in_.payload().end());
    uint8_t seq = login_in_.seq();
    login_in_.pop();
    handle_login_packet(payload, seq);
  }
  // Anything after the login OK is the answer to the setup statement (in OB 2.0 frames when granted).
  if (state_ == State::setup && !rest.empty()) on_stream_data(rest);
}

void ServerConn::send_packet(uint8_t seq, std::span<const uint8_t> payload) {
  std::vector<uint8_t> framed;
  encode_packet(seq, payload, framed);
  conn_->write(framed);
}

void ServerConn::handle_login_packet(std::span<const uint8_t> payload, uint8_t seq) {
  if (payload.empty()) {
    fail_login(errc::ER_HANDSHAKE_ERROR, "odp: empty login packet from server " + login_.host_port);
    return;
  }
  if (payload[0] == 0xFF) {
    auto err = decode_err(payload);
    close(false);
    core::Stats::inc(env_.stats().server_connect_failures_total);
    if (!err) {
      fail_login(errc::ER_HANDSHAKE_ERROR, "odp: malformed error packet from server " + login_.host_port);
      return;
    }
    state_ = State::closed;
    owner_->on_server_login_failed(*this, err.value());
    return;
  }
  if (state_ == State::greeting) {
    auto hs = decode_handshake_v10(payload);
    if (!hs) {
      core::Stats::inc(env_.stats().server_protocol_errors_total);
      fail_login(errc::ER_HANDSHAKE_ERROR,
                 std::string("odp: bad handshake from server ") + login_.host_port + ": " + hs.error().what);
      return;
    }
    thread_id_ = hs->connection_id;
    scramble_ = hs->scramble;
    send_handshake_response(hs.value());
    state_ = State::authenticating;
    return;
  }
  // Authenticating: OK, auth switch, or more data.
  if (payload[0] == 0x00) {
    if (login_.ob) accept_ob_capabilities(payload);
    start_setup(payload);
    return;
  }
  if (payload[0] == 0xFE) {
    if (login_.ob) {
      // The forwarded token answers the scramble odp gave the client, nothing else.
      fail_login(errc::ER_NOT_SUPPORTED_AUTH_MODE,
                 "odp: server " + login_.host_port + " asks user '" + login_.user +
                     "' for another authentication round, which a proxy login cannot answer");
      return;
    }
    auto answer = answer_auth_switch(payload, login_.stage1);
    if (!answer) {
      fail_login(errc::ER_NOT_SUPPORTED_AUTH_MODE,
                 "odp: server " + login_.host_port + " asks for an authentication method odp cannot answer for user '" +
                     login_.user + "' (only mysql_native_password)");
      return;
    }
    send_packet(static_cast<uint8_t>(seq + 1), {reinterpret_cast<const uint8_t*>(answer->data()), answer->size()});
    return;
  }
  fail_login(errc::ER_NOT_SUPPORTED_AUTH_MODE, "odp: unexpected authentication packet from server " + login_.host_port +
                                                   " for user '" + login_.user + "'");
}

void ServerConn::accept_ob_capabilities(std::span<const uint8_t> login_ok) {
  auto ok = decode_ok(login_ok, capabilities_);
  ob_capabilities_ = 0;
  if (ok && !ok->session_state.empty()) {
    const std::span<const uint8_t> state(reinterpret_cast<const uint8_t*>(ok->session_state.data()),
                                         ok->session_state.size());
    auto granted = ob_capabilities_granted(state);
    if (granted) ob_capabilities_ = *granted & login_.ob->capabilities;
    global_vars_version_ = ob_global_vars_version(state);
  }
  if (!(ob_capabilities_ & obcap::OB_PROTOCOL_V2)) return;
  uint32_t first_request_id = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&first_request_id), sizeof first_request_id);
  ob20_out_.emplace(thread_id_, first_request_id & kOb20MaxRequestId, login_.ob->checksum);
  ob20_out_->set_new_extra_info((ob_capabilities_ & obcap::PROXY_NEW_EXTRA_INFO) != 0);
  ob20_in_.emplace(thread_id_, env_.config().limits.max_packet_bytes + (1u << 20));
  core::Stats::inc(env_.stats().server_ob20_connections_total);
}

void ServerConn::add_ob_proxy_login(const HandshakeV10& hs, HandshakeResponse41& r) {
  const ObProxyLogin& ob = *login_.ob;
  r.capabilities |= cap::CONNECT_ATTRS | cap::SESSION_TRACK;  // as obproxy: the server needs both
  capabilities_ = r.capabilities;
  r.auth_response = ob.token.token;  // unchanged: the server checks it against our scramble
  ObProxyLoginAttributes a;
  a.server_session_id = hs.connection_id;
  a.proxy_connection_id = login_.opener;
  a.capabilities = ob.capabilities;
  a.cluster_name = ob.cluster_name;
  if (!ob.token.token.empty()) a.proxy_scramble = proxy_scramble(ob.token.scramble, hs.scramble);
  const size_t colon = ob.client_peer.rfind(':');
  a.client_ip = ob.client_peer.substr(0, colon);
  if (a.client_ip.size() >= 2 && a.client_ip.front() == '[')
    a.client_ip = a.client_ip.substr(1, a.client_ip.size() - 2);
  if (colon != std::string::npos)
    a.client_port = static_cast<uint16_t>(std::strtoul(ob.client_peer.c_str() + colon + 1, nullptr, 10));
  a.client_session_id = login_.opener;
  a.client_connect_time_us = ob.client_connect_time_us;
  a.proxy_version = ODP_VERSION_STRING;
  r.attributes = ob_proxy_login_attributes(a, login_.attributes);
}

void ServerConn::start_setup(std::span<const uint8_t> login_ok) {
  login_ok_.assign(login_ok.begin(), login_ok.end());
  if (!(capabilities_ & cap::SESSION_TRACK)) {
    // A server without session tracking: the connection works, but state changes made on it
    // cannot be learned (the session pins itself to it instead of moving).
    become_ready();
    return;
  }
  state_ = State::setup;
  write(setup_.begin_query(kSessionTrackingSetup, capabilities_));
}

void ServerConn::on_setup_data(std::span<const uint8_t> data) {
  size_t used = 0;
  auto step = setup_.feed(data, &used);
  if (step == InternalQuery::Step::more) return;
  if (step == InternalQuery::Step::error || used < data.size()) {
    core::Stats::inc(env_.stats().server_protocol_errors_total);
    fail_login(errc::ER_HANDSHAKE_ERROR,
               std::string("odp: bad answer from server ") + login_.host_port +
                   " to the session-tracking setup: " + (setup_.failure() ? setup_.failure() : "unexpected bytes"));
    return;
  }
  if (setup_.error() && refused_before_running(setup_.error()->code)) {
    // An OceanBase server starting or stopping: it runs nothing now; another server takes the login.
    const ErrPacket err = *setup_.error();
    core::Stats::inc(env_.stats().server_connect_failures_total);
    core::Stats::inc(env_.stats().route_server_refusals_total);
    LOG_INFO("server %s refused the setup before running it (code=%u): not usable now", login_.host_port.c_str(),
             err.code);
    close(false);
    owner_->on_server_login_failed(*this, err);
    return;
  }
  tracks_session_state_ = !setup_.error().has_value();
  if (setup_.error()) {
    LOG_WARN("server %s refused session tracking (code=%u msg=\"%s\"): sessions stay on it", login_.host_port.c_str(),
             setup_.error()->code, setup_.error()->message.c_str());
  }
  become_ready();
}

void ServerConn::become_ready() {
  state_ = State::ready;
  env_.timers().disarm(timer_);
  core::Stats::inc(env_.stats().server_connects_total);
  owner_->on_server_ready(*this, login_ok_);
}

std::optional<std::string> ServerConn::answer_auth_switch(std::span<const uint8_t> payload,
                                                          const std::optional<std::array<uint8_t, 20>>& stage1) const {
  auto sw = decode_auth_switch_request(payload);
  if (!sw || sw->plugin_name != kNativePasswordPlugin) return std::nullopt;
  std::string_view scramble = auth_switch_scramble(sw.value());
  if (!stage1) return std::string();
  if (scramble.size() != kScrambleBytes) return std::nullopt;
  return native_password_response(*stage1, {reinterpret_cast<const uint8_t*>(scramble.data()), scramble.size()});
}

void ServerConn::send_handshake_response(const HandshakeV10& hs) {
  HandshakeResponse41 r;
  // The server answers in the client's dialect (EOF packets or not, session tracking, multi
  // results), so the client's wishes pass through, minus what odp terminates itself.
  // Session tracking is always asked for: odp learns state changes from it (and removes it from
  // OK packets for clients that did not ask for it).
  uint32_t wanted = (login_.client_capabilities & proxy_capabilities()) | cap::PROTOCOL_41 | cap::SECURE_CONNECTION |
                    cap::PLUGIN_AUTH | cap::LONG_PASSWORD | cap::SESSION_TRACK;
  wanted &= ~(cap::SSL | cap::COMPRESS);
  if (login_.database.empty())
    wanted &= ~cap::CONNECT_WITH_DB;
  else
    wanted |= cap::CONNECT_WITH_DB;
  r.capabilities = wanted & (hs.capabilities | cap::CONNECT_ATTRS);
  if (!(hs.capabilities & cap::CONNECT_ATTRS)) r.capabilities &= ~cap::CONNECT_ATTRS;
  if (!(hs.capabilities & cap::MARIADB_CLIENT_MYSQL)) {
    // A MariaDB server: the client's extended capabilities odp forwards go along.
    r.capabilities &= ~cap::MARIADB_CLIENT_MYSQL;
    r.mariadb_ext_capabilities =
        login_.mariadb_ext_capabilities & hs.mariadb_ext_capabilities & mariadb_cap::kForwardable;
    mariadb_capabilities_ = r.mariadb_ext_capabilities;
  }
  capabilities_ = r.capabilities;
  r.max_packet_size = login_.max_packet_size != 0 ? login_.max_packet_size : (1u << 30);
  r.charset = login_.charset;
  r.username = login_.user;
  if (login_.stage1) r.auth_response = native_password_response(*login_.stage1, hs.scramble);
  r.database = login_.database;
  r.auth_plugin_name = kNativePasswordPlugin;
  r.attributes = login_.attributes;
  if (login_.ob) add_ob_proxy_login(hs, r);
  std::vector<uint8_t> payload;
  encode_handshake_response41(r, payload);
  send_packet(1, payload);
}

}  // namespace odp::proxy
