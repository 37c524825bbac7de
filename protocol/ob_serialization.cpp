#include "protocol/ob_serialization.h"

namespace odp::protocol {

bool read_ob_varint(Reader& r, uint64_t& v, int bits) {
  v = 0;
  const int max_groups = (bits + 6) / 7;
  for (int i = 0; i < max_groups; ++i) {
    uint8_t b = 0;
    if (!r.u8(b)) return false;
    const int shift = 7 * i;
    const uint64_t group = b & 0x7F;
    if (shift + 7 > bits && (group >> (bits - shift)) != 0) return false;  // bits beyond `bits`
    v |= group << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;  // still more after the last group
}

void put_ob_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

bool read_ob_vstr(Reader& r, std::span<const uint8_t>& s) {
  uint64_t len = 0;
  uint8_t nul = 1;
  return read_ob_varint(r, len) && len < r.remaining() && r.bytes(static_cast<size_t>(len), s) && r.u8(nul) && nul == 0;
}

void put_ob_vstr(std::vector<uint8_t>& out, std::span<const uint8_t> s) {
  put_ob_varint(out, s.size());
  put_bytes(out, s);
  out.push_back(0);
}

}  // namespace odp::protocol
