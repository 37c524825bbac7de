#pragma once
// A worker's names for servers and logins, as small integers: a server address ("host:port") and
// a login dialect (cluster, tenant, user, the client capabilities that change how a server
// behaves, the handshake charset) are interned once, so the statement path compares and hashes
// integers instead of building strings. Ids are stable for the worker's life. Single-threaded.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace odp::proxy {

using ServerId = uint16_t;
using DialectId = uint32_t;
inline constexpr ServerId kNoServer = 0xFFFF;

class ServerDirectory {
 public:
  // The id of "host:port" (interned on first use). kNoServer when the table is full.
  ServerId intern(std::string_view host_port);
  // kNoServer when never interned.
  ServerId find(std::string_view host_port) const;
  const std::string& host_port(ServerId id) const { return servers_[id]; }
  size_t size() const { return servers_.size(); }

  // The id of a login dialect: connections of one dialect are interchangeable between sessions.
  // `attributes`: the client's connect attributes (the server shows them for the connection).
  DialectId dialect(std::string_view cluster, std::string_view tenant, std::string_view user, uint32_t caps,
                    uint8_t charset, uint32_t mariadb_ext_caps = 0,
                    const std::vector<std::pair<std::string, std::string>>& attributes = {});

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> servers_;
  std::unordered_map<std::string, ServerId, Hash, std::equal_to<>> by_name_;
  std::unordered_map<std::string, DialectId, Hash, std::equal_to<>> dialects_;
};

// Connect attributes a pooled connection presents: the client's, but for those that differ between
// the connections of one client program (process and thread ids) and odp's own.
bool shared_attribute(std::string_view name);

// The client capabilities that change what a server does for a session, beyond the protocol odp
// speaks to it: they are part of a pooled connection's dialect (CLIENT_IGNORE_SPACE puts
// IGNORE_SPACE in sql_mode, CLIENT_INTERACTIVE picks interactive_timeout, CLIENT_FOUND_ROWS changes
// affected-row counts, DEPRECATE_EOF / MULTI_RESULTS... change the response shapes).
uint32_t dialect_capabilities(uint32_t client_caps);

}  // namespace odp::proxy
