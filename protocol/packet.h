#pragma once
// MySQL packet framing: a 3-byte little-endian payload length and a 1-byte sequence id, with
// logical payloads of 0xFFFFFF bytes or more split into 0xFFFFFF-byte chunks.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/constants.h"
#include "protocol/wire.h"

namespace odp::protocol {

struct PacketHeader {
  uint32_t length;  // payload bytes of this physical packet, 0..0xFFFFFF
  uint8_t seq;
};

// Reads a header from exactly kPacketHeaderBytes bytes; the caller guarantees they exist.
PacketHeader decode_header(const uint8_t* four_bytes);
void encode_header(PacketHeader h, std::vector<uint8_t>& out);

// Appends `payload` framed as one logical packet starting at sequence `seq`. A payload of
// 0xFFFFFF bytes or more is split into 0xFFFFFF-byte chunks, plus an empty trailing packet when
// the length is an exact multiple of 0xFFFFFF (so the reader knows the packet ended).
// Returns the sequence number for the next packet (wrapping at 256).
uint8_t encode_packet(uint8_t seq, std::span<const uint8_t> payload, std::vector<uint8_t>& out);

// Push parser that reassembles logical packets from a byte stream.
//
// feed() consumes bytes until one logical packet is complete and then stops consuming: while
// has_packet() is true it consumes nothing. The caller reads payload()/seq(), calls pop(), and feeds
// the unconsumed remainder again. Memory is bounded by max_payload_bytes: a logical packet whose
// length (as far as the headers show) exceeds the bound is rejected as soon as its header arrives.
// Any error is final: the stream is out of sync and the connection must be closed.
class PacketAssembler {
 public:
  explicit PacketAssembler(uint64_t max_payload_bytes);

  // Returns how many bytes of `in` were consumed, or an error.
  Result<size_t, DecodeError> feed(std::span<const uint8_t> in);

  bool has_packet() const { return complete_; }
  std::span<const uint8_t> payload() const { return payload_; }
  uint8_t seq() const { return first_seq_; }      // sequence id of the first chunk
  uint8_t last_seq() const { return last_seq_; }  // sequence id of the last chunk
  size_t chunks() const { return chunks_; }       // physical packets in this logical packet
  void pop();

  // True when some bytes of an incomplete packet are buffered.
  bool mid_packet() const { return header_have_ > 0 || in_packet_; }
  uint64_t max_payload_bytes() const { return max_payload_bytes_; }

 private:
  uint64_t max_payload_bytes_;
  std::vector<uint8_t> payload_;
  uint8_t header_[kPacketHeaderBytes] = {};
  size_t header_have_ = 0;
  size_t chunk_left_ = 0;    // payload bytes of the current chunk still to come
  bool in_chunk_ = false;    // a header was read and its payload is being copied
  bool in_packet_ = false;   // at least one chunk of the logical packet was seen
  bool last_chunk_ = false;  // the current chunk is shorter than 0xFFFFFF
  bool complete_ = false;
  bool failed_ = false;
  const char* failure_ = nullptr;
  uint8_t first_seq_ = 0;
  uint8_t last_seq_ = 0;
  size_t chunks_ = 0;
};

}  // namespace odp::protocol
