// ClientSession, COM_CHANGE_USER: the client re-authenticates against our scramble; odp checks
// the new user's credential like at login, then replays the change on a server connection with
// an auth response computed for the server's scramble (answering its auth switch itself), and
// relays the server's verdict with the client's sequence numbers. The session starts a new
// history under the new identity; connections logged in as the old one go back to the pool.
#include "base/log.h"
#include "protocol/auth.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

namespace {
struct ChangeUser {
  std::string user;
  std::string auth_response;
  std::string database;
  uint16_t charset = 0;
  bool has_charset = false;
  std::string plugin;
  std::string attributes_raw;  // lenenc length + attribute bytes, passed through
};

bool decode_change_user(std::span<const uint8_t> payload, uint32_t caps, ChangeUser& out) {
  Reader r(payload.data(), payload.size());
  uint8_t cmd = 0;
  std::string_view sv;
  if (!r.u8(cmd) || !r.null_str(sv)) return false;
  out.user = sv;
  if (caps & cap::SECURE_CONNECTION) {
    uint8_t len = 0;
    if (!r.u8(len) || !r.fixed_str(len, sv)) return false;
  } else if (!r.null_str(sv)) {
    return false;
  }
  out.auth_response = sv;
  if (r.empty()) return true;
  if (!r.null_str(sv)) return false;
  out.database = sv;
  if (r.empty()) return true;
  if (!r.u16(out.charset)) return false;
  out.has_charset = true;
  if ((caps & cap::PLUGIN_AUTH) && !r.empty()) {
    if (!r.null_str(sv)) return false;
    out.plugin = sv;
  }
  if ((caps & cap::CONNECT_ATTRS) && !r.empty()) out.attributes_raw = r.rest();
  return true;
}
}  // namespace

void ClientSession::begin_change_user(std::span<const uint8_t> payload) {
  const SessionIdentity& current = model_.identity();
  ChangeUser cu;
  if (!decode_change_user(payload, current.client_caps, cu)) {
    link_.send_err(1, errc::ER_NET_READ_ERROR, "odp: malformed COM_CHANGE_USER", "08S01");
    fail_protocol("malformed COM_CHANGE_USER");
    return;
  }
  const admin::ClusterConfig* cluster = env_.config().find_cluster(current.login.cluster);
  LoginName next = parse_login_name(cu.user, cluster ? cluster->default_tenant : "sys", current.login.cluster);
  if (next.cluster != current.login.cluster || next.tenant != current.login.tenant) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    link_.send_err(1, errc::ER_ACCESS_DENIED_ERROR, "odp: COM_CHANGE_USER cannot move to another cluster or tenant",
                   "28000");
    close_session(true);
    return;
  }
  login_.identity = current;
  login_.identity.login = next;
  login_.identity.login_database = cu.database;
  if (cu.has_charset) login_.identity.charset = static_cast<uint8_t>(cu.charset);
  login_.change_user_attrs = cu.attributes_raw;
  login_.changing_user = true;
  login_.next_seq = 1;
  plan_ = Plan{};
  ps_ = PsCommand{};
  exchange_.clear_request();
  facts_for_command(Command::change_user, query_facts_);
  facts_ = &query_facts_;
  enter(Phase::change_user);
  if (!cu.plugin.empty() && cu.plugin != kNativePasswordPlugin) {
    login_.scramble = make_scramble();
    request_native_password();
    enter(Phase::auth_switch);
    return;
  }
  verify_credentials(cu.auth_response);
}

// server_mode "oceanbase": the new user's token can only be checked by a login of its own (no
// server connection's scramble is the one the client answered). Connections of the old user go
// back to the pool under its name (or close, when the change cuts a transaction); the session
// starts its new history and a fresh login as the new user proves the token.
void ClientSession::change_user_by_login() {
  lease_.release(false);
  lease_.drop_all();
  start_identity(login_.identity);
  plan_ = Plan{};
  plan_.needs.fresh_login = true;
  plan_.needs.check_alive = true;
  plan_.needs.held_begin = false;
  route_and_run(nullptr, Command::change_user);
}

// The new user logged in on a connection of its own (change_user_by_login): the client's OK.
void ClientSession::finish_change_user_by_login(ServerConn& conn) {
  OkPacket ok;
  ok.status_flags = status::AUTOCOMMIT;
  std::vector<uint8_t> payload, framed;
  encode_ok(ok, model_.identity().client_caps, payload);
  encode_packet(login_.next_seq, payload, framed);
  link_.send(framed);
  login_.changing_user = false;
  ResponseOutcome outcome;
  model_.apply(*facts_, outcome, lease_.sync_of(conn));
  finish_command();
}

// The new user's credential checked: a connection (the session's, or any of the tenant's) takes
// the change. Nothing of the old state needs replaying on it: the change resets it all.
void ClientSession::send_change_user_to_server(ServerConn& conn) {
  const SessionIdentity& id = login_.identity;
  uint32_t caps = conn.capabilities();
  std::vector<uint8_t> p;
  put_u8(p, static_cast<uint8_t>(Command::change_user));
  const admin::ClusterConfig* cluster = env_.config().find_cluster(id.login.cluster);
  std::string user = cluster != nullptr && cluster->server_mode == admin::ServerMode::mysql
                         ? id.login.user
                         : id.login.user + "@" + id.login.tenant;
  put_null_str(p, user);
  // The server checks the response against the scramble of its own handshake.
  std::string auth = id.stage1 ? native_password_response(*id.stage1, conn.scramble()) : std::string();
  put_u8(p, static_cast<uint8_t>(auth.size()));
  put_bytes(p, {reinterpret_cast<const uint8_t*>(auth.data()), auth.size()});
  put_null_str(p, id.login_database);
  put_u16(p, id.charset);
  if (caps & cap::PLUGIN_AUTH) put_null_str(p, kNativePasswordPlugin);
  if ((caps & cap::CONNECT_ATTRS) && !login_.change_user_attrs.empty()) {
    put_bytes(p, {reinterpret_cast<const uint8_t*>(login_.change_user_attrs.data()), login_.change_user_attrs.size()});
  }
  std::vector<uint8_t> framed;
  encode_packet(0, p, framed);
  conn.write(framed);
  login_.change_user_in.emplace(kMaxLoginPacketBytes);
  enter(Phase::change_user);
}

void ClientSession::handle_change_user_reply(ServerConn& conn, std::span<const uint8_t> data) {
  std::span<const uint8_t> rest = data;
  while (phase_ == Phase::change_user && login_.change_user_in) {
    auto fed = login_.change_user_in->feed(rest);
    if (!fed) {
      fail_protocol("oversized COM_CHANGE_USER reply", false);
      return;
    }
    rest = rest.subspan(*fed);
    if (!login_.change_user_in->has_packet()) return;
    std::vector<uint8_t> payload(login_.change_user_in->payload().begin(), login_.change_user_in->payload().end());
    uint8_t seq = login_.change_user_in->seq();
    login_.change_user_in->pop();
    if (payload.empty()) {
      fail_protocol("empty COM_CHANGE_USER reply", false);
      return;
    }
    if (payload[0] == 0xFE) {
      auto answer = conn.answer_auth_switch(payload, login_.identity.stage1);
      if (!answer) {
        link_.send_err(login_.next_seq, errc::ER_NOT_SUPPORTED_AUTH_MODE,
                       "odp: the server asks for an authentication method odp cannot answer", "08S01");
        lease_.drop(conn);
        close_session(true);
        return;
      }
      std::vector<uint8_t> framed;
      encode_packet(static_cast<uint8_t>(seq + 1), {reinterpret_cast<const uint8_t*>(answer->data()), answer->size()},
                    framed);
      conn.write(framed);
      continue;
    }
    // OK or ERR: relay with the client's numbering.
    std::vector<uint8_t> framed;
    encode_packet(login_.next_seq, payload, framed);
    link_.send(framed);
    login_.changing_user = false;
    login_.change_user_in.reset();
    if (payload[0] != 0x00) {
      core::Stats::inc(env_.stats().client_auth_failures_total);
      close_session(true);
      return;
    }
    // The server forgot everything; so does the session (a new history under the new identity).
    // Other connections it held were logged in as the old user: they go.
    lease_.drop_others(conn);
    start_identity(login_.identity);
    ResponseOutcome outcome;
    model_.apply(*facts_, outcome, lease_.sync_of(conn));
    conn.statements().clear();
    finish_command();
    return;
  }
}

}  // namespace odp::proxy
