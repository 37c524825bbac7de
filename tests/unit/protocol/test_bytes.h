#pragma once
// Helpers for protocol tests: hex literals to bytes, and the "every truncation fails" check.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace odp::protocol::test {

inline std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>((hi << 4) | v));
      hi = -1;
    }
  }
  return out;
}

inline std::vector<uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

inline std::span<const uint8_t> prefix(const std::vector<uint8_t>& v, size_t n) {
  return {v.data(), n};
}

}  // namespace odp::protocol::test
