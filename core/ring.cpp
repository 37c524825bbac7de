#include "core/ring.h"

#include <cerrno>
#include <cstring>

#include "core/assert.h"
#include "core/log.h"

namespace odp::core {

Ring::~Ring() {
  shutdown();
}

void Ring::shutdown() {
  if (initialized_) {
    // io_uring_queue_exit unregisters a registered ring fd in the *calling* thread's table, which
    // is why the worker registers it only while its loop runs, on its own thread.
    io_uring_queue_exit(&ring_);
    ring_.ring_fd = -1;  // closed: later unregister calls must not hit a reused descriptor
  }
  initialized_ = false;
}

Status<std::string> Ring::init(const RingOptions& options) {
  io_uring_params params{};
  params.flags =
      IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  params.cq_entries = options.cq_entries;
  int rc = io_uring_queue_init_params(options.sq_entries, &ring_, &params);
  if (rc == -EINVAL) {
    // Older kernels refuse SINGLE_ISSUER/DEFER_TASKRUN: keep a working path, say so once.
    LOG_WARN("io_uring: kernel refused SINGLE_ISSUER|DEFER_TASKRUN (%s); using COOP_TASKRUN", strerror(-rc));
    params = {};
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
    params.cq_entries = options.cq_entries;
    rc = io_uring_queue_init_params(options.sq_entries, &ring_, &params);
  } else if (rc == 0) {
    defer_taskrun_ = true;
  }
  if (rc < 0) return Err(std::string("io_uring_queue_init: ") + strerror(-rc));
  initialized_ = true;
  batch_.reserve(options.cq_entries);

  if (options.fixed_files > 0) {
    rc = io_uring_register_files_sparse(&ring_, options.fixed_files);
    if (rc < 0) {
      LOG_WARN("io_uring: registered files unavailable (%s); using plain descriptors", strerror(-rc));
    } else {
      fixed_files_ = options.fixed_files;
      free_slots_.reserve(fixed_files_);
      for (unsigned i = fixed_files_; i > 0; --i) free_slots_.push_back(static_cast<int>(i - 1));
    }
  }
  return Ok{};
}

io_uring_sqe* Ring::prepare(Completion& c) {
  io_uring_sqe* sqe = prepare_untracked();
  io_uring_sqe_set_data(sqe, &c);
  c.pending = true;
  return sqe;
}

io_uring_sqe* Ring::prepare_untracked() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    int rc = io_uring_submit(&ring_);
    if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) {
      LOG_ERROR("io_uring_submit failed: %s", strerror(-rc));
    }
    sqe = io_uring_get_sqe(&ring_);
  }
  io_uring_sqe_set_data64(sqe, 0);
  return sqe;
}

void Ring::reserve(unsigned n) {
  if (io_uring_sq_space_left(&ring_) >= n) return;
  int rc = io_uring_submit(&ring_);
  if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) LOG_ERROR("io_uring_submit failed: %s", strerror(-rc));
}

bool Ring::register_ring_fd() {
  if (ring_fd_registered_) return true;
  int rc = io_uring_register_ring_fd(&ring_);
  ring_fd_registered_ = rc == 1;
  if (!ring_fd_registered_) LOG_DEBUG("io_uring: ring fd not registered (%s)", strerror(rc < 0 ? -rc : EINVAL));
  return ring_fd_registered_;
}

void Ring::unregister_ring_fd() {
  if (!ring_fd_registered_) return;
  io_uring_unregister_ring_fd(&ring_);
  ring_fd_registered_ = false;
}

void Ring::submit() {
  int rc = io_uring_submit(&ring_);
  if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) LOG_ERROR("io_uring_submit: %s", strerror(-rc));
}

void Ring::wait(const __kernel_timespec* timeout) {
  io_uring_cqe* cqe = nullptr;
  int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, const_cast<__kernel_timespec*>(timeout), nullptr);
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    LOG_ERROR("io_uring_submit_and_wait: %s", strerror(-rc));
  }
}

size_t Ring::dispatch() {
  io_uring_cqe* cqe = nullptr;
  // Reap first, run callbacks after: a callback may submit and even free other owners' state
  // only through the pending rules above.
  batch_.clear();
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    batch_.push_back({cqe->user_data, cqe->res, cqe->flags});
    ++seen;
  }
  io_uring_cq_advance(&ring_, seen);
  for (const Reaped& r : batch_) {
    if (r.user_data == 0) continue;
    auto* c = reinterpret_cast<Completion*>(r.user_data);
    if (!(r.flags & IORING_CQE_F_MORE)) c->pending = false;
    ODP_ASSERT(c->fn != nullptr);
    c->fn(*c, r.res, r.flags);
    if (after_callback_ != nullptr) after_callback_(after_callback_ctx_);
  }
  return batch_.size();
}

int Ring::register_file(int fd) {
  if (free_slots_.empty()) return -1;
  int slot = free_slots_.back();
  int rc = io_uring_register_files_update(&ring_, static_cast<unsigned>(slot), &fd, 1);
  if (rc < 0) return -1;
  free_slots_.pop_back();
  return slot;
}

void Ring::unregister_file(int slot) {
  if (slot < 0) return;
  int minus_one = -1;
  io_uring_register_files_update(&ring_, static_cast<unsigned>(slot), &minus_one, 1);
  free_slots_.push_back(slot);
}

}  // namespace odp::core
