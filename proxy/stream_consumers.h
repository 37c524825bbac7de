#pragma once
// How ClientSession walks the two streams it forwards with its PacketScanners: server responses
// into the ResponseTracker, and large client requests (bounded by limits.max_packet_bytes).
// Shared by the command phase and the splice path.
#include <vector>

#include "protocol/constants.h"
#include "proxy/client_session.h"

namespace odp::proxy {

struct ClientSession::ResponseConsumer {
  ClientSession& s;
  bool done = false;
  bool failed = false;
  bool local_infile = false;
  // An OK packet whose session-state records the client must not see: the bytes to send instead.
  std::vector<uint8_t> rewrite;
  uint32_t rewrite_payload_len = 0;
  uint8_t rewrite_seq = 0;
  size_t capture_bytes(uint8_t first, uint32_t len, bool continuation) const {
    return continuation ? 0 : s.tracker_.capture_bytes(first, len);
  }
  uint8_t last_seq = 0;
  bool on_packet(const ScannedPacket& p) {
    last_seq = p.seq;
    if (p.continuation) return false;
    protocol::ResponseTracker::Step step = s.tracker_.on_packet(p.head, p.payload_len);
    if (s.tracker_.last_packet_was_ok() && (s.tracker_.last_status_flags() & protocol::status::SESSION_STATE_CHANGED) &&
        p.head.size() == p.payload_len) {
      std::vector<uint8_t> plain = s.take_ok_state(p.head);
      if (!plain.empty()) {
        rewrite = std::move(plain);
        rewrite_payload_len = p.payload_len;
        rewrite_seq = p.seq;
      }
    }
    switch (step) {
      case protocol::ResponseTracker::Step::more:
        return !rewrite.empty();
      case protocol::ResponseTracker::Step::done:
        done = true;
        return true;
      case protocol::ResponseTracker::Step::local_infile:
        local_infile = true;
        return true;
      case protocol::ResponseTracker::Step::error:
        failed = true;
        return true;
    }
    return true;
  }
};

struct ClientSession::RequestConsumer {
  ClientSession& s;
  bool local_infile;
  bool end = false;
  bool too_large = false;
  size_t capture_bytes(uint8_t, uint32_t, bool) const { return 0; }
  bool on_packet(const ScannedPacket& p) {
    if (local_infile) {
      end = p.payload_len == 0;
      return end;
    }
    s.request_bytes_ += p.payload_len;
    if (s.request_bytes_ > s.env_.config().limits.max_packet_bytes) {
      too_large = true;
      return true;
    }
    end = p.payload_len < protocol::kMaxPacketChunk;
    return end;
  }
};

}  // namespace odp::proxy
