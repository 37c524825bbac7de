#include "protocol/wire.h"

#include <limits>

#include <doctest/doctest.h>

#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

TEST_CASE("wire: fixed-width integers are little-endian") {
  auto b = hex("01 0201 030201 04030201 0807060504030201");
  Reader r(b);
  uint8_t a = 0;
  uint16_t c = 0;
  uint32_t d = 0, e = 0;
  uint64_t f = 0;
  CHECK(r.u8(a));
  CHECK(r.u16(c));
  CHECK(r.u24(d));
  CHECK(r.u32(e));
  CHECK(r.u64(f));
  CHECK(a == 0x01);
  CHECK(c == 0x0102);
  CHECK(d == 0x010203);
  CHECK(e == 0x01020304);
  CHECK(f == 0x0102030405060708ull);
  CHECK(r.remaining() == 0);
  CHECK_FALSE(r.u8(a));

  std::vector<uint8_t> out;
  put_u8(out, 0x01);
  put_u16(out, 0x0102);
  put_u24(out, 0x010203);
  put_u32(out, 0x01020304);
  put_u64(out, 0x0102030405060708ull);
  CHECK(out == b);
}

TEST_CASE("wire: failed reads consume nothing") {
  auto b = hex("010203");
  Reader r(b);
  uint32_t v = 0xdead;
  CHECK_FALSE(r.u32(v));
  CHECK(v == 0xdead);
  CHECK(r.pos() == 0);
  uint64_t w = 0;
  CHECK_FALSE(r.u64(w));
  CHECK(r.pos() == 0);
  std::string_view s;
  CHECK_FALSE(r.fixed_str(4, s));
  CHECK_FALSE(r.null_str(s));
  CHECK_FALSE(r.skip(4));
  CHECK(r.pos() == 0);
  CHECK(r.skip(3));
  CHECK(r.remaining() == 0);
}

TEST_CASE("wire: lenenc integers at every width boundary round-trip") {
  const uint64_t values[] = {
      0,       1,        250,       251,           252,        0xFFFF,
      0x10000, 0xFFFFFF, 0x1000000, 0xFFFFFFFFull, 1ull << 40, std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) {
    std::vector<uint8_t> out;
    put_lenenc_int(out, v);
    CHECK(out.size() == lenenc_int_size(v));
    Reader r(out);
    uint64_t got = 0;
    REQUIRE(r.lenenc_int(got));
    CHECK(got == v);
    CHECK(r.remaining() == 0);
    for (size_t n = 0; n < out.size(); ++n) {
      Reader t(out.data(), n);
      uint64_t x = 7;
      CHECK_FALSE(t.lenenc_int(x));
      CHECK(t.pos() == 0);
    }
  }
  // Golden encodings from the protocol docs.
  std::vector<uint8_t> o;
  put_lenenc_int(o, 250);
  put_lenenc_int(o, 251);
  put_lenenc_int(o, 0x10000);
  put_lenenc_int(o, 0x1000000);
  CHECK(o == hex("fa fcfb00 fd000001 fe0000000100000000"));
}

TEST_CASE("wire: lenenc int rejects 0xFB (NULL) and 0xFF") {
  for (uint8_t first : {uint8_t{0xFB}, uint8_t{0xFF}}) {
    std::vector<uint8_t> b{first, 0, 0, 0, 0, 0, 0, 0, 0};
    Reader r(b);
    uint64_t v = 0;
    CHECK_FALSE(r.lenenc_int(v));
    CHECK(r.pos() == 0);
  }
}

TEST_CASE("wire: strings") {
  std::vector<uint8_t> out;
  put_lenenc_str(out, "hello");
  put_null_str(out, "abc");
  put_bytes(out, std::string_view("xyz"));
  Reader r(out);
  std::string_view a, b, c;
  CHECK(r.lenenc_str(a));
  CHECK(a == "hello");
  CHECK(r.null_str(b));
  CHECK(b == "abc");
  CHECK(r.fixed_str(2, c));
  CHECK(c == "xy");
  CHECK(r.rest() == "z");
  CHECK(r.remaining() == 0);
  CHECK(r.rest().empty());

  // A lenenc string whose length exceeds the data fails without consuming the length.
  auto bad = hex("05 6869");
  Reader rb(bad);
  std::string_view s;
  CHECK_FALSE(rb.lenenc_str(s));
  CHECK(rb.pos() == 0);
  // A huge declared length cannot overflow the bound check.
  auto huge = hex("fe ffffffffffffffff 00");
  Reader rh(huge);
  CHECK_FALSE(rh.lenenc_str(s));
  CHECK(rh.pos() == 0);
}

TEST_CASE("wire: bytes and skip") {
  auto b = hex("0102030405");
  Reader r(b);
  std::span<const uint8_t> s;
  CHECK(r.bytes(2, s));
  CHECK(s.size() == 2);
  CHECK(s[1] == 0x02);
  CHECK(r.skip(1));
  CHECK(r.pos() == 3);
  CHECK_FALSE(r.bytes(3, s));
  CHECK(r.bytes(2, s));
  CHECK(r.empty());
}
