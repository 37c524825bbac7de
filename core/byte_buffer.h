#pragma once
// A growable byte queue: append at the back, consume from the front. Memory is released when
// the queue empties after having grown large, so an idle connection keeps (almost) nothing.
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace odp::core {

class ByteBuffer {
 public:
  static constexpr size_t kKeepCapacityBytes = 16 * 1024;

  std::span<const uint8_t> data() const { return {buf_.data() + head_, buf_.size() - head_}; }
  std::span<uint8_t> mutable_data() { return {buf_.data() + head_, buf_.size() - head_}; }
  size_t size() const { return buf_.size() - head_; }
  bool empty() const { return size() == 0; }

  void append(std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;
    if (head_ > 0 && head_ == buf_.size()) clear();
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }
  void append(const void* p, size_t n) { append({static_cast<const uint8_t*>(p), n}); }
  // Direct access for encoders that append to a std::vector<uint8_t>.
  std::vector<uint8_t>& tail_vector() {
    compact();
    return buf_;
  }

  void consume(size_t n) {
    head_ += n;
    if (head_ >= buf_.size()) clear();
  }
  void clear() {
    buf_.clear();
    head_ = 0;
    if (buf_.capacity() > kKeepCapacityBytes) std::vector<uint8_t>().swap(buf_);
  }
  // Releases all memory (an idle connection's buffers).
  void release() {
    std::vector<uint8_t>().swap(buf_);
    head_ = 0;
  }
  void swap(ByteBuffer& other) noexcept {
    buf_.swap(other.buf_);
    std::swap(head_, other.head_);
  }

 private:
  void compact() {
    if (head_ == 0) return;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  std::vector<uint8_t> buf_;
  size_t head_ = 0;
};

}  // namespace odp::core
