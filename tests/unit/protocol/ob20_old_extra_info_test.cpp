#include "protocol/ob20_old_extra_info.h"

#include <random>

#include <doctest/doctest.h>

#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

TEST_CASE("ob20 old extra info: the key ob_trace_info is OB-VECTORS' derived ObObj bytes") {
  std::vector<uint8_t> out;
  encode_ob20_old_extra_info_item(ob20extra::TRACE_INFO, hex("78"), out);
  // key: meta 16 02 00 ff (varchar, implicit, collation 0, scale -1), varint 13, bytes, NUL
  const auto key = hex("16 02 00 ff 0d 6f 62 5f 74 72 61 63 65 5f 69 6e 66 6f 00");
  REQUIRE(out.size() == key.size() + 7);
  CHECK(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<long>(key.size())) == key);
  CHECK(std::vector<uint8_t>(out.begin() + static_cast<long>(key.size()), out.end()) == hex("16 02 00 ff 01 78 00"));
}

TEST_CASE("ob20 old extra info: every known key round-trips; unknown keys and types are left out") {
  std::vector<uint8_t> out;
  const auto big = std::vector<uint8_t>(300, 0xAB);  // a length of two varint groups (ac 02)
  encode_ob20_old_extra_info_item(ob20extra::TRACE_INFO, hex("01"), out);
  encode_ob20_old_extra_info_item(ob20extra::SESS_INFO, big, out);
  encode_ob20_old_extra_info_item(ob20extra::FULL_LINK_TRACE, {}, out);
  encode_ob20_old_extra_info_item(ob20extra::SESS_INFO_VERI, hex("02 03"), out);
  const size_t known = out.size();
  encode_ob20_old_extra_info_item(ob20extra::FEEDBACK_PROXY_INFO, hex("09"), out);  // no old key
  CHECK(out.size() == known);
  // a key odp does not know, written by hand: "zz" -> "v"
  const auto other = hex("16 02 00 ff 02 7a 7a 00 16 02 00 ff 01 76 00");
  out.insert(out.end(), other.begin(), other.end());
  auto items = decode_ob20_old_extra_info(out);
  REQUIRE(items);
  REQUIRE(items->size() == 4);
  CHECK((*items)[0].type == ob20extra::TRACE_INFO);
  CHECK((*items)[1].type == ob20extra::SESS_INFO);
  CHECK(std::vector<uint8_t>((*items)[1].value.begin(), (*items)[1].value.end()) == big);
  CHECK((*items)[2].type == ob20extra::FULL_LINK_TRACE);
  CHECK((*items)[2].value.empty());
  CHECK((*items)[3].type == ob20extra::SESS_INFO_VERI);
  // the frame's flags choose the format
  auto by_flags = decode_ob20_extra_info_of(ob20flag::EXTRA_INFO, out);
  REQUIRE(by_flags);
  CHECK(by_flags->size() == 4);
  CHECK_FALSE(decode_ob20_extra_info_of(ob20flag::EXTRA_INFO | ob20flag::NEW_EXTRA_INFO, out));
}

TEST_CASE("ob20 old extra info: new-format records convert to the old format") {
  std::vector<uint8_t> tlv, old;
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, hex("61"), tlv);
  encode_ob20_extra_info_item(ob20extra::FEEDBACK_PROXY_INFO, hex("62"), tlv);  // has no old key
  encode_ob20_extra_info_item(ob20extra::SESS_INFO, hex("63"), tlv);
  REQUIRE(ob20_extra_info_to_old(tlv, old));
  auto items = decode_ob20_old_extra_info(old);
  REQUIRE(items);
  REQUIRE(items->size() == 2);
  CHECK((*items)[0].type == ob20extra::TRACE_INFO);
  CHECK((*items)[1].type == ob20extra::SESS_INFO);
  std::vector<uint8_t> junk;
  CHECK_FALSE(ob20_extra_info_to_old(hex("d1 07 05 00"), junk));  // a truncated TLV record
}

TEST_CASE("ob20 old extra info: malformed bytes are an error, never a read past the end") {
  const char* bad[] = {
      "16 02 00",                                      // meta cut short
      "16 02 00 ff 05 61 62",                          // string shorter than its length
      "16 02 00 ff 02 61 62",                          // no NUL after the string
      "16 02 00 ff 02 61 62 01",                       // a non-zero byte where the NUL goes
      "16 02 00 ff 02 61 62 00",                       // a key without its value
      "05 02 00 ff 01 61 00 16 02 00 ff 01 62 00",     // a key that is not a string (type 5)
      "16 02 00 ff ff ff ff ff ff ff ff ff ff ff 01",  // a varint of more than 10 groups
      "16 02 00 ff ff ff ff ff 0f 61 00",              // a length far past the input
  };
  for (const char* b : bad) {
    CAPTURE(b);
    CHECK_FALSE(decode_ob20_old_extra_info(hex(b)));
  }
  CHECK(decode_ob20_old_extra_info({}));  // empty: no records
  // Random bytes: an answer either way, in bounds (ASan watches the reads).
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> in(rng() % 40);
    for (auto& x : in) x = static_cast<uint8_t>(rng() % 4 == 0 ? 0x16 : rng());
    auto r = decode_ob20_old_extra_info(in);
    if (r)
      for (const auto& item : *r)
        CHECK((item.value.empty() ||
               (item.value.data() >= in.data() && item.value.data() + item.value.size() <= in.data() + in.size())));
  }
}
