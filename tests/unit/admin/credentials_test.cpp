#include "admin/credentials.h"

#include <atomic>
#include <cstdlib>
#include <thread>

#include <doctest/doctest.h>

namespace {

using odp::admin::ClusterConfig;
using odp::admin::Credential;
using odp::admin::CredentialStore;
using odp::admin::UserRow;
using Clock = std::chrono::steady_clock;

// SHA1(SHA1("app")), as MariaDB stores it.
const char* const kAppHash = "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3";

ClusterConfig cluster_named(const std::string& name) {
  ClusterConfig c;
  c.name = name;
  c.server_mode = odp::admin::ServerMode::mysql;
  c.rootservice_list = {"127.0.0.1:1"};
  return c;
}

// A fetcher that answers from a table and counts calls; a clock the test moves by hand.
struct Fake {
  std::map<std::string, std::vector<UserRow>> users;
  bool down = false;
  int calls = 0;
  Clock::time_point now{};

  CredentialStore store(odp::admin::CredentialStoreOptions options = {}) {
    return CredentialStore(
        options,
        [this](const ClusterConfig& cluster,
               const std::string& user) -> odp::Result<std::vector<UserRow>, std::string> {
          ++calls;
          if (down) return odp::Err{"cluster " + cluster.name + ": metadata unreachable"};
          auto it = users.find(user);
          return it == users.end() ? std::vector<UserRow>{} : it->second;
        },
        [this] { return now; });
  }
};

}  // namespace

TEST_CASE("credentials: stage2 parsing") {
  auto s = odp::admin::parse_stage2(kAppHash);
  REQUIRE(s.ok());
  CHECK((*s)[0] == 0x5B);
  CHECK((*s)[19] == 0xD3);
  CHECK(odp::admin::parse_stage2("*5bcb3e6ac345b435c7c2e6b7949a04ce6f6563d3").ok());
  CHECK_FALSE(odp::admin::parse_stage2("5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3").ok());
  CHECK_FALSE(odp::admin::parse_stage2("*5BCB3E6AC345B435C7C2E6B7949A04CE5F6563DX").ok());
  CHECK_FALSE(odp::admin::parse_stage2("*5BCB").ok());
  CHECK_FALSE(odp::admin::parse_stage2("").ok());
}

TEST_CASE("credentials: choosing among mysql.user rows") {
  CHECK_FALSE(odp::admin::credential_from_rows({}).exists);

  Credential any = odp::admin::credential_from_rows(
      {{"localhost", "", ""}, {"%", kAppHash, "mysql_native_password"}, {"10.%", "*" + std::string(40, '0'), ""}});
  CHECK(any.exists);
  CHECK_FALSE(any.empty_password);
  CHECK(any.plugin == "mysql_native_password");
  CHECK(any.stage2[0] == 0x5B);

  // No '%': the first host in name order, so the choice does not depend on row order.
  Credential specific = odp::admin::credential_from_rows({{"localhost", kAppHash, ""}, {"127.0.0.1", "", ""}});
  CHECK(specific.exists);
  CHECK(specific.empty_password);

  // A native row wins over a '%' row with another plugin.
  Credential native =
      odp::admin::credential_from_rows({{"%", "", "ed25519"}, {"localhost", kAppHash, "mysql_native_password"}});
  CHECK(native.plugin == "mysql_native_password");
  CHECK_FALSE(native.empty_password);

  Credential other = odp::admin::credential_from_rows({{"%", "xyz", "caching_sha2_password"}});
  CHECK(other.exists);
  CHECK(other.plugin == "caching_sha2_password");

  Credential invalid = odp::admin::credential_from_rows({{"localhost", "invalid", "mysql_native_password"}});
  CHECK(invalid.exists);
  CHECK(invalid.plugin == odp::admin::kInvalidHashPlugin);
}

TEST_CASE("credentials: account lock and password expiry from the account query") {
  using odp::admin::user_row_from_columns;
  using odp::admin::UserQueryDialect;
  using Cols = std::vector<std::optional<std::string>>;
  const std::string now = "1800000000";
  // MariaDB: the lock and the age come from global_priv's JSON (absent keys are NULL).
  UserRow plain = user_row_from_columns(
      {"%", kAppHash, "mysql_native_password", "N", std::nullopt, "1799999000", std::nullopt, "0", now},
      UserQueryDialect::mariadb);
  CHECK(plain.host == "%");
  CHECK(plain.authentication_string == kAppHash);
  CHECK_FALSE(plain.locked);
  CHECK_FALSE(plain.password_expired);
  CHECK(user_row_from_columns({"%", kAppHash, "", "N", "true", "1", std::nullopt, "0", now}, UserQueryDialect::mariadb)
            .locked);
  // PASSWORD EXPIRE: MariaDB's view says password_expired = 'Y' (last change 0, lifetime -1).
  CHECK(user_row_from_columns({"%", kAppHash, "", "Y", std::nullopt, "0", "-1", "0", now}, UserQueryDialect::mariadb)
            .password_expired);
  // A lifetime of its own: 1 day, changed 2 days ago: expired; changed an hour ago: not.
  const std::string two_days_ago = std::to_string(1800000000 - 2 * 86400);
  const std::string hour_ago = std::to_string(1800000000 - 3600);
  CHECK(user_row_from_columns({"%", kAppHash, "", "N", std::nullopt, two_days_ago, "1", "0", now},
                              UserQueryDialect::mariadb)
            .password_expired);
  CHECK_FALSE(
      user_row_from_columns({"%", kAppHash, "", "N", std::nullopt, hour_ago, "1", "0", now}, UserQueryDialect::mariadb)
          .password_expired);
  // No lifetime of its own (NULL or -1): the server's default_password_lifetime; 0 never expires.
  CHECK(user_row_from_columns({"%", kAppHash, "", "N", std::nullopt, two_days_ago, "-1", "1", now},
                              UserQueryDialect::mariadb)
            .password_expired);
  CHECK_FALSE(user_row_from_columns({"%", kAppHash, "", "N", std::nullopt, two_days_ago, std::nullopt, "0", now},
                                    UserQueryDialect::mariadb)
                  .password_expired);
  CHECK_FALSE(user_row_from_columns({"%", kAppHash, "", "N", std::nullopt, two_days_ago, "0", "1", now},
                                    UserQueryDialect::mariadb)
                  .password_expired);
  // MySQL: account_locked 'Y'/'N' in mysql.user.
  CHECK(user_row_from_columns({"%", kAppHash, "", "N", "Y", hour_ago, std::nullopt, "0", now}, UserQueryDialect::mysql)
            .locked);
  CHECK_FALSE(
      user_row_from_columns({"%", kAppHash, "", "N", "N", hour_ago, std::nullopt, "0", now}, UserQueryDialect::mysql)
          .locked);
  // The bare form knows neither; short or garbage rows do not throw.
  CHECK_FALSE(user_row_from_columns({"%", kAppHash, ""}, UserQueryDialect::bare).locked);
  CHECK_FALSE(user_row_from_columns(Cols{}, UserQueryDialect::mariadb).password_expired);
  CHECK_FALSE(user_row_from_columns({"%", kAppHash, "", "N", "x", "abc", "zz", "", "?"}, UserQueryDialect::mariadb)
                  .password_expired);

  // The chosen row's lock and expiry are the credential's.
  UserRow locked{"%", kAppHash, "mysql_native_password", true, false};
  Credential c = odp::admin::credential_from_rows({locked, UserRow{"localhost", kAppHash, ""}});
  CHECK(c.locked);
  CHECK_FALSE(c.password_expired);
}

TEST_CASE("credentials: query text and meta login") {
  CHECK(odp::admin::user_rows_query("a\\'b") ==
        "SELECT host, authentication_string, plugin FROM mysql.user WHERE user = 'a\\'b'");
  ClusterConfig c = cluster_named("c1");
  c.meta_user = "proxyro@sys";
  CHECK(odp::admin::meta_login_user(c) == "proxyro");
  c.server_mode = odp::admin::ServerMode::oceanbase;
  CHECK(odp::admin::meta_login_user(c) == "proxyro@sys");
}

TEST_CASE("credentials: the config's users table comes first") {
  Fake fake;
  CredentialStore store = fake.store();
  ClusterConfig c = cluster_named("c1");
  c.users["app"] = kAppHash;
  c.users["nopw"] = "";
  auto app = store.lookup(c, "app");
  REQUIRE(app.ok());
  CHECK(app->exists);
  CHECK(app->stage2[1] == 0xCB);
  auto nopw = store.lookup(c, "nopw");
  REQUIRE(nopw.ok());
  CHECK(nopw->empty_password);
  CHECK(fake.calls == 0);
}

TEST_CASE("credentials: answers are cached for the cluster's refresh_interval_ms") {
  Fake fake;
  fake.users["app"] = {{"%", kAppHash, "mysql_native_password"}};
  CredentialStore store = fake.store();
  ClusterConfig c = cluster_named("c1");
  c.refresh_interval_ms = 10000;

  CHECK(store.lookup(c, "app")->exists);
  CHECK(store.lookup(c, "app")->exists);
  CHECK(fake.calls == 1);
  fake.now += std::chrono::milliseconds(4999);
  CHECK(store.lookup(c, "app")->exists);
  CHECK(fake.calls == 1);
  fake.now += std::chrono::milliseconds(1);  // half the lifetime: refreshed (on the job thread: now)
  CHECK(store.lookup(c, "app")->exists);
  CHECK(fake.calls == 2);

  CHECK_FALSE(store.lookup(c, "ghost")->exists);
  CHECK_FALSE(store.lookup(c, "ghost")->exists);
  CHECK(fake.calls == 3);
  fake.users["ghost"] = {{"%", "", ""}};  // created on the server meanwhile
  fake.now += std::chrono::milliseconds(10000);
  CHECK(store.lookup(c, "ghost")->exists);
  CHECK(fake.calls == 4);

  // The same user in another cluster is another entry.
  CHECK(store.lookup(cluster_named("c2"), "app")->exists);
  CHECK(fake.calls == 5);
}

TEST_CASE("credentials: cached() answers from memory only and names one refresher") {
  Fake fake;
  fake.users["app"] = {{"%", kAppHash, ""}};
  CredentialStore store = fake.store();
  ClusterConfig c = cluster_named("c1");
  c.refresh_interval_ms = 1000;
  bool refresh = true;
  CHECK_FALSE(store.cached(c, "app", "", refresh));
  CHECK_FALSE(refresh);
  CHECK(fake.calls == 0);
  CHECK_FALSE(store.find(c, "app", "").from_cache);  // read just now
  auto hit = store.cached(c, "app", "test", refresh);
  REQUIRE(hit);
  CHECK(hit->from_cache);
  CHECK(hit->result->exists);
  CHECK_FALSE(hit->database_known);
  store.note_database("c1", "app", "test");
  CHECK(store.cached(c, "app", "test", refresh)->database_known);
  fake.now += std::chrono::milliseconds(500);
  CHECK(store.cached(c, "app", "", refresh));
  CHECK(refresh);
  CHECK(store.cached(c, "app", "", refresh));
  CHECK_FALSE(refresh);
  store.refresh(c, "app");
  CHECK(fake.calls == 2);
  fake.now += std::chrono::milliseconds(1000);
  CHECK_FALSE(store.cached(c, "app", "", refresh));  // past its lifetime: never answered from memory
  CHECK(fake.calls == 2);

  // Users from the config answer from memory too; their databases are remembered alike.
  c.users["cfg"] = kAppHash;
  auto cfg = store.cached(c, "cfg", "test", refresh);
  REQUIRE(cfg);
  CHECK_FALSE(cfg->from_cache);  // nothing to re-check
  CHECK_FALSE(cfg->database_known);
  store.note_database("c1", "cfg", "test");
  CHECK(store.cached(c, "cfg", "test", refresh)->database_known);
}

TEST_CASE("credentials: a re-check after a mismatch reads the user again, at most every 250 ms") {
  Fake fake;
  fake.users["app"] = {{"%", kAppHash, ""}};
  CredentialStore store = fake.store();
  ClusterConfig c = cluster_named("c1");
  CHECK(store.lookup(c, "app")->exists);
  CHECK(fake.calls == 1);
  fake.users["app"] = {{"%", "*" + std::string(40, 'A'), ""}};  // ALTER USER ... IDENTIFIED BY
  fake.now += std::chrono::milliseconds(250);
  auto again = store.recheck(c, "app", "");
  CHECK(fake.calls == 2);
  CHECK_FALSE(again.from_cache);
  CHECK(again.result->stage2[0] == 0xAA);
  bool refresh = false;
  CHECK(store.cached(c, "app", "", refresh)->result->stage2[0] == 0xAA);
  // Wrong passwords in a row do not become a query each.
  CHECK(store.recheck(c, "app", "").result->stage2[0] == 0xAA);
  CHECK(fake.calls == 2);
  // A dropped user is refused after the re-check.
  fake.users.erase("app");
  fake.now += std::chrono::milliseconds(250);
  CHECK_FALSE(store.recheck(c, "app", "").result->exists);
  CHECK(fake.calls == 3);
  // An unreachable cluster during a re-check leaves the cached answer (a refusal, not an outage).
  fake.users["app"] = {{"%", kAppHash, ""}};
  CHECK(store.lookup(c, "app").ok());
  fake.down = true;
  fake.now += std::chrono::milliseconds(250);
  auto down = store.recheck(c, "app", "");
  REQUIRE(down.result.ok());
  CHECK_FALSE(down.result->exists);
}

TEST_CASE("credentials: invalidate forgets one entry") {
  Fake fake;
  fake.users["app"] = {{"%", kAppHash, ""}};
  CredentialStore store = fake.store();
  ClusterConfig c = cluster_named("c1");
  CHECK(store.lookup(c, "app").ok());
  CHECK(store.lookup(c, "app").ok());
  CHECK(fake.calls == 1);
  store.invalidate("c2", "app");  // another cluster: no effect
  CHECK(store.lookup(c, "app").ok());
  CHECK(fake.calls == 1);
  store.invalidate("c1", "app");
  CHECK(store.lookup(c, "app").ok());
  CHECK(fake.calls == 2);
  store.clear();
  CHECK(store.cached_entries() == 0);
}

TEST_CASE("credentials: unreachable metadata is an error, not a missing user") {
  Fake fake;
  fake.down = true;
  CredentialStore store = fake.store();
  ClusterConfig c = cluster_named("c1");
  auto r = store.lookup(c, "app");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "cluster c1: metadata unreachable");
  // Asked again only after error_ttl, so a login storm does not become a connect storm.
  CHECK_FALSE(store.lookup(c, "app").ok());
  CHECK(fake.calls == 1);
  fake.down = false;
  fake.now += std::chrono::milliseconds(1000);
  auto again = store.lookup(c, "app");
  REQUIRE(again.ok());
  CHECK_FALSE(again->exists);
  CHECK(fake.calls == 2);
}

TEST_CASE("credentials: the cache is bounded") {
  Fake fake;
  odp::admin::CredentialStoreOptions options;
  options.cache.max_entries = 3;
  CredentialStore store = fake.store(options);
  ClusterConfig c = cluster_named("c1");
  for (int i = 0; i < 10; ++i) {
    fake.now += std::chrono::milliseconds(1);
    CHECK(store.lookup(c, "u" + std::to_string(i)).ok());
    CHECK(store.cached_entries() <= 3);
  }
  // The most recent answers survive; the oldest were dropped.
  int before = fake.calls;
  CHECK(store.lookup(c, "u9").ok());
  CHECK(fake.calls == before);
  CHECK(store.lookup(c, "u0").ok());
  CHECK(fake.calls == before + 1);
}

TEST_CASE("credentials: the libmariadb fetcher reports an unreachable cluster") {
  CredentialStore store;  // the real fetcher
  ClusterConfig c = cluster_named("c1");
  c.rootservice_list = {"127.0.0.1:1", "bad entry"};
  auto r = store.lookup(c, "app");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("cluster c1: metadata unreachable: 127.0.0.1:1: ") == 0);
  CHECK(r.error().find("'bad entry'") != std::string::npos);
}

TEST_CASE("credentials: live lookup against a server (skipped when none is up)") {
  // ODP_TEST_META="127.0.0.1:3306" with ODP_TEST_META_USER / ODP_TEST_META_PASSWORD (default root, "").
  const char* addr = std::getenv("ODP_TEST_META");
  const char* user = std::getenv("ODP_TEST_META_USER");
  const char* password = std::getenv("ODP_TEST_META_PASSWORD");
  ClusterConfig c = cluster_named("live");
  c.rootservice_list = {addr != nullptr ? addr : "127.0.0.1:3306"};
  c.meta_user = user != nullptr ? user : "root";
  c.meta_password = password != nullptr ? password : "";
  CredentialStore store;
  auto r = store.lookup(c, c.meta_user);
  if (!r) {
    MESSAGE("skipped: no MySQL/MariaDB server reachable with the meta account (" << r.error()
                                                                                 << "); set ODP_TEST_META to run it");
    return;
  }
  CHECK(r->exists);
  // The sandbox's app user has password "app".
  auto app = store.lookup(c, "app");
  REQUIRE(app.ok());
  if (app->exists && app->plugin == odp::admin::kNativePasswordPlugin && !app->empty_password) {
    CHECK(app->stage2 == *odp::admin::parse_stage2(kAppHash));
  }
  auto ghost = store.lookup(c, "odp_no_such_user_'\"\\");
  REQUIRE(ghost.ok());
  CHECK_FALSE(ghost->exists);
}

TEST_CASE("credentials: concurrent lookups and invalidations") {
  std::atomic<int> calls{0};
  CredentialStore store(
      odp::admin::CredentialStoreOptions{},
      [&](const ClusterConfig&, const std::string& user) -> odp::Result<std::vector<UserRow>, std::string> {
        calls.fetch_add(1);
        if (user == "ghost") return std::vector<UserRow>{};
        return std::vector<UserRow>{{"%", kAppHash, ""}};
      });
  ClusterConfig c = cluster_named("c1");
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string user = (i % 3 == 0) ? "ghost" : "u" + std::to_string(i % 7);
        auto r = store.lookup(c, user);
        if (!r.ok() || r->exists == (user == "ghost")) wrong.fetch_add(1);
        if ((i + t) % 11 == 0) store.invalidate("c1", user);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
  CHECK(calls.load() >= 8);
}
