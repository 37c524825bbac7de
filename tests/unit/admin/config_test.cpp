#include "admin/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

namespace {

using odp::admin::Config;
using odp::admin::ConfigError;
using odp::admin::parse_config;

const char* const kMinimal = R"(
[cluster.c1]
rootservice_list = ["127.0.0.1:2881"]
)";

Config parse_ok(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  if (!r) {
    for (const ConfigError& e : r.error()) MESSAGE(e.message);
  }
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::vector<ConfigError> parse_bad(const std::string& text) {
  auto r = parse_config(text, "t.toml");
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// The single error of a text that must fail, as its message.
std::string one_error(const std::string& text) {
  auto errors = parse_bad(text);
  CHECK(errors.size() == 1);
  return errors.front().message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string item(const Config& c, const std::string& key) {
  for (const auto& [k, v] : odp::admin::config_items(c)) {
    if (k == key) return v;
  }
  FAIL("no item " << key);
  return "";
}

}  // namespace

TEST_CASE("config: defaults from a minimal file") {
  Config c = parse_ok(kMinimal);
  CHECK(c.source == "t.toml");
  CHECK(c.listen.address == "0.0.0.0:2883");
  CHECK(c.listen.admin_http == "127.0.0.1:2884");
  CHECK(c.listen.workers == 0);
  CHECK(c.listen.backlog == 1024);
  CHECK(c.listen.drain_timeout_ms == 30000);
  CHECK(c.limits.client_max_connections == 10000);
  CHECK(c.limits.max_packet_bytes == (256ull << 20));
  CHECK(c.limits.client_idle_timeout_ms == 28800000);
  CHECK(c.limits.client_handshake_timeout_ms == 10000);
  CHECK(c.limits.server_connect_timeout_ms == 3000);
  CHECK(c.limits.server_query_timeout_ms == 600000);
  CHECK(c.limits.server_silence_probe_ms == 5000);
  CHECK(c.limits.max_output_buffer_bytes == (1u << 20));
  REQUIRE(c.clusters.size() == 1);
  const auto& cl = c.clusters[0];
  CHECK(cl.name == "c1");
  CHECK(cl.rootservice_list == std::vector<std::string>{"127.0.0.1:2881"});
  CHECK(cl.server_mode == odp::admin::ServerMode::oceanbase);
  CHECK(cl.meta_user == "proxyro@sys");
  CHECK(cl.meta_password.empty());
  CHECK(cl.default_tenant == "sys");
  CHECK(cl.refresh_interval_ms == 20000);
  CHECK(cl.users.empty());
  CHECK(c.default_cluster == "c1");
  CHECK(c.routing.read_consistency == odp::admin::ReadConsistency::strong);
  CHECK(c.routing.route_policy == "FOLLOWER_FIRST");
  CHECK(c.routing.failover_wait_ms == 10000);
  CHECK(c.routing.proxy_idc.empty());
  CHECK(c.routing.proxy_region.empty());
  CHECK(c.protocol.ob20_to_server);
  CHECK_FALSE(c.protocol.ob20_to_client);
  CHECK(c.protocol.checksum);
  CHECK(c.protocol.compression_to_client);
  CHECK_FALSE(c.tls.enabled());
  CHECK(c.tls.min_version == "TLSv1.2");
  CHECK(c.admin.proxysys_password_sha1.empty());
  CHECK_FALSE(c.admin.allow_remote);
  CHECK(c.log.level == "info");
  CHECK(c.log.dir.empty());
  CHECK(c.log.slow_query_ms == 1000);
  CHECK(c.find_cluster("c1") == &c.clusters[0]);
  CHECK(c.find_cluster("nope") == nullptr);
}

TEST_CASE("config: every key set") {
  Config c = parse_ok(R"(
[listen]
address = "127.0.0.1:3883"
admin_http = "[::1]:0"
workers = 4
backlog = 128
drain_timeout_ms = 5000

[limits]
client_max_connections = 50
max_packet_bytes = 1048576
client_idle_timeout_ms = 60000
client_handshake_timeout_ms = 2000
server_connect_timeout_ms = 1500
server_query_timeout_ms = 30000
max_output_buffer_bytes = 65536

[proxy]
default_cluster = "c2"

[cluster.c1]
rootservice_list = ["127.0.0.1:2881", "[::1]:2882", "10.0.0.3:2881"]
server_mode = "mysql"
meta_user = "proxyro"
meta_password = "secret"
default_tenant = "t1"
refresh_interval_ms = 5000

[cluster.c1.users]
app = "*6bb4837eb74329105ee4568dda7dc67ed2ca2ad9"
nopw = ""

[cluster.c2]
rootservice_list = ["10.0.0.1:2881"]

[routing]
read_consistency = "weak"
route_policy = "follower_only"
proxy_idc = "idc1"
proxy_region = "r1"

[protocol]
ob20_to_server = false
ob20_to_client = true
checksum = false
compression_to_client = false

[tls]
client_cert = "/etc/odp/cert.pem"
client_key = "/etc/odp/key.pem"
client_ca = "/etc/odp/ca.pem"
min_version = "TLSv1.3"

[admin]
proxysys_password_sha1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
allow_remote = true

[log]
level = "DEBUG"
dir = "/var/log/odp"
slow_query_ms = 0
)");
  CHECK(c.listen.address == "127.0.0.1:3883");
  CHECK(c.listen.admin_http == "[::1]:0");
  CHECK(c.listen.workers == 4);
  CHECK(c.listen.backlog == 128);
  CHECK(c.listen.drain_timeout_ms == 5000);
  CHECK(c.limits.client_max_connections == 50);
  CHECK(c.limits.max_packet_bytes == 1048576);
  CHECK(c.limits.client_idle_timeout_ms == 60000);
  CHECK(c.limits.client_handshake_timeout_ms == 2000);
  CHECK(c.limits.server_connect_timeout_ms == 1500);
  CHECK(c.limits.server_query_timeout_ms == 30000);
  CHECK(c.limits.max_output_buffer_bytes == 65536);
  CHECK(c.default_cluster == "c2");
  REQUIRE(c.clusters.size() == 2);
  const auto& cl = c.clusters[0];
  CHECK(cl.name == "c1");
  CHECK(cl.rootservice_list.size() == 3);
  CHECK(cl.server_mode == odp::admin::ServerMode::mysql);
  CHECK(cl.meta_user == "proxyro");
  CHECK(cl.meta_password == "secret");
  CHECK(cl.default_tenant == "t1");
  CHECK(cl.refresh_interval_ms == 5000);
  CHECK(cl.users.at("app") == "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9");  // normalized to upper case
  CHECK(cl.users.at("nopw").empty());
  CHECK(c.clusters[1].name == "c2");
  CHECK(c.routing.read_consistency == odp::admin::ReadConsistency::weak);
  CHECK(c.routing.route_policy == "FOLLOWER_ONLY");
  CHECK(c.routing.proxy_idc == "idc1");
  CHECK(c.routing.proxy_region == "r1");
  CHECK_FALSE(c.protocol.ob20_to_server);
  CHECK(c.protocol.ob20_to_client);
  CHECK_FALSE(c.protocol.checksum);
  CHECK_FALSE(c.protocol.compression_to_client);
  CHECK(c.tls.enabled());
  CHECK(c.tls.client_ca == "/etc/odp/ca.pem");
  CHECK(c.tls.min_version == "TLSv1.3");
  CHECK(c.admin.proxysys_password_sha1 == "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
  CHECK(c.admin.allow_remote);
  CHECK(c.log.level == "debug");
  CHECK(c.log.dir == "/var/log/odp");
  CHECK(c.log.slow_query_ms == 0);
}

TEST_CASE("config: syntax errors carry file and line") {
  auto errors = parse_bad("[listen]\naddress = \"127.0.0.1:1\"\nworkers = = 3\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 3);
  CHECK(contains(errors[0].message, "t.toml:3: "));
}

TEST_CASE("config: unknown sections and keys are errors, with hints") {
  std::string text = std::string(kMinimal) + "\n[limit]\nclient_max_connections = 5\n";
  std::string e = one_error(text);
  CHECK(contains(e, "t.toml:5: unknown section [limit]"));
  CHECK(contains(e, "did you mean 'limits'"));

  e = one_error(std::string(kMinimal) + "[listen]\nadress = \"1.2.3.4:5\"\n");
  CHECK(contains(e, "t.toml:5: unknown key 'listen.adress'"));
  CHECK(contains(e, "did you mean 'listen.address'"));

  e = one_error(std::string(kMinimal) + "refresh_intervl_ms = 5\n");
  CHECK(contains(e, "t.toml:4: unknown key 'cluster.c1.refresh_intervl_ms'"));

  e = one_error("workers = 3\n" + std::string(kMinimal));
  CHECK(contains(e, "t.toml:1: unknown key 'workers' outside any section"));

  e = one_error(std::string(kMinimal) + "[tls]\nclient_certificate = \"x\"\n");
  CHECK(contains(e, "unknown key 'tls.client_certificate'"));
}

TEST_CASE("config: every problem is reported, not only the first") {
  auto errors = parse_bad(R"([listen]
workers = -1
backlog = "x"
[limits]
max_packet_bytes = 12
[cluster.c1]
rootservice_list = ["127.0.0.1:2881"]
server_mode = "postgres"
)");
  REQUIRE(errors.size() == 4);
  CHECK(errors[0].message == "t.toml:2: listen.workers must be between 0 and 1024 (got -1)");
  CHECK(errors[1].message == "t.toml:3: listen.backlog must be an integer, not a string");
  CHECK(errors[2].message == "t.toml:5: limits.max_packet_bytes must be between 1024 and 1073741824 (got 12)");
  CHECK(errors[3].message == "t.toml:8: cluster.c1.server_mode must be \"oceanbase\" or \"mysql\"");
  CHECK(errors[3].line == 8);
}

TEST_CASE("config: types and ranges") {
  auto err = [](const std::string& section_and_key) { return one_error(std::string(kMinimal) + section_and_key); };
  CHECK(contains(err("[listen]\naddress = \"localhost:2883\"\n"), "numeric IPv4"));
  CHECK(contains(err("[listen]\naddress = \"127.0.0.1:0\"\n"), "listen.address needs a port between 1 and 65535"));
  CHECK(contains(err("[listen]\naddress = \"127.0.0.1:65536\"\n"), "port must be a number"));
  CHECK(contains(err("[listen]\naddress = \"::1:2883\"\n"), "brackets"));
  CHECK(contains(err("[listen]\naddress = 2883\n"), "listen.address must be a string, not an integer"));
  CHECK(contains(err("[listen]\nadmin_http = \"127.0.0.1\"\n"), "listen.admin_http"));
  CHECK(contains(err("[listen]\nworkers = 1025\n"), "between 0 and 1024"));
  CHECK(contains(err("[listen]\nworkers = 2.5\n"), "must be an integer, not a floating-point number"));
  CHECK(contains(err("[listen]\nbacklog = 0\n"), "between 1 and 65535"));
  CHECK(contains(err("[listen]\ndrain_timeout_ms = 3600001\n"), "listen.drain_timeout_ms"));
  CHECK(contains(err("[limits]\nclient_max_connections = 0\n"), "between 1 and"));
  CHECK(contains(err("[limits]\nmax_packet_bytes = 1073741825\n"), "between 1024 and 1073741824"));
  CHECK(contains(err("[limits]\nclient_idle_timeout_ms = 999\n"), "limits.client_idle_timeout_ms"));
  CHECK(contains(err("[limits]\nclient_idle_timeout_ms = 99999999999\n"), "limits.client_idle_timeout_ms"));
  CHECK(contains(err("[limits]\nclient_handshake_timeout_ms = 99\n"), "client_handshake_timeout_ms"));
  CHECK(contains(err("[limits]\nserver_connect_timeout_ms = 600001\n"), "server_connect_timeout_ms"));
  CHECK(contains(err("[limits]\nserver_query_timeout_ms = -5\n"), "server_query_timeout_ms"));
  CHECK(contains(err("[limits]\nmax_output_buffer_bytes = 100\n"), "max_output_buffer_bytes"));
  CHECK(contains(err("[routing]\nread_consistency = \"eventual\"\n"), "\"strong\" or \"weak\""));
  CHECK(contains(err("[routing]\nroute_policy = \"LEADER\"\n"), "FOLLOWER_FIRST, UNMERGE_FOLLOWER_FIRST"));
  CHECK(contains(err("[routing]\nproxy_idc = \"" + std::string(129, 'x') + "\"\n"), "at most 128"));
  CHECK(contains(err("[protocol]\nchecksum = \"yes\"\n"), "protocol.checksum must be true or false, not a string"));
  CHECK(contains(err("[tls]\nmin_version = \"TLSv1.1\"\n"), "tls.min_version"));
  CHECK(contains(err("[admin]\nproxysys_password_sha1 = \"abc\"\n"), "40 hex digits"));
  CHECK(contains(err("[admin]\nallow_remote = 1\n"), "must be true or false, not an integer"));
  CHECK(contains(err("[log]\nlevel = \"verbose\"\n"), "debug, info, warn, error, off"));
  CHECK(contains(err("[log]\nslow_query_ms = 86400001\n"), "log.slow_query_ms"));
  CHECK(contains(err("listen = 3\n"), "unknown key 'cluster.c1.listen'"));
}

TEST_CASE("config: the admin listener cannot share the SQL port") {
  CHECK(contains(one_error(std::string(kMinimal) + "[listen]\nadmin_http = \"127.0.0.1:2883\"\n"),
                 "t.toml:5: listen.admin_http uses the same port as listen.address"));
  CHECK(contains(
      one_error(std::string(kMinimal) + "[listen]\naddress = \"127.0.0.1:7000\"\nadmin_http = \"[::]:7000\"\n"),
      "listen.admin_http uses the same port"));
  parse_ok(std::string(kMinimal) + "[listen]\naddress = \"127.0.0.1:7000\"\nadmin_http = \"127.0.0.2:7000\"\n");
  parse_ok(std::string(kMinimal) + "[listen]\nadmin_http = \"\"\n");
}

TEST_CASE("config: cluster rules") {
  CHECK(contains(one_error("[listen]\nworkers = 1\n"), "at least one [cluster.NAME]"));
  CHECK(contains(one_error("[cluster.c1]\nserver_mode = \"mysql\"\n"),
                 "t.toml:1: cluster.c1.rootservice_list is required"));
  CHECK(contains(one_error("[cluster.c1]\nrootservice_list = []\n"), "between 1 and 64 entries"));
  CHECK(contains(one_error("[cluster.c1]\nrootservice_list = [\"127.0.0.1\"]\n"), "expected host:port"));
  CHECK(contains(one_error("[cluster.c1]\nrootservice_list = [\"db1.example:2881\"]\n"), "not a host name"));
  CHECK(contains(one_error("[cluster.c1]\nrootservice_list = [\"127.0.0.1:0\"]\n"), "port between 1"));
  CHECK(contains(one_error("[cluster.c1]\nrootservice_list = [1]\n"), "array of strings, not an array"));
  CHECK(contains(one_error("[cluster.c1]\nrootservice_list = \"127.0.0.1:1\"\n"), "array of strings, not a string"));
  CHECK(contains(one_error(std::string(kMinimal) + "default_tenant = \"a@b\"\n"), "tenant name"));
  CHECK(contains(one_error(std::string(kMinimal) + "meta_user = \"\"\n"), "must not be empty"));
  CHECK(contains(one_error(std::string(kMinimal) + "refresh_interval_ms = 10\n"), "between 1000 and"));
  // These also leave no cluster at all, a second error.
  CHECK(contains(parse_bad("[cluster.\"a.b\"]\nrootservice_list = [\"127.0.0.1:1\"]\n")[0].message,
                 "cluster name 'a.b'"));
  CHECK(contains(parse_bad("cluster = 3\n")[0].message, "'cluster' must hold sections named [cluster.NAME]"));
  CHECK(contains(one_error(std::string(kMinimal) + "[proxy]\ndefault_cluster = \"c9\"\n"),
                 "t.toml:5: proxy.default_cluster names no [cluster.c9] section"));
}

TEST_CASE("config: cluster users are stage2 hashes") {
  std::string base = std::string(kMinimal) + "[cluster.c1.users]\n";
  CHECK(parse_ok(base + "app = \"*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9\"\n").clusters[0].users.size() == 1);
  std::string e = one_error(base + "app = \"6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9\"\n");
  CHECK(contains(e, "t.toml:5: cluster.c1.users.app must be \"*\" and 40 hex digits"));
  CHECK(contains(one_error(base + "app = \"*6BB4837EB74329105EE4568DDA7DC67ED2CA2AZ9\"\n"), "users.app"));
  CHECK(contains(one_error(base + "app = 5\n"), "users.app"));
  CHECK(contains(one_error(base + "\"a@b\" = \"\"\n"), "user name"));
  CHECK(contains(one_error(std::string(kMinimal) + "users = 3\n"), "cluster.c1.users must be a table"));
}

TEST_CASE("config: TLS cert and key go together") {
  CHECK(contains(one_error(std::string(kMinimal) + "[tls]\nclient_cert = \"/x.pem\"\n"),
                 "t.toml:5: tls.client_cert is set without tls.client_key (TLS needs both)"));
  CHECK(contains(one_error(std::string(kMinimal) + "[tls]\nclient_ca = \"/x.pem\"\n"),
                 "tls.client_ca needs tls.client_cert"));
}

TEST_CASE("config: load_config reads files and checks referenced files") {
  auto missing = odp::admin::load_config("/nonexistent/odp.toml");
  REQUIRE_FALSE(missing.ok());
  CHECK(contains(missing.error()[0].message, "/nonexistent/odp.toml: cannot read: No such file"));
  auto dir = odp::admin::load_config("/tmp");
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error()[0].message == "/tmp: cannot read: Is a directory");

  std::string path = "/tmp/odp_config_test_" + std::to_string(::getpid()) + ".toml";
  {
    std::ofstream out(path);
    out << kMinimal << "[tls]\nclient_cert = \"/nonexistent/cert.pem\"\nclient_key = \"/nonexistent/key.pem\"\n";
  }
  auto r = odp::admin::load_config(path);
  std::remove(path.c_str());
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().size() == 2);
  CHECK(r.error()[0].message ==
        path + ":5: tls.client_cert: cannot read '/nonexistent/cert.pem': No such file or directory");
  CHECK(r.error()[1].line == 6);
}

TEST_CASE("config: set_config_value changes live keys") {
  Config c = parse_ok(kMinimal);
  CHECK(odp::admin::set_config_value(c, "routing.route_policy", "unmerge_follower_first").ok());
  CHECK(c.routing.route_policy == "UNMERGE_FOLLOWER_FIRST");
  CHECK(odp::admin::set_config_value(c, "routing.read_consistency", "weak").ok());
  CHECK(c.routing.read_consistency == odp::admin::ReadConsistency::weak);
  CHECK(odp::admin::set_config_value(c, "limits.max_packet_bytes", " 2048 ").ok());
  CHECK(c.limits.max_packet_bytes == 2048);
  CHECK(odp::admin::set_config_value(c, "protocol.checksum", "OFF").ok());
  CHECK_FALSE(c.protocol.checksum);
  CHECK(odp::admin::set_config_value(c, "log.level", "warn").ok());
  CHECK(c.log.level == "warn");
  CHECK(odp::admin::set_config_value(c, "cluster.c1.refresh_interval_ms", "3000").ok());
  CHECK(c.clusters[0].refresh_interval_ms == 3000);
  CHECK(odp::admin::set_config_value(c, "cluster.c1.rootservice_list", "127.0.0.1:1, 127.0.0.1:2").ok());
  CHECK(c.clusters[0].rootservice_list == std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"});
  CHECK(odp::admin::set_config_value(c, "cluster.c1.users.bob", "*6bb4837eb74329105ee4568dda7dc67ed2ca2ad9").ok());
  CHECK(c.clusters[0].users.at("bob") == "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9");
  CHECK(odp::admin::set_config_value(c, "admin.proxysys_password_sha1", "").ok());
}

TEST_CASE("config: set_config_value refuses bad input and leaves the config alone") {
  Config c = parse_ok(kMinimal);
  auto r = odp::admin::set_config_value(c, "limits.max_packet_bytes", "12");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "limits.max_packet_bytes must be between 1024 and 1073741824 (got 12)");
  CHECK(c.limits.max_packet_bytes == (256ull << 20));

  r = odp::admin::set_config_value(c, "limits.max_packet_bytes", "12abc");
  CHECK(r.error() == "limits.max_packet_bytes must be an integer");
  r = odp::admin::set_config_value(c, "routing.route_polcy", "FOLLOWER_ONLY");
  CHECK(contains(r.error(), "unknown config key 'routing.route_polcy' (did you mean 'routing.route_policy'?)"));
  r = odp::admin::set_config_value(c, "nodot", "1");
  CHECK(contains(r.error(), "unknown config key"));
  r = odp::admin::set_config_value(c, "listen.address", "127.0.0.1:1");
  CHECK(r.error() == "listen.address cannot change while odp runs: edit the config file and restart");
  r = odp::admin::set_config_value(c, "cluster.c1.server_mode", "mysql");
  CHECK(contains(r.error(), "cannot change while odp runs"));
  r = odp::admin::set_config_value(c, "cluster.c9.meta_user", "x");
  CHECK(contains(r.error(), "no cluster named 'c9'"));
  r = odp::admin::set_config_value(c, "proxy.default_cluster", "c9");
  CHECK(contains(r.error(), "proxy.default_cluster names no [cluster.c9]"));
  CHECK(c.default_cluster == "c1");
  r = odp::admin::set_config_value(c, "protocol.checksum", "maybe");
  CHECK(r.error() == "protocol.checksum must be true or false");
  r = odp::admin::set_config_value(c, "cluster.c1.users.bob", "plain");
  CHECK(contains(r.error(), "40 hex digits"));
}

TEST_CASE("config: config_items lists every key in a stable order and masks secrets") {
  Config c = parse_ok(std::string(kMinimal) + "meta_password = \"pw\"\n[cluster.c1.users]\napp = \"\"\nbob = \"\"\n");
  auto items = odp::admin::config_items(c);
  CHECK(items.front().first == "listen.address");
  CHECK(items.back().first == "cluster.c1.users");
  CHECK(item(c, "cluster.c1.users") == "app,bob");
  CHECK(item(c, "cluster.c1.meta_password") == "******");
  CHECK(item(c, "admin.proxysys_password_sha1").empty());
  CHECK(item(c, "limits.max_packet_bytes") == "268435456");
  CHECK(item(c, "protocol.checksum") == "true");
  CHECK(item(c, "cluster.c1.server_mode") == "oceanbase");
  CHECK(item(c, "routing.read_consistency") == "strong");
  CHECK(item(c, "cluster.c1.rootservice_list") == "127.0.0.1:2881");
  CHECK(item(c, "proxy.default_cluster") == "c1");
  // Every listed key (but users) can be fed back through set_config_value or is reported as not live.
  for (const auto& kv : items) {
    const std::string& key = kv.first;
    if (key == "cluster.c1.users" || key == "cluster.c1.meta_password") continue;
    Config copy = c;
    auto r = odp::admin::set_config_value(copy, key, kv.second);
    CHECK_MESSAGE((r.ok() || contains(r.error(), "cannot change while odp runs")), key << ": " << r.error());
    CHECK(odp::admin::config_key_is_live(key) == r.ok());
  }
}

TEST_CASE("config: reload diffs say what needs a restart") {
  Config a = parse_ok(kMinimal);
  Config b = parse_ok(std::string(R"(
[listen]
address = "127.0.0.1:9999"
[routing]
route_policy = "FOLLOWER_ONLY"
[cluster.c1]
rootservice_list = ["127.0.0.1:2881"]
meta_password = "changed"
[cluster.c1.users]
app = ""
[cluster.c2]
rootservice_list = ["127.0.0.1:2882"]
)"));
  auto changed = odp::admin::changed_config_keys(a, b);
  std::vector<std::string> expected = {"listen.address", "routing.route_policy", "cluster.c1.meta_password",
                                       "cluster.c1.users.app", "cluster.c2"};
  CHECK(changed == expected);
  auto restart = odp::admin::restart_required_keys(a, b);
  CHECK(restart == std::vector<std::string>{"listen.address", "cluster.c2"});
  CHECK(odp::admin::changed_config_keys(a, a).empty());
  CHECK(odp::admin::restart_required_keys(b, a) == std::vector<std::string>{"listen.address", "cluster.c2"});
  CHECK(odp::admin::config_key_is_live("cluster.any.users.x"));
  CHECK_FALSE(odp::admin::config_key_is_live("cluster.any"));
  CHECK_FALSE(odp::admin::config_key_is_live("nope.nope"));
}

TEST_CASE("config: etc/odp.toml is valid and documents every key") {
  std::string path = std::string(ODP_SOURCE_DIR) + "/etc/odp.toml";
  auto r = odp::admin::load_config(path);
  if (!r) {
    for (const ConfigError& e : r.error()) MESSAGE(e.message);
  }
  REQUIRE(r.ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Every key appears as "key =" (set or commented out) in the shipped file.
  for (const auto& kv : odp::admin::config_items(*r)) {
    const std::string& key = kv.first;
    std::string name = key.substr(key.rfind('.') + 1);
    std::string needle = name == "users" ? ".users]" : name + " =";
    CHECK_MESSAGE(contains(text, needle), "etc/odp.toml does not document " << key);
  }
  CHECK(contains(text, "[cluster."));
}

TEST_CASE("config: clusters keep file order; the first is the default") {
  Config c = parse_ok(R"(
[cluster.zeta]
rootservice_list = ["127.0.0.1:1"]
[cluster.alpha]
rootservice_list = ["127.0.0.1:2"]
[cluster.mid]
rootservice_list = ["127.0.0.1:3"]
)");
  REQUIRE(c.clusters.size() == 3);
  CHECK(c.clusters[0].name == "zeta");
  CHECK(c.clusters[1].name == "alpha");
  CHECK(c.clusters[2].name == "mid");
  CHECK(c.default_cluster == "zeta");
}
