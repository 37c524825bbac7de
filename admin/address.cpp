#include "admin/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace odp::admin {
namespace {

bool is_host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

}  // namespace

Result<HostPort, std::string> parse_host_port(std::string_view text) {
  std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return Err{std::string("empty address: expected host:port")};
  HostPort hp;
  std::string_view port_text;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Err{quoted + ": missing ']' after the IPv6 address"};
    hp.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Err{quoted + ": expected ':port' after ']'"};
    port_text = rest.substr(1);
    in6_addr a6{};
    if (inet_pton(AF_INET6, hp.host.c_str(), &a6) != 1) return Err{quoted + ": not a valid IPv6 address"};
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Err{quoted + ": expected host:port"};
    if (text.find(':') != colon) return Err{quoted + ": an IPv6 address must be written in brackets, e.g. [::1]:2883"};
    hp.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    for (char c : hp.host) {
      if (!is_host_name_char(c)) return Err{quoted + ": invalid character in host name"};
    }
  }
  if (hp.host.empty()) return Err{quoted + ": empty host"};
  if (hp.host.size() > 253) return Err{quoted + ": host name too long"};
  if (port_text.empty() || port_text.size() > 5) return Err{quoted + ": port must be a number 0..65535"};
  uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return Err{quoted + ": port must be a number 0..65535"};
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return Err{quoted + ": port must be a number 0..65535"};
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

std::string format_host_port(const HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) return "[" + hp.host + "]:" + std::to_string(hp.port);
  return hp.host + ":" + std::to_string(hp.port);
}

Result<SockAddr, std::string> make_sockaddr(const HostPort& hp) {
  SockAddr out;
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, hp.host.c_str(), &a4) == 1) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(hp.port);
    sin.sin_addr = a4;
    std::memcpy(&out.storage, &sin, sizeof(sin));
    out.len = sizeof(sin);
    return out;
  }
  if (inet_pton(AF_INET6, hp.host.c_str(), &a6) == 1) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(hp.port);
    sin6.sin6_addr = a6;
    std::memcpy(&out.storage, &sin6, sizeof(sin6));
    out.len = sizeof(sin6);
    return out;
  }
  return Err{"'" + format_host_port(hp) + "': host must be a numeric IPv4 or IPv6 address"};
}

Result<SockAddr, std::string> parse_sockaddr(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp) return Err{hp.error()};
  return make_sockaddr(*hp);
}

Result<std::vector<SockAddr>, std::string> resolve(const HostPort& hp) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(hp.port);
  int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Err{format_host_port(hp) + ": " + gai_strerror(rc)};
  std::vector<SockAddr> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SockAddr sa;
    std::memcpy(&sa.storage, ai->ai_addr, ai->ai_addrlen);
    sa.len = ai->ai_addrlen;
    out.push_back(sa);
  }
  freeaddrinfo(res);
  if (out.empty()) return Err{format_host_port(hp) + ": no address"};
  return out;
}

std::string format_sockaddr(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  return "(family " + std::to_string(sa->sa_family) + ")";
}

}  // namespace odp::admin
