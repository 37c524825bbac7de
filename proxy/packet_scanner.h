#pragma once
// Walks a MySQL packet stream as it arrives in arbitrary chunks, without buffering payloads: it
// finds packet boundaries, captures only the leading bytes the consumer asks for, and tells the
// caller how many bytes of the chunk belong to packets it has seen, so that those bytes can be
// forwarded verbatim. Used for server responses (with ResponseTracker) and for streamed client
// requests (large commands, LOAD DATA LOCAL file contents).
#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "protocol/constants.h"
#include "protocol/packet.h"

namespace odp::proxy {

struct ScannedPacket {
  std::span<const uint8_t> head;  // the captured leading payload bytes
  uint32_t payload_len;
  uint8_t seq;
  bool continuation;  // follows a 0xFFFFFF-byte packet: part of the same logical packet
};

class PacketScanner {
 public:
  // Consumer: size_t capture_bytes(uint8_t first_byte, uint32_t payload_len, bool continuation)
  //           bool on_packet(const ScannedPacket&)   -> true to stop right after this packet
  // Returns how many bytes of `data` were consumed (all of them unless the consumer stopped).
  // With writable bytes and renumbering on, each header's sequence id is rewritten on the way.
  template <typename Byte, typename Consumer>
  size_t scan(std::span<Byte> data, Consumer& consumer) {
    size_t pos = 0;
    while (pos < data.size()) {
      if (header_have_ < protocol::kPacketHeaderBytes) {
        size_t take = std::min(protocol::kPacketHeaderBytes - header_have_, data.size() - pos);
        for (size_t i = 0; i < take; ++i) header_[header_have_ + i] = data[pos + i];
        if (header_have_ == 0) packet_bytes_seen_ = 0;
        header_have_ += take;
        packet_bytes_seen_ += take;
        pos += take;
        if (header_have_ < protocol::kPacketHeaderBytes) break;
        if constexpr (!std::is_const_v<Byte>) {
          // The sequence byte is the header's last, so it lies in this chunk at pos - 1.
          if (renumber_) header_[3] = data[pos - 1] = next_seq_++;
        }
        auto h = protocol::decode_header(header_);
        payload_len_ = h.length;
        seq_ = h.seq;
        payload_left_ = h.length;
        continuation_ = prev_was_max_;
        prev_was_max_ = h.length == protocol::kMaxPacketChunk;
        capture_.clear();
        capture_want_ = 0;
        first_seen_ = false;
        if (payload_left_ == 0) {
          if (finish(consumer)) return pos;
          continue;
        }
      }
      // The chunk may end right after a header: the payload's first byte comes with the next one.
      if (pos == data.size()) break;
      if (!first_seen_) {
        first_seen_ = true;
        first_byte_ = data[pos];
        capture_want_ = consumer.capture_bytes(data[pos], payload_len_, continuation_);
        if (capture_want_ > payload_len_) capture_want_ = payload_len_;
      }
      size_t take = std::min<size_t>(payload_left_, data.size() - pos);
      if (capture_.size() < capture_want_) {
        size_t c = std::min(capture_want_ - capture_.size(), take);
        capture_.insert(capture_.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
                        data.begin() + static_cast<std::ptrdiff_t>(pos + c));
      }
      payload_left_ -= static_cast<uint32_t>(take);
      packet_bytes_seen_ += take;
      pos += take;
      if (payload_left_ == 0 && finish(consumer)) return pos;
    }
    return pos;
  }

  // Payload bytes of the current packet that nobody needs to see: the consumer has captured
  // what it asked for and the rest may go by unread (e.g. spliced). 0 between packets.
  uint32_t opaque_left() const {
    if (header_have_ < protocol::kPacketHeaderBytes || !first_seen_ || capture_.size() < capture_want_) return 0;
    return payload_left_;
  }
  // Counts n opaque bytes (n <= opaque_left()) as passed; finishes the packet when it ends.
  // Returns what on_packet returned, or false when the packet goes on.
  template <typename Consumer>
  bool skip(uint32_t n, Consumer& consumer) {
    payload_left_ -= std::min(n, payload_left_);
    return payload_left_ == 0 && finish(consumer);
  }

  // True between packets (nothing of a packet seen yet).
  bool at_boundary() const { return header_have_ == 0; }
  // Of the packet under way (not at a boundary): bytes seen so far, header included; whether its
  // header and its first payload byte have been seen, and what they say.
  size_t packet_bytes_seen() const { return packet_bytes_seen_; }
  bool header_complete() const { return header_have_ == protocol::kPacketHeaderBytes; }
  bool first_byte_seen() const { return header_complete() && first_seen_; }
  uint8_t first_byte() const { return first_byte_; }
  uint32_t payload_length() const { return payload_len_; }
  // True when the last complete packet was 0xFFFFFF long: a continuation must follow.
  bool expecting_continuation() const { return prev_was_max_; }
  void reset() {
    header_have_ = 0;
    prev_was_max_ = false;
    renumber_ = false;
    capture_.clear();
  }
  // Rewrites sequence ids from `first` on (scan over writable bytes only). Clients on the
  // compressed protocol leave the inner ids of a multi-packet request at 0; a server reading
  // the plain protocol insists on consecutive ids, so the proxy renumbers what it re-frames.
  void renumber_from(uint8_t first) {
    renumber_ = true;
    next_seq_ = first;
  }

 private:
  template <typename Consumer>
  bool finish(Consumer& consumer) {
    header_have_ = 0;
    ScannedPacket p{capture_, payload_len_, seq_, continuation_};
    return consumer.on_packet(p);
  }

  uint8_t header_[protocol::kPacketHeaderBytes] = {};
  size_t header_have_ = 0;
  uint32_t payload_len_ = 0;
  uint32_t payload_left_ = 0;
  uint8_t seq_ = 0;
  bool continuation_ = false;
  bool prev_was_max_ = false;
  bool first_seen_ = false;
  uint8_t first_byte_ = 0;
  size_t packet_bytes_seen_ = 0;
  bool renumber_ = false;
  uint8_t next_seq_ = 0;
  size_t capture_want_ = 0;
  std::vector<uint8_t> capture_;
};

}  // namespace odp::proxy
