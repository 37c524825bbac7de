#include "protocol/handshake.h"

#include <doctest/doctest.h>

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

namespace {

// Protocol::HandshakeV10 example from the MySQL protocol documentation (5.5.2-m2, no PLUGIN_AUTH).
const char* kDocHandshake =
    "36 00 00 00 0a 35 2e 35 2e 32 2d 6d 32 00 0b 00"
    "00 00 64 76 48 40 49 2d 43 4a 00 ff f7 08 02 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 2a 34 64"
    "7c 63 5a 77 6b 34 5e 5d 3a 00";

// Protocol::HandshakeResponse41 example from the MySQL protocol documentation (user "pam",
// database "test", mysql_native_password).
const char* kDocResponse =
    "54 00 00 01 8d a6 0f 00 00 00 00 01 08 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 70 61 6d 00 14 ab 09 ee f6 bc b1 32"
    "3e 61 14 38 65 c0 99 1d 95 7d 75 d4 47 74 65 73"
    "74 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70"
    "61 73 73 77 6f 72 64 00";

std::span<const uint8_t> payload_of(const std::vector<uint8_t>& framed) {
  return std::span<const uint8_t>(framed).subspan(kPacketHeaderBytes);
}

HandshakeV10 sample_handshake() {
  HandshakeV10 hs;
  hs.server_version = "5.7.25-OceanBase-v4.2.1";
  hs.connection_id = 0x01020304;
  for (size_t i = 0; i < 20; ++i) hs.scramble[i] = static_cast<uint8_t>(0x21 + i);
  hs.capabilities = cap::LONG_PASSWORD | cap::PROTOCOL_41 | cap::SECURE_CONNECTION | cap::PLUGIN_AUTH |
                    cap::CONNECT_WITH_DB | cap::DEPRECATE_EOF | cap::SESSION_TRACK | cap::CONNECT_ATTRS |
                    cap::PLUGIN_AUTH_LENENC_DATA | cap::TRANSACTIONS;
  hs.charset = charset::utf8mb4_general_ci;
  hs.status_flags = status::AUTOCOMMIT;
  hs.auth_plugin_name = "mysql_native_password";
  return hs;
}

}  // namespace

TEST_CASE("handshake v10: golden vector from the protocol docs") {
  auto framed = hex(kDocHandshake);
  const PacketHeader h = decode_header(framed.data());
  CHECK(h.length == framed.size() - 4);
  auto hs = decode_handshake_v10(payload_of(framed));
  REQUIRE(hs.ok());
  CHECK(hs->server_version == "5.5.2-m2");
  CHECK(hs->connection_id == 11);
  CHECK(hs->capabilities == 0xf7ff);
  CHECK(hs->charset == 8);
  CHECK(hs->status_flags == status::AUTOCOMMIT);
  CHECK(hs->auth_plugin_name.empty());
  const auto want = hex("64 76 48 40 49 2d 43 4a 2a 34 64 7c 63 5a 77 6b 34 5e 5d 3a");
  CHECK(std::vector<uint8_t>(hs->scramble.begin(), hs->scramble.end()) == want);
  // Our encoder writes the same bytes back.
  std::vector<uint8_t> out;
  encode_handshake_v10(*hs, out);
  CHECK(out == std::vector<uint8_t>(framed.begin() + 4, framed.end()));
}

TEST_CASE("handshake v10: round trip with plugin auth and every truncation fails") {
  const HandshakeV10 hs = sample_handshake();
  std::vector<uint8_t> p;
  encode_handshake_v10(hs, p);
  auto back = decode_handshake_v10(p);
  REQUIRE(back.ok());
  CHECK(back->server_version == hs.server_version);
  CHECK(back->connection_id == hs.connection_id);
  CHECK(back->scramble == hs.scramble);
  CHECK(back->capabilities == hs.capabilities);
  CHECK(back->charset == hs.charset);
  CHECK(back->status_flags == hs.status_flags);
  CHECK(back->auth_plugin_name == hs.auth_plugin_name);
  // Truncations before the plugin name must fail; inside the plugin name the missing NUL is
  // tolerated (MySQL bug #59453) so those decode with a shortened name.
  const size_t plugin_start = p.size() - hs.auth_plugin_name.size() - 1;
  for (size_t n = 0; n < plugin_start - 1; ++n) {
    CHECK_MESSAGE(!decode_handshake_v10(test::prefix(p, n)).ok(), "length ", n);
  }
}

TEST_CASE("handshake v10: MariaDB extended capabilities and a missing scramble NUL") {
  HandshakeV10 hs = sample_handshake();
  hs.capabilities &= ~cap::LONG_PASSWORD;
  hs.mariadb_ext_capabilities = 0x0000001d;
  std::vector<uint8_t> p;
  encode_handshake_v10(hs, p);
  auto back = decode_handshake_v10(p);
  REQUIRE(back.ok());
  CHECK(back->mariadb_ext_capabilities == 0x1d);
  CHECK(back->scramble == hs.scramble);

  // Without PLUGIN_AUTH and without the 13th scramble byte.
  HandshakeV10 old = sample_handshake();
  old.capabilities &= ~cap::PLUGIN_AUTH;
  std::vector<uint8_t> q;
  encode_handshake_v10(old, q);
  q.pop_back();  // drop the scramble's NUL
  auto b2 = decode_handshake_v10(q);
  REQUIRE(b2.ok());
  CHECK(b2->scramble == old.scramble);
}

TEST_CASE("handshake v10: rejects bad input") {
  auto p = hex("09 00");
  CHECK_FALSE(decode_handshake_v10(p).ok());
  HandshakeV10 hs = sample_handshake();
  hs.capabilities &= ~cap::SECURE_CONNECTION;
  std::vector<uint8_t> q;
  encode_handshake_v10(hs, q);
  CHECK_FALSE(decode_handshake_v10(q).ok());
}

TEST_CASE("handshake response41: golden vector from the protocol docs") {
  auto framed = hex(kDocResponse);
  CHECK(decode_header(framed.data()).length == framed.size() - 4);
  CHECK(decode_header(framed.data()).seq == 1);
  auto r = decode_handshake_response41(payload_of(framed));
  REQUIRE(r.ok());
  CHECK(r->capabilities == 0x000fa68d);
  CHECK(r->max_packet_size == 16777216);
  CHECK(r->charset == 8);
  CHECK(r->username == "pam");
  CHECK(r->auth_response.size() == 20);
  CHECK(static_cast<uint8_t>(r->auth_response[0]) == 0xab);
  CHECK(static_cast<uint8_t>(r->auth_response[19]) == 0x47);
  CHECK(r->database == "test");
  CHECK(r->auth_plugin_name == "mysql_native_password");
  CHECK(r->attributes.empty());
  std::vector<uint8_t> out;
  encode_handshake_response41(*r, out);
  CHECK(out == std::vector<uint8_t>(framed.begin() + 4, framed.end()));
  CHECK_FALSE(is_ssl_request(payload_of(framed)));
}

TEST_CASE("handshake response41: round trips under each flag combination") {
  const uint32_t base = cap::PROTOCOL_41 | cap::LONG_PASSWORD;
  const uint32_t combos[] = {
      base,
      base | cap::SECURE_CONNECTION,
      base | cap::SECURE_CONNECTION | cap::CONNECT_WITH_DB,
      base | cap::SECURE_CONNECTION | cap::PLUGIN_AUTH,
      base | cap::PLUGIN_AUTH_LENENC_DATA | cap::PLUGIN_AUTH | cap::CONNECT_ATTRS,
      base | cap::SECURE_CONNECTION | cap::PLUGIN_AUTH_LENENC_DATA | cap::PLUGIN_AUTH | cap::CONNECT_ATTRS |
          cap::CONNECT_WITH_DB,
  };
  for (uint32_t caps : combos) {
    HandshakeResponse41 r;
    r.capabilities = caps;
    r.max_packet_size = 1 << 30;
    r.charset = charset::utf8mb4_general_ci;
    r.username = "app@t1#cluster";
    r.auth_response = (caps & (cap::SECURE_CONNECTION | cap::PLUGIN_AUTH_LENENC_DATA))
                          ? std::string("\x01\x00\xff\x7f 20-byte-response!", 20)
                          : std::string("no-nul-inside");
    if (caps & cap::CONNECT_WITH_DB) r.database = "test";
    if (caps & cap::PLUGIN_AUTH) r.auth_plugin_name = "mysql_native_password";
    if (caps & cap::CONNECT_ATTRS) {
      r.attributes = {{"_client_name", "libmariadb"}, {"__ob_client_x", std::string(300, 'v')}, {"k", ""}};
    }
    std::vector<uint8_t> p;
    encode_handshake_response41(r, p);
    auto back = decode_handshake_response41(p);
    REQUIRE_MESSAGE(back.ok(), "caps ", caps);
    CHECK(back->capabilities == caps);
    CHECK(back->max_packet_size == r.max_packet_size);
    CHECK(back->username == r.username);
    CHECK(back->auth_response == r.auth_response);
    CHECK(back->database == r.database);
    CHECK(back->auth_plugin_name == r.auth_plugin_name);
    CHECK(back->attributes == r.attributes);
    // Every strict prefix either fails or (for a cut exactly at a field boundary at the end)
    // decodes to something different: it never reads out of bounds (ASan run) and never equals.
    for (size_t n = 0; n < p.size(); ++n) {
      auto t = decode_handshake_response41(test::prefix(p, n));
      // A plugin name that ends the packet may lack its NUL (old clients): that prefix is the same.
      const bool nul_tolerated = (caps & cap::PLUGIN_AUTH) && !(caps & cap::CONNECT_ATTRS) && n == p.size() - 1;
      if (t.ok() && !nul_tolerated) {
        const bool same = t->database == r.database && t->auth_plugin_name == r.auth_plugin_name &&
                          t->attributes == r.attributes && t->auth_response == r.auth_response;
        CHECK_MESSAGE(!same, "caps ", caps, " prefix ", n);
      }
    }
  }
}

TEST_CASE("handshake response41: MariaDB extended capabilities in the filler") {
  HandshakeResponse41 r;
  r.capabilities = cap::PROTOCOL_41 | cap::SECURE_CONNECTION;  // LONG_PASSWORD (CLIENT_MYSQL) clear
  r.username = "u";
  r.mariadb_ext_capabilities = 0x14;
  std::vector<uint8_t> p;
  encode_handshake_response41(r, p);
  CHECK(p[28] == 0x14);
  auto back = decode_handshake_response41(p);
  REQUIRE(back.ok());
  CHECK(back->mariadb_ext_capabilities == 0x14);
  r.capabilities |= cap::LONG_PASSWORD;  // a MySQL client: the filler stays zero
  p.clear();
  encode_handshake_response41(r, p);
  CHECK(p[28] == 0);
  CHECK(decode_handshake_response41(p)->mariadb_ext_capabilities == 0);
}

TEST_CASE("handshake response41: long auth response forces lenenc") {
  HandshakeResponse41 r;
  r.capabilities = cap::PROTOCOL_41 | cap::SECURE_CONNECTION;
  r.username = "u";
  r.auth_response.assign(300, 'x');
  std::vector<uint8_t> p;
  encode_handshake_response41(r, p);
  auto back = decode_handshake_response41(p);
  REQUIRE(back.ok());
  CHECK(back->auth_response == r.auth_response);
}

TEST_CASE("handshake response41: rejects 320 and malformed attributes") {
  HandshakeResponse41 r;
  r.capabilities = cap::PROTOCOL_41 | cap::SECURE_CONNECTION | cap::CONNECT_ATTRS;
  r.username = "u";
  r.attributes = {{"a", "b"}};
  std::vector<uint8_t> p;
  encode_handshake_response41(r, p);
  auto bad_len = p;
  bad_len[bad_len.size() - 5] = 0x09;  // attribute block length claims more than present
  CHECK_FALSE(decode_handshake_response41(bad_len).ok());
  auto old = p;
  old[1] &= static_cast<uint8_t>(~(cap::PROTOCOL_41 >> 8));
  CHECK_FALSE(decode_handshake_response41(old).ok());
}

TEST_CASE("ssl request") {
  std::vector<uint8_t> p;
  encode_ssl_request(cap::PROTOCOL_41 | cap::SECURE_CONNECTION, 1 << 24, 45, p);
  CHECK(p.size() == 32);
  CHECK(is_ssl_request(p));
  auto caps = decode_ssl_request_caps(p);
  REQUIRE(caps.ok());
  CHECK((*caps & cap::SSL) != 0);
  CHECK((*caps & cap::SECURE_CONNECTION) != 0);
  p.push_back(0);
  CHECK_FALSE(is_ssl_request(p));
  CHECK_FALSE(decode_ssl_request_caps(p).ok());
  std::vector<uint8_t> no_ssl(32, 0);
  CHECK_FALSE(is_ssl_request(no_ssl));
  CHECK_FALSE(decode_ssl_request_caps(no_ssl).ok());
}
