// TcpStream's output path. write() and write_held() append to the FIFO (output_queue.h); flush()
// sends it as one chain of up to SendBatch::kMaxOps linked operations, prepared in one
// submission (see tcp_stream.h for why a chain, and only one at a time):
//  - a run of in-memory segments (owned blocks, lent receive buffers) is one send, or one sendmsg
//    over up to SendBatch::kMaxIov of them;
//  - a piped segment is a poll(POLLOUT) linked to a non-blocking pipe -> socket splice.
// Every send carries MSG_WAITALL: on a stream socket the kernel then keeps sending a partly
// sent buffer itself, and reports a short count only with an error, which also fails the link.
// The outcomes are applied in chain order. After a short one, the operations behind it come
// back -ECANCELED having sent nothing, and the next chain starts from the first byte not taken.
#include <poll.h>

#include <cerrno>

#include "core/assert.h"
#include "core/log.h"
#include "core/tcp_stream.h"
#include "core/worker.h"

namespace odp::core {
namespace {
constexpr int kSendFlags = MSG_NOSIGNAL | MSG_WAITALL;
}  // namespace

void TcpStream::write(std::span<const uint8_t> bytes) {
  if ((state_ != State::open && state_ != State::connecting) || bytes.empty()) return;
  out_.append_owned(worker_.output_pool(), bytes);
  commit_output();
}

bool TcpStream::write_held(std::span<const uint8_t> bytes, uint16_t buffer_id) {
  if (state_ != State::open || failed_) return false;
  if (bytes.empty()) {
    release_held(buffer_id);  // nothing to send: an empty segment would never complete
    return true;
  }
  out_.append_lent(worker_.output_pool(), bytes, buffer_id);
  commit_output();
  return true;
}

void TcpStream::commit_output() {
  if (above_high_watermark()) was_above_high_ = true;
  if (!flush_scheduled_ && !out_.empty()) {
    flush_scheduled_ = true;
    worker_.schedule_flush(this);
  }
}

void TcpStream::flush() {
  flush_scheduled_ = false;
  if (state_ == State::connecting || state_ == State::closed || failed_) return;
  if (send_ == nullptr && !out_.empty()) issue_sends();
}

void TcpStream::issue_sends() {
  SendBatch* b = worker_.output_pool().get_batch();
  unsigned iov_used = 0;
  unsigned sqes = 0;
  for (OutSegment* seg = out_.front(); seg != nullptr && b->count < SendBatch::kMaxOps;) {
    SendOp& op = b->ops[b->count];
    op.bytes = 0;
    op.res = 0;
    op.completed = false;
    op.pipe = nullptr;
    op.iov_first = static_cast<uint16_t>(iov_used);
    op.iov_count = 0;
    if (seg->kind == SegmentKind::piped) {
      op.pipe = seg->pipe;
      op.bytes = seg->unsent();
      seg = seg->next;
      sqes += 2;
    } else {
      if (iov_used == SendBatch::kMaxIov) break;
      while (seg != nullptr && seg->kind != SegmentKind::piped && iov_used < SendBatch::kMaxIov) {
        b->iov[iov_used++] = {const_cast<uint8_t*>(seg->data) + seg->sent, seg->unsent()};
        op.bytes += seg->unsent();
        seg = seg->next;
      }
      op.iov_count = static_cast<uint16_t>(iov_used - op.iov_first);
      sqes += 1;
    }
    ++b->count;
  }
  ODP_ASSERT(b->count > 0);

  Ring& ring = worker_.ring();
  ring.reserve(sqes);  // the chain must not be split by a submission in its middle
  const int fd = slot_ >= 0 ? slot_ : fd_;
  for (unsigned i = 0; i < b->count; ++i) {
    SendOp& op = b->ops[i];
    op.c.fn = &TcpStream::on_send;
    op.c.ctx = this;
    op.poll_c.fn = &TcpStream::on_send_poll;
    op.poll_c.ctx = this;
    io_uring_sqe* sqe = nullptr;
    if (op.pipe != nullptr) {
      io_uring_sqe* poll = ring.prepare(op.poll_c);
      io_uring_prep_poll_add(poll, fd, POLLOUT);
      set_fd_flags(poll);
      poll->flags |= IOSQE_IO_LINK;
      sqe = ring.prepare(op.c);
      io_uring_prep_splice(sqe, op.pipe->read_fd, -1, fd, -1, op.bytes, kSpliceFlags);
    } else if (op.iov_count == 1) {
      const iovec& v = b->iov[op.iov_first];
      sqe = ring.prepare(op.c);
      io_uring_prep_send(sqe, fd, v.iov_base, v.iov_len, kSendFlags);
    } else {
      op.msg = msghdr{};
      op.msg.msg_iov = &b->iov[op.iov_first];
      op.msg.msg_iovlen = op.iov_count;
      sqe = ring.prepare(op.c);
      io_uring_prep_sendmsg(sqe, fd, &op.msg, kSendFlags);
    }
    set_fd_flags(sqe);  // for a splice: the output descriptor is the registered one
    if (i + 1 < b->count) sqe->flags |= IOSQE_IO_LINK;
  }
  send_ = b;
  worker_.note_send_prepared();
}

void TcpStream::on_send(Completion& c, int32_t res, uint32_t /*flags*/) {
  auto* self = static_cast<TcpStream*>(c.ctx);
  SendBatch* b = self->send_;
  ODP_ASSERT(b != nullptr);
  for (unsigned i = 0; i < b->count; ++i) {
    if (&b->ops[i].c == &c) {
      b->ops[i].res = res;
      b->ops[i].completed = true;
      break;
    }
  }
  self->apply_send_results();
}

void TcpStream::on_send_poll(Completion& c, int32_t /*res*/, uint32_t /*flags*/) {
  // The splice linked behind the poll reports the outcome; the chain may be waiting for this
  // CQE to be over.
  static_cast<TcpStream*>(c.ctx)->apply_send_results();
}

void TcpStream::apply_send_results() {
  SendBatch* b = send_;
  int notify_err = 0;
  // CQEs of a chain arrive in order, but nothing here depends on it: outcomes are applied in
  // chain order once every earlier one is known.
  while (b->processed < b->count && b->ops[b->processed].completed) {
    SendOp& op = b->ops[b->processed++];
    apply_send_op(*b, op, notify_err);
  }
  if (b->processed == b->count && !b->in_flight()) finish_send_batch();
  if (notify_err != 0 && state_ == State::open && handler_ != nullptr) handler_->on_stream_closed(notify_err);
}

bool TcpStream::apply_send_op(SendBatch& b, SendOp& op, int& notify_err) {
  const int32_t res = op.res;
  if (res == -ECANCELED && b.broken) return false;  // never ran: an earlier operation fell short
  // A splice finding the socket full again after its poll moved nothing: try again.
  bool moved = res >= 0 || (res == -EAGAIN && op.pipe != nullptr);
  uint32_t n = res > 0 ? static_cast<uint32_t>(res) : 0;
  if (moved && b.broken && n > 0) {
    // Bytes went out behind an operation that fell short: the kernel did not cancel the rest
    // of the chain, and the peer saw a gap. Nothing can repair the stream.
    LOG_ERROR("send chain ran past a short send (%d bytes out of order); closing the connection", res);
    moved = false;
  }
  if (!moved) {
    // Failed, or cancelled by close() or the linger timer: nothing more may be sent.
    b.broken = true;
    discard_output_ = true;
    if (state_ == State::open && !failed_) {
      failed_ = true;
      notify_err = res < 0 ? -res : EIO;
    }
    return false;
  }
  ODP_ASSERT(n <= op.bytes);
  bytes_sent_ += n;
  if (op.pipe != nullptr) took_from_pipe(op.pipe, n);
  if (!discard_output_) out_.advance(worker_.output_pool(), worker_.buffers(), worker_.pipes(), n);
  if (n < op.bytes) b.broken = true;
  return true;
}

void TcpStream::finish_send_batch() {
  worker_.output_pool().put_batch(send_);
  send_ = nullptr;
  if (discard_output_) {
    discard_output_ = false;
    out_.clear(worker_.output_pool(), worker_.buffers(), worker_.pipes());
  }
  if (!out_.empty() && !failed_ && (state_ == State::open || state_ == State::closing)) issue_sends();
  if (was_above_high_ && pending_output() < high_watermark_ / 2) {
    was_above_high_ = false;
    if (state_ == State::open && handler_ != nullptr) handler_->on_stream_writable();
  }
  if (state_ == State::closing) maybe_finish_close();
}

void TcpStream::cancel_sends() {
  if (send_ == nullptr) return;
  // Cancelling the running operation cancels the ones linked behind it; the others are
  // cancelled by address in case the kernel has already started them.
  for (unsigned i = 0; i < send_->count; ++i) {
    SendOp& op = send_->ops[i];
    if (op.poll_c.pending) cancel(op.poll_c);
    if (op.c.pending) cancel(op.c);
  }
}

void TcpStream::drop_output() {
  if (send_ != nullptr) {
    discard_output_ = true;  // the chain in flight still reads some segments: drop them after it
    return;
  }
  out_.clear(worker_.output_pool(), worker_.buffers(), worker_.pipes());
}

}  // namespace odp::core
