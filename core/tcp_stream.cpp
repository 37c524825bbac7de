#include "core/tcp_stream.h"

#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/assert.h"
#include "base/log.h"
#include "core/worker.h"

namespace odp::core {
namespace {
constexpr uint64_t kLingerMs = 5000;

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
}  // namespace

TcpStream::TcpStream(Worker& worker, int fd, StreamHandler* handler) : worker_(worker), fd_(fd), handler_(handler) {
  recv_c_.fn = &TcpStream::on_recv;
  recv_c_.ctx = this;
  connect_c_.fn = &TcpStream::on_connect;
  connect_c_.ctx = this;
  splice_poll_c_.fn = &TcpStream::on_poll_done;
  splice_poll_c_.ctx = this;
  splice_c_.fn = &TcpStream::on_splice_in;
  splice_c_.ctx = this;
  linger_timer_.fn = &TcpStream::on_linger;
  linger_timer_.ctx = this;
  slot_ = worker_.ring().register_file(fd_);
}

TcpStream::~TcpStream() {
  ODP_ASSERT(reclaimable());
  worker_.timers().disarm(linger_timer_);
}

TcpStream* TcpStream::adopt(Worker& worker, int fd, StreamHandler* handler) {
  set_nodelay(fd);
  return new TcpStream(worker, fd, handler);
}

TcpStream* TcpStream::accepted(Worker& worker, int fd, StreamHandler* handler) {
  return new TcpStream(worker, fd, handler);
}

TcpStream* TcpStream::connect(Worker& worker, const sockaddr* addr, socklen_t addr_len, uint32_t timeout_ms,
                              StreamHandler* handler, int& err) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return nullptr;
  }
  set_nodelay(fd);
  auto* s = new TcpStream(worker, fd, handler);
  s->state_ = State::connecting;
  std::memcpy(&s->connect_addr_, addr, addr_len);
  s->connect_addr_len_ = addr_len;
  s->connect_timeout_.tv_sec = timeout_ms / 1000;
  s->connect_timeout_.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
  worker.ring().reserve(2);  // connect and its linked timeout go in one submission
  io_uring_sqe* sqe = worker.ring().prepare(s->connect_c_);
  io_uring_prep_connect(sqe, s->slot_ >= 0 ? s->slot_ : fd, reinterpret_cast<sockaddr*>(&s->connect_addr_), addr_len);
  s->set_fd_flags(sqe);
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe* to = worker.ring().prepare_untracked();
  io_uring_prep_link_timeout(to, &s->connect_timeout_, 0);
  err = 0;
  return s;
}

void TcpStream::set_fd_flags(io_uring_sqe* sqe) const {
  if (slot_ >= 0) sqe->flags |= IOSQE_FIXED_FILE;
}

void TcpStream::on_connect(Completion& c, int32_t res, uint32_t /*flags*/) {
  auto* self = static_cast<TcpStream*>(c.ctx);
  if (self->state_ != State::connecting) {
    self->maybe_finish_close();
    return;
  }
  if (res == 0) {
    self->state_ = State::open;
    if (!self->out_.empty()) self->commit_output();  // written while connecting
    if (self->handler_) self->handler_->on_stream_connected(0);
    return;
  }
  int err = res == -ECANCELED ? ETIMEDOUT : -res;
  self->state_ = State::open;  // so that close() works normally
  self->failed_ = true;
  if (self->handler_) self->handler_->on_stream_connected(err);
}

void TcpStream::start_reading() {
  want_read_ = true;
  // A parked stream is re-armed by the worker once buffers are back.
  if (state_ == State::open && !recv_c_.pending && !parked_ && splice_state_ == SpliceState::none) arm_recv();
}

void TcpStream::stop_reading() {
  want_read_ = false;
  worker_.unpark_reader(this);
  if (recv_c_.pending) cancel(recv_c_);
}

void TcpStream::resume_after_park() {
  if (state_ == State::open && want_read_ && !recv_c_.pending && splice_state_ == SpliceState::none) arm_recv();
}

void TcpStream::arm_recv() {
  io_uring_sqe* sqe = worker_.ring().prepare(recv_c_);
  recv_is_peek_ = peek_after_splice_;
  if (peek_after_splice_) {
    // Right after a splice the socket may hold megabytes; a multishot recv would pull them all
    // into buffers before the receiver could ask for the next splice. One short read shows the
    // next packet's start; multishot resumes after it unless another splice follows.
    peek_after_splice_ = false;
    io_uring_prep_recv(sqe, slot_ >= 0 ? slot_ : fd_, nullptr, kPeekBytes, 0);
  } else {
    io_uring_prep_recv_multishot(sqe, slot_ >= 0 ? slot_ : fd_, nullptr, 0, 0);
  }
  set_fd_flags(sqe);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = worker_.buffers().group_id();
}

void TcpStream::cancel(Completion& c) {
  io_uring_sqe* sqe = worker_.ring().prepare_untracked();
  io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(&c), 0);
}

void TcpStream::on_recv(Completion& c, int32_t res, uint32_t flags) {
  auto* self = static_cast<TcpStream*>(c.ctx);
  Worker& w = self->worker_;
  if (res > 0) {
    ODP_ASSERT(flags & IORING_CQE_F_BUFFER);
    auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    w.buffers().taken();
    self->bytes_received_ += static_cast<uint64_t>(res);
    self->in_delivery_ = true;
    self->delivery_held_ = false;
    self->delivery_bid_ = bid;
    if (self->state_ == State::open && self->handler_ != nullptr) {
      self->handler_->on_stream_data(w.buffers().get(bid, static_cast<uint32_t>(res)));
    }
    self->in_delivery_ = false;
    if (!self->delivery_held_) w.buffers().recycle(bid);
    if (!c.pending) self->recv_ended();
    return;
  }
  if (res == -ENOBUFS) {
    // Out of provided buffers: the kernel stopped this multishot recv. Re-arming now would
    // only fail again until buffers are recycled, so the stream parks and the worker re-arms
    // it once some are back (backpressure, not an error).
    Stats::inc(w.stats().io_recv_enobufs_total);
    if (self->recv_is_peek_) self->peek_after_splice_ = true;  // still owed: ask for it again
    if (!c.pending) self->recv_ended(/*out_of_buffers=*/true);
    return;
  }
  if (res == -ECANCELED || (res < 0 && self->state_ != State::open)) {
    if (!c.pending) self->recv_ended();
    return;
  }
  // EOF (0) or a real error: reads are over.
  self->want_read_ = false;
  if (self->splice_state_ == SpliceState::stopping) self->splice_state_ = SpliceState::none;
  if (self->state_ == State::open) {
    self->failed_ = res < 0;
    if (c.pending) self->cancel(c);
    if (self->handler_) self->handler_->on_stream_closed(res < 0 ? -res : 0);
  } else {
    self->maybe_finish_close();
  }
}

void TcpStream::recv_ended(bool out_of_buffers) {
  if (state_ != State::open) {
    maybe_finish_close();
  } else if (splice_state_ == SpliceState::stopping) {
    after_reads_stopped();
  } else if (want_read_ && out_of_buffers) {
    worker_.park_reader(this);
  } else if (want_read_) {
    arm_recv();
  }
}

bool TcpStream::hold_current_buffer(uint16_t& buffer_id) {
  if (!in_delivery_ || delivery_held_ || !worker_.buffers().try_hold()) return false;
  delivery_held_ = true;
  buffer_id = delivery_bid_;
  return true;
}

void TcpStream::release_held(uint16_t buffer_id) {
  worker_.buffers().release_hold(buffer_id);
}

void TcpStream::close(CloseMode mode) {
  if (state_ == State::closing || state_ == State::closed) return;
  state_ = State::closing;
  handler_ = nullptr;
  want_read_ = false;
  worker_.unpark_reader(this);
  if (recv_c_.pending) cancel(recv_c_);
  if (connect_c_.pending) cancel(connect_c_);
  stop_splicing();
  if (mode == CloseMode::abort || failed_) {
    drop_output();
    cancel_sends();
  } else {
    flush();
    if (send_ != nullptr || !out_.empty()) worker_.timers().arm(linger_timer_, worker_.now_ms() + kLingerMs);
  }
  worker_.retire(this);
  maybe_finish_close();
}

void TcpStream::on_linger(Timer& t) {
  auto* self = static_cast<TcpStream*>(t.ctx);
  // The peer did not take our last bytes in time: give up on them.
  self->drop_output();
  self->cancel_sends();
  self->maybe_finish_close();
}

void TcpStream::maybe_finish_close() {
  if (state_ != State::closing) return;
  if (recv_c_.pending || send_ != nullptr || connect_c_.pending) return;
  if (splice_c_.pending || splice_poll_c_.pending) return;
  end_splice();
  if (!out_.empty() && !failed_ && linger_timer_.armed()) {
    flush();
    if (send_ != nullptr) return;
  }
  drop_output();
  worker_.timers().disarm(linger_timer_);
  if (slot_ >= 0) worker_.ring().unregister_file(slot_);
  slot_ = -1;
  ::close(fd_);
  fd_ = -1;
  state_ = State::closed;
}

void TcpStream::abandon() {
  recv_c_.pending = connect_c_.pending = false;
  splice_poll_c_.pending = splice_c_.pending = false;
  if (send_ != nullptr) {
    for (SendOp& op : send_->ops) op.c.pending = op.poll_c.pending = false;
    worker_.output_pool().put_batch(send_);
    send_ = nullptr;
  }
  worker_.unpark_reader(this);
  out_.forget(worker_.output_pool());  // the ring, its buffers and the pipes are gone
  splice_pipe_ = nullptr;
  splice_dst_ = splice_src_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  slot_ = -1;
  state_ = State::closed;
}

bool TcpStream::reclaimable() const {
  return state_ == State::closed && !recv_c_.pending && send_ == nullptr && !connect_c_.pending &&
         !splice_poll_c_.pending && !splice_c_.pending;
}

}  // namespace odp::core
