#include "core/worker.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "core/assert.h"
#include "core/log.h"
#include "core/tcp_stream.h"

namespace odp::core {

Worker::Worker() : timers_(monotonic_ms()) {}

Worker::~Worker() {
  // Tear the ring down first: the kernel then touches none of the streams' memory, and what
  // settle() could not reclaim is freed safely.
  ring_.shutdown();
  buffers_.reset();  // its unregister fails harmlessly on the closed ring; the unmaps matter
  for (TcpStream* s : retired_) {
    s->abandon();
    delete s;
  }
  if (event_fd_ >= 0) ::close(event_fd_);
}

void Worker::settle(uint64_t timeout_ms, const std::function<bool()>& done) {
  uint64_t deadline = monotonic_ms() + timeout_ms;
  while (!retired_.empty() || !flush_list_.empty() || (done && !done())) {
    now_ms_ = monotonic_ms();
    if (now_ms_ >= deadline) break;
    __kernel_timespec ts{0, 10 * 1000 * 1000};
    flush_streams();
    ring_.wait(&ts);
    after_submit();
    now_ms_ = monotonic_ms();
    ring_.dispatch();
    timers_.advance(now_ms_);
    flush_streams();
    wake_parked_readers();
    sweep_retired();
  }
}

uint64_t Worker::monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

Status<std::string> Worker::init(const WorkerOptions& options) {
  id_ = options.id;
  now_ms_ = monotonic_ms();
  submit_policy_ = options.submit;
  if (const char* env = std::getenv("ODP_IO_SUBMIT"); env != nullptr && *env != '\0') {
    if (std::strcmp(env, "immediate") == 0) {
      submit_policy_ = SubmitPolicy::immediate;
    } else if (std::strcmp(env, "end_of_iteration") == 0) {
      submit_policy_ = SubmitPolicy::end_of_iteration;
    } else {
      return Err(std::string("ODP_IO_SUBMIT must be end_of_iteration or immediate, not ") + env);
    }
  }
  register_ring_fd_ = options.register_ring_fd;
  output_pool_.configure(options.output);
  if (auto st = ring_.init(options.ring); !st) return st;
  if (submit_policy_ == SubmitPolicy::immediate) ring_.set_after_callback(&Worker::after_callback, this);
  auto st = buffers_.init(ring_.raw(), 0, options.recv_buffers, options.recv_buffer_bytes, options.recv_max_held);
  if (!st) return st;
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) return Err(std::string("eventfd: ") + strerror(errno));
  mailbox_c_.fn = &Worker::on_mailbox;
  mailbox_c_.ctx = this;
  arm_mailbox();
  return Ok{};
}

void Worker::arm_mailbox() {
  io_uring_sqe* sqe = ring_.prepare(mailbox_c_);
  io_uring_prep_read(sqe, event_fd_, &event_value_, sizeof event_value_, 0);
}

void Worker::on_mailbox(Completion& c, int32_t res, uint32_t /*flags*/) {
  auto* self = static_cast<Worker*>(c.ctx);
  if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED) {
    LOG_ERROR("worker %u: mailbox read failed: %s", self->id_, strerror(-res));
  }
  self->drain_mailbox();
  self->arm_mailbox();
}

void Worker::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    mailbox_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t n = ::write(event_fd_, &one, sizeof one);
  (void)n;  // EAGAIN means the counter is already non-zero: the worker will wake anyway.
}

void Worker::drain_mailbox() {
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    mailbox_local_.swap(mailbox_);
  }
  for (auto& fn : mailbox_local_) fn();
  mailbox_local_.clear();
}

void Worker::stop() {
  stop_requested_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t n = ::write(event_fd_, &one, sizeof one);  // wake the loop if it sleeps
  (void)n;
}

void Worker::schedule_flush(TcpStream* s) {
  flush_list_.push_back(s);
}
void Worker::retire(TcpStream* s) {
  retired_.push_back(s);
}

void Worker::flush_streams() {
  // Flushing only prepares SQEs and calls no handler, yet loop until the list is empty rather
  // than rely on that. The two lists trade places, keeping their capacity: no allocation.
  while (!flush_list_.empty()) {
    flushing_.swap(flush_list_);
    for (TcpStream* s : flushing_) s->flush();
    flushing_.clear();
  }
}

void Worker::after_callback(void* ctx) {
  auto* self = static_cast<Worker*>(ctx);
  if (!self->flush_list_.empty()) self->flush_streams();
  if (self->send_prepared_) {
    self->send_prepared_ = false;
    self->ring_.submit();
    self->after_submit();
  }
}

void Worker::after_submit() {
  // Only once the kernel has consumed every queued SQE (a cancellation among them included).
  if (ring_.queued() == 0) output_pool_.submitted();
}

void Worker::park_reader(TcpStream* s) {
  ODP_ASSERT(!s->parked_);
  s->parked_ = true;
  s->park_next_ = nullptr;
  s->park_prev_ = parked_tail_;
  if (parked_tail_ != nullptr) {
    parked_tail_->park_next_ = s;
  } else {
    parked_head_ = s;
  }
  parked_tail_ = s;
  ++parked_count_;
}

void Worker::unpark_reader(TcpStream* s) {
  if (!s->parked_) return;
  if (s->park_prev_ != nullptr) {
    s->park_prev_->park_next_ = s->park_next_;
  } else {
    parked_head_ = s->park_next_;
  }
  if (s->park_next_ != nullptr) {
    s->park_next_->park_prev_ = s->park_prev_;
  } else {
    parked_tail_ = s->park_prev_;
  }
  s->park_prev_ = s->park_next_ = nullptr;
  s->parked_ = false;
  --parked_count_;
}

void Worker::wake_parked_readers() {
  // Oldest first; one stream per free buffer at most. A stream that finds none again parks at
  // the back, so every parked stream gets its turn.
  uint32_t budget = buffers_.available();
  while (parked_head_ != nullptr && budget > 0) {
    TcpStream* s = parked_head_;
    unpark_reader(s);
    s->resume_after_park();
    --budget;
  }
}

void Worker::sweep_retired() {
  size_t kept = 0;
  for (TcpStream* s : retired_) {
    if (s->reclaimable()) {
      delete s;
    } else {
      retired_[kept++] = s;
    }
  }
  retired_.resize(kept);
}

void Worker::end_iteration() {
  timers_.advance(now_ms_);
  if (idle_hook_) idle_hook_();
  flush_streams();
  wake_parked_readers();
  sweep_retired();
  send_prepared_ = false;  // whatever was prepared goes with the next wait's submit
}

void Worker::run() {
  if (!mailbox_c_.pending) arm_mailbox();
  // Registered only while the loop runs on this thread: the registration belongs to the thread.
  if (register_ring_fd_) ring_.register_ring_fd();
  while (!stop_requested_.load(std::memory_order_acquire)) {
    now_ms_ = monotonic_ms();
    // Streams waiting to be reclaimed need no wake-up of their own: their last CQE wakes us.
    int64_t wait_ms = timers_.ms_until_next(now_ms_);
    __kernel_timespec ts{};
    const __kernel_timespec* tsp = nullptr;
    if (wait_ms >= 0) {
      ts.tv_sec = wait_ms / 1000;
      ts.tv_nsec = (wait_ms % 1000) * 1000000;
      tsp = &ts;
    }
    if (before_wait_) before_wait_();
    ring_.wait(tsp);
    after_submit();
    if (after_wait_) after_wait_();
    // The clock must be fresh before callbacks run: they arm deadlines relative to it.
    now_ms_ = monotonic_ms();
    ring_.dispatch();
    end_iteration();
  }
  // The request is consumed: a later run() runs until the next stop().
  stop_requested_.store(false, std::memory_order_relaxed);
  ring_.submit();
  after_submit();
  ring_.unregister_ring_fd();
}

}  // namespace odp::core
