#pragma once
// A TCP connection driven by the worker's ring: multishot recv into provided buffers (parking
// when the worker runs out of them), an output FIFO sent as one linked chain of up to
// SendBatch::kMaxOps operations at a time, connect with a linked timeout, and a close that waits
// until the kernel holds nothing of the stream before the descriptor is closed and the object
// freed. After close() the handler gets no more callbacks.
//
// Sends and ordering: two sends on one TCP socket that are in the kernel at the same time are
// not ordered unless they are linked. A send that finds the socket full waits for POLLOUT and
// resumes; a second, unlinked send can slip its bytes in between. Links hold only inside one
// submission, so the stream keeps one chain in flight: every operation of it is prepared in the
// same submission and linked to the next, the kernel starts each only after the previous one
// completed in full (MSG_WAITALL makes it retry short sends internally), and a short or failed
// operation cancels the rest. Bytes written while a chain is in flight go out in the next one.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>

#include "core/byte_buffer.h"
#include "core/conn.h"
#include "core/output_queue.h"
#include "core/pipe_pool.h"
#include "core/ring.h"
#include "core/timer_wheel.h"

namespace odp::core {

class Worker;

class TcpStream final : public Conn {
 public:
  enum class State { connecting, open, closing, closed };
  static constexpr size_t kHighWatermarkDefault = 1u << 20;

  // Takes ownership of a connected socket (one handed over by another process, say).
  static TcpStream* adopt(Worker& worker, int fd, StreamHandler* handler);
  // Takes ownership of a socket a Listener accepted: it has TCP_NODELAY from the listening socket
  // (Linux copies it to accepted sockets), so no setsockopt per connection.
  static TcpStream* accepted(Worker& worker, int fd, StreamHandler* handler);
  // Starts a non-blocking connect; the handler hears on_stream_connected. Returns nullptr (and
  // sets err) when no socket could be made.
  static TcpStream* connect(Worker& worker, const sockaddr* addr, socklen_t addr_len, uint32_t timeout_ms,
                            StreamHandler* handler, int& err);

  void set_handler(StreamHandler* h) override { handler_ = h; }
  void set_high_watermark(size_t bytes) { high_watermark_ = bytes; }

  void start_reading() override;
  void stop_reading() override;
  bool reading() const { return want_read_; }
  // A receive is in the kernel (after stop_reading: until its cancellation completes).
  bool receive_pending() const { return recv_c_.pending; }

  // Queues bytes; the send is issued by the worker's submit policy (after this callback or at
  // the end of the loop iteration).
  void write(std::span<const uint8_t> bytes) override;
  size_t pending_output() const override { return out_.bytes(); }
  bool above_high_watermark() const override { return pending_output() >= high_watermark_; }
  bool hold_current_buffer(uint16_t& buffer_id) override;
  bool write_held(std::span<const uint8_t> bytes, uint16_t buffer_id) override;
  void release_held(uint16_t buffer_id) override;
  bool can_splice_to(const Conn& dst) const override;
  void request_splice() override;
  bool splice_to(Conn& dst, uint64_t bytes) override;

  enum class CloseMode { flush, abort };
  // flush: sends what is queued first (bounded by a 5 s linger), then closes.
  void close(CloseMode mode);
  void close(bool flush) override { close(flush ? CloseMode::flush : CloseMode::abort); }

  State state() const { return state_; }
  int fd() const { return fd_; }
  uint64_t bytes_received() const { return bytes_received_; }
  uint64_t bytes_sent() const { return bytes_sent_; }

  // Worker bookkeeping.
  void flush();
  bool reclaimable() const;
  // Multishot recv ended with ENOBUFS: the worker keeps the stream here until buffers are back.
  bool parked() const { return parked_; }
  void resume_after_park();
  // At teardown, after the ring is gone: forget in-flight operations so the object can be freed.
  void abandon();

 private:
  TcpStream(Worker& worker, int fd, StreamHandler* handler);
  ~TcpStream() override;
  friend class Worker;

  void arm_recv();
  void commit_output();
  // Output path (tcp_stream_send.cpp): one linked chain of sends in flight at a time.
  void issue_sends();
  void apply_send_results();
  bool apply_send_op(SendBatch& b, SendOp& op, int& notify_err);
  void finish_send_batch();
  void cancel_sends();
  // Drops queued output; while a chain is in flight its segments stay until its last CQE.
  void drop_output();
  void cancel(Completion& c);
  void set_fd_flags(io_uring_sqe* sqe) const;
  void fail(int err);
  void maybe_finish_close();

  // The multishot recv ended (its last CQE): re-arm, hand over to a splice, or finish a close.
  void recv_ended(bool out_of_buffers = false);
  // Splice, source side (tcp_stream_splice.cpp): one poll(POLLIN) linked to one socket -> pipe
  // splice at a time, bounded by the pipe's room.
  void issue_splice_in();
  void after_reads_stopped();
  void end_splice();
  // On close: cancels the source's operations and unlinks both sides.
  void stop_splicing();
  // Splice, destination side: bytes now in `pipe` go out after what is queued; a poll(POLLOUT)
  // linked to a pipe -> socket splice sends them.
  void queue_piped(Pipe* pipe, uint32_t bytes);
  // Bytes left the pipe: a source waiting for room may go on.
  void took_from_pipe(Pipe* pipe, uint32_t bytes);

  static void on_recv(Completion& c, int32_t res, uint32_t flags);
  static void on_send(Completion& c, int32_t res, uint32_t flags);
  static void on_send_poll(Completion& c, int32_t res, uint32_t flags);
  static void on_connect(Completion& c, int32_t res, uint32_t flags);
  static void on_splice_in(Completion& c, int32_t res, uint32_t flags);
  static void on_poll_done(Completion& c, int32_t res, uint32_t flags);
  static void on_linger(Timer& t);

  Worker& worker_;
  int fd_;
  int slot_ = -1;  // registered-file slot, -1 when plain descriptor
  StreamHandler* handler_;
  State state_ = State::open;
  bool want_read_ = false;
  bool flush_scheduled_ = false;
  bool was_above_high_ = false;
  bool failed_ = false;
  bool recv_is_peek_ = false;    // the recv in flight is the short one after a splice
  bool discard_output_ = false;  // drop the output once the chain in flight is over
  bool parked_ = false;
  size_t high_watermark_ = kHighWatermarkDefault;
  Completion recv_c_;
  Completion connect_c_;
  Completion splice_poll_c_;  // POLLIN linked before a socket -> pipe splice
  Completion splice_c_;       // the socket -> pipe splice
  Timer linger_timer_;
  // Output: see output_queue.h. `send_` is the chain in flight (from the worker's pool), null
  // when none; only the segments it covers are in the kernel, appends never touch them.
  OutputQueue out_;
  SendBatch* send_ = nullptr;
  // The worker's list of streams parked for receive buffers.
  TcpStream* park_prev_ = nullptr;
  TcpStream* park_next_ = nullptr;
  // The receive buffer of the completion being delivered, and whether its receiver kept it.
  bool in_delivery_ = false;
  bool delivery_held_ = false;
  uint16_t delivery_bid_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;
  // Splice source state. The destination is a stream of the same worker; each side forgets the
  // other when it closes, so neither outlives the link.
  enum class SpliceState : uint8_t { none, stopping, running };
  SpliceState splice_state_ = SpliceState::none;
  Pipe* splice_pipe_ = nullptr;
  TcpStream* splice_dst_ = nullptr;
  TcpStream* splice_src_ = nullptr;  // destination side: who feeds us
  uint64_t splice_left_ = 0;
  uint64_t splice_total_ = 0;
  bool peek_after_splice_ = false;
  static constexpr unsigned kPeekBytes = 16384;
  // Every splice is non-blocking: io-wq must never sleep on a pipe or a socket.
  static constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
  sockaddr_storage connect_addr_{};
  socklen_t connect_addr_len_ = 0;
  __kernel_timespec connect_timeout_{};
};

}  // namespace odp::core
