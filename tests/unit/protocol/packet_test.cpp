#include "protocol/packet.h"

#include <doctest/doctest.h>

#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

namespace {

std::vector<uint8_t> filled(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
  return v;
}

// Feeds `stream` to the assembler `step` bytes at a time and collects every packet.
std::vector<std::pair<uint8_t, std::vector<uint8_t>>> assemble(PacketAssembler& a, const std::vector<uint8_t>& stream,
                                                               size_t step) {
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> out;
  size_t off = 0;
  while (off < stream.size()) {
    const size_t n = std::min(step, stream.size() - off);
    std::span<const uint8_t> chunk(stream.data() + off, n);
    while (!chunk.empty()) {
      auto used = a.feed(chunk);
      REQUIRE(used.ok());
      chunk = chunk.subspan(*used);
      if (a.has_packet()) {
        out.emplace_back(a.seq(), std::vector<uint8_t>(a.payload().begin(), a.payload().end()));
        a.pop();
      } else {
        REQUIRE(chunk.empty());
      }
    }
    off += n;
  }
  return out;
}

}  // namespace

TEST_CASE("packet: header golden (COM_QUIT from the protocol docs)") {
  // 01 00 00 00 01: one-byte payload, sequence 0, COM_QUIT.
  auto b = hex("01 00 00 00 01");
  const PacketHeader h = decode_header(b.data());
  CHECK(h.length == 1);
  CHECK(h.seq == 0);
  std::vector<uint8_t> out;
  const uint8_t payload[] = {0x01};
  CHECK(encode_packet(0, payload, out) == 1);
  CHECK(out == b);
}

TEST_CASE("packet: encode splits at 0xFFFFFF with an empty trailer on exact multiples") {
  SUBCASE("below the limit") {
    auto p = filled(kMaxPacketChunk - 1);
    std::vector<uint8_t> out;
    CHECK(encode_packet(5, p, out) == 6);
    CHECK(out.size() == p.size() + 4);
  }
  SUBCASE("exactly the limit: chunk + empty packet") {
    auto p = filled(kMaxPacketChunk);
    std::vector<uint8_t> out;
    CHECK(encode_packet(0xFF, p, out) == 1);  // wraps: 0xFF, 0x00 used
    REQUIRE(out.size() == p.size() + 8);
    auto h1 = decode_header(out.data());
    CHECK(h1.length == kMaxPacketChunk);
    CHECK(h1.seq == 0xFF);
    auto h2 = decode_header(out.data() + 4 + kMaxPacketChunk);
    CHECK(h2.length == 0);
    CHECK(h2.seq == 0x00);
  }
  SUBCASE("limit + 10") {
    auto p = filled(kMaxPacketChunk + 10);
    std::vector<uint8_t> out;
    CHECK(encode_packet(3, p, out) == 5);
    auto h2 = decode_header(out.data() + 4 + kMaxPacketChunk);
    CHECK(h2.length == 10);
    CHECK(h2.seq == 4);
  }
  SUBCASE("empty payload") {
    std::vector<uint8_t> out;
    CHECK(encode_packet(9, {}, out) == 10);
    CHECK(out == hex("000000 09"));
  }
}

TEST_CASE("packet: assembler reassembles small packets fed one byte at a time") {
  std::vector<uint8_t> stream;
  uint8_t seq = 0;
  seq = encode_packet(seq, hex("0301020304"), stream);
  seq = encode_packet(seq, {}, stream);
  seq = encode_packet(seq, hex("ff"), stream);
  for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{7}, size_t{100}}) {
    PacketAssembler a(1024);
    auto pkts = assemble(a, stream, step);
    REQUIRE(pkts.size() == 3);
    CHECK(pkts[0].first == 0);
    CHECK(pkts[0].second == hex("0301020304"));
    CHECK(pkts[1].first == 1);
    CHECK(pkts[1].second.empty());
    CHECK(pkts[2].first == 2);
    CHECK(pkts[2].second == hex("ff"));
    CHECK_FALSE(a.mid_packet());
  }
}

TEST_CASE("packet: assembler reassembles split packets") {
  for (size_t len : {size_t{kMaxPacketChunk}, size_t{kMaxPacketChunk} + 1, size_t{2} * kMaxPacketChunk + 5}) {
    auto p = filled(len);
    std::vector<uint8_t> stream;
    const uint8_t next = encode_packet(7, p, stream);
    encode_packet(next, hex("aa"), stream);
    PacketAssembler a(64ull << 20);
    auto pkts = assemble(a, stream, 1 << 20);
    REQUIRE(pkts.size() == 2);
    CHECK(pkts[0].first == 7);
    CHECK(pkts[0].second == p);
    CHECK(pkts[1].first == next);
    CHECK(pkts[1].second == hex("aa"));
  }
}

TEST_CASE("packet: assembler stops consuming while a packet is pending") {
  std::vector<uint8_t> stream;
  encode_packet(0, hex("01"), stream);
  encode_packet(1, hex("02"), stream);
  PacketAssembler a(16);
  auto used = a.feed(stream);
  REQUIRE(used.ok());
  CHECK(*used == 5);
  CHECK(a.has_packet());
  auto again = a.feed(std::span<const uint8_t>(stream).subspan(5));
  REQUIRE(again.ok());
  CHECK(*again == 0);
  a.pop();
  again = a.feed(std::span<const uint8_t>(stream).subspan(5));
  REQUIRE(again.ok());
  CHECK(*again == 5);
  CHECK(a.payload()[0] == 0x02);
  CHECK(a.seq() == 1);
}

TEST_CASE("packet: assembler rejects oversize packets from the header alone") {
  PacketAssembler a(100);
  auto b = hex("650000 00");  // 101 bytes announced, none sent
  auto r = a.feed(b);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().what) == "packet larger than max_packet_bytes");
  // Errors are sticky.
  CHECK_FALSE(a.feed(hex("00")).ok());

  PacketAssembler exact(100);
  std::vector<uint8_t> s;
  encode_packet(0, filled(100), s);
  auto ok = exact.feed(s);
  REQUIRE(ok.ok());
  CHECK(exact.has_packet());

  // A split packet is rejected when the running total passes the bound.
  PacketAssembler split(kMaxPacketChunk + 5);
  std::vector<uint8_t> big;
  encode_packet(0, filled(kMaxPacketChunk + 6), big);
  std::span<const uint8_t> rest(big);
  auto first = split.feed(rest.first(4 + kMaxPacketChunk));
  REQUIRE(first.ok());
  CHECK(*first == 4 + kMaxPacketChunk);
  CHECK_FALSE(split.has_packet());
  CHECK_FALSE(split.feed(rest.subspan(*first)).ok());
}

TEST_CASE("packet: assembler rejects out-of-order continuation sequence") {
  std::vector<uint8_t> stream;
  encode_packet(0, filled(kMaxPacketChunk + 1), stream);
  stream[4 + kMaxPacketChunk + 3] = 9;  // second chunk should be seq 1
  PacketAssembler a(32ull << 20);
  auto r = a.feed(stream);
  CHECK_FALSE(r.ok());
}
