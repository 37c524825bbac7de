#pragma once
// A few control-plane threads that run blocking jobs (credential look-ups, metadata queries)
// off the workers' rings. Jobs report back by posting to a worker.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace odp::proxy {

class JobPool {
 public:
  explicit JobPool(size_t threads);
  ~JobPool();
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  // Thread-safe. Jobs queued after stop() are dropped.
  void submit(std::function<void()> job);
  void stop();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace odp::proxy
