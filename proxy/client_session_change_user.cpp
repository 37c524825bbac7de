// ClientSession, COM_CHANGE_USER: the client re-authenticates against our scramble; odp checks
// the new user's credential like at login, then replays the change on the server with an auth
// response computed for the server's scramble (answering its auth switch itself), and relays
// the server's verdict with the client's sequence numbers.
#include "core/log.h"
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
  ChangeUser cu;
  if (!decode_change_user(payload, client_caps_, cu)) {
    send_err(1, errc::ER_NET_READ_ERROR, "odp: malformed COM_CHANGE_USER", "08S01");
    fail_protocol("malformed COM_CHANGE_USER");
    return;
  }
  const admin::ClusterConfig* cluster = env_.config().find_cluster(login_.cluster);
  LoginName next = parse_login_name(cu.user, cluster ? cluster->default_tenant : "sys", login_.cluster);
  if (next.cluster != login_.cluster || next.tenant != login_.tenant) {
    core::Stats::inc(env_.stats().client_auth_failures_total);
    send_err(1, errc::ER_ACCESS_DENIED_ERROR, "odp: COM_CHANGE_USER cannot move to another cluster or tenant", "28000");
    close_session(true);
    return;
  }
  login_ = next;
  hello_.database = cu.database;
  if (cu.has_charset) hello_.charset = static_cast<uint8_t>(cu.charset);
  change_user_attrs_ = cu.attributes_raw;
  changing_user_ = true;
  next_client_seq_ = 1;
  // response_done() reads the tracker: forget the previous command's outcome (an ERR there
  // would otherwise count this COM_CHANGE_USER as a failed statement too).
  tracker_.begin(Command::change_user, client_caps_);
  plan_ = Plan{};
  request_cmd_ = Command::change_user;
  if (!cu.plugin.empty() && cu.plugin != kNativePasswordPlugin) {
    scramble_ = make_scramble();
    request_native_password();
    return;
  }
  verify_credentials(cu.auth_response);
}

void ClientSession::send_change_user_to_server() {
  if (server_ == nullptr) {
    // Pooled: the session holds no connection between statements. Take one first (any server
    // of the tenant); continue_after_preamble() comes back here.
    request_.clear();
    request_cmd_ = Command::change_user;
    plan_ = Plan{};
    plan_route(Command::ping, {});
    execute_plan();
    return;
  }
  request_cmd_ = Command::change_user;
  // The server checks the response against the scramble of its own handshake.
  uint32_t caps = server_->capabilities();
  std::vector<uint8_t> p;
  put_u8(p, static_cast<uint8_t>(Command::change_user));
  const admin::ClusterConfig* cluster = env_.config().find_cluster(login_.cluster);
  std::string user = cluster != nullptr && cluster->server_mode == admin::ServerMode::mysql
                         ? login_.user
                         : login_.user + "@" + login_.tenant;
  put_null_str(p, user);
  std::string auth = stage1_ ? native_password_response(*stage1_, server_->scramble()) : std::string();
  put_u8(p, static_cast<uint8_t>(auth.size()));
  put_bytes(p, {reinterpret_cast<const uint8_t*>(auth.data()), auth.size()});
  put_null_str(p, hello_.database);
  put_u16(p, hello_.charset);
  if (caps & cap::PLUGIN_AUTH) put_null_str(p, kNativePasswordPlugin);
  if ((caps & cap::CONNECT_ATTRS) && !change_user_attrs_.empty()) {
    put_bytes(p, {reinterpret_cast<const uint8_t*>(change_user_attrs_.data()), change_user_attrs_.size()});
  }
  std::vector<uint8_t> framed;
  encode_packet(0, p, framed);
  server_->write(framed);
  change_user_in_ = PacketAssembler(kMaxLoginPacketBytes);
  phase_ = Phase::change_user;
}

void ClientSession::handle_change_user_reply(std::span<const uint8_t> data) {
  std::span<const uint8_t> rest = data;
  while (phase_ == Phase::change_user) {
    auto fed = change_user_in_.feed(rest);
    if (!fed) {
      fail_protocol("oversized COM_CHANGE_USER reply", false);
      return;
    }
    rest = rest.subspan(*fed);
    if (!change_user_in_.has_packet()) return;
    std::vector<uint8_t> payload(change_user_in_.payload().begin(), change_user_in_.payload().end());
    uint8_t seq = change_user_in_.seq();
    change_user_in_.pop();
    if (payload.empty()) {
      fail_protocol("empty COM_CHANGE_USER reply", false);
      return;
    }
    if (payload[0] == 0xFE) {
      auto answer = server_->answer_auth_switch(payload, stage1_);
      if (!answer) {
        send_err(next_client_seq_, errc::ER_NOT_SUPPORTED_AUTH_MODE,
                 "odp: the server asks for an authentication method odp cannot answer", "08S01");
        server_->close(false);
        close_session(true);
        return;
      }
      std::vector<uint8_t> framed;
      encode_packet(static_cast<uint8_t>(seq + 1), {reinterpret_cast<const uint8_t*>(answer->data()), answer->size()},
                    framed);
      server_->write(framed);
      continue;
    }
    // OK or ERR: relay with the client's numbering.
    std::vector<uint8_t> framed;
    encode_packet(next_client_seq_, payload, framed);
    send_to_client(framed);
    changing_user_ = false;
    if (payload[0] != 0x00) {
      core::Stats::inc(env_.stats().client_auth_failures_total);
      close_session(true);
      return;
    }
    response_done();
    return;
  }
}

}  // namespace odp::proxy
