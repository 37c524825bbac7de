#include "admin/config_keys.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "admin/address.h"
#include "base/ascii.h"
#include "base/log.h"

namespace odp::admin::detail {
namespace {

constexpr uint64_t kU32Max = 0xffffffffull;
constexpr uint64_t kDayMs = 24ull * 3600 * 1000;

std::string lower(std::string_view s) {
  return base::ascii_lowered(s);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool fail(std::string& error, std::string message) {
  error = std::move(message);
  return false;
}

const char* const kRoutePolicies[] = {"FOLLOWER_FIRST", "UNMERGE_FOLLOWER_FIRST", "FOLLOWER_ONLY"};

// Checks (and may normalize) a string value. Returns false with `error` set when it is invalid.
bool check_string(Check check, std::string& value, std::string& error) {
  switch (check) {
    case Check::none:
      return true;
    case Check::listen_address:
    case Check::admin_address: {
      if (check == Check::admin_address && value.empty()) return true;
      auto sa = parse_sockaddr(value);
      if (!sa) {
        error = "must be \"IP:port\" with a numeric IPv4 or [IPv6] address: " + sa.error();
        return false;
      }
      if (check == Check::listen_address && parse_host_port(value)->port == 0) {
        error = "needs a port between 1 and 65535";
        return false;
      }
      return true;
    }
    case Check::rootservice: {
      auto hp = parse_host_port(value);
      if (!hp) {
        error = "entries must be \"IP:port\": " + hp.error();
        return false;
      }
      // Servers are connected to from the workers' rings, which never resolve names.
      if (!make_sockaddr(*hp)) {
        error = "entries must use a numeric IPv4 or [IPv6] address, not a host name: '" + value + "'";
        return false;
      }
      if (hp->port == 0) {
        error = "entries need a port between 1 and 65535: '" + value + "'";
        return false;
      }
      return true;
    }
    case Check::non_empty:
      if (value.empty()) error = "must not be empty";
      return !value.empty();
    case Check::tenant:
      if (value.empty() || value.size() > 64 || value.find_first_of("@#: ") != std::string::npos) {
        error = "must be a tenant name (1..64 characters, none of '@', '#', ':' or space)";
        return false;
      }
      return true;
    case Check::route_policy: {
      std::string up = upper(value);
      for (const char* p : kRoutePolicies) {
        if (up == p) {
          value = up;
          return true;
        }
      }
      error = "must be one of FOLLOWER_FIRST, UNMERGE_FOLLOWER_FIRST, FOLLOWER_ONLY";
      return false;
    }
    case Check::log_level: {
      std::string low = lower(value);
      log::Level level{};
      if (!log::parse_level(low, level)) {
        error = "must be one of debug, info, warn, error, off";
        return false;
      }
      value = low;
      return true;
    }
    case Check::tls_version:
      if (value != "TLSv1.2" && value != "TLSv1.3") {
        error = "must be \"TLSv1.2\" or \"TLSv1.3\"";
        return false;
      }
      return true;
    case Check::sha1_hex:
      if (!value.empty() && (value.size() != 40 || !is_hex(value))) {
        error = "must be empty or 40 hex digits (SHA1 of the password)";
        return false;
      }
      return true;
    case Check::short_text:
      if (value.size() > 128) error = "must be at most 128 bytes";
      return value.size() <= 128;
  }
  return true;
}

template <typename T>
bool store_integer(T* target, uint64_t min, uint64_t max, const Input& in, std::string& error) {
  const int64_t* v = std::get_if<int64_t>(&in);
  if (v == nullptr) {
    error = "must be an integer";
    return false;
  }
  if (*v < 0 || static_cast<uint64_t>(*v) < min || static_cast<uint64_t>(*v) > max) {
    error =
        "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " + std::to_string(*v) + ")";
    return false;
  }
  *target = static_cast<T>(*v);
  return true;
}

}  // namespace

const std::vector<KeyDef<Config>>& global_keys() {
  // Order here is the order of `show proxyconfig` and of etc/odp.toml.
  static const std::vector<KeyDef<Config>> keys = {
      {"listen", "address", [](Config& c) -> FieldRef { return &c.listen.address; }, 0, 0, Check::listen_address, false,
       false},
      {"listen", "admin_http", [](Config& c) -> FieldRef { return &c.listen.admin_http; }, 0, 0, Check::admin_address,
       false, false},
      {"listen", "workers", [](Config& c) -> FieldRef { return &c.listen.workers; }, 0, 1024, Check::none, false,
       false},
      {"listen", "backlog", [](Config& c) -> FieldRef { return &c.listen.backlog; }, 1, 65535, Check::none, false,
       false},
      {"listen", "drain_timeout_ms", [](Config& c) -> FieldRef { return &c.listen.drain_timeout_ms; }, 0, 3600000,
       Check::none, true, false},
      {"limits", "client_max_connections", [](Config& c) -> FieldRef { return &c.limits.client_max_connections; }, 1,
       1048576, Check::none, true, false},
      {"limits", "max_packet_bytes", [](Config& c) -> FieldRef { return &c.limits.max_packet_bytes; }, 1024, 1ull << 30,
       Check::none, true, false},
      {"limits", "client_idle_timeout_ms", [](Config& c) -> FieldRef { return &c.limits.client_idle_timeout_ms; }, 1000,
       31 * kDayMs, Check::none, true, false},
      {"limits", "client_handshake_timeout_ms",
       [](Config& c) -> FieldRef { return &c.limits.client_handshake_timeout_ms; }, 100, 600000, Check::none, true,
       false},
      {"limits", "server_connect_timeout_ms", [](Config& c) -> FieldRef { return &c.limits.server_connect_timeout_ms; },
       100, 600000, Check::none, true, false},
      {"limits", "server_query_timeout_ms", [](Config& c) -> FieldRef { return &c.limits.server_query_timeout_ms; }, 0,
       31 * kDayMs, Check::none, true, false},
      {"limits", "server_silence_probe_ms", [](Config& c) -> FieldRef { return &c.limits.server_silence_probe_ms; }, 0,
       31 * kDayMs, Check::none, true, false},
      {"limits", "max_output_buffer_bytes", [](Config& c) -> FieldRef { return &c.limits.max_output_buffer_bytes; },
       4096, 1ull << 30, Check::none, true, false},
      {"limits", "splice_min_bytes", [](Config& c) -> FieldRef { return &c.limits.splice_min_bytes; }, 0, 1ull << 30,
       Check::none, true, false},
      {"proxy", "default_cluster", [](Config& c) -> FieldRef { return &c.default_cluster; }, 0, 0, Check::none, true,
       false},
      {"routing", "read_consistency", [](Config& c) -> FieldRef { return &c.routing.read_consistency; }, 0, 0,
       Check::none, true, false},
      {"routing", "route_policy", [](Config& c) -> FieldRef { return &c.routing.route_policy; }, 0, 0,
       Check::route_policy, true, false},
      {"routing", "proxy_idc", [](Config& c) -> FieldRef { return &c.routing.proxy_idc; }, 0, 0, Check::short_text,
       true, false},
      {"routing", "proxy_region", [](Config& c) -> FieldRef { return &c.routing.proxy_region; }, 0, 0,
       Check::short_text, true, false},
      {"routing", "failover_wait_ms", [](Config& c) -> FieldRef { return &c.routing.failover_wait_ms; }, 0, 600000,
       Check::none, true, false},
      {"pool", "max_server_connections", [](Config& c) -> FieldRef { return &c.pool.max_server_connections; }, 0,
       1000000, Check::none, true, false},
      {"pool", "max_idle_per_server", [](Config& c) -> FieldRef { return &c.pool.max_idle_per_server; }, 0, 1000000,
       Check::none, true, false},
      {"pool", "idle_timeout_ms", [](Config& c) -> FieldRef { return &c.pool.idle_timeout_ms; }, 1000, 31 * kDayMs,
       Check::none, true, false},
      {"pool", "max_wait_ms", [](Config& c) -> FieldRef { return &c.pool.max_wait_ms; }, 0, 31 * kDayMs, Check::none,
       true, false},
      {"pool", "connect_on_first_statement", [](Config& c) -> FieldRef { return &c.pool.connect_on_first_statement; },
       0, 0, Check::none, true, false},
      {"pool", "global_variables_max_age_ms", [](Config& c) -> FieldRef { return &c.pool.global_variables_max_age_ms; },
       0, 3600000, Check::none, true, false},
      {"protocol", "ob20_to_server", [](Config& c) -> FieldRef { return &c.protocol.ob20_to_server; }, 0, 0,
       Check::none, true, false},
      {"protocol", "ob20_to_client", [](Config& c) -> FieldRef { return &c.protocol.ob20_to_client; }, 0, 0,
       Check::none, true, false},
      {"protocol", "checksum", [](Config& c) -> FieldRef { return &c.protocol.checksum; }, 0, 0, Check::none, true,
       false},
      {"protocol", "compression_to_client", [](Config& c) -> FieldRef { return &c.protocol.compression_to_client; }, 0,
       0, Check::none, true, false},
      {"tls", "client_cert", [](Config& c) -> FieldRef { return &c.tls.client_cert; }, 0, 0, Check::none, false, false},
      {"tls", "client_key", [](Config& c) -> FieldRef { return &c.tls.client_key; }, 0, 0, Check::none, false, false},
      {"tls", "client_ca", [](Config& c) -> FieldRef { return &c.tls.client_ca; }, 0, 0, Check::none, false, false},
      {"tls", "min_version", [](Config& c) -> FieldRef { return &c.tls.min_version; }, 0, 0, Check::tls_version, false,
       false},
      {"admin", "proxysys_password_sha1", [](Config& c) -> FieldRef { return &c.admin.proxysys_password_sha1; }, 0, 0,
       Check::sha1_hex, true, true},
      {"admin", "allow_remote", [](Config& c) -> FieldRef { return &c.admin.allow_remote; }, 0, 0, Check::none, true,
       false},
      {"log", "level", [](Config& c) -> FieldRef { return &c.log.level; }, 0, 0, Check::log_level, true, false},
      {"log", "dir", [](Config& c) -> FieldRef { return &c.log.dir; }, 0, 0, Check::none, true, false},
      {"log", "slow_query_ms", [](Config& c) -> FieldRef { return &c.log.slow_query_ms; }, 0, kDayMs, Check::none, true,
       false},
  };
  return keys;
}

const std::vector<KeyDef<ClusterConfig>>& cluster_keys() {
  static const std::vector<KeyDef<ClusterConfig>> keys = {
      {"cluster", "rootservice_list", [](ClusterConfig& c) -> FieldRef { return &c.rootservice_list; }, 1, 64,
       Check::rootservice, true, false},
      {"cluster", "server_mode", [](ClusterConfig& c) -> FieldRef { return &c.server_mode; }, 0, 0, Check::none, false,
       false},
      {"cluster", "meta_user", [](ClusterConfig& c) -> FieldRef { return &c.meta_user; }, 0, 0, Check::non_empty, true,
       false},
      {"cluster", "meta_password", [](ClusterConfig& c) -> FieldRef { return &c.meta_password; }, 0, 0, Check::none,
       true, true},
      {"cluster", "default_tenant", [](ClusterConfig& c) -> FieldRef { return &c.default_tenant; }, 0, 0, Check::tenant,
       true, false},
      {"cluster", "refresh_interval_ms", [](ClusterConfig& c) -> FieldRef { return &c.refresh_interval_ms; }, 1000,
       3600000, Check::none, true, false},
  };
  return keys;
}

bool input_from_text(const FieldRef& field, std::string_view text, Input& out, std::string& error) {
  text = trim(text);
  switch (field.index()) {
    case 1:
    case 2: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
        error = "must be an integer";
        return false;
      }
      out = v;
      return true;
    }
    case 3: {
      std::string low = lower(text);
      if (low == "true" || low == "1" || low == "on" || low == "yes") {
        out = true;
      } else if (low == "false" || low == "0" || low == "off" || low == "no") {
        out = false;
      } else {
        error = "must be true or false";
        return false;
      }
      return true;
    }
    case 4: {
      std::vector<std::string> items;
      while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      }
      out = std::move(items);
      return true;
    }
    default:
      out = std::string(text);
      return true;
  }
}

bool store_value(const FieldRef& field, uint64_t min, uint64_t max, Check check, const Input& in, std::string& error) {
  switch (field.index()) {
    case 0: {
      const auto* s = std::get_if<std::string>(&in);
      if (s == nullptr) return fail(error, "must be a string");
      std::string v = *s;
      if (!check_string(check, v, error)) return false;
      *std::get<0>(field) = std::move(v);
      return true;
    }
    case 1:
      return store_integer(std::get<1>(field), min, std::min(max, kU32Max), in, error);
    case 2:
      return store_integer(std::get<2>(field), min, max, in, error);
    case 3: {
      const bool* b = std::get_if<bool>(&in);
      if (b == nullptr) return fail(error, "must be true or false");
      *std::get<3>(field) = *b;
      return true;
    }
    case 4: {
      const auto* list = std::get_if<std::vector<std::string>>(&in);
      if (list == nullptr) return fail(error, "must be an array of strings");
      if (list->size() < min || list->size() > max) {
        error = "must have between " + std::to_string(min) + " and " + std::to_string(max) + " entries";
        return false;
      }
      std::vector<std::string> v = *list;
      for (std::string& item : v) {
        if (!check_string(check, item, error)) return false;
      }
      *std::get<4>(field) = std::move(v);
      return true;
    }
    case 5: {
      const auto* s = std::get_if<std::string>(&in);
      std::string low = s != nullptr ? lower(*s) : std::string();
      if (low != "oceanbase" && low != "mysql") return fail(error, "must be \"oceanbase\" or \"mysql\"");
      *std::get<5>(field) = low == "mysql" ? ServerMode::mysql : ServerMode::oceanbase;
      return true;
    }
    case 6: {
      const auto* s = std::get_if<std::string>(&in);
      std::string low = s != nullptr ? lower(*s) : std::string();
      if (low != "strong" && low != "weak") return fail(error, "must be \"strong\" or \"weak\"");
      *std::get<6>(field) = low == "weak" ? ReadConsistency::weak : ReadConsistency::strong;
      return true;
    }
    default:
      return false;
  }
}

std::string field_text(const FieldRef& field) {
  switch (field.index()) {
    case 0:
      return *std::get<0>(field);
    case 1:
      return std::to_string(*std::get<1>(field));
    case 2:
      return std::to_string(*std::get<2>(field));
    case 3:
      return *std::get<3>(field) ? "true" : "false";
    case 4: {
      std::string out;
      for (const std::string& s : *std::get<4>(field)) out += (out.empty() ? "" : ",") + s;
      return out;
    }
    case 5:
      return *std::get<5>(field) == ServerMode::mysql ? "mysql" : "oceanbase";
    case 6:
      return *std::get<6>(field) == ReadConsistency::weak ? "weak" : "strong";
    default:
      return "";
  }
}

const char* expected_type(const FieldRef& field) {
  switch (field.index()) {
    case 1:
    case 2:
      return "must be an integer";
    case 3:
      return "must be true or false";
    case 4:
      return "must be an array of strings";
    default:
      return "must be a string";
  }
}

std::vector<std::pair<std::string, std::string>> cross_check(Config& config) {
  std::vector<std::pair<std::string, std::string>> problems;
  if (config.clusters.empty()) {
    problems.emplace_back("cluster",
                          "no cluster: at least one [cluster.NAME] section with a rootservice_list is required");
  } else if (config.default_cluster.empty()) {
    config.default_cluster = config.clusters.front().name;
  } else if (config.find_cluster(config.default_cluster) == nullptr) {
    problems.emplace_back("proxy.default_cluster",
                          "proxy.default_cluster names no [cluster." + config.default_cluster + "] section");
  }
  // The admin listener on the SQL port would fail at start-up with a confusing "in use" error.
  auto sql = parse_host_port(config.listen.address);
  auto http = parse_host_port(config.listen.admin_http);
  if (sql && http && sql->port == http->port && http->port != 0) {
    auto wildcard = [](const std::string& host) { return host == "0.0.0.0" || host == "::"; };
    if (sql->host == http->host || wildcard(sql->host) || wildcard(http->host)) {
      problems.emplace_back("listen.admin_http", "listen.admin_http uses the same port as listen.address");
    }
  }
  const TlsConfig& tls = config.tls;
  if (tls.client_cert.empty() != tls.client_key.empty()) {
    problems.emplace_back(tls.client_cert.empty() ? "tls.client_key" : "tls.client_cert",
                          tls.client_cert.empty() ? "tls.client_key is set without tls.client_cert (TLS needs both)"
                                                  : "tls.client_cert is set without tls.client_key (TLS needs both)");
  }
  if (!tls.client_ca.empty() && !tls.enabled()) {
    problems.emplace_back("tls.client_ca", "tls.client_ca needs tls.client_cert and tls.client_key");
  }
  return problems;
}

bool is_stage2_text(std::string_view text) {
  return text.empty() || (text.size() == 41 && text.front() == '*' && is_hex(text.substr(1)));
}

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // suggest only within two edits
  for (const std::string& cand : candidates) {
    // Levenshtein distance with one row.
    std::vector<size_t> row(cand.size() + 1);
    for (size_t j = 0; j <= cand.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= cand.size(); ++j) {
        size_t up = row[j];
        size_t cost = base::ascii_lower(name[i - 1]) == base::ascii_lower(cand[j - 1]) ? 0 : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
        diag = up;
      }
    }
    if (row[cand.size()] < best_distance) {
      best_distance = row[cand.size()];
      best = cand;
    }
  }
  return best;
}

}  // namespace odp::admin::detail
