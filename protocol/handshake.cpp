#include "protocol/handshake.h"

#include <algorithm>

#include "protocol/constants.h"

namespace odp::protocol {
namespace {

constexpr size_t kScramblePart1 = 8;
constexpr size_t kScramblePart2 = 12;
constexpr size_t kResponseFiller = 23;

DecodeError bad(const char* what) {
  return DecodeError{what};
}

}  // namespace

Result<HandshakeV10, DecodeError> decode_handshake_v10(std::span<const uint8_t> payload) {
  Reader r(payload);
  HandshakeV10 hs;
  uint8_t protocol_version = 0;
  if (!r.u8(protocol_version)) return Err{bad("handshake: empty packet")};
  if (protocol_version != 10) return Err{bad("handshake: protocol version is not 10")};
  std::string_view version;
  if (!r.null_str(version)) return Err{bad("handshake: server version not NUL-terminated")};
  hs.server_version.assign(version);
  std::span<const uint8_t> part1;
  uint8_t filler = 0;
  uint16_t caps_low = 0;
  if (!r.u32(hs.connection_id) || !r.bytes(kScramblePart1, part1) || !r.u8(filler) || !r.u16(caps_low)) {
    return Err{bad("handshake: truncated before capability flags")};
  }
  std::copy(part1.begin(), part1.end(), hs.scramble.begin());
  uint16_t caps_high = 0;
  uint8_t auth_data_len = 0;
  std::span<const uint8_t> reserved;
  if (!r.u8(hs.charset) || !r.u16(hs.status_flags) || !r.u16(caps_high) || !r.u8(auth_data_len) ||
      !r.bytes(10, reserved)) {
    return Err{bad("handshake: truncated in status/capability block")};
  }
  hs.capabilities = static_cast<uint32_t>(caps_low) | (static_cast<uint32_t>(caps_high) << 16);
  if ((hs.capabilities & cap::LONG_PASSWORD) == 0) {
    Reader ext(reserved.subspan(6));
    (void)ext.u32(hs.mariadb_ext_capabilities);
  }
  if ((hs.capabilities & cap::SECURE_CONNECTION) == 0) {
    return Err{bad("handshake: server lacks SECURE_CONNECTION (20-byte scramble)")};
  }
  // Part 2 is max(13, auth_data_len - 8) bytes; its last byte is a NUL that some servers omit.
  size_t part2_len = 13;
  if (auth_data_len > kScramblePart1 + 13) part2_len = auth_data_len - kScramblePart1;
  if (auth_data_len != 0 && auth_data_len < kScramblePart1 + kScramblePart2) {
    return Err{bad("handshake: auth plugin data shorter than 20 bytes")};
  }
  std::span<const uint8_t> part2;
  if (r.remaining() < kScramblePart2) return Err{bad("handshake: scramble part 2 truncated")};
  part2_len = std::min(part2_len, r.remaining());
  (void)r.bytes(part2_len, part2);
  std::copy_n(part2.begin(), kScramblePart2, hs.scramble.begin() + kScramblePart1);
  if (hs.capabilities & cap::PLUGIN_AUTH) {
    std::string_view plugin;
    // MySQL bug #59453: some servers omit the terminating NUL; take the rest then.
    if (!r.null_str(plugin)) plugin = r.rest();
    hs.auth_plugin_name.assign(plugin);
  }
  return hs;
}

void encode_handshake_v10(const HandshakeV10& hs, std::vector<uint8_t>& payload) {
  put_u8(payload, 10);
  put_null_str(payload, hs.server_version);
  put_u32(payload, hs.connection_id);
  put_bytes(payload, std::span<const uint8_t>(hs.scramble.data(), kScramblePart1));
  put_u8(payload, 0);
  put_u16(payload, static_cast<uint16_t>(hs.capabilities & 0xFFFF));
  put_u8(payload, hs.charset);
  put_u16(payload, hs.status_flags);
  put_u16(payload, static_cast<uint16_t>(hs.capabilities >> 16));
  put_u8(payload, (hs.capabilities & cap::PLUGIN_AUTH) ? uint8_t{kScramblePart1 + kScramblePart2 + 1} : uint8_t{0});
  put_zeros(payload, 6);
  if ((hs.capabilities & cap::LONG_PASSWORD) == 0) {
    put_u32(payload, hs.mariadb_ext_capabilities);
  } else {
    put_zeros(payload, 4);
  }
  if (hs.capabilities & cap::SECURE_CONNECTION) {
    put_bytes(payload, std::span<const uint8_t>(hs.scramble.data() + kScramblePart1, kScramblePart2));
    put_u8(payload, 0);
  }
  if (hs.capabilities & cap::PLUGIN_AUTH) put_null_str(payload, hs.auth_plugin_name);
}

namespace {

// Reads the optional trailing fields of a HandshakeResponse41 after the username and auth response.
Status<DecodeError> decode_response_tail(Reader& r, HandshakeResponse41& out) {
  const uint32_t caps = out.capabilities;
  if ((caps & cap::CONNECT_WITH_DB) && !r.empty()) {
    std::string_view db;
    if (!r.null_str(db)) return Err{bad("handshake response: database not NUL-terminated")};
    out.database.assign(db);
  }
  if ((caps & cap::PLUGIN_AUTH) && !r.empty()) {
    std::string_view plugin;
    if (!r.null_str(plugin)) {
      if (caps & cap::CONNECT_ATTRS) return Err{bad("handshake response: plugin name not NUL-terminated")};
      plugin = r.rest();
    }
    out.auth_plugin_name.assign(plugin);
  }
  if ((caps & cap::CONNECT_ATTRS) && !r.empty()) {
    uint64_t total = 0;
    std::span<const uint8_t> attrs;
    if (!r.lenenc_int(total) || total > r.remaining() || !r.bytes(static_cast<size_t>(total), attrs)) {
      return Err{bad("handshake response: connect attributes truncated")};
    }
    Reader a(attrs);
    while (!a.empty()) {
      std::string_view k, v;
      if (!a.lenenc_str(k) || !a.lenenc_str(v)) return Err{bad("handshake response: malformed connect attribute")};
      out.attributes.emplace_back(std::string(k), std::string(v));
    }
  }
  // A trailing zstd compression level (cap::ZSTD_COMPRESSION_ALGORITHM) or other bytes are ignored.
  return Ok{};
}

}  // namespace

Result<HandshakeResponse41, DecodeError> decode_handshake_response41(std::span<const uint8_t> payload) {
  Reader r(payload);
  HandshakeResponse41 out;
  if (!r.u32(out.capabilities)) return Err{bad("handshake response: truncated capabilities")};
  if ((out.capabilities & cap::PROTOCOL_41) == 0) {
    return Err{bad("handshake response: client lacks PROTOCOL_41 (HandshakeResponse320 unsupported)")};
  }
  std::span<const uint8_t> filler;
  if (!r.u32(out.max_packet_size) || !r.u8(out.charset) || !r.bytes(kResponseFiller, filler)) {
    return Err{bad("handshake response: truncated fixed header")};
  }
  if ((out.capabilities & cap::LONG_PASSWORD) == 0) {
    Reader ext(filler.subspan(kResponseFiller - 4));
    (void)ext.u32(out.mariadb_ext_capabilities);
  }
  std::string_view user;
  if (!r.null_str(user)) return Err{bad("handshake response: username not NUL-terminated")};
  out.username.assign(user);
  std::string_view auth;
  if (out.capabilities & cap::PLUGIN_AUTH_LENENC_DATA) {
    if (!r.lenenc_str(auth)) return Err{bad("handshake response: auth response truncated")};
  } else if (out.capabilities & cap::SECURE_CONNECTION) {
    uint8_t n = 0;
    if (!r.u8(n) || !r.fixed_str(n, auth)) return Err{bad("handshake response: auth response truncated")};
  } else {
    if (!r.null_str(auth)) return Err{bad("handshake response: auth response not NUL-terminated")};
  }
  out.auth_response.assign(auth);
  if (auto st = decode_response_tail(r, out); !st) return Err{st.error()};
  return out;
}

void encode_handshake_response41(const HandshakeResponse41& in, std::vector<uint8_t>& payload) {
  uint32_t caps = in.capabilities | cap::PROTOCOL_41;
  if (in.auth_response.size() > 255) caps |= cap::PLUGIN_AUTH_LENENC_DATA;
  put_u32(payload, caps);
  put_u32(payload, in.max_packet_size);
  put_u8(payload, in.charset);
  put_zeros(payload, kResponseFiller - 4);
  put_u32(payload, (caps & cap::LONG_PASSWORD) ? 0 : in.mariadb_ext_capabilities);
  put_null_str(payload, in.username);
  if (caps & cap::PLUGIN_AUTH_LENENC_DATA) {
    put_lenenc_str(payload, in.auth_response);
  } else if (caps & cap::SECURE_CONNECTION) {
    put_u8(payload, static_cast<uint8_t>(in.auth_response.size()));
    put_bytes(payload, in.auth_response);
  } else {
    put_null_str(payload, in.auth_response);
  }
  if (caps & cap::CONNECT_WITH_DB) put_null_str(payload, in.database);
  if (caps & cap::PLUGIN_AUTH) put_null_str(payload, in.auth_plugin_name);
  if (caps & cap::CONNECT_ATTRS) {
    std::vector<uint8_t> attrs;
    for (const auto& [k, v] : in.attributes) {
      put_lenenc_str(attrs, k);
      put_lenenc_str(attrs, v);
    }
    put_lenenc_int(payload, attrs.size());
    put_bytes(payload, attrs);
  }
}

bool is_ssl_request(std::span<const uint8_t> payload) {
  if (payload.size() != kSslRequestBytes) return false;
  Reader r(payload);
  uint32_t caps = 0;
  return r.u32(caps) && (caps & cap::SSL) != 0;
}

Result<uint32_t, DecodeError> decode_ssl_request_caps(std::span<const uint8_t> payload) {
  if (payload.size() != kSslRequestBytes) return Err{bad("ssl request: payload is not 32 bytes")};
  Reader r(payload);
  uint32_t caps = 0;
  (void)r.u32(caps);
  if ((caps & cap::SSL) == 0) return Err{bad("ssl request: SSL capability not set")};
  return caps;
}

void encode_ssl_request(uint32_t capabilities, uint32_t max_packet_size, uint8_t charset,
                        std::vector<uint8_t>& payload) {
  put_u32(payload, capabilities | cap::SSL | cap::PROTOCOL_41);
  put_u32(payload, max_packet_size);
  put_u8(payload, charset);
  put_zeros(payload, kResponseFiller);
}

}  // namespace odp::protocol
