#pragma once
// Helpers shared by the fake servers and the fake clients: the simulation's (fake_mysql.cpp,
// fake_client.cpp) and bench_session's (benchmarks/session_fake_*.cpp).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/resultset_writer.h"
#include "tests/unit/proxy/fake_io.h"

namespace odp::fakeio::detail {

inline std::array<uint8_t, 20> sim_scramble(Rng& rng) {
  std::array<uint8_t, 20> s{};
  for (auto& b : s) {
    b = static_cast<uint8_t>(1 + rng.below(126));
    if (b == '$') b = '%';
  }
  return s;
}

inline std::vector<uint8_t> framed_packet(uint8_t seq, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out;
  protocol::encode_packet(seq, payload, out);
  return out;
}

inline std::vector<uint8_t> text(std::string_view s) {
  return {s.begin(), s.end()};
}

// Feeds `data` to an assembler and calls fn(payload, first_seq, last_seq) per logical packet;
// false on a framing error. fn returns false to stop.
template <typename Fn>
bool assemble(protocol::PacketAssembler& in, std::span<const uint8_t> data, Fn&& fn) {
  size_t off = 0;
  for (;;) {
    if (in.has_packet()) {
      std::vector<uint8_t> payload(in.payload().begin(), in.payload().end());
      uint8_t seq = in.seq();
      uint8_t last = in.last_seq();
      in.pop();
      if (!fn(std::span<const uint8_t>(payload), seq, last)) return true;
      continue;
    }
    if (off >= data.size()) return true;
    auto r = in.feed(data.subspan(off));
    if (!r) return false;
    off += r.value();
    if (r.value() == 0 && !in.has_packet()) return true;
  }
}

// What a fake client logs in with.
struct ClientLogin {
  std::string user;
  std::string password;
  std::string database;
  bool other_plugin = false;  // starts with caching_sha2_password: the proxy switches it
  bool compress = false;
  bool deprecate_eof = false;
  bool session_track = false;
};

// The login part of a fake client's plan (the simulation's and bench_session's plans name the
// same fields; only the simulation's asks for session tracking).
template <typename Plan>
ClientLogin login_of(const Plan& plan) {
  ClientLogin l;
  l.user = plan.user;
  l.password = plan.password;
  l.database = plan.database;
  l.other_plugin = plan.other_plugin;
  l.compress = plan.compress;
  l.deprecate_eof = plan.deprecate_eof;
  if constexpr (requires { plan.session_track; }) l.session_track = plan.session_track;
  return l;
}

// A fake client's HandshakeResponse41 to the greeting `hs` (packet `seq`), framed. Asks for
// compression when `login` wants it and the greeting offers it (`asked_compression`).
inline std::vector<uint8_t> client_hello(const ClientLogin& login, const protocol::HandshakeV10& hs, uint8_t seq,
                                         Rng& rng, bool& asked_compression) {
  namespace cap = protocol::cap;
  protocol::HandshakeResponse41 r;
  r.capabilities = cap::PROTOCOL_41 | cap::SECURE_CONNECTION | cap::PLUGIN_AUTH | cap::LONG_PASSWORD |
                   cap::TRANSACTIONS | cap::MULTI_RESULTS | cap::MULTI_STATEMENTS | cap::PS_MULTI_RESULTS |
                   cap::LOCAL_FILES | cap::PLUGIN_AUTH_LENENC_DATA | cap::CONNECT_ATTRS;
  if (login.deprecate_eof) r.capabilities |= cap::DEPRECATE_EOF;
  if (login.session_track) r.capabilities |= cap::SESSION_TRACK;
  asked_compression = login.compress && (hs.capabilities & cap::COMPRESS);
  if (asked_compression) r.capabilities |= cap::COMPRESS;
  if (!login.database.empty()) r.capabilities |= cap::CONNECT_WITH_DB;
  r.max_packet_size = 1u << 30;
  r.charset = protocol::charset::utf8mb4_general_ci;
  r.username = login.user;
  r.database = login.database;
  if (login.other_plugin) {
    r.auth_plugin_name = protocol::kCachingSha2Plugin;
    for (int i = 0; i < 32; ++i) r.auth_response.push_back(static_cast<char>(rng.below(256)));
  } else {
    r.auth_plugin_name = protocol::kNativePasswordPlugin;
    r.auth_response = protocol::native_password_response_from_password(login.password, hs.scramble);
  }
  r.attributes.emplace_back("_client_name", "fake_client");
  std::vector<uint8_t> p;
  protocol::encode_handshake_response41(r, p);
  return framed_packet(static_cast<uint8_t>(seq + 1), p);
}

// A fake client's answer to the auth switch request `payload` (packet `seq`), framed; nullopt
// when the request is malformed.
inline std::optional<std::vector<uint8_t>> client_switch_answer(const ClientLogin& login,
                                                                std::span<const uint8_t> payload, uint8_t seq) {
  auto sw = protocol::decode_auth_switch_request(payload);
  if (!sw) return std::nullopt;
  std::string_view s = protocol::auth_switch_scramble(sw.value());
  if (s.size() != protocol::kScrambleBytes) return std::nullopt;
  std::string resp = protocol::native_password_response_from_password(
      login.password, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  return framed_packet(static_cast<uint8_t>(seq + 1), text(resp));
}

// A fake server's auth switch to mysql_native_password with a new scramble (kept in `scramble`),
// as packet seq + 1.
inline std::vector<uint8_t> server_auth_switch(uint8_t seq, Rng& rng, std::array<uint8_t, 20>& scramble) {
  scramble = sim_scramble(rng);
  protocol::AuthSwitchRequest sw;
  sw.plugin_name = protocol::kNativePasswordPlugin;
  sw.plugin_data.assign(scramble.begin(), scramble.end());
  sw.plugin_data.push_back('\0');
  std::vector<uint8_t> body;
  protocol::encode_auth_switch_request(sw, body);
  return framed_packet(static_cast<uint8_t>(seq + 1), body);
}

// A fake server's last word on a login: OK when `auth` is `password`'s native-password answer to
// `scramble`, else ERROR 1045 (packet seq + 1, in `out`). True for OK.
inline bool server_login_answer(std::string_view auth, std::span<const uint8_t> scramble, std::string_view password,
                                uint8_t seq, uint32_t client_caps, std::vector<uint8_t>& out) {
  if (!protocol::native_password_verify(auth, scramble, protocol::native_password_stage2(password))) {
    protocol::ErrPacket err{protocol::errc::ER_ACCESS_DENIED_ERROR, "28000",
                            "Access denied for user 'app' (fake server)"};
    protocol::encode_err_packet(static_cast<uint8_t>(seq + 1), err, out);
    return false;
  }
  protocol::OkPacket ok;
  ok.status_flags = protocol::status::AUTOCOMMIT;
  protocol::encode_ok_packet(static_cast<uint8_t>(seq + 1), ok, client_caps, out);
  return true;
}

}  // namespace odp::fakeio::detail
