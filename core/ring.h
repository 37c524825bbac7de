#pragma once
// One io_uring per worker thread, set up the modern way (SINGLE_ISSUER | DEFER_TASKRUN, a CQ
// larger than the SQ), with a fallback when the kernel refuses a flag.
//
// Every operation is a caller-owned Completion; the SQE's user_data points at it. CQEs are reaped
// into a batch first and callbacks run after the reap, never inside it, so a callback may submit
// freely. A Completion is "pending" from submission until its last CQE (for multishot operations,
// the first CQE without IORING_CQE_F_MORE); its owner must not be freed while anything is pending.
#include <liburing.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace odp::core {

struct Completion {
  using Fn = void (*)(Completion& c, int32_t res, uint32_t cqe_flags);
  Fn fn = nullptr;
  void* ctx = nullptr;
  bool pending = false;
};

struct RingOptions {
  unsigned sq_entries = 1024;
  unsigned cq_entries = 8192;
  unsigned fixed_files = 0;  // size of the sparse registered-file table (0 = none)
};

class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring();

  Status<std::string> init(const RingOptions& options);
  // Tears the ring down; the kernel drops whatever was still in flight.
  void shutdown();

  // An SQE tied to `c` (never null: submits to make room when the SQ is full).
  io_uring_sqe* prepare(Completion& c);
  // Makes room for n SQEs that must be submitted together (a linked chain must not be split
  // by a submit in its middle).
  void reserve(unsigned n);
  // An SQE whose completion is ignored (user_data 0), e.g. for cancellations and linked timeouts.
  io_uring_sqe* prepare_untracked();

  // Submits what is queued and waits for at least one CQE or the timeout (nullptr = forever).
  void wait(const __kernel_timespec* timeout);
  // Reaps every available CQE, then runs their callbacks. Returns the number dispatched.
  size_t dispatch();
  // Called after each callback dispatch() runs (the worker flushes and submits sends there when
  // its submit policy is `immediate`). Not an owning std::function: no allocation, no copy.
  using AfterCallback = void (*)(void* ctx);
  void set_after_callback(AfterCallback fn, void* ctx) {
    after_callback_ = fn;
    after_callback_ctx_ = ctx;
  }
  // wait() then dispatch(), for callers that keep no clock.
  size_t run_once(const __kernel_timespec* timeout) {
    wait(timeout);
    return dispatch();
  }
  // Submits without waiting.
  void submit();
  // SQEs prepared and not yet submitted.
  unsigned queued() const { return io_uring_sq_ready(&ring_); }

  // Registers the ring's own descriptor with the calling thread, so that io_uring_enter skips the
  // fd lookup (kernel 5.18+). The registration belongs to the thread: register and unregister on
  // the ring's thread. False when the kernel refuses (the plain descriptor keeps working).
  bool register_ring_fd();
  void unregister_ring_fd();
  bool ring_fd_registered() const { return ring_fd_registered_; }

  io_uring* raw() { return &ring_; }
  int ring_fd() const { return ring_.ring_fd; }
  bool defer_taskrun() const { return defer_taskrun_; }
  bool has_fixed_files() const { return fixed_files_ > 0; }

  // Registered-file slots: returns the slot for fd, or -1 when the table is full or absent.
  int register_file(int fd);
  void unregister_file(int slot);

 private:
  struct Reaped {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
  };
  io_uring ring_{};
  bool initialized_ = false;
  bool defer_taskrun_ = false;
  bool ring_fd_registered_ = false;
  unsigned fixed_files_ = 0;
  AfterCallback after_callback_ = nullptr;
  void* after_callback_ctx_ = nullptr;
  std::vector<int> free_slots_;
  std::vector<Reaped> batch_;
};

}  // namespace odp::core
