#include "protocol/ob20.h"

#include <algorithm>

#include "protocol/compress.h"
#include "protocol/constants.h"
#include "protocol/crc.h"

namespace odp::protocol {
namespace {

constexpr size_t kObHeaderBytes = kOb20HeaderBytes - kCompressedHeaderBytes;  // 24
constexpr size_t kHeaderChecksumOffset = 29;
constexpr size_t kRetainedPendingBytes = 64 * 1024;

DecodeError bad(const char* what) {
  return DecodeError{what};
}

}  // namespace

void encode_ob20_frame(Ob20Header h, std::span<const uint8_t> extra_info, std::span<const uint8_t> mysql_bytes,
                       bool with_checksum, std::vector<uint8_t>& out) {
  if (!extra_info.empty()) h.flags |= ob20flag::EXTRA_INFO;
  const size_t extra_block = (h.flags & ob20flag::EXTRA_INFO) ? 4 + extra_info.size() : 0;
  h.payload_len = static_cast<uint32_t>(extra_block + mysql_bytes.size());
  const size_t start = out.size();
  put_u24(out, static_cast<uint32_t>(kObHeaderBytes + h.payload_len + kOb20TailBytes));
  put_u8(out, h.comp_seq);
  put_u24(out, 0);
  put_u16(out, kOb20Magic);
  put_u16(out, kOb20Version);
  put_u32(out, h.connection_id);
  put_u24(out, h.request_id & kOb20MaxRequestId);
  put_u8(out, h.packet_seq);
  put_u32(out, h.payload_len);
  put_u32(out, h.flags);
  put_u16(out, 0);
  // Without checksums both read 0, "skip the check" (as the server writes them with checksums off).
  put_u16(out, with_checksum ? crc16_arc(std::span<const uint8_t>(out.data() + start, kHeaderChecksumOffset)) : 0);
  const size_t payload_start = out.size();
  if (extra_block) {
    put_u32(out, static_cast<uint32_t>(extra_info.size()));
    put_bytes(out, extra_info);
  }
  put_bytes(out, mysql_bytes);
  const uint32_t crc =
      with_checksum ? crc32c_update(0, std::span<const uint8_t>(out.data() + payload_start, h.payload_len)) : 0;
  put_u32(out, crc);
}

size_t ob20_frame_size(std::span<const uint8_t> data) {
  if (data.size() < kCompressedHeaderBytes) return 0;
  Reader r(data);
  uint32_t len = 0;
  (void)r.u24(len);
  return kCompressedHeaderBytes + len;
}

Result<Ob20Frame, DecodeError> decode_ob20_frame(std::span<const uint8_t> frame) {
  Reader r(frame);
  Ob20Frame f;
  Ob20Header& h = f.header;
  uint32_t comp_len = 0, plain_len = 0, request_id = 0;
  uint16_t magic = 0, version = 0, reserved = 0, header_crc = 0;
  if (!r.u24(comp_len) || !r.u8(h.comp_seq) || !r.u24(plain_len) || !r.u16(magic) || !r.u16(version) ||
      !r.u32(h.connection_id) || !r.u24(request_id) || !r.u8(h.packet_seq) || !r.u32(h.payload_len) ||
      !r.u32(h.flags) || !r.u16(reserved) || !r.u16(header_crc)) {
    return Err{bad("ob20: truncated header")};
  }
  h.request_id = request_id;
  if (plain_len != 0) return Err{bad("ob20: compressed OB 2.0 frames are not supported")};
  if (magic != kOb20Magic) return Err{bad("ob20: bad magic")};
  if (version != kOb20Version) return Err{bad("ob20: unsupported version")};
  if (static_cast<uint64_t>(comp_len) != kObHeaderBytes + static_cast<uint64_t>(h.payload_len) + kOb20TailBytes ||
      frame.size() != kCompressedHeaderBytes + comp_len) {
    return Err{bad("ob20: inconsistent lengths")};
  }
  if (header_crc != 0 && header_crc != crc16_arc(frame.first(kHeaderChecksumOffset))) {
    return Err{bad("ob20: header checksum mismatch")};
  }
  std::span<const uint8_t> payload;
  uint32_t payload_crc = 0;
  (void)r.bytes(h.payload_len, payload);
  (void)r.u32(payload_crc);
  if (payload_crc != 0 && payload_crc != crc32c_update(0, payload)) return Err{bad("ob20: payload checksum mismatch")};
  Reader p(payload);
  if (h.flags & ob20flag::EXTRA_INFO) {
    uint32_t n = 0;
    if (!p.u32(n) || !p.bytes(n, f.extra_info)) return Err{bad("ob20: extra info longer than the payload")};
  }
  f.mysql_bytes = p.rest_bytes();
  return f;
}

Result<size_t, DecodeError> Ob20FrameSplitter::next_frame_size(std::span<const uint8_t> rest) const {
  const size_t size = ob20_frame_size(rest);
  if (size == 0) return size_t{0};
  if (size > max_frame_bytes_ + kCompressedHeaderBytes) return Err{bad("ob20: frame larger than max_packet_bytes")};
  if (size < kOb20HeaderBytes + kOb20TailBytes) return Err{bad("ob20: frame shorter than its header")};
  return rest.size() < size ? size_t{0} : size;
}

void Ob20FrameSplitter::keep_rest(std::span<const uint8_t> in, bool buffered, size_t used) {
  if (buffered) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  } else {
    pending_.assign(in.begin() + static_cast<std::ptrdiff_t>(used), in.end());
  }
  if (pending_.empty() && pending_.capacity() > kRetainedPendingBytes) std::vector<uint8_t>().swap(pending_);
}

Err<DecodeError> Ob20FrameSplitter::fail(const char* what) {
  failure_ = what;
  pending_.clear();
  return Err{DecodeError{what}};
}

Result<std::vector<Ob20ExtraInfoItem>, DecodeError> decode_ob20_extra_info(std::span<const uint8_t> extra_info) {
  std::vector<Ob20ExtraInfoItem> items;
  Reader r(extra_info);
  while (!r.empty()) {
    Ob20ExtraInfoItem item;
    uint32_t len = 0;
    if (!r.u16(item.type) || !r.u32(len) || !r.bytes(len, item.value)) {
      return Err{bad("ob20: malformed extra info record")};
    }
    items.push_back(item);
  }
  return items;
}

void encode_ob20_extra_info_item(uint16_t type, std::span<const uint8_t> value, std::vector<uint8_t>& out) {
  put_u16(out, type);
  put_u32(out, static_cast<uint32_t>(value.size()));
  put_bytes(out, value);
}

}  // namespace odp::protocol
