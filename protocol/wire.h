#pragma once
// Bounds-checked little-endian reading and appending of MySQL wire primitives.
// Every Reader method either consumes exactly what it reports or, on failure, consumes nothing and
// returns false: a decoder can never read past the end of its span.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace odp::protocol {

// A malformed or truncated message. `what` is a static string saying what was wrong.
struct DecodeError {
  const char* what;
};

class Reader {
 public:
  Reader() = default;
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  Reader(const uint8_t* data, size_t len) : data_(data, len) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  const uint8_t* cursor() const { return data_.data() + pos_; }

  bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) { return uint_le(2, v); }
  bool u24(uint32_t& v) { return uint_le(3, v); }
  bool u32(uint32_t& v) { return uint_le(4, v); }
  bool u48(uint64_t& v) { return uint_le(6, v); }
  bool u64(uint64_t& v) { return uint_le(8, v); }

  // Peeks at the next byte without consuming it.
  bool peek(uint8_t& v) const {
    if (remaining() < 1) return false;
    v = data_[pos_];
    return true;
  }

  // Length-encoded integer. 0xFB (NULL marker) and 0xFF (never valid here) fail; callers that must
  // distinguish NULL check the first byte with peek() before calling this.
  bool lenenc_int(uint64_t& v) {
    uint8_t first = 0;
    if (!peek(first)) return false;
    if (first < 0xFB) {
      v = first;
      ++pos_;
      return true;
    }
    size_t width = 0;
    if (first == 0xFC) {
      width = 2;
    } else if (first == 0xFD) {
      width = 3;
    } else if (first == 0xFE) {
      width = 8;
    } else {
      return false;
    }
    if (remaining() < 1 + width) return false;
    ++pos_;
    uint64_t out = 0;
    uint_le(width, out);
    v = out;
    return true;
  }

  bool lenenc_str(std::string_view& s) {
    const size_t start = pos_;
    uint64_t n = 0;
    if (!lenenc_int(n)) return false;
    if (n > remaining()) {
      pos_ = start;
      return false;
    }
    return fixed_str(static_cast<size_t>(n), s);
  }

  // NUL-terminated string; the terminator is consumed but not included.
  bool null_str(std::string_view& s) {
    const void* nul = remaining() ? std::memchr(data_.data() + pos_, 0, remaining()) : nullptr;
    if (nul == nullptr) return false;
    const size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nul) - (data_.data() + pos_));
    s = std::string_view(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n + 1;
    return true;
  }

  bool fixed_str(size_t n, std::string_view& s) {
    if (n > remaining()) return false;
    s = std::string_view(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return true;
  }

  bool bytes(size_t n, std::span<const uint8_t>& b) {
    if (n > remaining()) return false;
    b = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

  // Everything left (string<EOF>); consumes it.
  std::string_view rest() {
    std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), remaining());
    pos_ = data_.size();
    return s;
  }
  std::span<const uint8_t> rest_bytes() {
    auto b = data_.subspan(pos_);
    pos_ = data_.size();
    return b;
  }

  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }

 private:
  template <typename T>
  bool uint_le(size_t width, T& v) {
    if (remaining() < width) return false;
    T out = 0;
    for (size_t i = 0; i < width; ++i) out |= static_cast<T>(data_[pos_ + i]) << (8 * i);
    pos_ += width;
    v = out;
    return true;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Appenders. All integers little-endian.
inline void put_u8(std::vector<uint8_t>& out, uint8_t v) {
  out.push_back(v);
}
inline void put_uint_le(std::vector<uint8_t>& out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  put_uint_le(out, v, 2);
}
inline void put_u24(std::vector<uint8_t>& out, uint32_t v) {
  put_uint_le(out, v, 3);
}
inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  put_uint_le(out, v, 4);
}
inline void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  put_uint_le(out, v, 8);
}

inline size_t lenenc_int_size(uint64_t v) {
  if (v < 0xFB) return 1;
  if (v <= 0xFFFF) return 3;
  if (v <= 0xFFFFFF) return 4;
  return 9;
}
inline void put_lenenc_int(std::vector<uint8_t>& out, uint64_t v) {
  if (v < 0xFB) {
    out.push_back(static_cast<uint8_t>(v));
  } else if (v <= 0xFFFF) {
    out.push_back(0xFC);
    put_uint_le(out, v, 2);
  } else if (v <= 0xFFFFFF) {
    out.push_back(0xFD);
    put_uint_le(out, v, 3);
  } else {
    out.push_back(0xFE);
    put_uint_le(out, v, 8);
  }
}
inline void put_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}
inline void put_bytes(std::vector<uint8_t>& out, std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  out.insert(out.end(), p, p + s.size());
}
inline void put_lenenc_str(std::vector<uint8_t>& out, std::string_view s) {
  put_lenenc_int(out, s.size());
  put_bytes(out, s);
}
// Writes s and a NUL terminator. s must not itself contain NUL (the reader would stop there).
inline void put_null_str(std::vector<uint8_t>& out, std::string_view s) {
  put_bytes(out, s);
  out.push_back(0);
}
inline void put_zeros(std::vector<uint8_t>& out, size_t n) {
  out.insert(out.end(), n, uint8_t{0});
}

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace odp::protocol
