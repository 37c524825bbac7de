// TcpStream's splice path: socket -> pipe -> socket for bulk payload bytes that the proxy does not
// need to see (the rest of a large row). io_uring runs splice in its worker threads, so every
// descriptor involved is non-blocking and each splice is preceded by a linked poll: the splice
// then never sleeps in the kernel, and a cancelled poll cancels its splice.
#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "core/log.h"
#include "core/tcp_stream.h"
#include "core/worker.h"

namespace odp::core {

bool TcpStream::can_splice_to(const Conn& dst) const {
  const auto* d = dynamic_cast<const TcpStream*>(&dst);
  return d != nullptr && d != this && &d->worker_ == &worker_ && state_ == State::open && !failed_ &&
         d->state_ == State::open && !d->failed_ && splice_state_ == SpliceState::none;
}

void TcpStream::request_splice() {
  if (state_ != State::open || failed_ || splice_state_ != SpliceState::none) return;
  splice_state_ = SpliceState::stopping;
  worker_.unpark_reader(this);  // reads resume after the splice, not when buffers come back
  if (recv_c_.pending) {
    // Its last CQE (after bytes already on their way are delivered) leads to after_reads_stopped.
    cancel(recv_c_);
  } else if (!in_delivery_) {
    after_reads_stopped();
  }
  // In delivery without a pending recv: on_recv calls recv_ended() once the handler returns.
}

void TcpStream::after_reads_stopped() {
  if (handler_ != nullptr) {
    handler_->on_stream_splice_ready();
  } else {
    splice_state_ = SpliceState::none;
  }
}

bool TcpStream::splice_to(Conn& dst, uint64_t bytes) {
  if (splice_state_ != SpliceState::stopping) return false;
  auto* d = dynamic_cast<TcpStream*>(&dst);
  Pipe* pipe = nullptr;
  if (bytes > 0 && d != nullptr && state_ == State::open && !failed_ && d->state_ == State::open && !d->failed_ &&
      d->splice_src_ == nullptr) {
    pipe = worker_.pipes().acquire();
  }
  if (pipe == nullptr) {
    splice_state_ = SpliceState::none;
    if (state_ == State::open && want_read_ && !recv_c_.pending) arm_recv();
    return false;
  }
  splice_state_ = SpliceState::running;
  splice_pipe_ = pipe;
  splice_dst_ = d;
  d->splice_src_ = this;
  splice_left_ = bytes;
  splice_total_ = bytes;
  issue_splice_in();
  return true;
}

void TcpStream::issue_splice_in() {
  uint32_t room = splice_pipe_->space();
  if (room == 0) {
    splice_pipe_->waiter = this;
    return;
  }
  auto len = static_cast<unsigned>(std::min<uint64_t>(splice_left_, room));
  Ring& ring = worker_.ring();
  ring.reserve(2);
  io_uring_sqe* poll = ring.prepare(splice_poll_c_);
  io_uring_prep_poll_add(poll, slot_ >= 0 ? slot_ : fd_, POLLIN);
  set_fd_flags(poll);
  poll->flags |= IOSQE_IO_LINK;
  io_uring_sqe* sqe = ring.prepare(splice_c_);
  io_uring_prep_splice(sqe, slot_ >= 0 ? slot_ : fd_, -1, splice_pipe_->write_fd, -1, len,
                       kSpliceFlags | (slot_ >= 0 ? SPLICE_F_FD_IN_FIXED : 0u));
}

void TcpStream::on_poll_done(Completion& c, int32_t /*res*/, uint32_t /*flags*/) {
  // The linked splice reports the outcome; only a close may be waiting for this CQE.
  static_cast<TcpStream*>(c.ctx)->maybe_finish_close();
}

void TcpStream::on_splice_in(Completion& c, int32_t res, uint32_t /*flags*/) {
  auto* self = static_cast<TcpStream*>(c.ctx);
  Pipe* pipe = self->splice_pipe_;
  if (res > 0 && pipe != nullptr) {
    pipe->buffered += static_cast<uint32_t>(res);
    self->bytes_received_ += static_cast<uint64_t>(res);
    Stats::inc(self->worker_.stats().io_splice_bytes_total, res);
  }
  if (self->state_ != State::open || pipe == nullptr) {
    // Closing: what reached the pipe has no reader now; the pipe is closed with it.
    self->maybe_finish_close();
    return;
  }
  if (res > 0) {
    self->splice_left_ -= static_cast<uint64_t>(res);
    if (self->splice_dst_ != nullptr) {
      self->splice_dst_->queue_piped(pipe, static_cast<uint32_t>(res));
    } else {
      res = -EPIPE;  // the destination closed: these bytes cannot be delivered
    }
  }
  if (res > 0) {
    if (self->splice_left_ > 0) {
      self->issue_splice_in();
      return;
    }
    uint64_t total = self->splice_total_;
    self->end_splice();
    self->peek_after_splice_ = true;
    if (self->handler_ != nullptr) self->handler_->on_stream_spliced(total);
    if (self->state_ == State::open && self->want_read_ && !self->recv_c_.pending &&
        self->splice_state_ == SpliceState::none) {
      self->arm_recv();
    }
    return;
  }
  if (res == -EAGAIN) {
    // Readable by poll, yet nothing moved: the pipe is full (it counts slots, not bytes) or the
    // readiness was spurious. Wait for the reader when it has something to take, else poll again.
    if (pipe->buffered > 0) {
      pipe->waiter = self;
    } else {
      self->issue_splice_in();
    }
    return;
  }
  // 0: the peer closed. ECANCELED here means the poll before it failed.
  self->end_splice();
  self->want_read_ = false;
  self->failed_ = res < 0;
  int err = res == 0 ? 0 : res == -ECANCELED ? EIO : -res;
  if (self->handler_ != nullptr) self->handler_->on_stream_closed(err);
}

void TcpStream::end_splice() {
  if (splice_pipe_ != nullptr) {
    if (splice_pipe_->waiter == this) splice_pipe_->waiter = nullptr;
    worker_.pipes().release(splice_pipe_);
    splice_pipe_ = nullptr;
  }
  if (splice_dst_ != nullptr) {
    if (splice_dst_->splice_src_ == this) splice_dst_->splice_src_ = nullptr;
    splice_dst_ = nullptr;
  }
  splice_state_ = SpliceState::none;
  splice_left_ = 0;
}

void TcpStream::stop_splicing() {
  if (splice_src_ != nullptr) {
    // We were the destination: the source must not queue more bytes here. Its owner closes it
    // too (a half-forwarded payload cannot be resumed), which ends its splice.
    splice_src_->splice_dst_ = nullptr;
    splice_src_ = nullptr;
  }
  if (splice_pipe_ != nullptr && splice_pipe_->waiter == this) splice_pipe_->waiter = nullptr;
  if (splice_poll_c_.pending) cancel(splice_poll_c_);
  if (splice_c_.pending) cancel(splice_c_);
  if (!splice_poll_c_.pending && !splice_c_.pending) end_splice();
}

void TcpStream::queue_piped(Pipe* pipe, uint32_t bytes) {
  if (state_ != State::open || failed_) return;  // left in the pipe, which is then not reused
  out_.append_piped(worker_.output_pool(), worker_.pipes(), pipe, bytes);
  commit_output();
}

void TcpStream::took_from_pipe(Pipe* pipe, uint32_t bytes) {
  pipe->buffered -= std::min(bytes, pipe->buffered);
  // Wake the source once half the pipe is free: fewer, larger splices.
  if (pipe->waiter != nullptr && pipe->buffered <= pipe->capacity / 2) {
    TcpStream* src = pipe->waiter;
    pipe->waiter = nullptr;
    if (src->splice_state_ == SpliceState::running && src->splice_pipe_ == pipe) src->issue_splice_in();
  }
}

}  // namespace odp::core
