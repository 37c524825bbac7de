#pragma once
// A byte-stream connection as the layers above see it. core::TcpStream implements it over
// io_uring; tests implement it with a fake that injects partial reads, short writes, resets and
// corruption from a seed, so session code runs unchanged against both.
#include <cstddef>
#include <cstdint>
#include <span>

namespace odp::core {

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Bytes arrived. The span is valid only during the call.
  virtual void on_stream_data(std::span<const uint8_t> data) = 0;
  // The peer closed (err 0) or the connection failed (errno value). Reads have stopped; the
  // owner should close() the stream.
  virtual void on_stream_closed(int err) = 0;
  // A connect finished: err 0 on success, else an errno value (ETIMEDOUT on timeout).
  virtual void on_stream_connected(int /*err*/) {}
  // Output fell back below the low watermark after having reached the high one.
  virtual void on_stream_writable() {}
  // Splice (see Conn::request_splice): no receive is in flight any more; answer with splice_to().
  virtual void on_stream_splice_ready() {}
  // Splice: all the bytes asked for left this connection's socket (they are queued on the
  // destination, in order). Reads resume if they are wanted.
  virtual void on_stream_spliced(uint64_t /*bytes*/) {}
};

class Conn {
 public:
  virtual ~Conn() = default;
  virtual void set_handler(StreamHandler* handler) = 0;
  // Queues bytes for sending.
  virtual void write(std::span<const uint8_t> bytes) = 0;
  virtual size_t pending_output() const = 0;
  virtual bool above_high_watermark() const = 0;
  virtual void start_reading() = 0;
  virtual void stop_reading() = 0;
  // flush: send what is queued first. After close the handler hears nothing more and the
  // object belongs to its implementation (freed when the kernel is done with it).
  virtual void close(bool flush) = 0;

  // Zero-copy forwarding between two connections of the same worker. Inside on_stream_data the
  // receiver may keep the receive buffer the bytes live in (hold_current_buffer) and have another
  // connection send straight from it (write_held), which returns the buffer to the kernel when
  // the send completes. Either step may refuse (false): the caller then copies with write() and,
  // if it holds a buffer, gives it back with release_held(). Implementations without buffers
  // (tests' fakes) keep these defaults.
  virtual bool hold_current_buffer(uint16_t& /*buffer_id*/) { return false; }
  virtual bool write_held(std::span<const uint8_t> /*bytes*/, uint16_t /*buffer_id*/) { return false; }
  virtual void release_held(uint16_t /*buffer_id*/) {}

  // Splice: bytes the receiver does not need to look at (the rest of a large row) move from this
  // socket to dst's through a pipe and never enter user space. request_splice() stops reads;
  // when no receive is in flight any more the handler hears on_stream_splice_ready() (bytes that
  // were already on their way arrive as data first). splice_to() then moves exactly `bytes`, or,
  // with 0 bytes or when no pipe is to be had, resumes reads and returns false. A failure on the
  // way reaches the handler as on_stream_closed. Implementations without sockets refuse.
  virtual bool can_splice_to(const Conn& /*dst*/) const { return false; }
  virtual void request_splice() {}
  virtual bool splice_to(Conn& /*dst*/, uint64_t /*bytes*/) { return false; }
};

}  // namespace odp::core
