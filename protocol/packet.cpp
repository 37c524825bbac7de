#include "protocol/packet.h"

#include <algorithm>

namespace odp::protocol {

namespace {
constexpr size_t kRetainedPayloadBytes = 64 * 1024;
}  // namespace

PacketHeader decode_header(const uint8_t* four_bytes) {
  const uint32_t len = static_cast<uint32_t>(four_bytes[0]) | (static_cast<uint32_t>(four_bytes[1]) << 8) |
                       (static_cast<uint32_t>(four_bytes[2]) << 16);
  return PacketHeader{len, four_bytes[3]};
}

void encode_header(PacketHeader h, std::vector<uint8_t>& out) {
  put_u24(out, h.length);
  put_u8(out, h.seq);
}

uint8_t encode_packet(uint8_t seq, std::span<const uint8_t> payload, std::vector<uint8_t>& out) {
  out.reserve(out.size() + payload.size() + kPacketHeaderBytes * (payload.size() / kMaxPacketChunk + 1));
  size_t off = 0;
  while (true) {
    const size_t n = std::min<size_t>(payload.size() - off, kMaxPacketChunk);
    encode_header(PacketHeader{static_cast<uint32_t>(n), seq}, out);
    put_bytes(out, payload.subspan(off, n));
    seq = static_cast<uint8_t>(seq + 1);
    off += n;
    if (n < kMaxPacketChunk) break;  // a short (possibly empty) chunk ends the logical packet
  }
  return seq;
}

PacketAssembler::PacketAssembler(uint64_t max_payload_bytes) : max_payload_bytes_(max_payload_bytes) {}

void PacketAssembler::pop() {
  // Keep a small buffer for the next packet; give a large one back so an idle connection that once
  // carried a big packet does not pin its memory.
  if (payload_.capacity() > kRetainedPayloadBytes) {
    std::vector<uint8_t>().swap(payload_);
  } else {
    payload_.clear();
  }
  complete_ = false;
  in_packet_ = false;
  in_chunk_ = false;
  chunks_ = 0;
}

Result<size_t, DecodeError> PacketAssembler::feed(std::span<const uint8_t> in) {
  if (failed_) return Err{DecodeError{failure_}};
  size_t used = 0;
  while (!complete_ && used < in.size()) {
    if (!in_chunk_) {
      const size_t take = std::min(kPacketHeaderBytes - header_have_, in.size() - used);
      std::copy_n(in.data() + used, take, header_ + header_have_);
      header_have_ += take;
      used += take;
      if (header_have_ < kPacketHeaderBytes) break;
      header_have_ = 0;
      const PacketHeader h = decode_header(header_);
      if (!in_packet_) {
        first_seq_ = h.seq;
      } else if (h.seq != static_cast<uint8_t>(last_seq_ + 1)) {
        failed_ = true;
        failure_ = "packet sequence out of order within a split packet";
        return Err{DecodeError{failure_}};
      }
      last_seq_ = h.seq;
      if (static_cast<uint64_t>(payload_.size()) + h.length > max_payload_bytes_) {
        failed_ = true;
        failure_ = "packet larger than max_packet_bytes";
        return Err{DecodeError{failure_}};
      }
      in_packet_ = true;
      in_chunk_ = true;
      ++chunks_;
      chunk_left_ = h.length;
      last_chunk_ = h.length < kMaxPacketChunk;
    }
    const size_t take = std::min(chunk_left_, in.size() - used);
    payload_.insert(payload_.end(), in.data() + used, in.data() + used + take);
    used += take;
    chunk_left_ -= take;
    if (chunk_left_ == 0) {
      in_chunk_ = false;
      if (last_chunk_) complete_ = true;
    }
  }
  return used;
}

}  // namespace odp::protocol
