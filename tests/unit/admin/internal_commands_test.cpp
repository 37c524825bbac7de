#include "admin/internal_commands.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "admin/config.h"

namespace {

using odp::Err;
using odp::Ok;
using odp::Result;
using odp::admin::Config;
using odp::admin::execute_internal_command;
using odp::admin::internal_command_needs;
using odp::admin::InternalContext;
using odp::admin::InternalResult;
using odp::admin::like_match;
using odp::admin::SessionInfo;
using Kind = InternalResult::Kind;

Config test_config() {
  auto r = odp::admin::parse_config(R"(
[admin]
proxysys_password_sha1 = "0123456789abcdef0123456789abcdef01234567"
[cluster.c1]
rootservice_list = ["127.0.0.1:2881"]
meta_password = "secret"
)",
                                    "/etc/odp/odp.toml");
  REQUIRE(r.ok());
  return std::move(r).value();
}

struct Fixture {
  Config config = test_config();
  InternalContext ctx;
  std::vector<std::pair<std::string, std::string>> altered;
  std::vector<std::pair<uint32_t, bool>> killed;

  Fixture() {
    ctx.stats = {{"client_connections", 3},
                 {"client_connections_accepted_total", 10},
                 {"sql_request_total", 42},
                 {"server_connections", -1}};
    ctx.config = &config;
    ctx.sessions = {
        {7, "app@t1#c1", "10.0.0.1:50000", "10.0.1.1:2881", 3221225473u, "idle", "shop", 65000},
        {9, "root@proxysys", "127.0.0.1:40000", "", 0, "query", "", 0},
    };
    ctx.version = "0.1.0";
    ctx.info = {{"workers", "4"}, {"uptime_s", "12"}, {"config_file", "/etc/odp/odp.toml"}};
    ctx.alter_config = [this](const std::string& k, const std::string& v) -> Result<Ok, std::string> {
      altered.emplace_back(k, v);
      if (k == "listen.address") return Err{std::string("listen.address cannot change while odp runs")};
      if (k == "nope.key") return Err{std::string("unknown config key 'nope.key'")};
      return Ok{};
    };
    ctx.kill_session = [this](uint32_t id, bool query_only) {
      killed.emplace_back(id, query_only);
      return id == 7;
    };
  }

  InternalResult run(std::string_view sql) { return execute_internal_command(sql, ctx); }
};

std::string cell(const InternalResult& r, size_t row, size_t col) {
  REQUIRE(r.kind == Kind::rows);
  REQUIRE(row < r.rows.size());
  REQUIRE(col < r.rows[row].size());
  return r.rows[row][col].value_or("<NULL>");
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void check_shape(const InternalResult& r) {
  if (r.kind != Kind::rows) return;
  for (const auto& row : r.rows) CHECK(row.size() == r.columns.size());
}

}  // namespace

TEST_CASE("like_match: MySQL wildcards, escapes, case") {
  CHECK(like_match("client_connections", "client%"));
  CHECK(like_match("client_connections", "%connections"));
  CHECK(like_match("client_connections", "%conn%"));
  CHECK(like_match("client_connections", "CLIENT_CONNECTIONS"));
  CHECK(like_match("client_connections", "%"));
  CHECK(like_match("", "%"));
  CHECK(like_match("", ""));
  CHECK_FALSE(like_match("a", ""));
  CHECK_FALSE(like_match("", "_"));
  CHECK(like_match("abc", "a_c"));
  CHECK(like_match("abc", "___"));
  CHECK_FALSE(like_match("abc", "__"));
  CHECK_FALSE(like_match("abc", "____"));
  CHECK(like_match("abc", "%%%"));
  CHECK(like_match("abcabc", "%abc"));
  CHECK(like_match("aXbXc", "a%b%c"));
  CHECK_FALSE(like_match("aXbXd", "a%b%c"));
  CHECK(like_match("mississippi", "%iss%ppi"));
  CHECK_FALSE(like_match("mississippi", "%iss%ppx"));
  // Escapes: \_ and \% are literal, \\ is a backslash, a trailing backslash is literal.
  CHECK(like_match("a_b", "a\\_b"));
  CHECK_FALSE(like_match("axb", "a\\_b"));
  CHECK(like_match("50%", "50\\%"));
  CHECK_FALSE(like_match("500", "50\\%"));
  CHECK(like_match("a\\b", "a\\\\b"));
  CHECK(like_match("a\\", "a\\"));
  // `_` is one UTF-8 character, not one byte.
  CHECK(like_match("caf\xC3\xA9", "caf_"));
  CHECK_FALSE(like_match("caf\xC3\xA9", "caf__"));
  CHECK(like_match("\xE6\x97\xA5\xE6\x9C\xAC", "__"));
  // Invalid UTF-8 bytes count as one character each.
  CHECK(like_match("\xFF\xFE", "__"));
  // Worst case stays polynomial: this would take forever with naive recursion.
  std::string text(3000, 'a');
  std::string pattern;
  for (int i = 0; i < 30; ++i) pattern += "%a";
  pattern += "%b";
  CHECK_FALSE(like_match(text, pattern));
}

TEST_CASE("show proxystat: all stats, LIKE, case and comments") {
  Fixture f;
  auto r = f.run("show proxystat");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"stat_name", "value"});
  REQUIRE(r.rows.size() == 4);
  CHECK(cell(r, 0, 0) == "client_connections");
  CHECK(cell(r, 0, 1) == "3");
  CHECK(cell(r, 3, 1) == "-1");

  r = f.run("SHOW   PROXYSTAT LIKE 'client%';");
  REQUIRE(r.kind == Kind::rows);
  REQUIRE(r.rows.size() == 2);
  CHECK(cell(r, 1, 0) == "client_connections_accepted_total");

  r = f.run("  /* hi */ show\n\tproxystat -- trailing\n like \"%TOTAL\" ;; ");
  REQUIRE(r.kind == Kind::rows);
  REQUIRE(r.rows.size() == 2);
  CHECK(cell(r, 0, 0) == "client_connections_accepted_total");
  CHECK(cell(r, 1, 0) == "sql_request_total");

  r = f.run("show proxystat like 'client\\_conn%' # comment");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.rows.size() == 2);

  r = f.run("show proxystat like 'nothing'");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.rows.empty());
  CHECK(r.columns.size() == 2);
}

TEST_CASE("show proxystat: malformed") {
  Fixture f;
  for (const char* sql :
       {"show proxystat like", "show proxystat like client%", "show proxystat 'x'", "show proxystat like 'x' extra",
        "show proxystat like 'unterminated", "show proxystat /* unterminated", "show proxystat; show proxystat"}) {
    std::string text = sql;
    CAPTURE(text);
    auto r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1064);
    CHECK(r.sql_state == "42000");
    CHECK(contains(r.message, "odp: "));
  }
  CHECK(contains(f.run("show proxystat like 'x").message, "unterminated string"));
  CHECK(contains(f.run("show proxystat like").message, "expected a quoted pattern after LIKE"));
}

TEST_CASE("show proxyconfig: keys, masked secrets, need_reboot, LIKE") {
  Fixture f;
  auto r = f.run("show proxyconfig");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"name", "value", "need_reboot"});
  check_shape(r);
  CHECK(r.rows.size() == odp::admin::config_items(f.config).size());
  bool saw_address = false;
  bool saw_password = false;
  for (const auto& row : r.rows) {
    if (row[0] == "listen.address") {
      saw_address = true;
      CHECK(row[1] == "0.0.0.0:2883");
      CHECK(row[2] == "true");
    }
    if (row[0] == "cluster.c1.meta_password") {
      saw_password = true;
      CHECK(row[1] == "******");
    }
  }
  CHECK(saw_address);
  CHECK(saw_password);

  r = f.run("Show ProxyConfig Like 'routing.route%'");
  REQUIRE(r.kind == Kind::rows);
  REQUIRE(r.rows.size() == 1);
  CHECK(cell(r, 0, 0) == "routing.route_policy");
  CHECK(cell(r, 0, 1) == "FOLLOWER_FIRST");
  CHECK(cell(r, 0, 2) == "false");

  r = f.run("show proxyconfig like 'admin.%'");
  REQUIRE(r.kind == Kind::rows);
  for (const auto& row : r.rows) {
    if (row[0] == "admin.proxysys_password_sha1") CHECK(row[1] == "******");
  }

  f.ctx.config = nullptr;
  r = f.run("show proxyconfig");
  CHECK(r.kind == Kind::error);
  CHECK(contains(r.message, "no configuration"));
}

TEST_CASE("alter proxyconfig set: the callback gets the key and the unquoted value") {
  Fixture f;
  auto r = f.run("alter proxyconfig set routing.route_policy = 'FOLLOWER_ONLY'");
  CHECK(r.kind == Kind::ok);
  r = f.run("ALTER PROXYCONFIG SET log.level=\"debug\";");
  CHECK(r.kind == Kind::ok);
  r = f.run("alter proxyconfig set limits.server_query_timeout_ms = 5000 -- five seconds");
  CHECK(r.kind == Kind::ok);
  r = f.run("alter proxyconfig set cluster.c1.rootservice_list = 10.0.0.1:2881,10.0.0.2:2881 ;");
  CHECK(r.kind == Kind::ok);
  r = f.run("alter proxyconfig set routing.proxy_idc = 'it''s \\'z1\\''");
  CHECK(r.kind == Kind::ok);
  r = f.run("alter proxyconfig set routing.proxy_idc = ''");
  CHECK(r.kind == Kind::ok);
  REQUIRE(f.altered.size() == 6);
  CHECK(f.altered[0] == std::pair<std::string, std::string>{"routing.route_policy", "FOLLOWER_ONLY"});
  CHECK(f.altered[1] == std::pair<std::string, std::string>{"log.level", "debug"});
  CHECK(f.altered[2] == std::pair<std::string, std::string>{"limits.server_query_timeout_ms", "5000"});
  CHECK(f.altered[3] ==
        std::pair<std::string, std::string>{"cluster.c1.rootservice_list", "10.0.0.1:2881,10.0.0.2:2881"});
  CHECK(f.altered[4] == std::pair<std::string, std::string>{"routing.proxy_idc", "it's 'z1'"});
  CHECK(f.altered[5] == std::pair<std::string, std::string>{"routing.proxy_idc", ""});

  r = f.run("alter proxyconfig set listen.address = '1.2.3.4:1'");
  CHECK(r.kind == Kind::error);
  CHECK(r.error_code == 1231);
  CHECK(r.message == "odp: listen.address cannot change while odp runs");
  r = f.run("alter proxyconfig set nope.key = 1");
  CHECK(r.kind == Kind::error);
  CHECK(r.error_code == 1193);
  CHECK(contains(r.message, "unknown config key 'nope.key'"));
}

TEST_CASE("alter proxy upgrade: calls the upgrade callback; errors say why") {
  Fixture f;
  auto r = f.run("alter proxy upgrade");
  CHECK(r.kind == Kind::error);  // no callback in this context
  CHECK(contains(r.message, "not available"));
  int calls = 0;
  f.ctx.upgrade = [&]() -> Result<Ok, std::string> {
    ++calls;
    if (calls == 3) return Err{std::string("draining: no upgrade")};
    return Ok{};
  };
  CHECK(f.run("alter proxy upgrade").kind == Kind::ok);
  CHECK(f.run("ALTER PROXY UPGRADE ;").kind == Kind::ok);
  r = f.run("alter proxy upgrade");
  CHECK(r.kind == Kind::error);
  CHECK(r.message == "odp: draining: no upgrade");
  r = f.run("alter proxy upgrade now");
  CHECK(r.kind == Kind::error);
  CHECK(r.error_code == 1064);
  r = f.run("alter proxy downgrade");
  CHECK(r.kind == Kind::error);
  CHECK(calls == 3);
}

TEST_CASE("alter proxyconfig: malformed statements never reach the callback") {
  Fixture f;
  for (const char* sql :
       {"alter proxyconfig", "alter proxyconfig set", "alter proxyconfig set log.level",
        "alter proxyconfig set log.level =", "alter proxyconfig set log.level = ;", "alter proxyconfig log.level = x",
        "alter proxyconfig set = x", "alter proxyconfig set log.level = a b", "alter proxyconfig set log.level 'x'",
        "alter proxyconfig set log.level = 'x", "alter proxyconfig set log.level = 'x' 'y'"}) {
    std::string text = sql;
    CAPTURE(text);
    auto r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1064);
  }
  CHECK(f.altered.empty());
  f.ctx.alter_config = nullptr;
  auto r = f.run("alter proxyconfig set log.level = info");
  CHECK(r.kind == Kind::error);
  CHECK(contains(r.message, "not available"));
}

TEST_CASE("show proxysession") {
  Fixture f;
  auto r = f.run("show proxysession");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"id", "user", "client", "server", "server_thread_id", "state"});
  REQUIRE(r.rows.size() == 2);
  CHECK(cell(r, 0, 0) == "7");
  CHECK(cell(r, 0, 1) == "app@t1#c1");
  CHECK(cell(r, 0, 2) == "10.0.0.1:50000");
  CHECK(cell(r, 0, 3) == "10.0.1.1:2881");
  CHECK(cell(r, 0, 4) == "3221225473");
  CHECK(cell(r, 0, 5) == "idle");
  CHECK(cell(r, 1, 3) == "<NULL>");
  CHECK(cell(r, 1, 4) == "<NULL>");

  r = f.run("show proxysession 9;");
  REQUIRE(r.kind == Kind::rows);
  REQUIRE(r.rows.size() == 1);
  CHECK(cell(r, 0, 1) == "root@proxysys");
  r = f.run("show proxysession 12345");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.rows.empty());

  r = f.run("show proxysession attribute 7");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"attribute_name", "value"});
  REQUIRE(r.rows.size() == 8);
  CHECK(cell(r, 6, 0) == "database");
  CHECK(cell(r, 6, 1) == "shop");
  CHECK(cell(r, 7, 1) == "65000");

  r = f.run("show proxysession variables 7");
  CHECK(r.kind == Kind::error);
  CHECK(r.error_code == 1235);
  for (const char* sql : {"show proxysession x", "show proxysession -1", "show proxysession 4294967296",
                          "show proxysession 7 8", "show proxysession attribute", "show proxysession 1e3"}) {
    std::string text = sql;
    CAPTURE(text);
    r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1064);
  }
}

TEST_CASE("kill: every form calls back with the id and whether only the query goes") {
  Fixture f;
  CHECK(f.run("kill proxysession 7").kind == Kind::ok);
  CHECK(f.run("KILL 7;").kind == Kind::ok);
  CHECK(f.run("kill connection 7").kind == Kind::ok);
  CHECK(f.run("kill query 7").kind == Kind::ok);
  CHECK(f.run("kill hard connection 7").kind == Kind::ok);
  CHECK(f.run("KILL SOFT QUERY 7").kind == Kind::ok);
  auto r = f.run("kill 8");
  CHECK(r.kind == Kind::error);
  CHECK(r.error_code == 1094);
  CHECK(r.message == "Unknown thread id: 8");
  r = f.run("kill proxysession 4294967295");
  CHECK(r.message == "Unknown thread id: 4294967295");
  using Call = std::pair<uint32_t, bool>;
  CHECK(f.killed ==
        std::vector<Call>{
            {7, false}, {7, false}, {7, false}, {7, true}, {7, false}, {7, true}, {8, false}, {4294967295u, false}});

  f.killed.clear();
  for (const char* sql :
       {"kill", "kill proxysession", "kill query", "kill x", "kill 7 8", "kill proxysession 7 1", "kill 4294967296",
        "kill -1", "kill +7", "kill '7'", "kill connection query 7", "kill hard", "kill hard soft 7"}) {
    std::string text = sql;
    CAPTURE(text);
    r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1064);
  }
  CHECK(f.killed.empty());
  f.ctx.kill_session = nullptr;
  CHECK(f.run("kill 7").error_code == 1094);
}

TEST_CASE("ping proxy, proxy_version(), @@version_comment, show proxyinfo") {
  Fixture f;
  CHECK(f.run("ping proxy").kind == Kind::ok);
  CHECK(f.run("PING PROXY ;").kind == Kind::ok);
  CHECK(f.run("ping proxy now").kind == Kind::error);
  CHECK(f.run("ping").kind == Kind::error);

  auto r = f.run("select proxy_version()");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"proxy_version()"});
  CHECK(cell(r, 0, 0) == "0.1.0");
  CHECK(f.run("SELECT PROXY_VERSION ( ) ;").kind == Kind::rows);
  CHECK(f.run("select proxy_version").kind == Kind::error);
  CHECK(f.run("select proxy_version(1)").kind == Kind::error);

  r = f.run("select @@version_comment limit 1");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"@@version_comment"});
  CHECK(contains(cell(r, 0, 0), "0.1.0"));

  r = f.run("show proxyinfo");
  REQUIRE(r.kind == Kind::rows);
  CHECK(r.columns == std::vector<std::string>{"name", "value"});
  REQUIRE(r.rows.size() == 5);
  CHECK(cell(r, 0, 0) == "version");
  CHECK(cell(r, 0, 1) == "0.1.0");
  CHECK(cell(r, 1, 0) == "build");
  CHECK(cell(r, 2, 0) == "workers");
  CHECK(cell(r, 4, 0) == "config_file");
  CHECK(cell(r, 4, 1) == "/etc/odp/odp.toml");
  // Without a config_file row from the caller, the config's source is shown.
  f.ctx.info.clear();
  r = f.run("show proxyinfo");
  REQUIRE(r.kind == Kind::rows);
  REQUIRE(r.rows.size() == 3);
  CHECK(cell(r, 2, 0) == "config_file");
  CHECK(cell(r, 2, 1) == "/etc/odp/odp.toml");
}

TEST_CASE("commands not built yet say so") {
  Fixture f;
  for (const char* sql : {"show sqlaudit", "show proxynet"}) {
    std::string text = sql;
    CAPTURE(text);
    auto r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1235);
    CHECK(contains(r.message, "is not available yet"));
  }
}

TEST_CASE("routing commands: show proxyroute, show proxycongestion, explain route") {
  Fixture f;
  // No snapshot yet: empty tables, and explain route says why it cannot route.
  auto r = f.run("show proxyroute");
  CHECK(r.kind == Kind::rows);
  CHECK(r.rows.empty());
  CHECK(f.run("SHOW PROXYROUTE like 'x'").kind == Kind::rows);
  CHECK(f.run("show proxycongestion").kind == Kind::rows);
  auto e = f.run("explain route select * from t where id = 'unterminated");
  CHECK(e.kind == Kind::rows);

  odp::routing::Snapshot snap;
  odp::routing::ClusterTopology ct;
  ct.name = f.ctx.config->clusters.empty() ? "sandbox" : f.ctx.config->clusters[0].name;
  odp::routing::ServerInfo s1;
  s1.host_port = "127.0.0.1:3401";
  s1.zone = "z1";
  ct.servers.push_back(s1);
  odp::routing::TenantInfo t;
  t.name = f.ctx.config->clusters.empty() ? "t1" : f.ctx.config->clusters[0].default_tenant;
  t.servers = {0};
  ct.tenants.push_back(t);
  auto entry = std::make_shared<odp::routing::TableEntry>();
  entry->tenant = t.name;
  entry->database = "test";
  entry->table = "orders";
  entry->partitions.resize(1);
  entry->partitions[0].replicas.push_back({0, odp::routing::ReplicaRole::leader});
  ct.tables.emplace(odp::routing::table_key(t.name, "test", "orders"), entry);
  snap.clusters.push_back(ct);
  f.ctx.snapshot = &snap;
  r = f.run("show proxyroute like 'test.orders'");
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0][8] == std::optional<std::string>("127.0.0.1:3401"));
  e = f.run("explain route SELECT * FROM test.orders WHERE id = 1");
  REQUIRE(e.kind == Kind::rows);
  bool found = false;
  for (const auto& row : e.rows)
    if (row[0] == std::optional<std::string>("server")) found = row[1] == std::optional<std::string>("127.0.0.1:3401");
  CHECK(found);
}

TEST_CASE("unknown and empty statements") {
  Fixture f;
  for (const char* sql : {"select 1", "show tables", "use db", "show", "alter table t", "set names utf8", "'x'", "(",
                          "proxystat", "; show proxystat", "show full", "select 'unterminated"}) {
    std::string text = sql;
    CAPTURE(text);
    auto r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1064);
    CHECK(contains(r.message, "odp: unknown internal command '"));
  }
  auto r = f.run("  select 1");
  CHECK(r.message == "odp: unknown internal command 'select 1'");
  // Long statements are cut in the message, control characters are not echoed.
  r = f.run(std::string("select\x01\n") + std::string(5000, 'x'));
  CHECK(r.message.size() < 120);
  CHECK(contains(r.message, "select  xxx"));
  CHECK(contains(r.message, "...'"));
  for (const char* sql : {"", "   ", ";", " ; ;", "/* only a comment */", "-- x", "# x\n"}) {
    std::string text = sql;
    CAPTURE(text);
    r = f.run(sql);
    CHECK(r.kind == Kind::error);
    CHECK(r.error_code == 1065);
  }
  // Executable comments would run their text in MySQL: refused, not skipped.
  r = f.run("/*!40101 SET NAMES utf8 */");
  CHECK(r.error_code == 1064);
  CHECK(contains(r.message, "executable comments"));
  r = f.run("show proxystat /*!50000 like 'x' */");
  CHECK(r.error_code == 1064);
  CHECK(contains(r.message, "executable comments"));
  // "--" without a following blank is not a comment.
  CHECK(f.run("--x").error_code == 1064);
}

TEST_CASE("internal_command_needs") {
  CHECK(internal_command_needs("show proxystat").stats);
  CHECK_FALSE(internal_command_needs("show proxystat").sessions);
  CHECK(internal_command_needs(" /* x */ SHOW PROXYSTAT like 'a%'").stats);
  CHECK(internal_command_needs("show proxysession").sessions);
  CHECK(internal_command_needs("show proxysession 3").sessions);
  for (const char* sql : {"show proxyconfig", "kill 3", "ping proxy", "select proxy_version()", "", "garbage",
                          "show proxyinfo", "alter proxyconfig set a.b = c"}) {
    std::string text = sql;
    CAPTURE(text);
    auto n = internal_command_needs(sql);
    CHECK_FALSE(n.stats);
    CHECK_FALSE(n.sessions);
  }
}

TEST_CASE("random and mutated statements never crash and always answer") {
  Fixture f;
  const std::vector<std::string> seeds = {"show proxystat like 'client%'",
                                          "alter proxyconfig set log.level = 'info'",
                                          "kill query 7",
                                          "show proxysession attribute 7",
                                          "select proxy_version()",
                                          "show full processlist",
                                          "show proxyconfig like \"a\\\\_%\"",
                                          "/* c */ ping proxy -- x\n;",
                                          "explain route select 1"};
  const std::string alphabet = "!sS hkl'\"`\\/*-#;=(),%_0179\n\t\x01\xC3\xA9\xFF";
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string sql = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = sql.empty() ? 0 : rng() % (sql.size() + 1);
      switch (rng() % 3) {
        case 0:
          sql.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (at < sql.size()) sql.erase(at, 1 + rng() % 3);
          break;
        default:
          sql = sql.substr(0, at);
          break;
      }
    }
    auto r = f.run(sql);
    check_shape(r);
    if (r.kind == Kind::error) {
      REQUIRE(r.error_code != 0);
      REQUIRE(r.message.size() < 400);
    }
    (void)internal_command_needs(sql);
  }
}
