#pragma once
// A connection's output: a FIFO of segments, each either bytes the connection owns (held in a
// fixed-size block), a span of a held receive buffer (zero-copy forwarding), or bytes waiting in
// a pipe (splice). Segments, blocks and the send batches that carry them to the kernel come from
// per-worker pools, so after warm-up queuing and sending a packet allocates nothing, and an idle
// connection holds no output memory at all: everything goes back to the worker's pool.
//
// Blocks never move once handed out, so bytes may be appended to the last block while an earlier
// part of it is being sent: the kernel reads only the range it was given.
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/ring.h"

namespace odp::core {

struct Pipe;
class PipePool;
class BufferRing;

enum class SegmentKind : uint8_t { owned, lent, piped };

struct OutSegment {
  OutSegment* next = nullptr;
  const uint8_t* data = nullptr;  // owned: the block; lent: the receive buffer's bytes
  uint8_t* block = nullptr;       // owned only
  Pipe* pipe = nullptr;           // piped only
  uint32_t size = 0;              // bytes queued in this segment
  uint32_t sent = 0;              // bytes of it the kernel has taken (only the front's is non-zero)
  uint16_t buffer_id = 0;         // lent only
  SegmentKind kind = SegmentKind::owned;
  uint32_t unsent() const { return size - sent; }
};

// What one stream has in the kernel for sending: up to kMaxOps operations linked into one chain
// (submitted together, so the kernel runs them one after the other, in order), each a send or
// sendmsg over a run of in-memory segments, or a poll(POLLOUT) linked to a pipe -> socket splice.
// A short or failed operation breaks the link: the rest complete with -ECANCELED having sent
// nothing, and the stream resumes from the last byte the kernel took.
struct SendOp {
  Completion c;       // the send, sendmsg or splice
  Completion poll_c;  // the poll before a splice
  msghdr msg{};
  uint32_t bytes = 0;  // what the operation was asked to move
  int32_t res = 0;
  uint16_t iov_first = 0;
  uint16_t iov_count = 0;
  Pipe* pipe = nullptr;  // piped operations
  bool completed = false;
};

struct SendBatch {
  static constexpr unsigned kMaxOps = 4;
  static constexpr unsigned kMaxIov = 32;
  SendBatch* next_free = nullptr;
  SendOp ops[kMaxOps];
  iovec iov[kMaxIov];
  uint8_t count = 0;      // operations in the chain
  uint8_t processed = 0;  // operations whose outcome was applied, in order
  bool broken = false;    // an operation fell short: the ones after it were cancelled
  bool in_flight() const {
    for (unsigned i = 0; i < count; ++i) {
      if (ops[i].c.pending || ops[i].poll_c.pending) return true;
    }
    return false;
  }
};

struct OutputPoolOptions {
  uint32_t block_bytes = 16384;
  // Blocks kept for reuse after a burst; more than that go back to the allocator.
  uint32_t max_idle_blocks = 256;
};

class OutputPool {
 public:
  explicit OutputPool(const OutputPoolOptions& options = {});
  OutputPool(const OutputPool&) = delete;
  OutputPool& operator=(const OutputPool&) = delete;
  ~OutputPool();
  // Before first use only.
  void configure(const OutputPoolOptions& options);

  uint32_t block_bytes() const { return block_bytes_; }
  OutSegment* get_segment();
  void put_segment(OutSegment* s);
  uint8_t* get_block();
  void put_block(uint8_t* b);
  SendBatch* get_batch();
  // A returned batch is reused only after the ring's next submission: a cancellation aimed at
  // one of its completions may still sit unsubmitted in the SQ, and must not find another
  // stream's send at the same address.
  void put_batch(SendBatch* b);
  // The ring submitted what was queued: batches returned before now may be reused.
  void submitted() {
    if (cooling_tail_ == nullptr) return;
    cooling_tail_->next_free = free_batches_;
    free_batches_ = cooling_head_;
    cooling_head_ = cooling_tail_ = nullptr;
  }

  // For tests and metrics.
  uint64_t blocks_allocated() const { return blocks_allocated_; }
  uint32_t idle_blocks() const { return idle_blocks_; }
  uint32_t blocks_in_use() const { return blocks_in_use_; }
  uint32_t segments_in_use() const { return segments_in_use_; }
  uint32_t batches_in_use() const { return batches_in_use_; }

 private:
  static constexpr size_t kSlab = 256;
  uint32_t block_bytes_;
  uint32_t max_idle_blocks_;
  OutSegment* free_segments_ = nullptr;
  uint8_t* free_blocks_ = nullptr;  // intrusive: each idle block starts with the next one's address
  SendBatch* free_batches_ = nullptr;
  SendBatch* cooling_head_ = nullptr;
  SendBatch* cooling_tail_ = nullptr;
  uint32_t idle_blocks_ = 0;
  uint32_t blocks_in_use_ = 0;
  uint32_t segments_in_use_ = 0;
  uint32_t batches_in_use_ = 0;
  uint64_t blocks_allocated_ = 0;
  std::vector<std::unique_ptr<OutSegment[]>> segment_slabs_;
  std::vector<std::unique_ptr<SendBatch>> batches_;
};

// The FIFO itself; the stream owns one and hands it the pools it needs.
class OutputQueue {
 public:
  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  bool empty() const { return head_ == nullptr; }
  OutSegment* front() const { return head_; }
  OutSegment* back() const { return tail_; }
  // Bytes queued and not yet taken by the kernel.
  size_t bytes() const { return bytes_; }

  void append_owned(OutputPool& pool, std::span<const uint8_t> bytes);
  void append_lent(OutputPool& pool, std::span<const uint8_t> bytes, uint16_t buffer_id);
  // Extends the last segment when it is this pipe's, else queues a new one holding a reference.
  void append_piped(OutputPool& pool, PipePool& pipes, Pipe* pipe, uint32_t bytes);
  // The kernel took n bytes from the front: fully sent segments are given back.
  void advance(OutputPool& pool, BufferRing& buffers, PipePool& pipes, size_t n);
  // Gives every segment back (the bytes are abandoned). The caller makes sure that nothing of
  // them is still in the kernel.
  void clear(OutputPool& pool, BufferRing& buffers, PipePool& pipes);
  // At teardown, after the ring, buffers and pipes are gone: forget the segments' resources.
  void forget(OutputPool& pool);

 private:
  void push(OutSegment* s);
  void pop_front(OutputPool& pool, BufferRing& buffers, PipePool& pipes);
  OutSegment* head_ = nullptr;
  OutSegment* tail_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace odp::core
