#include "protocol/ob_login.h"

#include <charconv>

#include "protocol/session_track.h"

namespace odp::protocol {

uint64_t odp_ob_capabilities(bool ob20) {
  return ob20 ? (obcap::OB_PROTOCOL_V2 | obcap::PROXY_NEW_EXTRA_INFO | obcap::PROXY_SESSION_SYNC) : 0;
}

std::array<uint8_t, 20> proxy_scramble(std::span<const uint8_t, 20> proxy, std::span<const uint8_t, 20> server) {
  std::array<uint8_t, 20> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(proxy[i] ^ server[i]);
  return out;
}

std::vector<std::pair<std::string, std::string>> ob_proxy_login_attributes(
    const ObProxyLoginAttributes& a, std::span<const std::pair<std::string, std::string>> client_attributes) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("__mysql_client_type", std::string(kObProxyClientType));
  out.emplace_back("__connection_id", std::to_string(a.server_session_id));
  out.emplace_back("__proxy_connection_id", std::to_string(a.proxy_connection_id));
  if (!a.cluster_name.empty()) out.emplace_back("__cluster_name", a.cluster_name);
  out.emplace_back("__global_vars_version", std::to_string(a.global_vars_version));
  out.emplace_back("__proxy_capability_flag", std::to_string(a.capabilities));
  if (a.proxy_scramble)
    out.emplace_back("__proxy_scramble", std::string(a.proxy_scramble->begin(), a.proxy_scramble->end()));
  out.emplace_back("__client_ip", a.client_ip);
  out.emplace_back("__proxy_version", a.proxy_version);
  out.emplace_back("__client_addr_port", std::to_string(a.client_port));
  out.emplace_back("__client_session_id", std::to_string(a.client_session_id));
  out.emplace_back("__client_connect_time", std::to_string(a.client_connect_time_us));
  for (const auto& kv : client_attributes)
    if (kv.first.starts_with("__ob_client")) out.push_back(kv);
  return out;
}

namespace {
// The tracked system variable `name` as a whole number; nullopt when absent or not one.
template <typename T>
std::optional<T> tracked_number(std::span<const uint8_t> session_state, std::string_view name) {
  auto records = decode_session_track(session_state);
  if (!records) return std::nullopt;
  for (const auto& rec : *records) {
    if (rec.type != SessionTrackType::system_variables || rec.name != name) continue;
    T v = 0;
    auto [p, ec] = std::from_chars(rec.value.data(), rec.value.data() + rec.value.size(), v);
    if (ec != std::errc() || p != rec.value.data() + rec.value.size()) return std::nullopt;
    return v;
  }
  return std::nullopt;
}
}  // namespace

std::optional<uint64_t> ob_capabilities_granted(std::span<const uint8_t> session_state) {
  return tracked_number<uint64_t>(session_state, kObCapabilityVariable);
}

int64_t ob_global_vars_version(std::span<const uint8_t> session_state) {
  auto v = tracked_number<int64_t>(session_state, kObGlobalVarsVersionVariable);
  return v && *v > 0 ? *v : 0;
}

}  // namespace odp::protocol
