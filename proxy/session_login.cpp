// ClientSession, login: our greeting, TLS upgrade, auth switch to mysql_native_password, the
// credential check (from memory when cached, re-checked with the cluster before a refusal), then
// the client's OK: at once when the credential and the database are known good (server_mode
// "mysql"; the server connection comes with the first statement), else after a server connection
// for the session (from the pool when one of the same login dialect is idle, else a login of its
// own) proved the login.
#include <arpa/inet.h>

#include <charconv>

#include "base/log.h"
#include "protocol/auth.h"
#include "protocol/ob_login.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/session_track.h"
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
  // In front of MariaDB, odp speaks MariaDB: bit 0 (CLIENT_MYSQL) clear announces the extended
  // capabilities it can forward (bulk executes, extended type info, progress reports).
  if (advertised_mariadb_capabilities() != 0) caps &= ~cap::MARIADB_CLIENT_MYSQL;
  if (env_.client_tls() != nullptr) caps |= cap::SSL;
  if (env_.config().protocol.compression_to_client) caps |= cap::COMPRESS;
  return caps;
}

uint32_t ClientSession::advertised_mariadb_capabilities() const {
  return env_.backend().mariadb_ext_capabilities & mariadb_cap::kForwardable;
}

void ClientSession::send_greeting() {
  login_.scramble = make_scramble();
  HandshakeV10 hs;
  hs.server_version = env_.backend().server_version;
  hs.connection_id = id_;
  hs.scramble = login_.scramble;
  hs.capabilities = advertised_capabilities();
  hs.charset = env_.backend().charset;
  hs.status_flags = status::AUTOCOMMIT;
  hs.auth_plugin_name = kNativePasswordPlugin;
  hs.mariadb_ext_capabilities = advertised_mariadb_capabilities();
  std::vector<uint8_t> payload, framed;
  encode_handshake_v10(hs, payload);
  login_.next_seq = encode_packet(0, payload, framed);
  link_.send(framed);
}

void ClientSession::handle_login_packet(std::span<const uint8_t> payload, uint8_t seq) {
  if (seq != login_.next_seq) {
    link_.send_err(login_.next_seq, errc::ER_NET_PACKETS_OUT_OF_ORDER, "odp: got packets out of order during login",
                   "08S01");
    fail_protocol("login packet out of order");
    return;
  }
  if (phase_ == Phase::auth_switch) {
    login_.next_seq = static_cast<uint8_t>(seq + 1);
    verify_credentials(std::string(reinterpret_cast<const char*>(payload.data()), payload.size()));
    return;
  }
  if (is_ssl_request(payload)) {
    if (env_.client_tls() == nullptr || link_.channel().tls_active()) {
      link_.send_err(static_cast<uint8_t>(seq + 1), errc::ER_HANDSHAKE_ERROR,
                     "odp: TLS is not enabled ([tls] in the config)", "08S01");
      fail_protocol("SSLRequest without TLS configured");
      return;
    }
    if (!link_.channel().start_tls(env_.client_tls())) {
      core::Stats::inc(env_.stats().client_tls_failures_total);
      close_session(false);
      return;
    }
    login_.next_seq = static_cast<uint8_t>(seq + 1);
    return;
  }
  handle_handshake_response(payload, seq);
}

void ClientSession::handle_handshake_response(std::span<const uint8_t> payload, uint8_t seq) {
  auto decoded = decode_handshake_response41(payload);
  if (!decoded) {
    link_.send_err(static_cast<uint8_t>(seq + 1), errc::ER_HANDSHAKE_ERROR,
                   std::string("odp: bad handshake: ") + decoded.error().what, "08S01");
    fail_protocol(decoded.error().what);
    return;
  }
  if (link_.channel().tls_active()) core::Stats::inc(env_.stats().client_tls_handshakes_total);
  login_.hello = std::move(decoded.value());
  const HandshakeResponse41& hello = login_.hello;
  login_.next_seq = static_cast<uint8_t>(seq + 1);
  const admin::Config& cfg = env_.config();
  const admin::ClusterConfig* default_cluster = cfg.find_cluster(cfg.default_cluster);
  SessionIdentity& id = login_.identity;
  id.login =
      parse_login_name(hello.username, default_cluster ? default_cluster->default_tenant : "sys", cfg.default_cluster);
  id.peer = peer_;
  id.connection_id = id_;
  id.client_caps = hello.capabilities & (advertised_capabilities() | cap::CONNECT_ATTRS);
  id.mariadb_ext_caps = hello.mariadb_ext_capabilities & advertised_mariadb_capabilities();
  id.charset = hello.charset;
  id.max_packet_size = hello.max_packet_size;
  id.login_database = hello.database;
  id.attributes = hello.attributes;
  login_.ob_client_caps = ob_caps_for_client(hello);
  // With OB 2.0 the server side never compresses (an OBServer clears CLIENT_COMPRESS for it).
  if (login_.ob_client_caps != 0) id.client_caps &= ~cap::COMPRESS;
  if (id.login.tenant == kProxysysTenant) {
    id.admin = true;
    if (id.login.user != "root" || (!cfg.admin.allow_remote && !is_local_or_private(peer_host(peer_)))) {
      core::Stats::inc(env_.stats().client_auth_failures_total);
      link_.send_err(login_.next_seq, errc::ER_ACCESS_DENIED_ERROR,
                     "Access denied for user '" + id.login.user + "@proxysys'@'" + peer_host(peer_) +
                         "' (only root@proxysys, from local or private addresses unless admin.allow_remote)",
                     "28000");
      close_session(true);
      return;
    }
  } else if (cfg.find_cluster(id.login.cluster) == nullptr) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    link_.send_err(login_.next_seq, errc::ER_ACCESS_DENIED_ERROR, "odp: unknown cluster '" + id.login.cluster + "'",
                   "28000");
    close_session(true);
    return;
  }
  if (!hello.auth_plugin_name.empty() && hello.auth_plugin_name != kNativePasswordPlugin) {
    request_native_password();
    return;
  }
  verify_credentials(hello.auth_response);
}

// OceanBase drivers (Connector/J and /C) ask for OB 2.0 with bit 8 of their
// __proxy_capability_flag attribute. odp grants it (with the TLV extra info, bit 15, which it
// reads past) when protocol.ob20_to_client is on and the client can take the grant in its login
// OK's session state.
uint64_t ClientSession::ob_caps_for_client(const HandshakeResponse41& hello) const {
  if (!env_.config().protocol.ob20_to_client || !(hello.capabilities & cap::SESSION_TRACK)) return 0;
  for (const auto& [key, value] : hello.attributes) {
    if (key != "__proxy_capability_flag") continue;
    uint64_t flags = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), flags);
    if (ec != std::errc() || end != value.data() + value.size() || !(flags & obcap::OB_PROTOCOL_V2)) return 0;
    return flags & (obcap::OB_PROTOCOL_V2 | obcap::PROXY_NEW_EXTRA_INFO);
  }
  return 0;
}

std::vector<uint8_t> ClientSession::login_ok_payload() const {
  OkPacket ok;
  ok.status_flags = status::AUTOCOMMIT;
  std::vector<uint8_t> state;
  // A login that selects a database reports it to a client that tracks the schema, as a server's
  // login OK does.
  const SessionIdentity& id = model_.identity();
  if ((id.client_caps & cap::SESSION_TRACK) && !id.login_database.empty() && model_.client_tracking().schema)
    encode_session_track_record(SessionTrackType::schema, "", id.login_database, state);
  if (login_.ob_client_caps != 0) {
    encode_session_track_record(SessionTrackType::system_variables, kObCapabilityVariable,
                                std::to_string(login_.ob_client_caps), state);
  }
  if (!state.empty()) {
    ok.session_state.assign(state.begin(), state.end());
    ok.status_flags |= status::SESSION_STATE_CHANGED;
  }
  std::vector<uint8_t> payload;
  encode_ok(ok, model_.identity().client_caps, payload);
  return payload;
}

void ClientSession::request_native_password() {
  // The client started with another method (caching_sha2_password, ed25519...): ask it for
  // mysql_native_password against our scramble, which is what we can check and replay.
  AuthSwitchRequest sw;
  sw.plugin_name = kNativePasswordPlugin;
  sw.plugin_data.assign(reinterpret_cast<const char*>(login_.scramble.data()), login_.scramble.size());
  sw.plugin_data.push_back('\0');
  std::vector<uint8_t> body, framed;
  encode_auth_switch_request(sw, body);
  login_.next_seq = encode_packet(login_.next_seq, body, framed);
  link_.send(framed);
  if (!login_.changing_user) enter(Phase::auth_switch);
}

void ClientSession::verify_credentials(const std::string& auth_response) {
  if (!login_.changing_user) enter(Phase::lookup);
  login_.pending_auth_response = auth_response;
  if (login_.identity.admin) {
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
  if (proxy_login_mode()) {
    forward_login(auth_response);
    return;
  }
  login_.rechecked = false;
  look_up_credential(false);
}

bool ClientSession::proxy_login_mode() const {
  const admin::ClusterConfig* cluster = env_.config().find_cluster(login_.identity.login.cluster);
  return cluster != nullptr && cluster->server_mode == admin::ServerMode::oceanbase;
}

// server_mode "oceanbase": an OBServer does not hand its tenants' password hashes to a proxy. The
// client's token goes to the server unchanged with odp's scramble (the proxy login), and the
// server's answer is the verdict: its OK lets the client in, its ERR (1045...) is relayed.
void ClientSession::forward_login(const std::string& auth_response) {
  login_.identity.stage1.reset();
  login_.identity.forwarded = ForwardedToken{auth_response, login_.scramble};
  login_.pending_auth_response.clear();
  if (login_.changing_user) {
    change_user_by_login();
    return;
  }
  connect_server();
}

void ClientSession::look_up_credential(bool recheck) {
  CredentialQuery q;
  q.cluster = login_.identity.login.cluster;
  q.user = login_.identity.login.user;
  q.database = login_.identity.login_database;
  q.recheck = recheck;
  env_.lookup_credential(q, token_, [this](Result<UserCredential, std::string> r) { on_credential(std::move(r)); });
}

void ClientSession::on_credential(Result<UserCredential, std::string> result) {
  if (phase_ == Phase::closing || (phase_ != Phase::lookup && !login_.changing_user)) return;
  const std::string& user = login_.identity.login.user;
  if (!result) {
    core::Stats::inc(env_.stats().server_connect_failures_total);
    link_.send_err(login_.next_seq, errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
                   "odp: cannot check the login of '" + user + "': cluster '" + login_.identity.login.cluster +
                       "' is unreachable: " + result.error(),
                   "08S01");
    close_session(true);
    return;
  }
  const UserCredential& cred = result.value();
  std::span<const uint8_t> scramble(login_.scramble);
  bool ok = false;
  if (cred.exists && !cred.unusable_plugin.empty()) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    LOG_WARN("login refused conn_id=%u user=%s: account uses auth plugin %s", id_, user.c_str(),
             cred.unusable_plugin.c_str());
    link_.send_err(login_.next_seq, errc::ER_ACCESS_DENIED_ERROR,
                   "Access denied for user '" + user + "': its authentication plugin '" + cred.unusable_plugin +
                       "' cannot be proxied (odp needs mysql_native_password)",
                   "28000");
    close_session(true);
    return;
  }
  login_.identity.stage1.reset();
  if (cred.exists && cred.empty_password) {
    ok = native_password_is_empty(login_.pending_auth_response);
  } else if (cred.exists) {
    auto stage1 = native_password_verify(login_.pending_auth_response, scramble, cred.stage2);
    ok = stage1.has_value();
    if (ok) login_.identity.stage1 = *stage1;
  }
  if ((!ok || cred.locked || cred.password_expired) && cred.from_cache && !login_.rechecked) {
    // The password may have changed (or the user been created, unlocked...) since the answer was
    // cached: ask the cluster again before refusing, so a new password works at once.
    login_.rechecked = true;
    look_up_credential(true);
    return;
  }
  if (!ok) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    LOG_INFO("login refused conn_id=%u peer=%s user=%s exists=%d", id_, peer_.c_str(), user.c_str(),
             cred.exists ? 1 : 0);
    link_.send_err(login_.next_seq, errc::ER_ACCESS_DENIED_ERROR,
                   "Access denied for user '" + user + "'@'" + peer_host(peer_) +
                       "' (using password: " + (login_.pending_auth_response.empty() ? "NO" : "YES") + ")",
                   "28000");
    close_session(true);
    return;
  }
  if (cred.locked || cred.password_expired) {
    refuse_account(cred);
    return;
  }
  login_.pending_auth_response.clear();
  if (login_.identity.admin) {
    model_.start(login_.identity, env_.now_ms());
    LOG_INFO("proxysys login conn_id=%u peer=%s", id_, peer_.c_str());
    finish_login(login_ok_payload());  // (an OceanBase driver gets OB 2.0 here too, and is told so)
  } else if (login_.changing_user) {
    // Any connection takes the change (as the old user: its server session is replaced).
    enter(Phase::change_user);
    plan_ = Plan{};
    plan_.needs.bare = true;
    plan_.needs.held_begin = false;
    route_and_run(nullptr, Command::change_user);
  } else if (may_log_in_locally(cred)) {
    log_in_locally();
  } else {
    connect_server();
  }
}

// The password was right, but the server would not let the account in (checked in this order, as
// MariaDB does, and worded as it words them). An expired password is refused even to a client
// that could handle one (MariaDB's default lets it in, to a sandbox where only SET PASSWORD runs):
// a pooled connection logged in before the expiry is no sandbox, so letting the client in would
// let it past the expiry. The password is changed on a server directly.
void ClientSession::refuse_account(const UserCredential& cred) {
  core::Stats::inc(env_.stats().client_auth_failures_total);
  const std::string& user = login_.identity.login.user;
  LOG_INFO("login refused conn_id=%u peer=%s user=%s: %s", id_, peer_.c_str(), user.c_str(),
           cred.locked ? "account locked" : "password expired");
  if (cred.locked) {
    link_.send_err(login_.next_seq, errc::ER_ACCOUNT_HAS_BEEN_LOCKED, "Access denied, this account is locked", "HY000");
  } else {
    link_.send_err(login_.next_seq, errc::ER_MUST_CHANGE_PASSWORD_LOGIN,
                   "Your password has expired. To log in you must change it using a client that supports expired "
                   "passwords",
                   "HY000");
  }
  close_session(true);
}

// In server_mode "mysql" the cached credential is the server's own word on the password (read
// from mysql.user within refresh_interval_ms), so the client may be let in without asking a
// server, provided its database is known to be usable (a server accepted it for this user within
// the same lifetime): the server connection comes with the first statement. Otherwise a server
// says the final word before the client's OK (ERROR 1049 or 1044, exactly as the server words it).
// OceanBase tenants keep the server login: the cached credential names no tenant.
bool ClientSession::may_log_in_locally(const UserCredential& cred) const {
  if (!env_.config().pool.connect_on_first_statement) return false;
  const admin::ClusterConfig* cluster = env_.config().find_cluster(login_.identity.login.cluster);
  if (cluster == nullptr || cluster->server_mode != admin::ServerMode::mysql) return false;
  return login_.identity.login_database.empty() || cred.database_known;
}

void ClientSession::log_in_locally() {
  start_identity(login_.identity);
  env_.session_started(id_, location());
  published_ = true;
  core::Stats::inc(env_.stats().client_logins_local_total);
  finish_login(login_ok_payload());
}

ServerLogin ClientSession::make_server_login() const {
  const SessionIdentity& id = model_.identity();
  const admin::ClusterConfig* cluster = env_.config().find_cluster(id.login.cluster);
  ServerLogin sl;
  sl.user = cluster != nullptr && cluster->server_mode == admin::ServerMode::mysql
                ? id.login.user
                : id.login.user + "@" + id.login.tenant;
  sl.stage1 = id.stage1;
  if (id.forwarded && cluster != nullptr) {
    ObProxyLogin ob;
    ob.token = *id.forwarded;
    ob.capabilities = odp_ob_capabilities(env_.config().protocol.ob20_to_server);
    ob.checksum = env_.config().protocol.checksum;
    ob.cluster_name = id.login.cluster;
    ob.client_peer = id.peer;
    ob.client_connect_time_us = connected_at_us_;
    sl.ob = std::move(ob);
  }
  sl.client_capabilities = id.client_caps;
  sl.mariadb_ext_capabilities = id.mariadb_ext_caps;
  sl.opener = id.connection_id;
  sl.charset = id.charset;
  sl.max_packet_size = id.max_packet_size;
  // Connections are shared only between sessions of one login dialect, which includes the client's
  // connect attributes: a server connection presents the attributes of whoever uses it (but for
  // the process and thread ids, which differ between the connections of one program).
  for (const auto& kv : id.attributes)
    if (shared_attribute(kv.first)) sl.attributes.push_back(kv);
  return sl;
}

// The session's identity is known (login or COM_CHANGE_USER): the model starts a new history and
// new server connections log in as it.
void ClientSession::start_identity(SessionIdentity identity) {
  model_.start(std::move(identity), env_.now_ms(), env_.global_variable_sets(),
               env_.config().pool.global_variables_max_age_ms);
  const SessionIdentity& id = model_.identity();
  lease_.set_dialect(env_.directory().dialect(id.login.cluster, id.login.tenant, id.login.user, id.client_caps,
                                              id.charset, id.mariadb_ext_caps, id.attributes));
  lease_.set_login(make_server_login());
}

void ClientSession::connect_server() {
  enter(Phase::server_login);
  start_identity(login_.identity);
  env_.session_started(id_, location());
  published_ = true;
  // The login goes to the server a statement without a table would use (the tenant's primary
  // zone); it also lets the server check the password before the client is let in. A pooled
  // connection of the same login dialect stands in for it (one round trip proves it answers).
  plan_ = Plan{};
  plan_.login = true;
  plan_.needs.check_alive = true;
  plan_.needs.held_begin = false;
  plan_.needs.fresh_login = model_.identity().forwarded.has_value();
  plan_route(nullptr, Command::ping, true);
  login_to_next_candidate(nullptr);
}

void ClientSession::login_to_next_candidate(const ErrPacket* last_error) {
  if (plan_.next >= plan_.count) {
    ErrPacket err;
    if (last_error != nullptr) {
      err = *last_error;
    } else {
      err.code = errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE;
      err.sql_state = "08001";
      err.message = "odp: no server of tenant '" + model_.identity().login.tenant + "' to log in to";
    }
    link_.send_err(login_.next_seq, err);
    close_session(true);
    return;
  }
  lease_.acquire(plan_.candidates[plan_.next], plan_.needs);
}

void ClientSession::finish_login(std::span<const uint8_t> ok_payload) {
  // A proxy login's connection is always a fresh one: its login saw the globals of now.
  if (model_.identity().forwarded && lease_.current() != nullptr)
    model_.set_global_vars_version(lease_.current()->global_vars_version());
  std::vector<uint8_t> framed;
  encode_packet(login_.next_seq, ok_payload, framed);
  link_.send(framed);
  if (model_.identity().client_caps & cap::COMPRESS) {
    core::Stats::inc(env_.stats().client_compressed_sessions_total);
    link_.channel().start_compression(env_.config().limits.max_packet_bytes + (1u << 20));
  } else if (login_.ob_client_caps & obcap::OB_PROTOCOL_V2) {
    core::Stats::inc(env_.stats().client_ob20_sessions_total);
    link_.channel().start_ob20(id_, env_.config().limits.max_packet_bytes + (1u << 20),
                               env_.config().protocol.checksum);
  }
  plan_ = Plan{};
  enter(Phase::ready);
  set_timeout(idle_timeout_ms());
  if (drain_if_quiet()) return;
  lease_.release(false);  // the login connection serves others until this client sends something
  process_client_input();
  update_backpressure();
}

}  // namespace odp::proxy
