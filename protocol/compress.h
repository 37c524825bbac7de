#pragma once
// The MySQL compressed protocol: frames of
//   [u24 compressed length][u8 compressed sequence][u24 uncompressed length (0 = stored raw)]
// followed by zlib data (or raw bytes), each carrying at most 0xFFFFFF bytes of the plain stream.
// The plain stream inside is ordinary MySQL packets; frame and packet boundaries are independent.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/wire.h"

namespace odp::protocol {

constexpr size_t kCompressedHeaderBytes = 7;
// Below this many bytes a frame is sent raw (uncompressed length 0), as MySQL does.
constexpr size_t kMinCompressBytes = 50;

// Appends `data` as compressed frames starting at sequence comp_seq; returns the next sequence.
// level 1..9: zlib level; a frame whose compressed form is not smaller, or shorter than
// kMinCompressBytes, goes raw. level 0: every frame is zlib-wrapped with stored blocks so its
// Adler-32 trailer acts as a checksum (OceanBase's "checksum" protocol). Empty data writes nothing.
uint8_t encode_compressed(uint8_t comp_seq, std::span<const uint8_t> data, std::vector<uint8_t>& out, int level = 6);

// One decoded frame: its compressed sequence id and how many plain bytes it carried.
struct CompressedFrame {
  uint8_t seq;
  uint32_t plain_bytes;
};

// Push decoder: feed() takes any number of bytes, decodes every complete frame into out_plain and
// keeps the bytes of an incomplete frame internally. Bounded: a frame whose compressed or declared
// uncompressed length exceeds max_frame_bytes is rejected as soon as its header arrives. Corrupt zlib
// data, or data that does not inflate to exactly the declared length, is rejected. Errors are final.
class CompressedDecoder {
 public:
  explicit CompressedDecoder(uint64_t max_frame_bytes);

  // Consumes all of `in`; returns the number of plain bytes appended to out_plain. With `frames`,
  // appends one entry per frame decoded, in order.
  Result<size_t, DecodeError> feed(std::span<const uint8_t> in, std::vector<uint8_t>& out_plain,
                                   std::vector<CompressedFrame>* frames = nullptr);

  uint8_t last_seq() const { return last_seq_; }  // of the last complete frame
  uint64_t frames_decoded() const { return frames_decoded_; }
  size_t buffered_bytes() const { return pending_.size(); }  // partial frame bytes held

 private:
  // Decodes complete frames from `data`; returns bytes of `data` consumed or an error.
  Result<size_t, DecodeError> decode_frames(std::span<const uint8_t> data, std::vector<uint8_t>& out, size_t& produced,
                                            std::vector<CompressedFrame>* frames);

  uint64_t max_frame_bytes_;
  std::vector<uint8_t> pending_;
  uint8_t last_seq_ = 0;
  uint64_t frames_decoded_ = 0;
  const char* failure_ = nullptr;
};

// Rewrites the sequence ids of a MySQL packet stream, read in pieces of any size, so that every
// logical packet starts at 0 and the chunks of a split one (0xFFFFFF-byte chunks and the chunk
// that ends it) count on: 0, 1, 2, ... Inside compressed frames clients number their packets as
// they please, and MariaDB never checks those ids (Connector/J sends its first command after the
// login with id 1, and numbers the chunks of a 16 MiB packet 1, 3); a server reading the plain
// protocol wants every command to start at 0 and count on. Only the id byte of each header changes.
class PacketSeqRewriter {
 public:
  // Rewrites the headers in `bytes`, the next piece of the stream.
  void rewrite(std::span<uint8_t> bytes);
  // True between logical packets.
  bool at_boundary() const { return header_have_ == 0 && payload_left_ == 0 && next_seq_ == 0; }

 private:
  uint8_t length_bytes_[3] = {};
  size_t header_have_ = 0;     // header bytes of the current chunk seen, 0..3
  uint32_t payload_left_ = 0;  // payload bytes of the current chunk still to come
  uint8_t next_seq_ = 0;       // the id the next chunk gets
};

}  // namespace odp::protocol
