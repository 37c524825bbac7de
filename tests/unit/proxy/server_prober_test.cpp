#include "proxy/server_prober.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "core/worker.h"

using odp::proxy::JobPool;
using odp::proxy::ServerHealth;
using odp::proxy::ServerHealthTable;
using odp::proxy::ServerProber;

namespace {
// A probe that answers only once the test lets it.
struct GatedProbe {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool alive = true;
  std::atomic<int> calls{0};
  bool operator()(const std::string&, uint32_t) {
    ++calls;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
    return alive;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
};

void wait_for(const std::atomic<int>& n, int want) {
  for (int i = 0; i < 2000 && n.load() < want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
}  // namespace

TEST_CASE("server prober: sessions asking at once share one probe of a hung server, which every worker then avoids") {
  ServerHealthTable table;
  GatedProbe gate;
  gate.alive = false;
  ServerProber prober(table, [&](const std::string& hp, uint32_t t) { return gate(hp, t); });
  JobPool jobs(2);
  std::atomic<int> answers{0}, alive_answers{0};
  for (int i = 0; i < 10; ++i) {
    prober.probe("h:1", 100, jobs, [&](bool alive) {
      if (alive) ++alive_answers;
      ++answers;
    });
  }
  gate.release();
  wait_for(answers, 10);
  CHECK(answers.load() == 10);
  CHECK(alive_answers.load() == 0);
  CHECK(gate.calls.load() == 1);
  CHECK(prober.probes_started() == 1);
  // Noted in the shared table: a worker that never asked avoids it.
  ServerHealth other_worker(table);
  CHECK(other_worker.avoided("h:1", odp::core::Worker::monotonic_ms()));
  jobs.stop();
}

TEST_CASE("server prober: a live answer stands for a moment; other servers are probed on their own") {
  ServerHealthTable table;
  std::atomic<int> calls{0};
  ServerProber prober(table, [&](const std::string&, uint32_t) {
    ++calls;
    return true;
  });
  JobPool jobs(1);
  std::atomic<int> answers{0};
  prober.probe("h:1", 100, jobs, [&](bool alive) { answers += alive ? 1 : 100; });
  wait_for(answers, 1);
  prober.probe("h:1", 100, jobs, [&](bool alive) { answers += alive ? 1 : 100; });  // fresh: no probe
  prober.probe("h:2", 100, jobs, [&](bool alive) { answers += alive ? 1 : 100; });
  wait_for(answers, 3);
  CHECK(answers.load() == 3);
  CHECK(calls.load() == 2);
  CHECK_FALSE(ServerHealth(table).avoided("h:1", odp::core::Worker::monotonic_ms()));
  jobs.stop();
}
