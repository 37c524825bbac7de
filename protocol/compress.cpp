#include "protocol/compress.h"

#include <zlib.h>

#include <algorithm>

#include "base/assert.h"
#include "protocol/constants.h"

namespace odp::protocol {
namespace {

constexpr size_t kRetainedPendingBytes = 64 * 1024;

void put_frame_header(std::vector<uint8_t>& out, size_t comp_len, uint8_t seq, size_t plain_len) {
  put_u24(out, static_cast<uint32_t>(comp_len));
  put_u8(out, seq);
  put_u24(out, static_cast<uint32_t>(plain_len));
}

void put_raw_frame(std::vector<uint8_t>& out, uint8_t seq, std::span<const uint8_t> chunk) {
  put_frame_header(out, chunk.size(), seq, 0);
  put_bytes(out, chunk);
}

}  // namespace

uint8_t encode_compressed(uint8_t comp_seq, std::span<const uint8_t> data, std::vector<uint8_t>& out, int level) {
  level = std::clamp(level, 0, 9);
  std::vector<uint8_t> zbuf;
  size_t off = 0;
  while (off < data.size()) {
    const auto chunk = data.subspan(off, std::min<size_t>(data.size() - off, kMaxPacketChunk));
    off += chunk.size();
    const bool try_zlib = level == 0 || chunk.size() >= kMinCompressBytes;
    bool wrote = false;
    if (try_zlib) {
      uLongf zlen = compressBound(static_cast<uLong>(chunk.size()));
      zbuf.resize(zlen);
      const int rc = compress2(zbuf.data(), &zlen, chunk.data(), static_cast<uLong>(chunk.size()), level);
      ODP_ASSERT(rc == Z_OK);
      // A stored-block zlib stream of a 0xFFFFFF chunk is larger than a frame can say; go raw then.
      if (zlen <= kMaxPacketChunk && (level == 0 || zlen < chunk.size())) {
        put_frame_header(out, zlen, comp_seq, chunk.size());
        put_bytes(out, std::span<const uint8_t>(zbuf.data(), zlen));
        wrote = true;
      }
    }
    if (!wrote) put_raw_frame(out, comp_seq, chunk);
    comp_seq = static_cast<uint8_t>(comp_seq + 1);
  }
  return comp_seq;
}

CompressedDecoder::CompressedDecoder(uint64_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

Result<size_t, DecodeError> CompressedDecoder::decode_frames(std::span<const uint8_t> data, std::vector<uint8_t>& out,
                                                             size_t& produced, std::vector<CompressedFrame>* frames) {
  size_t off = 0;
  while (data.size() - off >= kCompressedHeaderBytes) {
    Reader r(data.subspan(off));
    uint32_t comp_len = 0, plain_len = 0;
    uint8_t seq = 0;
    (void)r.u24(comp_len);
    (void)r.u8(seq);
    (void)r.u24(plain_len);
    if (comp_len > max_frame_bytes_ || plain_len > max_frame_bytes_) {
      return Err{DecodeError{"compressed frame larger than max_packet_bytes"}};
    }
    if (r.remaining() < comp_len) break;
    const auto body = data.subspan(off + kCompressedHeaderBytes, comp_len);
    if (plain_len == 0) {
      put_bytes(out, body);
      produced += body.size();
    } else {
      const size_t at = out.size();
      out.resize(at + plain_len);
      uLongf got = plain_len;
      const int rc = uncompress(out.data() + at, &got, body.data(), static_cast<uLong>(body.size()));
      if (rc != Z_OK || got != plain_len) {
        out.resize(at);
        return Err{DecodeError{"compressed frame: corrupt zlib data or wrong uncompressed length"}};
      }
      produced += plain_len;
    }
    last_seq_ = seq;
    ++frames_decoded_;
    if (frames != nullptr) frames->push_back({seq, plain_len == 0 ? comp_len : plain_len});
    off += kCompressedHeaderBytes + comp_len;
  }
  // A partial header can already show an oversize frame.
  return off;
}

Result<size_t, DecodeError> CompressedDecoder::feed(std::span<const uint8_t> in, std::vector<uint8_t>& out_plain,
                                                    std::vector<CompressedFrame>* frames) {
  if (failure_ != nullptr) return Err{DecodeError{failure_}};
  size_t produced = 0;
  std::span<const uint8_t> data = in;
  if (!pending_.empty()) {
    pending_.insert(pending_.end(), in.begin(), in.end());
    data = pending_;
  }
  auto used = decode_frames(data, out_plain, produced, frames);
  if (!used) {
    failure_ = used.error().what;
    pending_.clear();
    return Err{used.error()};
  }
  if (data.data() == pending_.data() && !pending_.empty()) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(*used));
  } else {
    pending_.assign(in.begin() + static_cast<std::ptrdiff_t>(*used), in.end());
  }
  // Do not pin a large frame's buffer once it is decoded.
  if (pending_.empty() && pending_.capacity() > kRetainedPendingBytes) std::vector<uint8_t>().swap(pending_);
  return produced;
}

void PacketSeqRewriter::rewrite(std::span<uint8_t> bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (payload_left_ > 0) {
      const size_t skip = std::min<size_t>(payload_left_, bytes.size() - pos);
      payload_left_ -= static_cast<uint32_t>(skip);
      pos += skip;
      continue;
    }
    if (header_have_ < 3) {
      length_bytes_[header_have_++] = bytes[pos++];
      continue;
    }
    // The header's last byte: the sequence id.
    bytes[pos++] = next_seq_;
    header_have_ = 0;
    payload_left_ = static_cast<uint32_t>(length_bytes_[0]) | static_cast<uint32_t>(length_bytes_[1]) << 8 |
                    static_cast<uint32_t>(length_bytes_[2]) << 16;
    // A 0xFFFFFF-byte chunk announces another chunk of the same logical packet.
    next_seq_ = payload_left_ == kMaxPacketChunk ? static_cast<uint8_t>(next_seq_ + 1) : 0;
  }
}

}  // namespace odp::protocol
