// Drives the response tracker with random commands and random server packets. It must never
// crash, never ask for more bytes than a packet has, and stay in error/done once there.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/constants.h"
#include "protocol/response_tracker.h"
#include "protocol/wire.h"

using namespace odp::protocol;
using Step = ResponseTracker::Step;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  uint8_t cmd = 0, capsel = 0;
  if (!r.u8(cmd) || !r.u8(capsel)) return 0;
  uint32_t caps = cap::PROTOCOL_41 | cap::TRANSACTIONS;
  if (capsel & 1) caps |= cap::DEPRECATE_EOF;
  if (capsel & 2) caps |= cap::SESSION_TRACK;
  ResponseTracker t;
  t.begin(static_cast<Command>(cmd % 0x20), caps);
  bool ended = t.finished();
  // Packets: [u8 control][u16 length][length bytes]; control bit 0 = mark a huge (0xFFFFFF) row,
  // bit 1 = the client finished a LOCAL INFILE before this packet.
  while (!r.empty()) {
    uint8_t control = 0;
    uint16_t len = 0;
    std::span<const uint8_t> payload;
    if (!r.u8(control) || !r.u16(len)) break;
    if (!r.bytes(std::min<size_t>(len, r.remaining()), payload)) break;
    if (control & 2) t.on_local_infile_sent();
    const uint32_t declared = (control & 1) ? kMaxPacketChunk : static_cast<uint32_t>(payload.size());
    size_t want = 0;
    if (!payload.empty()) want = t.capture_bytes(payload[0], declared);
    FUZZ_CHECK(want <= declared);
    want = std::min(want, payload.size());
    const Step s = t.on_packet(payload.first(want), declared);
    if (ended) FUZZ_CHECK(s == Step::error);
    if (s == Step::done || s == Step::error) ended = true;
    if (s == Step::done) FUZZ_CHECK(t.finished());
  }
  (void)t.last_status_flags();
  (void)t.prepare_ok();
  return 0;
}
