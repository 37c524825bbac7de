#include "admin/address.h"

#include <doctest/doctest.h>

using odp::admin::parse_host_port;

TEST_CASE("address: host:port forms") {
  auto v4 = parse_host_port("127.0.0.1:2883");
  REQUIRE(v4.ok());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 2883);

  auto v6 = parse_host_port("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);
  CHECK(odp::admin::format_host_port(*v6) == "[::1]:0");

  auto name = parse_host_port("db-1.example_x:65535");
  REQUIRE(name.ok());
  CHECK(name->host == "db-1.example_x");
  CHECK(name->port == 65535);
}

TEST_CASE("address: malformed input") {
  for (const char* bad :
       {"", ":1", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:1a", "127.0.0.1:123456",
        "::1:80", "[::1]", "[::1]80", "[::1:80", "[nothex]:80", "a b:1", "[]:1", "h\xc3\xa9:1"}) {
    CHECK_MESSAGE(!parse_host_port(bad).ok(), "accepted '" << bad << "'");
  }
  CHECK(parse_host_port("::1:80").error().find("brackets") != std::string::npos);
}

TEST_CASE("address: sockaddr for numeric hosts only") {
  auto sa = odp::admin::parse_sockaddr("10.1.2.3:80");
  REQUIRE(sa.ok());
  CHECK(sa->family() == AF_INET);
  CHECK(sa->len == sizeof(sockaddr_in));
  CHECK(odp::admin::format_sockaddr(sa->addr()) == "10.1.2.3:80");

  auto sa6 = odp::admin::parse_sockaddr("[fe80::1]:443");
  REQUIRE(sa6.ok());
  CHECK(sa6->family() == AF_INET6);
  CHECK(sa6->len == sizeof(sockaddr_in6));
  CHECK(odp::admin::format_sockaddr(sa6->addr()) == "[fe80::1]:443");

  auto named = odp::admin::parse_sockaddr("localhost:80");
  REQUIRE_FALSE(named.ok());
  CHECK(named.error().find("numeric") != std::string::npos);
}

TEST_CASE("address: resolve numeric and local names") {
  auto r = odp::admin::resolve({"127.0.0.1", 5});
  REQUIRE(r.ok());
  CHECK(odp::admin::format_sockaddr(r->front().addr()) == "127.0.0.1:5");
  auto local = odp::admin::resolve({"localhost", 7});
  if (local.ok()) CHECK(!local->empty());  // /etc/hosts may be minimal in containers
}
