#include <vector>

#include <doctest/doctest.h>

#include "proxy/packet_scanner.h"

namespace {
struct CountPackets {
  int packets = 0;
  size_t capture_bytes(uint8_t, uint32_t, bool) const { return 0; }
  bool on_packet(const odp::proxy::ScannedPacket&) {
    ++packets;
    return false;
  }
};
}  // namespace

TEST_CASE("renumbering rewrites each header's sequence id, also when headers straddle chunks") {
  // Three packets, all with sequence id 0 (as compressed-protocol clients send continuations).
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 3; ++i) {
    bytes.insert(bytes.end(), {3, 0, 0, 0, 'a', 'b', 'c'});
  }
  odp::proxy::PacketScanner scanner;
  scanner.renumber_from(5);
  CountPackets consumer;
  // Feed in awkward pieces: 2, 3, 1, rest.
  size_t cuts[] = {2, 5, 6, bytes.size()};
  size_t at = 0;
  for (size_t cut : cuts) {
    std::span<uint8_t> piece(bytes.data() + at, cut - at);
    CHECK(scanner.scan(piece, consumer) == piece.size());
    at = cut;
  }
  CHECK(consumer.packets == 3);
  CHECK(bytes[3] == 5);
  CHECK(bytes[10] == 6);
  CHECK(bytes[17] == 7);
}

TEST_CASE("const bytes are scanned, never rewritten") {
  const std::vector<uint8_t> bytes = {1, 0, 0, 9, 'x'};
  odp::proxy::PacketScanner scanner;
  CountPackets consumer;
  CHECK(scanner.scan(std::span<const uint8_t>(bytes), consumer) == bytes.size());
  CHECK(consumer.packets == 1);
}
