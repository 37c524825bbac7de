#pragma once
// A provided-buffer ring for multishot recv, carved from one arena. The kernel picks a buffer per
// completion; the receiver hands it back with recycle() as soon as it has consumed the bytes, so a
// connection holds no buffer while idle. Running out of buffers ends a multishot recv with
// ENOBUFS: backpressure, not an error (the stream parks until buffers come back, see Worker).
//
// The arena is not registered as fixed buffers: nothing reads or sends with a fixed-buffer
// operation (READ_FIXED, send with IORING_RECVSEND_FIXED_BUF), and registering pins every page of
// it (16 MiB per worker by default) for nothing, where unregistered it is resident only once used.
#include <liburing.h>

#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"

namespace odp::core {

class BufferRing {
 public:
  BufferRing() = default;
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;
  ~BufferRing();

  // count must be a power of two. max_held (0: count / 2) bounds hold().
  Status<std::string> init(io_uring* ring, uint16_t group_id, uint32_t count, uint32_t buffer_bytes,
                           uint32_t max_held = 0);

  uint16_t group_id() const { return group_id_; }
  uint32_t buffer_bytes() const { return buffer_bytes_; }
  std::span<const uint8_t> get(uint16_t buffer_id, uint32_t length) const {
    return {arena_ + static_cast<size_t>(buffer_id) * buffer_bytes_, length};
  }
  // Unregisters and unmaps everything (idempotent).
  void reset();
  // The kernel filled a buffer (a completion carried it): it is ours until recycle().
  void taken() { --available_; }
  // Gives a buffer back to the kernel.
  void recycle(uint16_t buffer_id);
  // Buffers the kernel can fill now.
  uint32_t available() const { return available_; }
  uint32_t count() const { return count_; }

  // Buffers kept past their completion for zero-copy sends. Bounded (half the ring by default)
  // so that slow peers cannot starve every other connection's receives.
  bool try_hold() {
    if (held_ >= max_held_) return false;
    ++held_;
    return true;
  }
  void release_hold(uint16_t buffer_id) {
    --held_;
    recycle(buffer_id);
  }
  uint32_t held() const { return held_; }

 private:
  io_uring* ring_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  uint8_t* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  size_t ring_bytes_ = 0;
  uint32_t count_ = 0;
  uint32_t held_ = 0;
  uint32_t max_held_ = 0;
  uint32_t available_ = 0;
  uint32_t buffer_bytes_ = 0;
  uint16_t group_id_ = 0;
  int mask_ = 0;
};

}  // namespace odp::core
