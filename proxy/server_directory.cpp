#include "proxy/server_directory.h"

#include <algorithm>

#include "protocol/constants.h"

namespace odp::proxy {

ServerId ServerDirectory::intern(std::string_view host_port) {
  auto it = by_name_.find(host_port);
  if (it != by_name_.end()) return it->second;
  if (servers_.size() >= kNoServer) return kNoServer;
  auto id = static_cast<ServerId>(servers_.size());
  servers_.emplace_back(host_port);
  by_name_.emplace(std::string(host_port), id);
  return id;
}

ServerId ServerDirectory::find(std::string_view host_port) const {
  auto it = by_name_.find(host_port);
  return it == by_name_.end() ? kNoServer : it->second;
}

DialectId ServerDirectory::dialect(std::string_view cluster, std::string_view tenant, std::string_view user,
                                   uint32_t caps, uint8_t charset, uint32_t mariadb_ext_caps,
                                   const std::vector<std::pair<std::string, std::string>>& attributes) {
  std::string key;
  key.reserve(cluster.size() + tenant.size() + user.size() + 16);
  key.append(cluster).push_back('\x1f');
  key.append(tenant).push_back('\x1f');
  key.append(user).push_back('\x1f');
  key.append(std::to_string(dialect_capabilities(caps))).push_back('\x1f');
  key.append(std::to_string(charset)).push_back('\x1f');
  key.append(std::to_string(mariadb_ext_caps));
  // Attribute order does not matter; names and values are length-prefixed so no two lists collide.
  std::vector<std::pair<std::string, std::string>> sorted(attributes.begin(), attributes.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [k, v] : sorted) {
    if (!shared_attribute(k)) continue;
    key.push_back('\x1f');
    key.append(std::to_string(k.size())).push_back(':');
    key.append(k);
    key.append(std::to_string(v.size())).push_back(':');
    key.append(v);
  }
  auto it = dialects_.find(key);
  if (it != dialects_.end()) return it->second;
  auto id = static_cast<DialectId>(dialects_.size());
  dialects_.emplace(std::move(key), id);
  return id;
}

bool shared_attribute(std::string_view name) {
  return name.rfind("_odp", 0) != 0 && name != "_pid" && name != "_thread";
}

uint32_t dialect_capabilities(uint32_t caps) {
  using namespace protocol::cap;
  // Not CONNECT_WITH_DB (a login detail), SESSION_TRACK (odp always asks servers for it and strips
  // it for clients that did not), SSL/COMPRESS (between the client and odp only).
  return caps & (FOUND_ROWS | LONG_FLAG | NO_SCHEMA | ODBC | LOCAL_FILES | IGNORE_SPACE | INTERACTIVE |
                 MULTI_STATEMENTS | MULTI_RESULTS | PS_MULTI_RESULTS | DEPRECATE_EOF);
}

}  // namespace odp::proxy
