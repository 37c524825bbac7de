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

namespace {

struct FrameHeader {
  uint32_t comp_len;
  uint8_t seq;
  uint32_t plain_len;  // 0: stored raw
};

// The headers of a run of frames, checked to tile `frames` exactly.
std::vector<FrameHeader> frame_headers(const std::vector<uint8_t>& frames) {
  std::vector<FrameHeader> out;
  size_t off = 0;
  while (off < frames.size()) {
    REQUIRE(frames.size() - off >= kCompressedHeaderBytes);
    const uint8_t* p = frames.data() + off;
    FrameHeader h{static_cast<uint32_t>(p[0] | p[1] << 8 | p[2] << 16), p[3],
                  static_cast<uint32_t>(p[4] | p[5] << 8 | p[6] << 16)};
    out.push_back(h);
    off += kCompressedHeaderBytes + h.comp_len;
  }
  CHECK(off == frames.size());
  return out;
}

// A frame around `body`, stored raw or zlib-compressed.
void put_frame(std::vector<uint8_t>& out, uint8_t seq, std::span<const uint8_t> body, bool zlib) {
  if (!zlib) {
    put_u24(out, static_cast<uint32_t>(body.size()));
    put_u8(out, seq);
    put_u24(out, 0);
    out.insert(out.end(), body.begin(), body.end());
    return;
  }
  std::vector<uint8_t> z;
  REQUIRE(encode_compressed(seq, body, z, 0) == static_cast<uint8_t>(seq + 1));  // level 0: always zlib
  REQUIRE(frame_headers(z).size() == 1);
  out.insert(out.end(), z.begin(), z.end());
}

std::vector<uint8_t> packet(uint8_t seq, std::string_view payload) {
  std::vector<uint8_t> out;
  put_u24(out, static_cast<uint32_t>(payload.size()));
  put_u8(out, seq);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The sequence id of every physical packet in a plain stream.
std::vector<uint8_t> packet_seqs(std::span<const uint8_t> plain) {
  std::vector<uint8_t> seqs;
  size_t off = 0;
  while (off < plain.size()) {
    REQUIRE(plain.size() - off >= kPacketHeaderBytes);
    const auto h = decode_header(plain.data() + off);
    seqs.push_back(h.seq);
    off += kPacketHeaderBytes + h.length;
  }
  CHECK(off == plain.size());
  return seqs;
}

}  // namespace

TEST_CASE("compress: no frame carries more than 0xFFFFFF plain bytes, around the 16 MiB boundary") {
  const size_t max = kMaxPacketChunk;
  for (size_t n : {max - 1, max, max + 1, 2 * max + 5}) {
    for (bool compressible : {true, false}) {
      if (!compressible && n > max + 1) continue;  // zlib over noise is slow; one size over the boundary is enough
      CAPTURE(n);
      CAPTURE(compressible);
      auto data = compressible ? text(n) : noise(n, 3);
      std::vector<uint8_t> out;
      const size_t want_frames = (n + max - 1) / max;
      CHECK(encode_compressed(200, data, out, 1) == static_cast<uint8_t>(200 + want_frames));
      auto headers = frame_headers(out);
      REQUIRE(headers.size() == want_frames);
      size_t plain = 0;
      for (size_t i = 0; i < headers.size(); ++i) {
        CHECK(headers[i].seq == static_cast<uint8_t>(200 + i));
        const uint32_t carried = headers[i].plain_len == 0 ? headers[i].comp_len : headers[i].plain_len;
        CHECK(carried <= max);
        CHECK(headers[i].comp_len <= max);
        plain += carried;
      }
      CHECK(plain == n);

      CompressedDecoder d(64ull << 20);
      std::vector<uint8_t> back;
      std::vector<CompressedFrame> frames;
      REQUIRE(d.feed(out, back, &frames).ok());
      CHECK(back == data);
      REQUIRE(frames.size() == want_frames);
      for (size_t i = 0; i < frames.size(); ++i) {
        CHECK(frames[i].seq == headers[i].seq);
        CHECK(frames[i].plain_bytes == (i + 1 < frames.size() ? max : n - i * max));
      }
    }
  }
}

TEST_CASE("compress: the decoder reports every frame; a frame carries several packets, a packet spans frames") {
  // Frame 0 (raw): a whole packet, a whole packet and two bytes of a third's header.
  // Frame 1 (zlib): the rest of the third packet. Frame 2: empty.
  const auto a = packet(1, "\x03SELECT 1");
  const auto b = packet(0, "\x0e");
  const auto c = packet(0, "\x03SELECT 'a fairly long statement so that zlib has something to chew on'");
  const auto plain = cat({a, b, c});
  const size_t split = a.size() + b.size() + 2;
  std::vector<uint8_t> frames;
  put_frame(frames, 0, std::span<const uint8_t>(plain).first(split), false);
  put_frame(frames, 1, std::span<const uint8_t>(plain).subspan(split), true);
  put_frame(frames, 2, {}, false);
  for (size_t step : {size_t{1}, size_t{3}, size_t{8}, frames.size()}) {
    CAPTURE(step);
    CompressedDecoder d(1 << 20);
    std::vector<uint8_t> out;
    std::vector<CompressedFrame> seen;
    for (size_t off = 0; off < frames.size(); off += step) {
      REQUIRE(
          d.feed(std::span<const uint8_t>(frames).subspan(off, std::min(step, frames.size() - off)), out, &seen).ok());
    }
    CHECK(out == plain);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].seq == 0);
    CHECK(seen[0].plain_bytes == split);
    CHECK(seen[1].seq == 1);
    CHECK(seen[1].plain_bytes == plain.size() - split);
    CHECK(seen[2].seq == 2);
    CHECK(seen[2].plain_bytes == 0);
    CHECK(d.last_seq() == 2);
  }
}

TEST_CASE("compress: inner sequence ids are renumbered from 0 per logical packet") {
  // Pipelined commands as Connector/J sends them after its login: ids 1 and 0; then ids a
  // server would reject (7) and a wrapped one.
  auto plain = cat({packet(1, "\x03set autocommit=1"), packet(0, "\x03SELECT 1"), packet(7, "\x0e"),
                    packet(255, "\x03SELECT 2"), packet(0, "")});
  const auto original = plain;
  for (size_t step : {size_t{1}, size_t{2}, size_t{5}, plain.size()}) {
    CAPTURE(step);
    auto bytes = original;
    PacketSeqRewriter w;
    for (size_t off = 0; off < bytes.size(); off += step) {
      w.rewrite(std::span<uint8_t>(bytes).subspan(off, std::min(step, bytes.size() - off)));
    }
    CHECK(w.at_boundary());
    CHECK(packet_seqs(bytes) == std::vector<uint8_t>{0, 0, 0, 0, 0});
    // Nothing but the ids changed.
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] != original[i]) CHECK(bytes[i] == 0);
    }
  }
}

TEST_CASE("compress: the chunks of a packet of 16 MiB or more count on from 0") {
  const size_t max = kMaxPacketChunk;
  // A 2 * 0xFFFFFF + 10-byte logical packet as Connector/J numbers it (1, 3, 5), one of exactly
  // 0xFFFFFF bytes ending with an empty chunk (ids 9, 9), then a small command (id 4).
  std::vector<uint8_t> plain;
  auto chunk = [&](uint32_t len, uint8_t seq) {
    put_u24(plain, len);
    put_u8(plain, seq);
    plain.resize(plain.size() + len, 'x');
  };
  chunk(max, 1);
  chunk(max, 3);
  chunk(10, 5);
  chunk(max, 9);
  chunk(0, 9);
  chunk(5, 4);
  for (size_t step : {size_t{65536}, max - 1, max + 4, plain.size()}) {
    CAPTURE(step);
    auto bytes = plain;
    PacketSeqRewriter w;
    for (size_t off = 0; off < bytes.size(); off += step) {
      w.rewrite(std::span<uint8_t>(bytes).subspan(off, std::min(step, bytes.size() - off)));
      // Between the 0xFFFFFF chunks a packet is still under way.
      if (off + step == kPacketHeaderBytes + max) CHECK_FALSE(w.at_boundary());
    }
    CHECK(w.at_boundary());
    CHECK(packet_seqs(bytes) == std::vector<uint8_t>{0, 1, 2, 0, 1, 0});
  }
}

TEST_CASE("compress: a 16 MiB packet in Connector/J's frames (a raw 0xFFFFFF-byte frame, then 4 bytes)") {
  const size_t max = kMaxPacketChunk;
  // A 0xFFFFFF + 100-byte INSERT: chunk ids 1 and 3. Frame 0 holds the header and 0xFFFFFB
  // payload bytes, frame 1 the chunk's last 4 bytes, frame 2 the second chunk and a pipelined
  // command.
  std::vector<uint8_t> plain;
  put_u24(plain, static_cast<uint32_t>(max));
  put_u8(plain, 1);
  auto big = text(max + 100);
  plain.insert(plain.end(), big.begin(), big.begin() + max);
  put_u24(plain, 100);
  put_u8(plain, 3);
  plain.insert(plain.end(), big.begin() + max, big.end());
  const auto next = packet(0, "\x0e");
  plain.insert(plain.end(), next.begin(), next.end());

  std::vector<uint8_t> frames;
  const std::span<const uint8_t> all(plain);
  put_frame(frames, 0, all.first(max), false);
  put_frame(frames, 1, all.subspan(max, 4), false);
  put_frame(frames, 2, all.subspan(max + 4), true);
  CompressedDecoder d(64ull << 20);
  std::vector<uint8_t> out;
  std::vector<CompressedFrame> seen;
  REQUIRE(d.feed(frames, out, &seen).ok());
  CHECK(out == plain);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].plain_bytes == max);
  CHECK(seen[1].plain_bytes == 4);
  CHECK(seen[2].seq == 2);
  PacketSeqRewriter w;
  w.rewrite(out);
  CHECK(packet_seqs(out) == std::vector<uint8_t>{0, 1, 0});
}
