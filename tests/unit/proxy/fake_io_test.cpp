// The fake-IO suite: the whole proxy (the real ClientSession/ServerConn/ServerPool code, routing
// snapshots, KILL between sessions) against fake clients and fake servers over FakeConn links,
// with partial reads, short writes, delays, resets, corruption, timeouts, dying and hanging
// servers and failing look-ups chosen from a seed (fake_world.h). Replay one seed with
// ODP_FAKE_IO_SEED=N (debug logs on; ODP_FAKE_IO_TRACE=1 adds every command and server packet);
// change how many seeds run with ODP_FAKE_IO_SEEDS=N (default 2000, 500 under ASan);
// ODP_FAKE_IO_STRICT=1 stops tolerating the odp issues listed in fake_known_issues.h.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "base/log.h"
#include "tests/unit/proxy/fake_known_issues.h"
#include "tests/unit/proxy/fake_world.h"

// Under ASan (which the sanitizer builds pair with UBSan) a report also names the seed.
#if defined(__SANITIZE_ADDRESS__)
#define ODP_FAKE_IO_DEATH_CALLBACK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ODP_FAKE_IO_DEATH_CALLBACK 1
#endif
#endif
#ifdef ODP_FAKE_IO_DEATH_CALLBACK
#include <sanitizer/common_interface_defs.h>
#endif

namespace {

// A crash (assertion, sanitizer report) must still say which seed to replay.
char g_seed_line[96] = "";

void say_seed() {
  if (g_seed_line[0] != '\0') {
    ssize_t n = ::write(2, g_seed_line, std::char_traits<char>::length(g_seed_line));
    (void)n;
  }
}

void on_fatal_signal(int sig) {
  say_seed();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// About 13 s in a Release build; ASan and UBSan make a seed about 20 times slower, and the
// sanitizer stage's ctest gives unit_proxy 600 s.
#ifdef ODP_FAKE_IO_DEATH_CALLBACK
constexpr uint64_t kDefaultSeeds = 500;
#else
constexpr uint64_t kDefaultSeeds = 2000;
#endif

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

}  // namespace

TEST_CASE("fake IO: sessions survive partial reads, short writes, resets, corruption and timeouts") {
  odp::log::Level saved = odp::log::level();
  odp::log::set_level(std::getenv("ODP_FAKE_IO_SEED") != nullptr ? odp::log::Level::debug : odp::log::Level::off);
  uint64_t first = 1;
  uint64_t count = env_u64("ODP_FAKE_IO_SEEDS", kDefaultSeeds);
  if (const char* one = std::getenv("ODP_FAKE_IO_SEED"); one != nullptr && *one != '\0') {
    first = std::strtoull(one, nullptr, 10);
    count = 1;
  }
  size_t failures = 0;
  auto old_abrt = std::signal(SIGABRT, on_fatal_signal);
  auto old_segv = std::signal(SIGSEGV, on_fatal_signal);
#ifdef ODP_FAKE_IO_DEATH_CALLBACK
  __sanitizer_set_death_callback(say_seed);
#endif
  for (uint64_t seed = first; seed < first + count; ++seed) {
    std::snprintf(g_seed_line, sizeof g_seed_line, "fake IO: crashed in seed %llu (replay: ODP_FAKE_IO_SEED=%llu)\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    std::string failure = odp::fakeio::run_seed(seed);
    if (!failure.empty()) {
      ++failures;
      std::fprintf(stderr, "fake IO seed %llu failed (replay: ODP_FAKE_IO_SEED=%llu ./unit_proxy): %s\n",
                   static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), failure.c_str());
      if (failures >= 10) break;
    }
  }
  g_seed_line[0] = '\0';
  // What the tolerated odp issues amounted to (fake_known_issues.h), so that they stay visible.
  std::fprintf(stderr, "fake IO: %llu seeds; odp issues tolerated: %s\n", static_cast<unsigned long long>(count),
               odp::fakeio::KnownIssues::counts().summary().c_str());
  if (std::getenv("ODP_FAKE_IO_VERBOSE") != nullptr) {
    std::fprintf(stderr, "fake IO: counters over %llu seeds:\n%s", static_cast<unsigned long long>(count),
                 odp::fakeio::totals_summary().c_str());
    const auto& n = odp::fakeio::net_counters();
    std::fprintf(stderr,
                 "fake network: reads=%llu writable=%llu window_full=%llu resets=%llu eofs=%llu corruptions=%llu "
                 "zero_copy=%llu\n",
                 static_cast<unsigned long long>(n.reads), static_cast<unsigned long long>(n.writable),
                 static_cast<unsigned long long>(n.window_full), static_cast<unsigned long long>(n.resets),
                 static_cast<unsigned long long>(n.eofs), static_cast<unsigned long long>(n.corruptions),
                 static_cast<unsigned long long>(n.zero_copy));
  }
  std::signal(SIGABRT, old_abrt);
  std::signal(SIGSEGV, old_segv);
  odp::log::set_level(saved);
  CHECK(failures == 0);
}

namespace {

using odp::fakeio::FakeClient;
using odp::fakeio::FakeEnv;
using odp::fakeio::StepKind;

struct QuietLogs {
  odp::log::Level saved = odp::log::level();
  QuietLogs() { odp::log::set_level(odp::log::Level::off); }
  ~QuietLogs() { odp::log::set_level(saved); }
};

}  // namespace

TEST_CASE("fake IO: 16 MiB rows and requests (split packets) pass verbatim, with and without compression") {
  QuietLogs quiet;
  // loose: the client numbers the packets inside compressed frames as Connector/J does.
  for (int mode : {0, 1, 2}) {
    const bool compress = mode > 0;
    const bool loose = mode == 2;
    CAPTURE(compress);
    CAPTURE(loose);
    // (DO ok leaves an affected row: the session keeps its server connection for the streamed
    // request, see the test below.)
    auto sc =
        odp::fakeio::quiet_scenario(7, {StepKind::big_select, StepKind::select, StepKind::ok, StepKind::big_insert,
                                        StepKind::infile, StepKind::multi, StepKind::change_user});
    sc.clients[0].plan.compress = compress;
    sc.clients[0].plan.loose_inner_seq = loose;
    FakeEnv env(sc);
    CHECK(env.run() == "");
    CHECK(env.client(0).steps_done() == 7);
    CHECK(env.client(0).received().size() > (32u << 20));
    CHECK(env.stats().client_compressed_sessions_total.load() == (compress ? 1 : 0));
  }
}

// odp issue (fake_known_issues.h): a request too large to inspect that starts in the session's
// input buffer (always, for a compressed client) while the session holds no server connection and
// the pool has one idle: the lease is ready at once, inside the input loop, and the request stays
// in the buffer. Allowed to fail until odp handles it; ODP_FAKE_IO_STRICT=1 runs show it in seeds.
TEST_CASE("fake IO: a streamed request from a session that holds no server connection goes out" * doctest::may_fail()) {
  QuietLogs quiet;
  auto sc = odp::fakeio::quiet_scenario(16, {StepKind::select, StepKind::big_insert, StepKind::select});
  sc.clients[0].plan.compress = true;
  FakeEnv env(sc);
  CHECK(env.run() == "");
  CHECK(env.client(0).steps_done() == 3);
}

TEST_CASE("fake IO: a client that never finishes its login is cut off by the handshake timeout") {
  QuietLogs quiet;
  auto sc = odp::fakeio::quiet_scenario(8, {StepKind::select});
  sc.faulty = true;
  sc.clients[0].plan.stall_login = true;
  sc.config.limits.client_handshake_timeout_ms = 1500;
  FakeEnv env(sc);
  CHECK(env.run() == "");
  CHECK(env.client(0).login_error() == odp::protocol::errc::ER_HANDSHAKE_ERROR);
  CHECK(env.stats().client_handshake_timeouts_total.load() == 1);
}

TEST_CASE("fake IO: a statement past the query timeout is stopped by KILL QUERY and the session goes on") {
  QuietLogs quiet;
  auto sc = odp::fakeio::quiet_scenario(9, {StepKind::select, StepKind::sleep, StepKind::select});
  sc.faulty = true;
  sc.config.limits.server_query_timeout_ms = 3000;
  FakeEnv env(sc);
  CHECK(env.run() == "");
  // The statement after the one cut off runs on the same session.
  CHECK(env.client(0).steps_done() == 3);
  CHECK(env.stats().server_query_timeouts_total.load() == 1);
  CHECK(env.stats().server_aborts_total.load() == 0);  // the server took the KILL: nothing was cut
  const auto& got = env.client(0).received();
  // The client saw odp's ERR 1317 (the server's, for odp's KILL QUERY, is replaced).
  REQUIRE(got.size() > 7);
  bool found = false;
  for (size_t i = 0; i + 7 <= got.size(); ++i) {
    if (got[i + 4] == 0xFF && got[i + 5] == (odp::protocol::errc::ER_QUERY_INTERRUPTED & 0xFF) &&
        got[i + 6] == (odp::protocol::errc::ER_QUERY_INTERRUPTED >> 8)) {
      found = true;
    }
  }
  CHECK(found);
}

TEST_CASE("fake IO: a statement on a server that hangs under it ends after the silence probe; the session goes on") {
  QuietLogs quiet;
  auto sc = odp::fakeio::quiet_scenario(10, {StepKind::select, StepKind::sleep_short, StepKind::select});
  sc.faulty = true;
  sc.config.limits.server_query_timeout_ms = 0;  // only the probe can end it
  sc.config.limits.server_silence_probe_ms = 500;
  sc.config.limits.server_connect_timeout_ms = 300;
  odp::fakeio::ClusterEvent hang;
  hang.kind = odp::fakeio::ClusterEvent::Kind::hang;
  hang.at_ms = 200;  // under the SLEEP(2)
  hang.server = 0;   // (no topology: statements go to the first server)
  hang.duration_ms = 5000;
  sc.events.push_back(hang);
  FakeEnv env(sc);
  CHECK(env.run() == "");
  CHECK(env.client(0).steps_done() == 3);
  CHECK(env.stats().server_query_timeouts_total.load() == 0);
  CHECK(env.stats().server_aborts_total.load() >= 1);
  const auto& got = env.client(0).received();
  bool found = false;
  for (size_t i = 0; i + 7 <= got.size(); ++i) {
    if (got[i + 4] == 0xFF && got[i + 5] == (odp::protocol::errc::ER_NET_READ_ERROR & 0xFF) &&
        got[i + 6] == (odp::protocol::errc::ER_NET_READ_ERROR >> 8)) {
      found = true;
    }
  }
  CHECK(found);
}

TEST_CASE("fake IO: failed credential look-ups and refused connects end the login with a clear error") {
  QuietLogs quiet;
  {
    auto sc = odp::fakeio::quiet_scenario(10, {StepKind::select});
    sc.faulty = true;
    sc.lookup_error = 1000;
    FakeEnv env(sc);
    CHECK(env.run() == "");
    CHECK(env.client(0).login_error() == odp::protocol::errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE);
    CHECK(env.stats().server_connect_failures_total.load() == 1);
  }
  for (bool later : {false, true}) {
    CAPTURE(later);
    auto sc = odp::fakeio::quiet_scenario(11, {StepKind::select});
    sc.faulty = true;
    sc.config.pool.connect_on_first_statement = false;  // a server accepts the login first
    (later ? sc.refuse_later : sc.refuse_now) = 1000;
    FakeEnv env(sc);
    CHECK(env.run() == "");
    CHECK(env.client(0).login_error() == odp::protocol::errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE);
    CHECK(env.stats().server_connect_failures_total.load() == 1);
    CHECK(env.stats().server_connections.load() == 0);
  }
  {
    auto sc = odp::fakeio::quiet_scenario(12, {StepKind::select});
    sc.faulty = true;
    sc.config.pool.connect_on_first_statement = false;
    sc.connect_timeout = 1000;
    sc.config.limits.server_connect_timeout_ms = 500;
    FakeEnv env(sc);
    CHECK(env.run() == "");
    CHECK(env.client(0).login_error() == odp::protocol::errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE);
  }
}

TEST_CASE("fake IO: a server that kills an idle connection closes the session cleanly") {
  QuietLogs quiet;
  auto sc = odp::fakeio::quiet_scenario(13, {StepKind::select});
  sc.faulty = true;
  sc.server_kill = 1000;
  sc.clients[0].plan.quit_at_end = false;
  FakeEnv env(sc);
  CHECK(env.run() == "");
  CHECK(env.client(0).state() == FakeClient::State::closed);
}

TEST_CASE("fake IO: COM_CHANGE_USER after a failed statement is not counted as another failed statement") {
  QuietLogs quiet;
  auto sc = odp::fakeio::quiet_scenario(14, {StepKind::err, StepKind::change_user, StepKind::ok});
  FakeEnv env(sc);
  CHECK(env.run() == "");
  CHECK(env.client(0).steps_done() == 3);
  CHECK(env.stats().sql_request_errors_total.load() == 1);
}

TEST_CASE("fake IO: a server killed right after its LOCAL INFILE request closes the session cleanly") {
  QuietLogs quiet;
  // (Seed 3509 of the first suite found it: the bytes of the ERR that came in the same read as
  // the request were dropped and the rest forwarded out of step.)
  auto sc = odp::fakeio::quiet_scenario(15, {StepKind::infile, StepKind::select});
  sc.faulty = true;
  sc.kill_after_infile = 1000;
  FakeEnv env(sc);
  CHECK(env.run() == "");
  CHECK(env.client(0).state() == FakeClient::State::closed);
  CHECK(env.stats().server_protocol_errors_total.load() == 1);
}
