#include "protocol/auth.h"

#include <algorithm>
#include <set>

#include <doctest/doctest.h>

#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

TEST_CASE("auth: sha1 known answers") {
  CHECK(to_hex(sha1(std::string_view(""))) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(to_hex(sha1(std::string_view("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  const std::vector<uint8_t> abc{'a', 'b', 'c'};
  CHECK(to_hex(sha256(abc)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("auth: stage2 of 'password' matches MySQL's PASSWORD()") {
  const Sha1 s2 = native_password_stage2("password");
  CHECK(stage2_to_mysql_hex(s2) == "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
  auto parsed = parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
  REQUIRE(parsed);
  CHECK(*parsed == s2);
  auto lower = parse_stage2_hex("2470c0c06dee42fd1618bb99005adca2ec9d1e19");
  REQUIRE(lower);
  CHECK(*lower == s2);
  CHECK_FALSE(parse_stage2_hex(""));
  CHECK_FALSE(parse_stage2_hex("*"));
  CHECK_FALSE(parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1"));
  CHECK_FALSE(parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1G"));
  CHECK_FALSE(parse_stage2_hex("**2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"));
}

TEST_CASE("auth: native password response, independently computed vector") {
  // scramble = 01..14; response computed with Python's hashlib as
  // SHA1("password") XOR SHA1(scramble + SHA1(SHA1("password"))).
  std::vector<uint8_t> scramble;
  for (uint8_t i = 1; i <= 20; ++i) scramble.push_back(i);
  const std::string resp = native_password_response(native_password_stage1("password"), scramble);
  CHECK(to_hex(resp) == "c17d6009a5cb47e59f7483fcf05553bbbf7dd0d6");
  CHECK(native_password_response_from_password("password", scramble) == resp);
  CHECK(native_password_response_from_password("", scramble).empty());

  auto stage1 = native_password_verify(resp, scramble, native_password_stage2("password"));
  REQUIRE(stage1);
  CHECK(*stage1 == native_password_stage1("password"));
  // With the recovered stage1 the proxy can answer another server's scramble.
  std::vector<uint8_t> other(20, 0x41);
  CHECK(native_password_response(*stage1, other) == native_password_response_from_password("password", other));
}

TEST_CASE("auth: verification rejects wrong passwords and malformed responses") {
  const auto scramble = make_scramble();
  const Sha1 s2 = native_password_stage2("secret");
  std::string good = native_password_response_from_password("secret", scramble);
  CHECK(native_password_verify(good, scramble, s2));
  CHECK_FALSE(native_password_verify(native_password_response_from_password("Secret", scramble), scramble, s2));
  std::string flipped = good;
  flipped[7] = static_cast<char>(flipped[7] ^ 1);
  CHECK_FALSE(native_password_verify(flipped, scramble, s2));
  CHECK_FALSE(native_password_verify("", scramble, s2));
  CHECK_FALSE(native_password_verify(good.substr(0, 19), scramble, s2));
  CHECK_FALSE(native_password_verify(good + "x", scramble, s2));
  // Empty-password accounts: no stage2; only the empty response is accepted.
  CHECK(native_password_is_empty(""));
  CHECK_FALSE(native_password_is_empty(good));
}

TEST_CASE("auth: scrambles are printable-range, NUL-free and random") {
  std::set<std::array<uint8_t, 20>> seen;
  for (int i = 0; i < 200; ++i) {
    auto s = make_scramble();
    for (uint8_t b : s) {
      CHECK(b >= 1);
      CHECK(b <= 127);
      CHECK(b != '$');
    }
    seen.insert(s);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("auth: hex") {
  CHECK(to_hex(hex("00ff10")) == "00ff10");
  CHECK(to_hex(std::string_view("")) == "");
}

TEST_CASE("auth: auth switch request round trip and golden") {
  // MySQL: 0xFE "mysql_native_password\0" + 20-byte scramble + NUL.
  AuthSwitchRequest req{"mysql_native_password", std::string("abcdefghijklmnopqrst") + std::string(1, '\0')};
  std::vector<uint8_t> p;
  encode_auth_switch_request(req, p);
  CHECK(p.size() == 1 + 22 + 21);
  CHECK(p[0] == 0xFE);
  CHECK(is_auth_switch_request(p));
  auto back = decode_auth_switch_request(p);
  REQUIRE(back.ok());
  CHECK(back->plugin_name == "mysql_native_password");
  CHECK(back->plugin_data == req.plugin_data);
  CHECK(auth_switch_scramble(*back) == "abcdefghijklmnopqrst");
  for (size_t n = 0; n < 23; ++n) {
    if (n == 1) continue;  // a lone 0xFE is the old-password request
    CHECK_FALSE(decode_auth_switch_request(test::prefix(p, n)).ok());
  }
  auto old = decode_auth_switch_request(hex("fe"));
  REQUIRE(old.ok());
  CHECK(old->plugin_name.empty());
  CHECK_FALSE(decode_auth_switch_request(hex("00 6100")).ok());
}

TEST_CASE("auth: auth more data") {
  std::vector<uint8_t> p;
  encode_auth_more_data(AuthMoreData{"\x03"}, p);
  CHECK(p == hex("01 03"));
  auto m = decode_auth_more_data(p);
  REQUIRE(m.ok());
  CHECK(m->data == "\x03");
  CHECK_FALSE(decode_auth_more_data({}).ok());
  CHECK_FALSE(decode_auth_more_data(hex("02 03")).ok());
}

TEST_CASE("auth: OceanBase proxy scramble is an involution") {
  const auto a = make_scramble();
  const auto b = make_scramble();
  const std::string x = ob_proxy_scramble(a, b);
  REQUIRE(x.size() == 20);
  CHECK(static_cast<uint8_t>(x[0]) == (a[0] ^ b[0]));
  const std::string back = ob_proxy_scramble(as_bytes(x), b);
  CHECK(
      std::equal(back.begin(), back.end(), a.begin(), [](char c, uint8_t u) { return static_cast<uint8_t>(c) == u; }));
}
