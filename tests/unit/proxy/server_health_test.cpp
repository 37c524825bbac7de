#include "proxy/server_health.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

using odp::proxy::ServerHealth;
using odp::proxy::ServerHealthTable;

TEST_CASE("server health: a failure one worker notes makes every worker avoid the server at once") {
  ServerHealthTable table;
  ServerHealth w0(table), w1(table);
  CHECK_FALSE(w1.avoided("10.0.0.1:3306", 1000));
  w0.failure("10.0.0.1:3306", 1000);
  // The other worker never saw the server fail, yet avoids it (no refused connect of its own).
  CHECK(w1.avoided("10.0.0.1:3306", 1000));
  CHECK(w1.avoided("10.0.0.1:3306", 1000 + ServerHealthTable::kFirstFailureMs - 1));
  CHECK_FALSE(w1.avoided("10.0.0.1:3306", 1000 + ServerHealthTable::kFirstFailureMs));
  CHECK_FALSE(w1.avoided("10.0.0.2:3306", 1000));
  CHECK(w1.record("10.0.0.1:3306") == std::pair<uint32_t, uint64_t>{1, 1000 + ServerHealthTable::kFirstFailureMs});
  // A success anywhere clears it for everyone.
  CHECK(w1.success("10.0.0.1:3306"));
  CHECK_FALSE(w0.avoided("10.0.0.1:3306", 1001));
  CHECK_FALSE(w0.success("10.0.0.1:3306"));  // nothing on record any more
  CHECK(w0.record("10.0.0.1:3306") == std::pair<uint32_t, uint64_t>{0, 0});
}

TEST_CASE("server health: failures from several workers add up to congestion within the window") {
  ServerHealthTable table;
  ServerHealth w0(table), w1(table);
  for (uint32_t i = 0; i + 1 < ServerHealthTable::kCongestedFailures; ++i) (i % 2 ? w1 : w0).failure("s:1", 5000 + i);
  CHECK_FALSE(w0.avoided("s:1", 5000 + 2 * ServerHealthTable::kFirstFailureMs));
  w1.failure("s:1", 6000);
  CHECK(w0.avoided("s:1", 6000 + ServerHealthTable::kCongestedMs - 1));
  CHECK_FALSE(w0.avoided("s:1", 6000 + ServerHealthTable::kCongestedMs));
  // Past the window the count starts again.
  w0.failure("s:1", 6000 + ServerHealthTable::kWindowMs + 1);
  CHECK(w1.record("s:1").first == 1);
}

TEST_CASE("server health: the congestion listing names each server once") {
  ServerHealthTable table;
  ServerHealth w0(table), w1(table);
  w0.failure("a:1", 100);
  w1.failure("a:1", 200);
  w1.failure("b:2", 300);
  CHECK_FALSE(w0.avoided("c:3", 300));  // known, never failed: not listed
  std::vector<std::string> listed;
  table.for_each_congested([&](const std::string& server, uint32_t failures, uint64_t until) {
    listed.push_back(server + "=" + std::to_string(failures) + "@" + std::to_string(until));
  });
  CHECK(listed == std::vector<std::string>{"a:1=2@1200", "b:2=1@1300"});
}

TEST_CASE("server health: a full table never avoids the servers it has no slot for") {
  ServerHealthTable table;
  ServerHealth w(table);
  for (uint32_t i = 0; i < ServerHealthTable::kSlots; ++i) CHECK(table.intern("h:" + std::to_string(i)) == i);
  CHECK(table.intern("one-too-many:1") == ServerHealthTable::kNoSlot);
  w.failure("one-too-many:1", 10);
  CHECK_FALSE(w.avoided("one-too-many:1", 10));
  CHECK(table.intern("h:7") == 7);
}

TEST_CASE("server health: workers read while others write (no lock on the read path)") {
  ServerHealthTable table;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> seen{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      ServerHealth view(table);
      while (!stop.load()) {
        for (int s = 0; s < 8; ++s)
          if (view.avoided("s:" + std::to_string(s), 1)) seen.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  ServerHealth writer(table);
  for (int i = 0; i < 2000; ++i) {
    writer.failure("s:" + std::to_string(i % 8), 0);
    if (i % 3 == 0) writer.success("s:" + std::to_string((i + 1) % 8));
  }
  stop = true;
  for (auto& t : readers) t.join();
  // Once the writer is done, every reader agrees with the table.
  ServerHealth late(table);
  for (int s = 0; s < 8; ++s)
    CHECK(late.avoided("s:" + std::to_string(s), 1) == (late.record("s:" + std::to_string(s)).first > 0));
}
