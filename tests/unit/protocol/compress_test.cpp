#include "protocol/compress.h"

#include <random>

#include <doctest/doctest.h>

#include "protocol/packet.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

namespace {

std::vector<uint8_t> noise(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::vector<uint8_t> text(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>("SELECT id, name FROM t WHERE id = 42;\n"[i % 38]);
  return v;
}

std::vector<uint8_t> decode_all(const std::vector<uint8_t>& frames, size_t step, uint8_t* last_seq = nullptr) {
  CompressedDecoder d(64ull << 20);
  std::vector<uint8_t> plain;
  for (size_t off = 0; off < frames.size(); off += step) {
    const size_t n = std::min(step, frames.size() - off);
    auto r = d.feed(std::span<const uint8_t>(frames.data() + off, n), plain);
    REQUIRE(r.ok());
  }
  CHECK(d.buffered_bytes() == 0);
  if (last_seq) *last_seq = d.last_seq();
  return plain;
}

}  // namespace

TEST_CASE("compress: a frame made independently (Python zlib, level 6) decodes") {
  // COM_QUERY "select 'aaa...'" (60-byte payload) in one compressed frame, sequence 0.
  auto frame = hex("19000000400000789cb3616060602e4ecd494d2e51504f2419a80300a2161620");
  uint8_t seq = 0xAA;
  auto plain = decode_all(frame, 1, &seq);
  CHECK(seq == 0);
  REQUIRE(plain.size() == 64);
  CHECK(decode_header(plain.data()).length == 60);
  CHECK(plain[4] == 0x03);
}

TEST_CASE("compress: small data goes raw with uncompressed length 0") {
  std::vector<uint8_t> out;
  auto data = hex("0100000001");  // COM_QUIT packet
  CHECK(encode_compressed(3, data, out) == 4);
  CHECK(out == hex("050000 03 000000 0100000001"));
  CHECK(decode_all(out, 1) == data);
}

TEST_CASE("compress: round trips at many sizes and feed granularities") {
  for (size_t n : {size_t{49}, size_t{50}, size_t{51}, size_t{1000}, size_t{65536}, size_t{300000}}) {
    for (bool compressible : {true, false}) {
      auto data = compressible ? text(n) : noise(n, static_cast<uint32_t>(n));
      for (int level : {0, 1, 6, 9}) {
        std::vector<uint8_t> out;
        const uint8_t next = encode_compressed(0, data, out, level);
        CHECK(next == 1);
        if (compressible && n >= 1000 && level > 0) CHECK(out.size() < data.size());
        for (size_t step : {size_t{1} << 20, size_t{7}}) {
          if (step == 7 && n > 70000) continue;
          CHECK(decode_all(out, step) == data);
        }
      }
    }
  }
}

TEST_CASE("compress: data over 0xFFFFFF bytes spans several frames") {
  auto data = text(kMaxPacketChunk + 100);
  std::vector<uint8_t> out;
  CHECK(encode_compressed(250, data, out) == 252);
  uint8_t seq = 0;
  CHECK(decode_all(out, 1 << 22, &seq) == data);
  CHECK(seq == 251);
}

TEST_CASE("compress: incompressible data over the chunk size falls back to raw frames") {
  auto data = noise(kMaxPacketChunk + 10, 1);
  std::vector<uint8_t> out;
  encode_compressed(0, data, out, 0);  // stored blocks would overflow a frame: sent raw
  CHECK(decode_all(out, 1 << 22) == data);
}

TEST_CASE("compress: bounds and corruption") {
  auto data = text(5000);
  std::vector<uint8_t> out;
  encode_compressed(0, data, out);
  {
    CompressedDecoder d(4999);  // the declared uncompressed length is over the bound
    std::vector<uint8_t> plain;
    auto r = d.feed(std::span<const uint8_t>(out.data(), 7), plain);
    CHECK_FALSE(r.ok());
    CHECK_FALSE(d.feed(out, plain).ok());  // sticky
  }
  {
    auto bad = out;
    bad[10] ^= 0x55;  // corrupt the deflate stream
    CompressedDecoder d(1 << 20);
    std::vector<uint8_t> plain;
    CHECK_FALSE(d.feed(bad, plain).ok());
  }
  {
    auto bad = out;
    bad.back() ^= 0x01;  // corrupt the Adler-32 trailer
    CompressedDecoder d(1 << 20);
    std::vector<uint8_t> plain;
    CHECK_FALSE(d.feed(bad, plain).ok());
  }
  {
    auto bad = out;
    bad[4] = static_cast<uint8_t>(bad[4] + 1);  // declared length does not match the inflated length
    CompressedDecoder d(1 << 20);
    std::vector<uint8_t> plain;
    CHECK_FALSE(d.feed(bad, plain).ok());
  }
  {
    // A partial frame is kept, not decoded, and not an error.
    CompressedDecoder d(1 << 20);
    std::vector<uint8_t> plain;
    auto r = d.feed(std::span<const uint8_t>(out.data(), out.size() - 1), plain);
    REQUIRE(r.ok());
    CHECK(*r == 0);
    CHECK(plain.empty());
    CHECK(d.frames_decoded() == 0);
    r = d.feed(std::span<const uint8_t>(out.data() + out.size() - 1, 1), plain);
    REQUIRE(r.ok());
    CHECK(*r == data.size());
    CHECK(plain == data);
  }
}
