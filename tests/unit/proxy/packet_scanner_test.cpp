#include "proxy/packet_scanner.h"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "protocol/packet.h"

using odp::proxy::PacketScanner;
using odp::proxy::ScannedPacket;

namespace {

struct Seen {
  std::vector<uint8_t> head;
  uint32_t len;
  uint8_t seq;
  bool continuation;
};

// Captures up to `want` leading bytes of each packet and can stop after the n-th one.
struct Recorder {
  size_t want = 4;
  size_t stop_after = SIZE_MAX;
  std::vector<Seen> seen;
  std::vector<uint8_t> first_bytes;
  size_t capture_bytes(uint8_t first, uint32_t, bool) {
    first_bytes.push_back(first);
    return want;
  }
  bool on_packet(const ScannedPacket& p) {
    seen.push_back({{p.head.begin(), p.head.end()}, p.payload_len, p.seq, p.continuation});
    return seen.size() == stop_after;
  }
};

std::vector<uint8_t> packets(const std::vector<std::string>& payloads) {
  std::vector<uint8_t> out;
  uint8_t seq = 0;
  for (const auto& p : payloads)
    seq = odp::protocol::encode_packet(seq, {reinterpret_cast<const uint8_t*>(p.data()), p.size()}, out);
  return out;
}

}  // namespace

TEST_CASE("packet scanner: boundaries and captured heads are the same for every split of the stream") {
  std::vector<std::string> payloads = {"hello world", "", "x", "abcdefgh", std::string(300, 'q')};
  std::vector<uint8_t> wire = packets(payloads);
  for (size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    CAPTURE(chunk);
    PacketScanner scanner;
    Recorder rec;
    size_t total = 0;
    for (size_t off = 0; off < wire.size(); off += chunk) {
      std::span<const uint8_t> part(wire.data() + off, std::min(chunk, wire.size() - off));
      total += scanner.scan(part, rec);
    }
    CHECK(total == wire.size());
    CHECK(scanner.at_boundary());
    REQUIRE(rec.seen.size() == payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i) {
      CHECK(rec.seen[i].len == payloads[i].size());
      CHECK(rec.seen[i].seq == i);
      CHECK_FALSE(rec.seen[i].continuation);
      CHECK(std::string(rec.seen[i].head.begin(), rec.seen[i].head.end()) == payloads[i].substr(0, 4));
    }
    // The first byte shown to capture_bytes() is the payload's, never a byte past the chunk
    // (a chunk may end right after a header).
    std::vector<uint8_t> expected_first;
    for (const auto& p : payloads) {
      if (!p.empty()) expected_first.push_back(static_cast<uint8_t>(p[0]));
    }
    CHECK(rec.first_bytes == expected_first);
  }
}

TEST_CASE("packet scanner: a consumer that stops gets the bytes after its packet back") {
  std::vector<uint8_t> wire = packets({"one", "two", "three"});
  PacketScanner scanner;
  Recorder rec;
  rec.stop_after = 1;
  size_t used = scanner.scan(std::span<const uint8_t>(wire), rec);
  CHECK(used == 4 + 3);
  CHECK(scanner.at_boundary());
  rec.stop_after = SIZE_MAX;
  used += scanner.scan(std::span<const uint8_t>(wire).subspan(used), rec);
  CHECK(used == wire.size());
  REQUIRE(rec.seen.size() == 3);
  CHECK(rec.seen[2].len == 5);
}

TEST_CASE("packet scanner: a partial header or payload is carried over to the next chunk") {
  std::vector<uint8_t> wire = packets({"abcdef"});
  PacketScanner scanner;
  Recorder rec;
  CHECK(scanner.scan(std::span<const uint8_t>(wire).first(2), rec) == 2);
  CHECK_FALSE(scanner.at_boundary());
  CHECK(scanner.scan(std::span<const uint8_t>(wire).subspan(2, 2), rec) == 2);
  CHECK(rec.seen.empty());
  CHECK(scanner.scan(std::span<const uint8_t>(wire).subspan(4, 3), rec) == 3);
  CHECK(rec.seen.empty());
  CHECK(scanner.scan(std::span<const uint8_t>(wire).subspan(7), rec) == 3);
  REQUIRE(rec.seen.size() == 1);
  CHECK(std::string(rec.seen[0].head.begin(), rec.seen[0].head.end()) == "abcd");
  scanner.reset();
  CHECK(scanner.at_boundary());
}

TEST_CASE("packet scanner: the capture never exceeds the payload") {
  std::vector<uint8_t> wire = packets({"ab"});
  PacketScanner scanner;
  Recorder rec;
  rec.want = 100;
  CHECK(scanner.scan(std::span<const uint8_t>(wire), rec) == wire.size());
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].head.size() == 2);
}

TEST_CASE("packet scanner: packets of 0xFFFFFF bytes announce a continuation") {
  std::string big(odp::protocol::kMaxPacketChunk + 10, 'b');
  std::vector<uint8_t> wire;
  uint8_t seq = odp::protocol::encode_packet(3, {reinterpret_cast<const uint8_t*>(big.data()), big.size()}, wire);
  CHECK(seq == 5);
  std::string small = "after";
  odp::protocol::encode_packet(seq, {reinterpret_cast<const uint8_t*>(small.data()), small.size()}, wire);
  PacketScanner scanner;
  Recorder rec;
  size_t used = 0;
  for (size_t off = 0; off < wire.size(); off += 1 << 20) {
    used +=
        scanner.scan(std::span<const uint8_t>(wire).subspan(off, std::min<size_t>(1 << 20, wire.size() - off)), rec);
  }
  CHECK(used == wire.size());
  REQUIRE(rec.seen.size() == 3);
  CHECK(rec.seen[0].len == odp::protocol::kMaxPacketChunk);
  CHECK(rec.seen[0].seq == 3);
  CHECK_FALSE(rec.seen[0].continuation);
  CHECK(rec.seen[1].len == 10);
  CHECK(rec.seen[1].continuation);
  CHECK(rec.seen[2].len == 5);
  CHECK_FALSE(rec.seen[2].continuation);
  CHECK_FALSE(scanner.expecting_continuation());
}

TEST_CASE("packet scanner: an exact multiple of 0xFFFFFF ends with an empty continuation") {
  std::string big(odp::protocol::kMaxPacketChunk, 'c');
  std::vector<uint8_t> wire;
  odp::protocol::encode_packet(0, {reinterpret_cast<const uint8_t*>(big.data()), big.size()}, wire);
  PacketScanner scanner;
  Recorder rec;
  CHECK(scanner.scan(std::span<const uint8_t>(wire).first(wire.size() - 4), rec) == wire.size() - 4);
  CHECK(scanner.expecting_continuation());
  CHECK(scanner.scan(std::span<const uint8_t>(wire).subspan(wire.size() - 4), rec) == 4);
  REQUIRE(rec.seen.size() == 2);
  CHECK(rec.seen[1].len == 0);
  CHECK(rec.seen[1].continuation);
  CHECK(rec.seen[1].head.empty());
}

TEST_CASE("packet scanner: opaque bytes past the capture may be skipped (splice) and the walk goes on") {
  std::string big(10000, 'x');
  auto stream = packets({big, "tail"});
  Recorder r;
  r.want = 3;
  PacketScanner s;
  // A header and two payload bytes: the capture is not complete, nothing is opaque yet.
  CHECK(s.scan(std::span<const uint8_t>(stream).first(6), r) == 6);
  CHECK(s.opaque_left() == 0);
  // One more byte completes the capture: the rest of the payload is opaque.
  CHECK(s.scan(std::span<const uint8_t>(stream).subspan(6, 1), r) == 1);
  CHECK(s.opaque_left() == 10000 - 3);
  // Bytes that go by unseen are counted; the packet ends when the last one is skipped.
  CHECK_FALSE(s.skip(5000, r));
  CHECK(r.seen.empty());
  CHECK(s.opaque_left() == 10000 - 3 - 5000);
  s.skip(s.opaque_left(), r);
  REQUIRE(r.seen.size() == 1);
  CHECK(r.seen[0].len == 10000);
  CHECK(r.seen[0].head == std::vector<uint8_t>{'x', 'x', 'x'});
  CHECK(s.at_boundary());
  CHECK(s.opaque_left() == 0);
  // The next packet is scanned normally.
  auto rest = std::span<const uint8_t>(stream).subspan(4 + 10000);
  CHECK(s.scan(rest, r) == rest.size());
  REQUIRE(r.seen.size() == 2);
  CHECK(r.seen[1].len == 4);
}
