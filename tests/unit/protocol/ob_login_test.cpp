#include "protocol/ob_login.h"

#include <doctest/doctest.h>

#include "protocol/session_track.h"

using namespace odp::protocol;

TEST_CASE("ob login: proxy scramble is the XOR of both scrambles and undoes itself") {
  std::array<uint8_t, 20> p{}, s{};
  for (uint8_t i = 0; i < 20; ++i) {
    p[i] = static_cast<uint8_t>(i * 7 + 1);
    s[i] = static_cast<uint8_t>(0xA5 ^ i);
  }
  auto x = proxy_scramble(p, s);
  CHECK(x[0] == (1 ^ 0xA5));
  // The server recovers the proxy's scramble with its own.
  CHECK(proxy_scramble(x, s) == p);
}

TEST_CASE("ob login: obproxy's attributes in its order, then the client's __ob_client* ones") {
  ObProxyLoginAttributes a;
  a.server_session_id = 3221487617u;
  a.proxy_connection_id = 42;
  a.capabilities = odp_ob_capabilities(true);
  a.cluster_name = "c1";
  std::array<uint8_t, 20> scr{};
  scr[0] = 0;  // raw bytes, NUL included
  scr[19] = 0xFF;
  a.proxy_scramble = scr;
  a.client_ip = "127.0.0.1";
  a.client_port = 5555;
  a.client_session_id = 42;
  a.client_connect_time_us = 1700000000000000;
  a.proxy_version = "odp-1";
  std::vector<std::pair<std::string, std::string>> client{
      {"_client_name", "libmariadb"}, {"__ob_client_name", "OceanBase Connector/J"}, {"__ob_client_version", "2.4"}};
  auto out = ob_proxy_login_attributes(a, client);
  std::vector<std::string> names;
  for (const auto& kv : out) names.push_back(kv.first);
  CHECK(names == std::vector<std::string>{"__mysql_client_type", "__connection_id", "__proxy_connection_id",
                                          "__cluster_name", "__global_vars_version", "__proxy_capability_flag",
                                          "__proxy_scramble", "__client_ip", "__proxy_version", "__client_addr_port",
                                          "__client_session_id", "__client_connect_time", "__ob_client_name",
                                          "__ob_client_version"});
  CHECK(out[0].second == "__ob_proxy");
  CHECK(out[1].second == "3221487617");
  CHECK(out[4].second == "0");
  CHECK(out[5].second == std::to_string((1u << 8) | (1u << 13) | (1u << 15)));
  CHECK(out[6].second.size() == 20);
  CHECK(static_cast<uint8_t>(out[6].second[19]) == 0xFF);
  // No token, no scramble attribute; no cluster name, none sent.
  a.proxy_scramble.reset();
  a.cluster_name.clear();
  auto bare = ob_proxy_login_attributes(a, {});
  for (const auto& kv : bare) {
    CHECK(kv.first != "__proxy_scramble");
    CHECK(kv.first != "__cluster_name");
  }
}

TEST_CASE("ob login: granted capabilities come from the login OK's ob_capability_flag") {
  std::vector<uint8_t> state;
  encode_session_track_record(SessionTrackType::system_variables, "autocommit", "ON", state);
  encode_session_track_record(SessionTrackType::system_variables, "ob_capability_flag", "33024", state);
  CHECK(ob_capabilities_granted(state) == 33024u);
  std::vector<uint8_t> none;
  encode_session_track_record(SessionTrackType::system_variables, "autocommit", "ON", none);
  CHECK_FALSE(ob_capabilities_granted(none).has_value());
  std::vector<uint8_t> junk;
  encode_session_track_record(SessionTrackType::system_variables, "ob_capability_flag", "12x", junk);
  CHECK_FALSE(ob_capabilities_granted(junk).has_value());
  CHECK(odp_ob_capabilities(false) == 0);
}

TEST_CASE("ob login: the tenant's global-variables version in a login OK") {
  std::vector<uint8_t> state;
  encode_session_track_record(SessionTrackType::system_variables, "ob_capability_flag", "256", state);
  encode_session_track_record(SessionTrackType::system_variables, "ob_proxy_global_variables_version",
                              "1700000000123456", state);
  CHECK(ob_global_vars_version(state) == 1700000000123456);
  std::vector<uint8_t> none;
  encode_session_track_record(SessionTrackType::system_variables, "ob_capability_flag", "256", none);
  CHECK(ob_global_vars_version(none) == 0);
  std::vector<uint8_t> junk;
  encode_session_track_record(SessionTrackType::system_variables, "ob_proxy_global_variables_version", "-3", junk);
  CHECK(ob_global_vars_version(junk) == 0);
}
