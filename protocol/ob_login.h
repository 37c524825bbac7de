#pragma once
// The proxy login to an OBServer (../shared/OB-VECTORS.md section 3): the client's
// mysql_native_password token is forwarded unchanged, and the connect attributes tell the server
// it talks to a proxy, which scramble the client answered (`__proxy_scramble` = the proxy's
// scramble XOR the server's), and what the proxy can do (`__proxy_capability_flag`). The server
// answers with the capabilities it grants in the login OK (session-track variable
// `ob_capability_flag`). Pure functions.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace odp::protocol {

// __proxy_capability_flag bits (u64, bit = shift).
namespace obcap {
constexpr uint64_t PARTITION_TABLE = 1ull << 0;
constexpr uint64_t CHANGE_USER = 1ull << 1;
constexpr uint64_t READ_WEAK = 1ull << 2;
constexpr uint64_t CHECKSUM = 1ull << 3;
constexpr uint64_t OB_PROTOCOL_V2 = 1ull << 8;
constexpr uint64_t PROXY_REROUTE = 1ull << 12;
constexpr uint64_t PROXY_SESSION_SYNC = 1ull << 13;
constexpr uint64_t PROXY_FULL_LINK_TRACING = 1ull << 14;
constexpr uint64_t PROXY_NEW_EXTRA_INFO = 1ull << 15;
constexpr uint64_t PROXY_SESSION_VAR_SYNC = 1ull << 16;
constexpr uint64_t OB_PROTOCOL_V2_COMPRESS = 1ull << 22;
}  // namespace obcap

// A client's mysql_native_password answer, kept to be forwarded unchanged to every server the
// session logs in to, with the scramble odp gave that client (which the token answers).
struct ForwardedToken {
  std::string token;  // empty: the client sent none (an account without password)
  std::array<uint8_t, 20> scramble{};
};

// The attribute that makes an OBServer treat its peer as a proxy.
inline constexpr std::string_view kObProxyClientType = "__ob_proxy";
// The session-track system variable carrying the granted capabilities in the login OK.
inline constexpr std::string_view kObCapabilityVariable = "ob_capability_flag";

// The capabilities odp asks of OBServers: only what it implements. With `ob20`: OB 2.0 framing,
// the TLV extra info (the only form odp reads) and session sync by SESS_INFO records.
uint64_t odp_ob_capabilities(bool ob20);

// S_p XOR S_s: lets the server check a token computed over the proxy's scramble.
std::array<uint8_t, 20> proxy_scramble(std::span<const uint8_t, 20> proxy_scramble,
                                       std::span<const uint8_t, 20> server_scramble);

struct ObProxyLoginAttributes {
  uint32_t server_session_id = 0;    // the server's handshake connection id
  uint64_t proxy_connection_id = 0;  // odp's id of the client session
  uint64_t capabilities = 0;         // __proxy_capability_flag
  std::string cluster_name;          // "" = not sent
  int64_t global_vars_version = 0;   // 0 on a first login
  // Empty when the client sent no token (an account without password): no __proxy_scramble then.
  std::optional<std::array<uint8_t, 20>> proxy_scramble;
  std::string client_ip;
  uint16_t client_port = 0;
  uint32_t client_session_id = 0;
  int64_t client_connect_time_us = 0;
  std::string proxy_version;
};

// The attributes obproxy sends, in its order, followed by the client's own `__ob_client*`
// attributes unchanged (other client attributes are not sent: they would claim the proxy's
// connection for one client's program).
std::vector<std::pair<std::string, std::string>> ob_proxy_login_attributes(
    const ObProxyLoginAttributes& a, std::span<const std::pair<std::string, std::string>> client_attributes);

// The capabilities granted in a login OK's session state (its `ob_capability_flag` variable);
// nullopt when it is absent or not a number: the server granted nothing.
std::optional<uint64_t> ob_capabilities_granted(std::span<const uint8_t> session_state);

// The tenant's global-variables version in a login OK's session state (its
// `ob_proxy_global_variables_version` variable): equal versions mean equal global values, whenever
// each connection logged in. 0 when absent or not a positive number (unknown).
inline constexpr std::string_view kObGlobalVarsVersionVariable = "ob_proxy_global_variables_version";
int64_t ob_global_vars_version(std::span<const uint8_t> session_state);

}  // namespace odp::protocol
