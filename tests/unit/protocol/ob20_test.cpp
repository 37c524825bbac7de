#include "protocol/ob20.h"

#include <doctest/doctest.h>

#include "protocol/crc.h"
#include "protocol/packet.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::bytes_of;
using odp::protocol::test::hex;

TEST_CASE("crc: catalogue check values") {
  const auto check = bytes_of("123456789");
  CHECK(crc16_arc(check) == 0xBB3D);
  CHECK(~crc32c_update(~0u, check) == 0xE3069283u);  // standard CRC-32C
  CHECK(crc32c_update(0, check) == 0x58E3FA20u);     // OceanBase's form (init 0, no inversion), computed bitwise
  // Incremental updates equal one-shot.
  const std::span<const uint8_t> s(check);
  CHECK(crc16_arc(s.subspan(4), crc16_arc(s.first(4))) == 0xBB3D);
  CHECK(crc32c_update(crc32c_update(0, s.first(3)), s.subspan(3)) == 0x58E3FA20u);
  CHECK(crc16_arc({}) == 0);
  CHECK(crc32c_update(0, {}) == 0);
}

namespace {
// Plain bit-at-a-time definitions of both checksums, written from their catalogue parameters, as
// the reference the table and instruction paths must match.
uint16_t crc16_arc_bitwise(std::span<const uint8_t> data, uint16_t crc) {
  for (uint8_t b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}
uint32_t crc32c_bitwise(std::span<const uint8_t> data, uint32_t crc) {
  for (uint8_t b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return crc;
}
}  // namespace

TEST_CASE("crc: every length, alignment and start value against the bitwise definition") {
  std::vector<uint8_t> buf(4096 + 16);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (auto& b : buf) b = static_cast<uint8_t>(next());
  for (int round = 0; round < 3000; ++round) {
    size_t offset = next() % 16;
    size_t len = round < 200 ? static_cast<size_t>(round) : next() % 4096;
    uint32_t start = round % 3 == 0 ? 0 : static_cast<uint32_t>(next());
    std::span<const uint8_t> s(buf.data() + offset, len);
    const uint32_t want = crc32c_bitwise(s, start);
    REQUIRE(crc32c_update(start, s) == want);
    REQUIRE(crc32c_update_portable(start, s) == want);
    REQUIRE(crc16_arc(s, static_cast<uint16_t>(start)) == crc16_arc_bitwise(s, static_cast<uint16_t>(start)));
  }
}

namespace {
std::vector<uint8_t> mysql_query(const char* sql) {
  std::vector<uint8_t> payload{0x03};
  payload.insert(payload.end(), sql, sql + std::char_traits<char>::length(sql));
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  return framed;
}
}  // namespace

TEST_CASE("ob20: frame layout, checksums and round trip") {
  const auto mysql = mysql_query("select 1");
  std::vector<uint8_t> extra;
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, bytes_of("client_ip=127.0.0.1"), extra);
  Ob20Header h;
  h.comp_seq = 3;
  h.connection_id = 0x0A0B0C0D;
  h.request_id = 0x123456;
  h.packet_seq = 1;
  h.flags = ob20flag::LAST_PACKET | ob20flag::NEW_EXTRA_INFO;
  std::vector<uint8_t> frame;
  encode_ob20_frame(h, extra, mysql, true, frame);
  const size_t payload_len = 4 + extra.size() + mysql.size();
  REQUIRE(frame.size() == kOb20HeaderBytes + payload_len + kOb20TailBytes);
  // Fixed fields at their documented offsets.
  CHECK(decode_header(frame.data()).length == 24 + payload_len + 4);  // the u24 at 0
  CHECK(frame[3] == 3);
  CHECK(frame[4] == 0);
  CHECK(frame[5] == 0);
  CHECK(frame[6] == 0);
  CHECK(frame[7] == 0xAB);
  CHECK(frame[8] == 0x20);
  CHECK(frame[9] == 20);
  CHECK(frame[11] == 0x0D);
  CHECK(frame[15] == 0x56);
  CHECK(frame[17] == 0x12);
  CHECK(frame[18] == 1);
  CHECK(frame[23] == (ob20flag::LAST_PACKET | ob20flag::NEW_EXTRA_INFO | ob20flag::EXTRA_INFO));
  const uint16_t hcrc = static_cast<uint16_t>(frame[29] | (frame[30] << 8));
  CHECK(hcrc == crc16_arc(std::span<const uint8_t>(frame).first(29)));
  CHECK(ob20_frame_size(frame) == frame.size());

  auto f = decode_ob20_frame(frame);
  REQUIRE(f.ok());
  CHECK(f->header.comp_seq == 3);
  CHECK(f->header.connection_id == 0x0A0B0C0D);
  CHECK(f->header.request_id == 0x123456);
  CHECK(f->header.packet_seq == 1);
  CHECK(f->header.payload_len == payload_len);
  CHECK(std::vector<uint8_t>(f->mysql_bytes.begin(), f->mysql_bytes.end()) == mysql);
  auto items = decode_ob20_extra_info(f->extra_info);
  REQUIRE(items.ok());
  REQUIRE(items->size() == 1);
  CHECK((*items)[0].type == ob20extra::TRACE_INFO);
  CHECK((*items)[0].value.size() == 19);

  for (size_t n = 0; n < frame.size(); ++n) CHECK_FALSE(decode_ob20_frame(test::prefix(frame, n)).ok());
  for (size_t i = 0; i < frame.size(); ++i) {
    auto bad = frame;
    bad[i] ^= 0x40;
    CHECK_MESSAGE(!decode_ob20_frame(bad).ok(), "flipped byte ", i);  // every byte is covered
  }
}

TEST_CASE("ob20: unchecked payload and header") {
  const auto mysql = mysql_query("select 2");
  std::vector<uint8_t> frame;
  encode_ob20_frame(Ob20Header{}, {}, mysql, false, frame);
  CHECK(frame[frame.size() - 1] == 0);
  auto f = decode_ob20_frame(frame);
  REQUIRE(f.ok());
  CHECK(f->extra_info.empty());
  frame[29] = 0;
  frame[30] = 0;
  CHECK(decode_ob20_frame(frame).ok());
  frame[40] ^= 1;  // payload change goes unnoticed without checksums
  CHECK(decode_ob20_frame(frame).ok());
  frame[4] = 1;  // compressed OB 2.0: rejected
  CHECK_FALSE(decode_ob20_frame(frame).ok());
}

TEST_CASE("ob20: push decoder across frames and byte-at-a-time") {
  std::vector<uint8_t> stream, want;
  for (int i = 0; i < 3; ++i) {
    const auto m = mysql_query(i == 2 ? "commit" : "select 3");
    want.insert(want.end(), m.begin(), m.end());
    Ob20Header h;
    h.comp_seq = static_cast<uint8_t>(i);
    h.packet_seq = static_cast<uint8_t>(i);
    h.flags = i == 2 ? ob20flag::LAST_PACKET : 0;
    std::vector<uint8_t> extra;
    if (i == 0) encode_ob20_extra_info_item(ob20extra::SESS_INFO, bytes_of("x"), extra);
    encode_ob20_frame(h, extra, m, true, stream);
  }
  for (size_t step : {size_t{1}, size_t{5}, stream.size()}) {
    Ob20FrameSplitter d(1 << 20);
    std::vector<uint8_t> out, extra;
    std::vector<Ob20Header> headers;
    auto take = [&](const Ob20Frame& f) -> const char* {
      out.insert(out.end(), f.mysql_bytes.begin(), f.mysql_bytes.end());
      if (!f.extra_info.empty()) extra.assign(f.extra_info.begin(), f.extra_info.end());
      headers.push_back(f.header);
      return nullptr;
    };
    size_t frames = 0;
    for (size_t off = 0; off < stream.size(); off += step) {
      auto r = d.feed(std::span<const uint8_t>(stream).subspan(off, std::min(step, stream.size() - off)), take);
      REQUIRE(r.ok());
      frames += *r;
    }
    CHECK(frames == 3);
    CHECK(out == want);
    REQUIRE(headers.size() == 3);
    CHECK((headers[2].flags & ob20flag::LAST_PACKET) != 0);
    CHECK(headers[2].comp_seq == 2);
    CHECK(extra.size() == 7);
    CHECK(d.buffered_bytes() == 0);
  }
  auto accept = [](const Ob20Frame&) -> const char* { return nullptr; };
  Ob20FrameSplitter small(10);
  CHECK_FALSE(small.feed(stream, accept).ok());
  CHECK_FALSE(small.feed({}, accept).ok());  // sticky
  // A frame the caller refuses ends the stream too.
  Ob20FrameSplitter picky(1 << 20);
  auto r = picky.feed(stream, [](const Ob20Frame&) -> const char* { return "refused"; });
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().what) == "refused");
  CHECK_FALSE(picky.feed({}, accept).ok());
  CHECK_FALSE(decode_ob20_extra_info(hex("e907 05000000 61")).ok());
}
