#pragma once
// OceanBase 2.0 protocol framing (see docs OB-PROTOCOL.md): a MySQL compressed header whose
// uncompressed length is 0, a 24-byte OB header, the payload ([u32 length + extra info] when
// flagged, then ordinary MySQL packets) and a 4-byte CRC-32C of the payload. All little-endian.
//   0  u24 length after the 7-byte compressed header (24 + payload + 4)   3 u8 compressed seq
//   4  u24 0                                 7 u16 magic 0x20AB        9 u16 version 20
//   11 u32 connection id                    15 u24 request id          18 u8 packet seq
//   19 u32 payload length                   23 u32 flags               27 u16 reserved
//   29 u16 CRC-16/ARC of bytes 0..28        31 payload                 31+n u32 CRC-32C of payload
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/wire.h"

namespace odp::protocol {

constexpr size_t kOb20HeaderBytes = 31;
constexpr size_t kOb20TailBytes = 4;
constexpr uint16_t kOb20Magic = 0x20AB;
constexpr uint16_t kOb20Version = 20;
constexpr uint32_t kOb20MaxRequestId = 0xFFFFFF;

namespace ob20flag {
constexpr uint32_t EXTRA_INFO = 1u << 0;
constexpr uint32_t LAST_PACKET = 1u << 1;
constexpr uint32_t PROXY_REROUTE = 1u << 2;
constexpr uint32_t NEW_EXTRA_INFO = 1u << 3;
constexpr uint32_t WEAK_READ = 1u << 4;
constexpr uint32_t TXN_FREE_ROUTE = 1u << 5;
constexpr uint32_t PROXY_SWITCH_ROUTE = 1u << 6;
}  // namespace ob20flag

// Extra-info record types of the new format (flag NEW_EXTRA_INFO).
namespace ob20extra {
constexpr uint16_t FEEDBACK_PROXY_INFO = 1001;
constexpr uint16_t TRACE_INFO = 2001;
constexpr uint16_t SESS_INFO = 2002;
constexpr uint16_t FULL_LINK_TRACE = 2003;
constexpr uint16_t SESS_INFO_VERI = 2004;
}  // namespace ob20extra

struct Ob20Header {
  uint8_t comp_seq = 0;
  uint32_t connection_id = 0;
  uint32_t request_id = 0;  // 24 bits
  uint8_t packet_seq = 0;
  uint32_t payload_len = 0;  // set by the encoder
  uint32_t flags = 0;
};

// Appends one frame. A non-empty extra_info is written with its u32 length and sets
// ob20flag::EXTRA_INFO. with_checksum=false writes 0 as both checksums ("unchecked").
void encode_ob20_frame(Ob20Header h, std::span<const uint8_t> extra_info, std::span<const uint8_t> mysql_bytes,
                       bool with_checksum, std::vector<uint8_t>& out);

// One decoded frame; spans view the frame bytes.
struct Ob20Frame {
  Ob20Header header;
  std::span<const uint8_t> extra_info;   // records, without the u32 length
  std::span<const uint8_t> mysql_bytes;  // ordinary MySQL packets (may split packets across frames)
};

// Total size of the frame starting at data[0], or 0 if fewer than 7 bytes are available.
size_t ob20_frame_size(std::span<const uint8_t> data);
// Decodes exactly one whole frame: checks magic, version, lengths, both checksums (a stored 0
// means "not computed" and is accepted) and rejects compressed OB 2.0 (non-zero uncompressed length).
Result<Ob20Frame, DecodeError> decode_ob20_frame(std::span<const uint8_t> frame);

// Cuts a byte stream into whole OB 2.0 frames, keeping a partial one for the next feed. Each whole
// frame is decoded and checked (decode_ob20_frame) and handed to `on_frame`, which may refuse it by
// returning an error text (nullptr: accepted); the frame's spans are valid during the call only.
// Bounded by max_frame_bytes. Errors are final.
class Ob20FrameSplitter {
 public:
  explicit Ob20FrameSplitter(uint64_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  // Consumes all of `in`; returns the number of whole frames it completed.
  template <class OnFrame>
  Result<size_t, DecodeError> feed(std::span<const uint8_t> in, OnFrame&& on_frame);
  size_t buffered_bytes() const { return pending_.size(); }
  // The request id and sequence number the latest whole frame's header gave, read before its
  // checks (a refused frame's too, to answer it).
  uint32_t last_request_id() const { return last_request_id_; }
  uint8_t last_seq() const { return last_seq_; }

 private:
  // The size of the whole frame `rest` starts with; 0 while it is incomplete.
  Result<size_t, DecodeError> next_frame_size(std::span<const uint8_t> rest) const;
  // Keeps what follows the `used` bytes of the stream for the next feed.
  void keep_rest(std::span<const uint8_t> in, bool buffered, size_t used);
  Err<DecodeError> fail(const char* what);

  uint64_t max_frame_bytes_;
  std::vector<uint8_t> pending_;
  const char* failure_ = nullptr;
  uint32_t last_request_id_ = 0;
  uint8_t last_seq_ = 0;
};

template <class OnFrame>
Result<size_t, DecodeError> Ob20FrameSplitter::feed(std::span<const uint8_t> in, OnFrame&& on_frame) {
  if (failure_ != nullptr) return Err{DecodeError{failure_}};
  const bool buffered = !pending_.empty();
  if (buffered) pending_.insert(pending_.end(), in.begin(), in.end());
  const std::span<const uint8_t> data = buffered ? std::span<const uint8_t>(pending_) : in;
  size_t off = 0;
  size_t frames = 0;
  while (true) {
    auto size = next_frame_size(data.subspan(off));
    if (!size) return fail(size.error().what);
    if (*size == 0) break;
    const uint8_t* h = data.data() + off;  // a whole frame: its 31 header bytes are there
    last_request_id_ =
        static_cast<uint32_t>(h[15]) | (static_cast<uint32_t>(h[16]) << 8) | (static_cast<uint32_t>(h[17]) << 16);
    last_seq_ = h[18];
    auto frame = decode_ob20_frame(data.subspan(off, *size));
    if (!frame) return fail(frame.error().what);
    if (const char* refused = on_frame(*frame)) return fail(refused);
    off += *size;
    ++frames;
  }
  keep_rest(in, buffered, off);
  return frames;
}

// New-format extra info: records [u16 type][u32 length][value].
struct Ob20ExtraInfoItem {
  uint16_t type = 0;
  std::span<const uint8_t> value;
};
Result<std::vector<Ob20ExtraInfoItem>, DecodeError> decode_ob20_extra_info(std::span<const uint8_t> extra_info);
void encode_ob20_extra_info_item(uint16_t type, std::span<const uint8_t> value, std::vector<uint8_t>& out);

}  // namespace odp::protocol
