#include "core/buffer_ring.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace odp::core {

BufferRing::~BufferRing() {
  reset();
}

void BufferRing::reset() {
  if (br_ != nullptr) {
    if (ring_->ring_fd >= 0) io_uring_unregister_buf_ring(ring_, group_id_);
    munmap(br_, ring_bytes_);
    br_ = nullptr;
  }
  if (arena_ != nullptr) munmap(arena_, arena_bytes_);
  arena_ = nullptr;
}

Status<std::string> BufferRing::init(io_uring* ring, uint16_t group_id, uint32_t count, uint32_t buffer_bytes,
                                     uint32_t max_held) {
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768)
    return Err(std::string("buffer count must be a power of two <= 32768"));
  ring_ = ring;
  group_id_ = group_id;
  count_ = count;
  max_held_ = max_held == 0 ? count / 2 : std::min(max_held, count);
  buffer_bytes_ = buffer_bytes;
  ring_bytes_ = sizeof(io_uring_buf) * count;
  void* mem = mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return Err(std::string("mmap buffer ring: ") + strerror(errno));
  br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = group_id;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc < 0) {
    munmap(br_, ring_bytes_);
    br_ = nullptr;
    return Err(std::string("io_uring_register_buf_ring: ") + strerror(-rc) + " (kernel 5.19+ needed)");
  }
  // The arena is touched lazily by the kernel: pages are only resident once used.
  arena_bytes_ = static_cast<size_t>(count) * buffer_bytes;
  mem = mmap(nullptr, arena_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return Err(std::string("mmap buffer arena: ") + strerror(errno));
  arena_ = static_cast<uint8_t*>(mem);
  mask_ = io_uring_buf_ring_mask(count);
  for (uint32_t i = 0; i < count; ++i) {
    io_uring_buf_ring_add(br_, arena_ + static_cast<size_t>(i) * buffer_bytes, buffer_bytes, static_cast<uint16_t>(i),
                          mask_, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br_, static_cast<int>(count));
  available_ = count;
  return Ok{};
}

void BufferRing::recycle(uint16_t buffer_id) {
  io_uring_buf_ring_add(br_, arena_ + static_cast<size_t>(buffer_id) * buffer_bytes_, buffer_bytes_, buffer_id, mask_,
                        0);
  io_uring_buf_ring_advance(br_, 1);
  ++available_;
}

}  // namespace odp::core
