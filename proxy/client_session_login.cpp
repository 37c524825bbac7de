// ClientSession, login phase: our greeting, TLS upgrade, auth switch to mysql_native_password,
// the credential check, and the login to the server.
#include <arpa/inet.h>

#include "core/log.h"
#include "protocol/auth.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/resultset_writer.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

namespace {
constexpr const char* kProxysysTenant = "proxysys";

// Loopback or RFC 1918 / unique-local addresses: where an operator's admin client may come from.
bool is_local_or_private(const std::string& host) {
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    uint32_t ip = ntohl(a4.s_addr);
    return (ip >> 24) == 127 || (ip >> 24) == 10 || (ip >> 20) == ((172u << 4) | 1) ||
           (ip >> 16) == ((192u << 8) | 168);
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    if ((a6.s6_addr[0] & 0xFE) == 0xFC) return true;  // fc00::/7
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      char v4[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof v4);
      return is_local_or_private(v4);
    }
  }
  return false;
}

std::string peer_host(const std::string& peer) {
  // "1.2.3.4:5678" or "[::1]:5678" -> the address part, as MySQL shows it in access errors.
  size_t colon = peer.rfind(':');
  std::string host = colon == std::string::npos ? peer : peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}
}  // namespace

uint32_t ClientSession::advertised_capabilities() const {
  uint32_t caps = (proxy_capabilities() & env_.backend().capabilities) | cap::LONG_PASSWORD | cap::PROTOCOL_41 |
                  cap::SECURE_CONNECTION | cap::PLUGIN_AUTH;
  if (env_.client_tls() != nullptr) caps |= cap::SSL;
  if (env_.config().protocol.compression_to_client) caps |= cap::COMPRESS;
  return caps;
}

void ClientSession::send_greeting() {
  scramble_ = make_scramble();
  HandshakeV10 hs;
  hs.server_version = env_.backend().server_version;
  hs.connection_id = id_;
  hs.scramble = scramble_;
  hs.capabilities = advertised_capabilities();
  hs.charset = env_.backend().charset;
  hs.status_flags = status::AUTOCOMMIT;
  hs.auth_plugin_name = kNativePasswordPlugin;
  std::vector<uint8_t> payload;
  encode_handshake_v10(hs, payload);
  std::vector<uint8_t> framed;
  next_client_seq_ = encode_packet(0, payload, framed);
  send_to_client(framed);
}

bool ClientSession::handle_login_packet(std::span<const uint8_t> payload, uint8_t seq) {
  if (seq != next_client_seq_) {
    send_err(next_client_seq_, errc::ER_NET_PACKETS_OUT_OF_ORDER, "odp: got packets out of order during login",
             "08S01");
    fail_protocol("login packet out of order");
    return false;
  }
  if (phase_ == Phase::auth_switch) {
    next_client_seq_ = static_cast<uint8_t>(seq + 1);
    verify_credentials(std::string(reinterpret_cast<const char*>(payload.data()), payload.size()));
    return true;
  }
  if (is_ssl_request(payload)) {
    if (env_.client_tls() == nullptr || channel_.tls_active()) {
      send_err(static_cast<uint8_t>(seq + 1), errc::ER_HANDSHAKE_ERROR, "odp: TLS is not enabled ([tls] in the config)",
               "08S01");
      fail_protocol("SSLRequest without TLS configured");
      return false;
    }
    if (!channel_.start_tls(env_.client_tls())) {
      core::Stats::inc(env_.stats().client_tls_failures_total);
      close_session(false);
      return false;
    }
    next_client_seq_ = static_cast<uint8_t>(seq + 1);
    return true;
  }
  return handle_handshake_response(payload, seq);
}

bool ClientSession::handle_handshake_response(std::span<const uint8_t> payload, uint8_t seq) {
  auto decoded = decode_handshake_response41(payload);
  if (!decoded) {
    send_err(static_cast<uint8_t>(seq + 1), errc::ER_HANDSHAKE_ERROR,
             std::string("odp: bad handshake: ") + decoded.error().what, "08S01");
    fail_protocol(decoded.error().what);
    return false;
  }
  if (channel_.tls_active()) core::Stats::inc(env_.stats().client_tls_handshakes_total);
  hello_ = std::move(decoded.value());
  client_caps_ = hello_.capabilities & (advertised_capabilities() | cap::CONNECT_ATTRS);
  next_client_seq_ = static_cast<uint8_t>(seq + 1);
  const admin::Config& cfg = env_.config();
  const admin::ClusterConfig* default_cluster = cfg.find_cluster(cfg.default_cluster);
  login_ =
      parse_login_name(hello_.username, default_cluster ? default_cluster->default_tenant : "sys", cfg.default_cluster);
  if (login_.tenant == kProxysysTenant) {
    admin_ = true;
    if (login_.user != "root" || (!cfg.admin.allow_remote && !is_local_or_private(peer_host(peer_)))) {
      core::Stats::inc(env_.stats().client_auth_failures_total);
      send_err(next_client_seq_, errc::ER_ACCESS_DENIED_ERROR,
               "Access denied for user '" + login_.user + "@proxysys'@'" + peer_host(peer_) +
                   "' (only root@proxysys, from local or private addresses unless admin.allow_remote)",
               "28000");
      close_session(true);
      return false;
    }
  } else if (cfg.find_cluster(login_.cluster) == nullptr) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    send_err(next_client_seq_, errc::ER_ACCESS_DENIED_ERROR, "odp: unknown cluster '" + login_.cluster + "'", "28000");
    close_session(true);
    return false;
  }
  if (!hello_.auth_plugin_name.empty() && hello_.auth_plugin_name != kNativePasswordPlugin) {
    request_native_password();
    return true;
  }
  verify_credentials(hello_.auth_response);
  return true;
}

void ClientSession::request_native_password() {
  // The client started with another method (caching_sha2_password, ed25519...): ask it for
  // mysql_native_password against our scramble, which is what we can check and replay.
  AuthSwitchRequest sw;
  sw.plugin_name = kNativePasswordPlugin;
  sw.plugin_data.assign(reinterpret_cast<const char*>(scramble_.data()), scramble_.size());
  sw.plugin_data.push_back('\0');
  std::vector<uint8_t> body;
  encode_auth_switch_request(sw, body);
  std::vector<uint8_t> framed;
  next_client_seq_ = encode_packet(next_client_seq_, body, framed);
  send_to_client(framed);
  phase_ = Phase::auth_switch;
}

void ClientSession::verify_credentials(const std::string& auth_response) {
  phase_ = Phase::lookup;
  pending_auth_response_ = auth_response;
  if (admin_) {
    // root@proxysys is checked against [admin] proxysys_password_sha1 = hex SHA1(password).
    UserCredential cred;
    cred.exists = true;
    const std::string& hex = env_.config().admin.proxysys_password_sha1;
    if (hex.empty()) {
      cred.empty_password = true;
    } else if (auto stage1 = parse_stage2_hex(hex)) {  // same 40-hex-digit form
      cred.stage2 = sha1(std::span<const uint8_t>(*stage1));
    } else {
      cred.exists = false;
    }
    on_credential(cred);
    return;
  }
  env_.lookup_credential(login_.cluster, login_.user, token_,
                         [this](Result<UserCredential, std::string> r) { on_credential(std::move(r)); });
}

void ClientSession::on_credential(Result<UserCredential, std::string> result) {
  if (finished_ || phase_ != Phase::lookup) return;
  if (!result) {
    core::Stats::inc(env_.stats().server_connect_failures_total);
    send_err(next_client_seq_, errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
             "odp: cannot check the login of '" + login_.user + "': cluster '" + login_.cluster +
                 "' is unreachable: " + result.error(),
             "08S01");
    close_session(true);
    return;
  }
  const UserCredential& cred = result.value();
  std::span<const uint8_t> scramble(scramble_);
  bool ok = false;
  if (cred.exists && !cred.unusable_plugin.empty()) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    LOG_WARN("login refused conn_id=%u user=%s: account uses auth plugin %s", id_, login_.user.c_str(),
             cred.unusable_plugin.c_str());
    send_err(next_client_seq_, errc::ER_ACCESS_DENIED_ERROR,
             "Access denied for user '" + login_.user + "': its authentication plugin '" + cred.unusable_plugin +
                 "' cannot be proxied (odp needs mysql_native_password)",
             "28000");
    close_session(true);
    return;
  }
  if (cred.exists && cred.empty_password) {
    ok = native_password_is_empty(pending_auth_response_);
    stage1_.reset();
  } else if (cred.exists) {
    auto stage1 = native_password_verify(pending_auth_response_, scramble, cred.stage2);
    ok = stage1.has_value();
    if (ok) stage1_ = *stage1;
  }
  if (!ok) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    LOG_INFO("login refused conn_id=%u peer=%s user=%s exists=%d", id_, peer_.c_str(), login_.user.c_str(),
             cred.exists ? 1 : 0);
    send_err(next_client_seq_, errc::ER_ACCESS_DENIED_ERROR,
             "Access denied for user '" + login_.user + "'@'" + peer_host(peer_) +
                 "' (using password: " + (pending_auth_response_.empty() ? "NO" : "YES") + ")",
             "28000");
    close_session(true);
    return;
  }
  pending_auth_response_.clear();
  if (admin_) {
    OkPacket welcome;
    welcome.status_flags = status::AUTOCOMMIT;
    std::vector<uint8_t> payload;
    encode_ok(welcome, client_caps_, payload);
    LOG_INFO("proxysys login conn_id=%u peer=%s", id_, peer_.c_str());
    finish_login(payload);
  } else if (changing_user_) {
    send_change_user_to_server();
  } else {
    connect_server();
  }
}

void ClientSession::connect_server() {
  phase_ = Phase::server_login;
  state_.reset(hello_.database);
  // The login goes to the server a statement without a table would use (the tenant's primary
  // zone); it also checks the password against the server before the client is let in.
  plan_ = Plan{};
  plan_route(Command::ping, {});
  login_to(plan_.candidates.empty() ? std::string() : plan_.candidates.front());
}

void ClientSession::login_to(const std::string& host_port) {
  if (ServerPool* pool = env_.pool(); pool != nullptr && !host_port.empty()) {
    // An idle connection of the same user stands in for the login (the server accepted this user
    // already); only the database the client asked for is checked, by selecting it.
    if (Backend* b = find_backend(host_port)) {
      server_ = b->conn.get();
      plan_.login = true;
      request_.clear();
      start_preamble(*b);
      return;
    }
    if (!pool->may_open(host_port)) {
      core::Stats::inc(env_.stats().pool_waits_total);
      waiting_for_slot_ = true;
      pool->wait(host_port, this);
      return;
    }
  }
  backends_.push_back(Backend{std::make_unique<ServerConn>(env_, *this), state_.fresh_connection()});
  server_ = backends_.back().conn.get();
  server_->login(make_server_login(host_port));
}

void ClientSession::on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) {
  env_.note_server_success(conn.host_port());
  if (phase_ == Phase::connecting) {
    execute_plan();
    return;
  }
  if (phase_ != Phase::server_login) return;
  LOG_DEBUG("session ready conn_id=%u peer=%s user=%s server=%s thread=%u", id_, peer_.c_str(), login_.user.c_str(),
            server_->host_port().c_str(), server_->thread_id());
  env_.publish_session(id_, {server_->host_port(), server_->thread_id(), login_.user, peer_, env_.worker_index()});
  published_ = true;
  // The client sees the login OK in the dialect it asked for.
  std::vector<uint8_t> plain;
  if (!(client_caps_ & cap::SESSION_TRACK)) {
    auto ok = decode_ok(ok_payload, server_->capabilities());
    if (ok && (ok->status_flags & status::SESSION_STATE_CHANGED))
      encode_ok_without_session_state(std::move(ok.value()), client_caps_, plain);
  }
  finish_login(plain.empty() ? ok_payload : std::span<const uint8_t>(plain));
}

void ClientSession::finish_login(std::span<const uint8_t> ok_payload) {
  std::vector<uint8_t> framed;
  encode_packet(next_client_seq_, ok_payload, framed);
  send_to_client(framed);
  if (client_caps_ & cap::COMPRESS) {
    core::Stats::inc(env_.stats().client_compressed_sessions_total);
    channel_.start_compression(env_.config().limits.max_packet_bytes + (1u << 20));
  }
  phase_ = Phase::ready;
  arm_timer(idle_timeout_ms());
  if (draining_) {
    close_session(true);
    return;
  }
  release_backends();  // the login connection serves others until this client sends something
  process_client_input();
  update_backpressure();
}

void ClientSession::fail_over_login(const std::string& host_port, const ErrPacket& err) {
  // The server is down, hung or went away before the login finished: the client has not been
  // told anything yet, so another candidate (the next in the tenant's zone and LDC order) serves.
  env_.note_server_failure(host_port);
  if (++plan_.next < plan_.candidates.size()) {
    LOG_INFO("login candidate failed conn_id=%u server=%s: %s; trying %s", id_, host_port.c_str(), err.message.c_str(),
             plan_.candidates[plan_.next].c_str());
    login_to(plan_.candidates[plan_.next]);
    return;
  }
  std::vector<uint8_t> framed;
  encode_err_packet(next_client_seq_, err, framed);
  send_to_client(framed);
  close_session(true);
}

void ClientSession::on_server_login_failed(ServerConn& conn, const ErrPacket& err) {
  if (finished_) return;
  if (phase_ == Phase::connecting) {
    // A server the route chose refused or failed: try the next candidate.
    env_.note_server_failure(conn.host_port());
    LOG_INFO("route candidate failed conn_id=%u server=%s code=%u: %s", id_, conn.host_port().c_str(), err.code,
             err.message.c_str());
    drop_backend(conn);
    bool refused_login = err.code == errc::ER_ACCESS_DENIED_ERROR;
    if (!refused_login && ++plan_.next < plan_.candidates.size()) {
      execute_plan();
      return;
    }
    std::vector<uint8_t> framed;
    encode_err_packet(1, err, framed);
    send_to_client(framed);
    resume_ready();
    return;
  }
  bool unreachable = err.code == errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE || err.code == errc::ER_NET_READ_ERROR;
  if (phase_ == Phase::server_login && unreachable) {
    std::string host_port = conn.host_port();
    drop_backend(conn);
    fail_over_login(host_port, err);
    return;
  }
  uint8_t seq = phase_ == Phase::server_login ? next_client_seq_ : 1;
  std::vector<uint8_t> framed;
  encode_err_packet(seq, err, framed);
  send_to_client(framed);
  close_session(true);
}

}  // namespace odp::proxy
