#include "core/output_queue.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"
#include "core/buffer_ring.h"
#include "core/pipe_pool.h"

namespace odp::core {

OutputPool::OutputPool(const OutputPoolOptions& options)
    : block_bytes_(std::max<uint32_t>(options.block_bytes, 256)), max_idle_blocks_(options.max_idle_blocks) {}

void OutputPool::configure(const OutputPoolOptions& options) {
  ODP_ASSERT(blocks_in_use_ == 0 && idle_blocks_ == 0);
  block_bytes_ = std::max<uint32_t>(options.block_bytes, 256);
  max_idle_blocks_ = options.max_idle_blocks;
}

OutputPool::~OutputPool() {
  while (free_blocks_ != nullptr) {
    uint8_t* b = free_blocks_;
    std::memcpy(&free_blocks_, b, sizeof free_blocks_);
    delete[] b;
  }
}

OutSegment* OutputPool::get_segment() {
  if (free_segments_ == nullptr) {
    // A slab at a time, kept for the worker's life: the number of segments alive is bounded by
    // the connections' output limits, and a slab is small.
    auto& slab = segment_slabs_.emplace_back(std::make_unique<OutSegment[]>(kSlab));
    for (size_t i = 0; i < kSlab; ++i) {
      slab[i].next = free_segments_;
      free_segments_ = &slab[i];
    }
  }
  OutSegment* s = free_segments_;
  free_segments_ = s->next;
  *s = OutSegment{};
  ++segments_in_use_;
  return s;
}

void OutputPool::put_segment(OutSegment* s) {
  --segments_in_use_;
  s->next = free_segments_;
  free_segments_ = s;
}

uint8_t* OutputPool::get_block() {
  ++blocks_in_use_;
  if (free_blocks_ != nullptr) {
    uint8_t* b = free_blocks_;
    std::memcpy(&free_blocks_, b, sizeof free_blocks_);
    --idle_blocks_;
    return b;
  }
  ++blocks_allocated_;
  return new uint8_t[block_bytes_];
}

void OutputPool::put_block(uint8_t* b) {
  --blocks_in_use_;
  if (idle_blocks_ >= max_idle_blocks_) {
    delete[] b;
    return;
  }
  std::memcpy(b, &free_blocks_, sizeof free_blocks_);
  free_blocks_ = b;
  ++idle_blocks_;
}

SendBatch* OutputPool::get_batch() {
  if (free_batches_ == nullptr) {
    free_batches_ = batches_.emplace_back(std::make_unique<SendBatch>()).get();
  }
  SendBatch* b = free_batches_;
  free_batches_ = b->next_free;
  b->next_free = nullptr;
  b->count = 0;
  b->processed = 0;
  b->broken = false;
  ++batches_in_use_;
  return b;
}

void OutputPool::put_batch(SendBatch* b) {
  ODP_ASSERT(!b->in_flight());
  --batches_in_use_;
  b->next_free = cooling_head_;
  cooling_head_ = b;
  if (cooling_tail_ == nullptr) cooling_tail_ = b;
}

void OutputQueue::push(OutSegment* s) {
  if (tail_ == nullptr) {
    head_ = tail_ = s;
  } else {
    tail_->next = s;
    tail_ = s;
  }
}

void OutputQueue::append_owned(OutputPool& pool, std::span<const uint8_t> bytes) {
  bytes_ += bytes.size();
  const uint32_t cap = pool.block_bytes();
  while (!bytes.empty()) {
    OutSegment* s = tail_;
    if (s == nullptr || s->kind != SegmentKind::owned || s->size == cap) {
      s = pool.get_segment();
      s->kind = SegmentKind::owned;
      s->block = pool.get_block();
      s->data = s->block;
      push(s);
    }
    size_t n = std::min<size_t>(cap - s->size, bytes.size());
    std::memcpy(s->block + s->size, bytes.data(), n);
    s->size += static_cast<uint32_t>(n);
    bytes = bytes.subspan(n);
  }
}

void OutputQueue::append_lent(OutputPool& pool, std::span<const uint8_t> bytes, uint16_t buffer_id) {
  OutSegment* s = pool.get_segment();
  s->kind = SegmentKind::lent;
  s->data = bytes.data();
  s->size = static_cast<uint32_t>(bytes.size());
  s->buffer_id = buffer_id;
  push(s);
  bytes_ += bytes.size();
}

void OutputQueue::append_piped(OutputPool& pool, PipePool& pipes, Pipe* pipe, uint32_t bytes) {
  bytes_ += bytes;
  // Extending the tail is safe even while a splice of its earlier bytes is in flight: that
  // splice was given its length, and the pipe hands bytes out in order.
  if (tail_ != nullptr && tail_->kind == SegmentKind::piped && tail_->pipe == pipe) {
    tail_->size += bytes;
    return;
  }
  OutSegment* s = pool.get_segment();
  s->kind = SegmentKind::piped;
  s->pipe = pipe;
  s->size = bytes;
  pipes.add_ref(pipe);
  push(s);
}

void OutputQueue::pop_front(OutputPool& pool, BufferRing& buffers, PipePool& pipes) {
  OutSegment* s = head_;
  head_ = s->next;
  if (head_ == nullptr) tail_ = nullptr;
  switch (s->kind) {
    case SegmentKind::owned:
      pool.put_block(s->block);
      break;
    case SegmentKind::lent:
      buffers.release_hold(s->buffer_id);
      break;
    case SegmentKind::piped:
      pipes.release(s->pipe);
      break;
  }
  pool.put_segment(s);
}

void OutputQueue::advance(OutputPool& pool, BufferRing& buffers, PipePool& pipes, size_t n) {
  ODP_ASSERT(n <= bytes_);
  bytes_ -= n;
  while (n > 0) {
    OutSegment* s = head_;
    ODP_ASSERT(s != nullptr);
    size_t take = std::min<size_t>(n, s->unsent());
    s->sent += static_cast<uint32_t>(take);
    n -= take;
    if (s->sent == s->size) pop_front(pool, buffers, pipes);
  }
}

void OutputQueue::clear(OutputPool& pool, BufferRing& buffers, PipePool& pipes) {
  while (head_ != nullptr) pop_front(pool, buffers, pipes);
  bytes_ = 0;
}

void OutputQueue::forget(OutputPool& pool) {
  while (head_ != nullptr) {
    OutSegment* s = head_;
    head_ = s->next;
    if (s->kind == SegmentKind::owned) pool.put_block(s->block);
    pool.put_segment(s);
  }
  tail_ = nullptr;
  bytes_ = 0;
}

}  // namespace odp::core
