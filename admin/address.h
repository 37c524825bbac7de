#pragma once
// "host:port" addresses as they appear in the config: IPv4 "127.0.0.1:2883", IPv6 "[::1]:2883",
// or a host name "db1.example:3306" (name resolution is left to the caller; see resolve()).
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace odp::admin {

struct HostPort {
  std::string host;  // without brackets, e.g. "::1"
  uint16_t port = 0;
};

// Splits and checks "host:port". The port must be decimal 0..65535 (callers that cannot use
// port 0 check it themselves); an IPv6 literal must be bracketed.
Result<HostPort, std::string> parse_host_port(std::string_view text);

// Formats back to "host:port", bracketing IPv6 literals.
std::string format_host_port(const HostPort& hp);

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// A socket address for a numeric IPv4/IPv6 host; host names are an error (no DNS here, so it is
// safe to call from any thread and never blocks).
Result<SockAddr, std::string> make_sockaddr(const HostPort& hp);
// parse_host_port + make_sockaddr.
Result<SockAddr, std::string> parse_sockaddr(std::string_view text);

// Resolves a host name (or numeric address) with getaddrinfo. Blocking: control thread only.
Result<std::vector<SockAddr>, std::string> resolve(const HostPort& hp);

// "1.2.3.4:5" / "[::1]:5" for a socket address (for logs and errors).
std::string format_sockaddr(const sockaddr* sa);

}  // namespace odp::admin
