// The credential cache's rules (admin/credential_cache.h), on a clock the test moves by hand.
#include "admin/credential_cache.h"

#include <doctest/doctest.h>

namespace {

using odp::admin::Credential;
using odp::admin::CredentialCache;
using Ms = std::chrono::milliseconds;

const Ms kLifetime{1000};

Credential password(uint8_t first) {
  Credential c;
  c.exists = true;
  c.plugin = odp::admin::kNativePasswordPlugin;
  c.stage2[0] = first;
  return c;
}

struct Fixture {
  CredentialCache cache{CredentialCache::Options{}};
  CredentialCache::Clock::time_point now{};
  std::optional<CredentialCache::Hit> probe(const std::string& db = "") { return cache.probe("u", db, now, kLifetime); }
};

}  // namespace

TEST_CASE("credential cache: an entry answers for its lifetime, refreshing once past half of it") {
  Fixture f;
  CHECK_FALSE(f.probe());
  f.cache.store("u", password(1), f.now, kLifetime);
  auto hit = f.probe();
  REQUIRE(hit);
  CHECK(hit->answer->stage2[0] == 1);
  CHECK_FALSE(hit->refresh);

  f.now += Ms(499);
  CHECK_FALSE(f.probe()->refresh);
  f.now += Ms(1);
  CHECK(f.probe()->refresh);        // one caller is asked to refresh...
  CHECK_FALSE(f.probe()->refresh);  // ...not every one
  CHECK(f.probe()->answer.ok());

  // Never a yes past the lifetime, even with the refresh still under way.
  f.now += Ms(500);
  CHECK_FALSE(f.probe());

  // The refresh's answer starts a new lifetime and may be refreshed again.
  f.cache.store("u", password(2), f.now, kLifetime);
  CHECK(f.probe()->answer->stage2[0] == 2);
  f.now += Ms(600);
  CHECK(f.probe()->refresh);
}

TEST_CASE("credential cache: a dropped user is no longer a yes once it is read again") {
  Fixture f;
  f.cache.store("u", password(1), f.now, kLifetime);
  f.now += Ms(600);
  CHECK(f.probe()->refresh);
  f.cache.store("u", Credential{}, f.now, kLifetime);  // the background refresh: no such user
  auto hit = f.probe();
  REQUIRE(hit);
  CHECK_FALSE(hit->answer->exists);
}

TEST_CASE("credential cache: an unreachable cluster keeps a good answer until its lifetime ends") {
  Fixture f;
  f.cache.store("u", password(1), f.now, kLifetime);
  f.now += Ms(600);
  CHECK(f.probe()->refresh);
  f.cache.store("u", odp::Err{std::string("down")}, f.now, kLifetime);
  CHECK(f.probe()->answer.ok());
  f.now += Ms(400);
  CHECK_FALSE(f.probe());  // out of its lifetime: no answer from memory
  f.cache.store("u", odp::Err{std::string("down")}, f.now, kLifetime);
  auto hit = f.probe();
  REQUIRE(hit);
  CHECK_FALSE(hit->answer.ok());
  CHECK(hit->answer.error() == "down");
  f.now += Ms(1000);  // error_ttl
  CHECK_FALSE(f.probe());
}

TEST_CASE("credential cache: re-fetches after a mismatch are rate-limited per user") {
  Fixture f;
  CHECK(f.cache.claim_refetch("u", f.now));  // nothing cached: fetch
  f.cache.store("u", password(1), f.now, kLifetime);
  CHECK_FALSE(f.cache.claim_refetch("u", f.now));  // just read
  f.now += Ms(249);
  CHECK_FALSE(f.cache.claim_refetch("u", f.now));
  f.now += Ms(1);
  CHECK(f.cache.claim_refetch("u", f.now));
  CHECK_FALSE(f.cache.claim_refetch("u", f.now));  // claimed: concurrent mismatches do not all fetch
  f.now += Ms(250);
  CHECK(f.cache.claim_refetch("u", f.now));
  CHECK(f.cache.claim_refetch("other", f.now));
}

TEST_CASE("credential cache: databases a server accepted are known for the lifetime") {
  Fixture f;
  f.cache.store("u", password(1), f.now, kLifetime);
  CHECK_FALSE(f.probe("test")->database_known);
  f.cache.note_database("u", "test", f.now);
  CHECK(f.probe("test")->database_known);
  CHECK_FALSE(f.probe("Test")->database_known);
  CHECK_FALSE(f.probe("other")->database_known);
  f.now += Ms(400);
  f.cache.store("u", password(1), f.now, kLifetime);  // read again, unchanged: still known
  CHECK(f.probe("test")->database_known);
  f.now += Ms(600);
  CHECK_FALSE(f.probe("test")->database_known);  // learned 1000 ms ago
  f.cache.note_database("u", "test", f.now);
  CHECK(f.probe("test")->database_known);
  // A changed account forgets them: its grants may have changed with it.
  f.cache.store("u", password(2), f.now, kLifetime);
  CHECK_FALSE(f.probe("test")->database_known);
  // Known databases without a cached credential (users from the config).
  f.cache.note_database("cfg", "test", f.now);
  CHECK(f.cache.knows_database("cfg", "test", f.now, kLifetime));
  CHECK_FALSE(f.cache.probe("cfg", "test", f.now, kLifetime));
}

TEST_CASE("credential cache: bounded in users and databases") {
  CredentialCache::Options o;
  o.max_entries = 3;
  o.max_databases = 2;
  CredentialCache cache(o);
  CredentialCache::Clock::time_point now{};
  for (int i = 0; i < 10; ++i) {
    now += Ms(1);
    cache.store("u" + std::to_string(i), password(1), now, kLifetime);
    CHECK(cache.size() <= 3);
  }
  CHECK(cache.probe("u9", "", now, kLifetime));
  CHECK_FALSE(cache.probe("u0", "", now, kLifetime));
  cache.note_database("u9", "a", now);
  now += Ms(1);
  cache.note_database("u9", "b", now);
  now += Ms(1);
  cache.note_database("u9", "c", now);  // drops the oldest, "a"
  CHECK_FALSE(cache.knows_database("u9", "a", now, kLifetime));
  CHECK(cache.knows_database("u9", "b", now, kLifetime));
  CHECK(cache.knows_database("u9", "c", now, kLifetime));
}
