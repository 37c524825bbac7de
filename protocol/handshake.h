#pragma once
// Connection-phase packets: the server's HandshakeV10, the client's SSLRequest and
// HandshakeResponse41. Payloads only (no 4-byte packet header).
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "protocol/wire.h"

namespace odp::protocol {

struct HandshakeV10 {
  std::string server_version;
  uint32_t connection_id = 0;
  std::array<uint8_t, 20> scramble{};
  uint32_t capabilities = 0;
  uint8_t charset = 0;
  uint16_t status_flags = 0;
  std::string auth_plugin_name;
  // MariaDB puts its extended capabilities in the last 4 of the 10 reserved bytes when it clears
  // cap::LONG_PASSWORD (its CLIENT_MYSQL bit). Zero for MySQL and OceanBase.
  uint32_t mariadb_ext_capabilities = 0;
};

// Accepts the scramble as 8 + 12 bytes (the 13th byte of part 2, a NUL, may be missing). A server
// that does not send 20 bytes of scramble is rejected: mysql_native_password needs all 20.
Result<HandshakeV10, DecodeError> decode_handshake_v10(std::span<const uint8_t> payload);
// Writes the scramble part 2 only when cap::SECURE_CONNECTION is set and the plugin name only when
// cap::PLUGIN_AUTH is set, as a MySQL server does.
void encode_handshake_v10(const HandshakeV10& hs, std::vector<uint8_t>& payload);

struct HandshakeResponse41 {
  uint32_t capabilities = 0;
  uint32_t max_packet_size = 0;
  uint8_t charset = 0;
  std::string username;
  std::string auth_response;  // raw bytes
  std::string database;
  std::string auth_plugin_name;
  std::vector<std::pair<std::string, std::string>> attributes;
  // A MariaDB client answering a MariaDB-style handshake (cap::LONG_PASSWORD clear) puts its
  // extended capabilities in the last 4 filler bytes. Zero otherwise.
  uint32_t mariadb_ext_capabilities = 0;
};

// Honours the client's flags: PLUGIN_AUTH_LENENC_DATA (lenenc auth response), else
// SECURE_CONNECTION (1-byte length), else a NUL-terminated response; CONNECT_WITH_DB, PLUGIN_AUTH,
// CONNECT_ATTRS. Fields announced by a flag but cut off at the very end of the packet are tolerated
// as empty (old clients do that); a field cut off in its middle is an error. A HandshakeResponse320
// (no cap::PROTOCOL_41) is rejected.
Result<HandshakeResponse41, DecodeError> decode_handshake_response41(std::span<const uint8_t> payload);
// Encodes per r.capabilities (the database only with CONNECT_WITH_DB, etc.). Without
// PLUGIN_AUTH_LENENC_DATA an auth response longer than 255 bytes is written with a lenenc length
// anyway and the flag is added, so the packet stays decodable.
void encode_handshake_response41(const HandshakeResponse41& r, std::vector<uint8_t>& payload);

// SSLRequest: the first 32 bytes of a HandshakeResponse41, sent alone with cap::SSL.
constexpr size_t kSslRequestBytes = 32;
bool is_ssl_request(std::span<const uint8_t> payload);
Result<uint32_t, DecodeError> decode_ssl_request_caps(std::span<const uint8_t> payload);
void encode_ssl_request(uint32_t capabilities, uint32_t max_packet_size, uint8_t charset,
                        std::vector<uint8_t>& payload);

}  // namespace odp::protocol
