#include "protocol/result_packets.h"

#include <doctest/doctest.h>

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "protocol/session_track.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

namespace {
constexpr uint32_t k41 = cap::PROTOCOL_41 | cap::TRANSACTIONS;

std::vector<uint8_t> payload(const char* framed_hex) {
  auto f = hex(framed_hex);
  REQUIRE(decode_header(f.data()).length == f.size() - 4);
  return {f.begin() + 4, f.end()};
}
}  // namespace

TEST_CASE("ok: golden vector from the protocol docs") {
  auto p = payload("07 00 00 02 00 00 00 02 00 00 00");
  CHECK(is_ok(p));
  auto ok = decode_ok(p, k41);
  REQUIRE(ok.ok());
  CHECK(ok->affected_rows == 0);
  CHECK(ok->last_insert_id == 0);
  CHECK(ok->status_flags == status::AUTOCOMMIT);
  CHECK(ok->warnings == 0);
  CHECK(ok->info.empty());
  std::vector<uint8_t> out;
  encode_ok(*ok, k41, out);
  CHECK(out == p);
  // The same bytes are a valid OK under SESSION_TRACK too (info absent).
  auto st = decode_ok(p, k41 | cap::SESSION_TRACK);
  REQUIRE(st.ok());
  CHECK(st->info.empty());
}

TEST_CASE("ok: round trips with info and session state, every truncation fails") {
  OkPacket ok;
  ok.affected_rows = 70000;
  ok.last_insert_id = 1ull << 40;
  ok.status_flags = status::AUTOCOMMIT | status::SESSION_STATE_CHANGED | status::IN_TRANS;
  ok.warnings = 3;
  ok.info = "Rows matched: 1  Changed: 1  Warnings: 0";
  ok.session_state = std::string("\x01\x05\x04test", 7);
  for (uint32_t caps : {k41, k41 | cap::SESSION_TRACK}) {
    for (uint8_t header : {uint8_t{0x00}, uint8_t{0xFE}}) {
      std::vector<uint8_t> p;
      encode_ok(ok, caps, p, header);
      auto back = decode_ok(p, caps);
      REQUIRE(back.ok());
      CHECK(back->affected_rows == ok.affected_rows);
      CHECK(back->last_insert_id == ok.last_insert_id);
      CHECK(back->status_flags == ok.status_flags);
      CHECK(back->warnings == ok.warnings);
      CHECK(back->info == ok.info);
      CHECK(back->session_state == ((caps & cap::SESSION_TRACK) ? ok.session_state : std::string()));
      // Without SESSION_TRACK info is string<EOF>: prefixes past the fixed part are valid OKs with a
      // shorter info. With it, every prefix past the fixed part but inside a lenenc string fails.
      const size_t fixed = 1 + lenenc_int_size(ok.affected_rows) + lenenc_int_size(ok.last_insert_id) + 4;
      for (size_t n = 0; n < fixed; ++n) CHECK_FALSE(decode_ok(test::prefix(p, n), caps).ok());
      if (caps & cap::SESSION_TRACK) {
        for (size_t n = fixed + 1; n < p.size(); ++n) {
          const size_t info_end = fixed + 1 + ok.info.size();
          if (n == info_end) continue;  // cut between info and session state: state absent, valid
          CHECK_MESSAGE(!decode_ok(test::prefix(p, n), caps).ok(), "prefix ", n);
        }
      }
    }
  }
  CHECK_FALSE(decode_ok(hex("ff 00 00 0200 0000"), k41).ok());
}

TEST_CASE("ok: pre-4.1 layouts") {
  OkPacket ok;
  ok.affected_rows = 1;
  ok.status_flags = status::AUTOCOMMIT;
  ok.info = "x";
  std::vector<uint8_t> p;
  encode_ok(ok, cap::TRANSACTIONS, p);
  CHECK(p == hex("00 01 00 0200 78"));
  std::vector<uint8_t> q;
  encode_ok(ok, 0, q);
  CHECK(q == hex("00 01 00 78"));
  auto back = decode_ok(q, 0);
  REQUIRE(back.ok());
  CHECK(back->info == "x");
}

TEST_CASE("err: golden vector from the protocol docs") {
  auto p = payload("17 00 00 01 ff 48 04 23 48 59 30 30 30 4e 6f 20 74 61 62 6c 65 73 20 75 73 65 64");
  CHECK(is_err(p));
  auto e = decode_err(p);
  REQUIRE(e.ok());
  CHECK(e->code == 1096);
  CHECK(e->sql_state == "HY000");
  CHECK(e->message == "No tables used");
  std::vector<uint8_t> out;
  encode_err(*e, out);
  CHECK(out == p);
  for (size_t n = 0; n < 9; ++n) {
    if (n == 3) continue;  // code only, no state marker: a valid pre-4.1 ERR
    CHECK_FALSE(decode_err(test::prefix(p, n)).ok());
  }
}

TEST_CASE("err: without sql state marker, and state normalisation") {
  auto e = decode_err(hex("ff 1004 546f6f206d616e7920636f6e6e656374696f6e73"));
  REQUIRE(e.ok());
  CHECK(e->code == errc::ER_CON_COUNT_ERROR);
  CHECK(e->sql_state == "HY000");
  CHECK(e->message == "Too many connections");
  std::vector<uint8_t> out;
  encode_err(ErrPacket{errc::ER_ACCESS_DENIED_ERROR, "28", "denied"}, out);
  auto back = decode_err(out);
  REQUIRE(back.ok());
  CHECK(back->sql_state == "28000");
  CHECK(back->message == "denied");
}

TEST_CASE("eof: golden vector from the protocol docs") {
  auto p = payload("05 00 00 05 fe 00 00 02 00");
  CHECK(is_eof_packet(p, k41));
  CHECK(is_ok_terminator(p));
  auto e = decode_eof(p);
  REQUIRE(e.ok());
  CHECK(e->warnings == 0);
  CHECK(e->status_flags == status::AUTOCOMMIT);
  std::vector<uint8_t> out;
  encode_eof(*e, out);
  CHECK(out == p);
  CHECK(decode_eof(hex("fe")).ok());
  CHECK_FALSE(decode_eof(hex("fe 00")).ok());
  CHECK_FALSE(decode_eof(hex("fe 00 00 02")).ok());
  CHECK_FALSE(decode_eof({}).ok());
  CHECK_FALSE(decode_eof(hex("fe 0000 0200 0000 0000")).ok());  // 9 bytes: not an EOF
}

TEST_CASE("classifiers") {
  CHECK_FALSE(is_err({}));
  CHECK_FALSE(is_eof_packet(std::span<const uint8_t>{}, 0));
  CHECK_FALSE(is_ok_terminator(std::span<const uint8_t>{}));
  std::vector<uint8_t> nine = hex("fe 0000 0200 0000 0000");
  CHECK_FALSE(is_eof_packet(nine, k41));
  CHECK(is_ok_terminator(nine));
  CHECK(is_eof_packet(0xFE, 5));
  CHECK_FALSE(is_eof_packet(0xFE, 9));
  CHECK(is_ok_terminator(0xFE, 0xFFFFFE));
  CHECK_FALSE(is_ok_terminator(0xFE, 0xFFFFFF));  // a row starting with a 2^24+ byte lenenc string
  CHECK_FALSE(is_ok_terminator(0x00, 7));
}

TEST_CASE("session track: MariaDB 10.11's record for SET sql_mode (state-change flag sent raw)") {
  // Captured from MariaDB 10.11 with session_track_system_variables='*' and
  // session_track_state_change=ON, after SET SESSION sql_mode='ANSI_QUOTES'.
  const auto bytes = hex("00150873716c5f6d6f64650b414e53495f51554f544553020131");
  auto records = decode_session_track(std::span<const uint8_t>(bytes));
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK((*records)[0].type == SessionTrackType::system_variables);
  CHECK((*records)[0].name == "sql_mode");
  CHECK((*records)[0].value == "ANSI_QUOTES");
  CHECK((*records)[1].type == SessionTrackType::state_change);
  CHECK((*records)[1].value == "1");
  // MySQL's form (a lenenc string inside) reads the same.
  const auto mysql =
      hex("0202"
          "0131");
  auto m = decode_session_track(std::span<const uint8_t>(mysql));
  REQUIRE(m.ok());
  CHECK((*m)[0].value == "1");
}

TEST_CASE("ok: without session state for a client that did not ask for it") {
  OkPacket ok;
  ok.affected_rows = 3;
  ok.status_flags = status::AUTOCOMMIT | status::SESSION_STATE_CHANGED;
  ok.info = "Rows matched: 3";
  ok.session_state = "\x01\x05\x04test";
  std::vector<uint8_t> p;
  encode_ok_without_session_state(ok, cap::PROTOCOL_41, p, 0xFE);
  CHECK(p[0] == 0xFE);
  auto back = decode_ok(p, cap::PROTOCOL_41);
  REQUIRE(back.ok());
  CHECK(back->affected_rows == 3);
  CHECK(back->status_flags == status::AUTOCOMMIT);
  CHECK(back->info == "Rows matched: 3");
  CHECK(back->session_state.empty());
}
