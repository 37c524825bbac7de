#pragma once
// A worker thread's event loop: its ring, provided buffers, timers, a mailbox for messages from
// other threads, and the bookkeeping that frees streams only when nothing of them is left in
// the kernel. Nothing here is shared with other workers except the mailbox.
#include <sys/eventfd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/buffer_ring.h"
#include "core/output_queue.h"
#include "core/pipe_pool.h"
#include "core/ring.h"
#include "core/stats.h"
#include "core/timer_wheel.h"

namespace odp::core {

class TcpStream;

// When prepared sends reach the kernel.
enum class SubmitPolicy : uint8_t {
  // Once per loop iteration, after every callback of the batch ran: one io_uring_enter carries
  // all of them (fewest syscalls; the first peer of a batch waits for the last callback).
  end_of_iteration,
  // Right after the callback that queued them: the peer wakes sooner, at the cost of one
  // io_uring_enter per callback that sent something.
  immediate,
};

struct WorkerOptions {
  uint32_t id = 0;
  RingOptions ring;
  uint32_t recv_buffers = 256;  // power of two
  uint32_t recv_buffer_bytes = 65536;
  uint32_t recv_max_held = 0;  // receive buffers lent to zero-copy sends at once (0: half of them)
  OutputPoolOptions output;
  // The environment variable ODP_IO_SUBMIT (end_of_iteration | immediate) overrides this, so the
  // two can be measured against each other on the same binary. end_of_iteration measured better:
  // as fast at 8 sysbench threads and faster at 64, with about half the CPU per query
  // (docs/ARCHITECTURE.md, "IO model").
  SubmitPolicy submit = SubmitPolicy::end_of_iteration;
  bool register_ring_fd = true;
};

class Worker {
 public:
  Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // Must run on the thread that will call run() (the ring is SINGLE_ISSUER).
  Status<std::string> init(const WorkerOptions& options);

  uint32_t id() const { return id_; }
  Ring& ring() { return ring_; }
  BufferRing& buffers() { return buffers_; }
  PipePool& pipes() { return pipes_; }
  OutputPool& output_pool() { return output_pool_; }
  SubmitPolicy submit_policy() const { return submit_policy_; }
  TimerWheel& timers() { return timers_; }
  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  // Monotonic milliseconds, refreshed once per loop iteration.
  uint64_t now_ms() const { return now_ms_; }
  static uint64_t monotonic_ms();

  // Thread-safe: runs fn on this worker's thread, soon. Control-plane only (takes a mutex).
  void post(std::function<void()> fn);
  // Runs the loop until stop() is called.
  void run();
  // Thread-safe; also from inside the loop. The current iteration finishes first.
  void stop();
  // After run() returned: keeps reaping until every closed stream is reclaimed or the time is up.
  // `done`, when given, must also hold (e.g. a listener's accept has completed).
  void settle(uint64_t timeout_ms, const std::function<bool()>& done = {});
  // Called once per loop iteration after callbacks ran (the proxy uses it for its own upkeep).
  void set_idle_hook(std::function<void()> hook) { idle_hook_ = std::move(hook); }
  // Called right before the loop blocks for completions and right after it wakes (the proxy
  // announces quiescent states for snapshot reclamation with them).
  void set_wait_hooks(std::function<void()> before_wait, std::function<void()> after_wait) {
    before_wait_ = std::move(before_wait);
    after_wait_ = std::move(after_wait);
  }

  // Stream bookkeeping (used by TcpStream).
  void schedule_flush(TcpStream* s);
  void retire(TcpStream* s);
  // A chain of sends was prepared (the immediate policy submits it after the callback).
  void note_send_prepared() { send_prepared_ = true; }
  // Streams whose multishot recv ended for lack of buffers wait here, first in first out, and
  // are re-armed at the end of a loop iteration once buffers came back: at most as many as
  // there are free buffers, so a wake-up is not wasted on an immediate ENOBUFS again.
  void park_reader(TcpStream* s);
  void unpark_reader(TcpStream* s);
  size_t parked_readers() const { return parked_count_; }

 private:
  static void on_mailbox(Completion& c, int32_t res, uint32_t flags);
  static void after_callback(void* ctx);
  void wake_parked_readers();
  void end_iteration();
  void after_submit();
  void arm_mailbox();
  void drain_mailbox();
  void flush_streams();
  void sweep_retired();

  uint32_t id_ = 0;
  Ring ring_;
  BufferRing buffers_;
  PipePool pipes_;
  OutputPool output_pool_;
  TimerWheel timers_;
  Stats stats_;
  uint64_t now_ms_ = 0;
  std::atomic<bool> stop_requested_{false};
  SubmitPolicy submit_policy_ = SubmitPolicy::end_of_iteration;
  bool register_ring_fd_ = true;
  bool send_prepared_ = false;

  int event_fd_ = -1;
  uint64_t event_value_ = 0;
  Completion mailbox_c_;
  std::mutex mailbox_mu_;
  std::vector<std::function<void()>> mailbox_;
  std::vector<std::function<void()>> mailbox_local_;

  // Two lists swapped on each flush, so neither is reallocated once warm.
  std::vector<TcpStream*> flush_list_;
  std::vector<TcpStream*> flushing_;
  std::vector<TcpStream*> retired_;
  TcpStream* parked_head_ = nullptr;
  TcpStream* parked_tail_ = nullptr;
  size_t parked_count_ = 0;
  std::function<void()> idle_hook_;
  std::function<void()> before_wait_;
  std::function<void()> after_wait_;
};

}  // namespace odp::core
