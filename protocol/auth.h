#pragma once
// mysql_native_password arithmetic, scrambles, and the auth-switch / auth-more-data packets.
//
// Terms (MySQL's): stage1 = SHA1(password); stage2 = SHA1(stage1), what mysql.user stores as
// "*" + 40 upper-case hex digits. A client answers a 20-byte scramble with
//   response = stage1 XOR SHA1(scramble + stage2).
// Knowing stage2, a proxy recovers stage1 from a response and checks it (SHA1(stage1) == stage2);
// with stage1 it can answer any other server's scramble.
//
// Accounts without a password: they have no stage2 (parse_stage2_hex("") is nullopt). The
// client then sends an empty auth response. Such an account authenticates exactly when
// native_password_is_empty(response) is true; native_password_verify() never accepts an empty
// response (it needs 20 bytes).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/wire.h"

namespace odp::protocol {

using Sha1 = std::array<uint8_t, 20>;
using Sha256 = std::array<uint8_t, 32>;

constexpr size_t kScrambleBytes = 20;
constexpr const char* kNativePasswordPlugin = "mysql_native_password";
constexpr const char* kCachingSha2Plugin = "caching_sha2_password";

Sha1 sha1(std::span<const uint8_t> data);
Sha1 sha1(std::string_view data);
Sha256 sha256(std::span<const uint8_t> data);

// 20 random bytes from RAND_bytes mapped into 1..127, never NUL (the handshake carries the
// scramble as a C string) and never '$' (caching_sha2_password would misread it), like MySQL.
std::array<uint8_t, 20> make_scramble();

// stage1 XOR SHA1(scramble + SHA1(stage1)); 20 bytes. scramble20 must be 20 bytes.
std::string native_password_response(const Sha1& stage1, std::span<const uint8_t> scramble20);
// Same from a clear-text password; empty password -> empty response, as clients send.
std::string native_password_response_from_password(std::string_view password, std::span<const uint8_t> scramble20);

// Returns stage1 when `client_response` proves knowledge of the password whose stage2 is given,
// nullopt otherwise (including a response that is not exactly 20 bytes). Constant-time compare.
std::optional<Sha1> native_password_verify(std::string_view client_response, std::span<const uint8_t> scramble20,
                                           const Sha1& stage2);
// True for the response a client sends for an empty password (no bytes). Use it for accounts that
// have no stage2 (see the header comment).
bool native_password_is_empty(std::string_view client_response);

Sha1 native_password_stage1(std::string_view password);
Sha1 native_password_stage2(std::string_view password);

// OceanBase login: the `__proxy_scramble` connect attribute is the proxy's scramble (the one the
// client answered) XOR the server's scramble; the OBServer XORs it back to check the client's
// response. Both inputs must be 20 bytes; returns 20 raw bytes.
std::string ob_proxy_scramble(std::span<const uint8_t> proxy_scramble20, std::span<const uint8_t> server_scramble20);

// Accepts "*" + 40 hex digits (mysql.user authentication_string) or 40 hex digits, either case.
std::optional<Sha1> parse_stage2_hex(std::string_view text);
// Lower-case hex.
std::string to_hex(std::span<const uint8_t> data);
std::string to_hex(std::string_view data);
// "*" + upper-case hex, as mysql.user stores it.
std::string stage2_to_mysql_hex(const Sha1& stage2);

// Server -> client 0xFE: switch to another auth plugin. plugin_data is kept raw; MySQL sends the
// 20-byte scramble followed by a NUL (see auth_switch_scramble()).
struct AuthSwitchRequest {
  std::string plugin_name;
  std::string plugin_data;
};
Result<AuthSwitchRequest, DecodeError> decode_auth_switch_request(std::span<const uint8_t> payload);
void encode_auth_switch_request(const AuthSwitchRequest& req, std::vector<uint8_t>& payload);
// plugin_data without its trailing NUL, if any.
std::string_view auth_switch_scramble(const AuthSwitchRequest& req);
// True for a 0xFE packet long enough to be an auth switch (an EOF packet is shorter than 9 bytes;
// during authentication a lone 0xFE byte is the old-password switch, also true here).
bool is_auth_switch_request(std::span<const uint8_t> payload);

// Server -> client 0x01: extra auth data (caching_sha2_password fast-auth result, public key).
struct AuthMoreData {
  std::string data;
};
Result<AuthMoreData, DecodeError> decode_auth_more_data(std::span<const uint8_t> payload);
void encode_auth_more_data(const AuthMoreData& m, std::vector<uint8_t>& payload);

}  // namespace odp::protocol
