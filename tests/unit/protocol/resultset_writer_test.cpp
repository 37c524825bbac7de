#include "protocol/resultset_writer.h"

#include <doctest/doctest.h>

#include "protocol/column_def.h"
#include "protocol/packet.h"
#include "protocol/response_tracker.h"
#include "protocol/result_packets.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

namespace {

struct Framed {
  uint8_t seq;
  std::vector<uint8_t> payload;
};

std::vector<Framed> split(const std::vector<uint8_t>& stream) {
  PacketAssembler a(1 << 26);
  std::vector<Framed> out;
  std::span<const uint8_t> rest(stream);
  while (!rest.empty()) {
    auto used = a.feed(rest);
    REQUIRE(used.ok());
    rest = rest.subspan(*used);
    REQUIRE(a.has_packet());
    out.push_back(Framed{a.seq(), {a.payload().begin(), a.payload().end()}});
    a.pop();
  }
  return out;
}

}  // namespace

TEST_CASE("resultset writer: layout without DEPRECATE_EOF") {
  std::vector<uint8_t> out;
  const uint32_t caps = cap::PROTOCOL_41;
  const uint8_t next =
      encode_text_resultset({"Variable_name", "Value"}, {{"version", "1.0"}, {"empty", std::nullopt}}, caps, 1, out);
  auto pkts = split(out);
  REQUIRE(pkts.size() == 1 + 2 + 1 + 2 + 1);
  CHECK(next == 8);
  for (size_t i = 0; i < pkts.size(); ++i) CHECK(pkts[i].seq == i + 1);
  CHECK(pkts[0].payload == hex("02"));
  auto c0 = decode_column_definition41(pkts[1].payload);
  REQUIRE(c0.ok());
  CHECK(c0->catalog == "def");
  CHECK(c0->name == "Variable_name");
  CHECK(c0->org_name == "Variable_name");
  CHECK(c0->type == ColumnType::var_string);
  CHECK(c0->charset == charset::utf8mb4_general_ci);
  CHECK(c0->column_length == 13 * 4);
  CHECK(is_eof_packet(pkts[3].payload, caps));
  CHECK(pkts[4].payload == hex("07 76657273696f6e 03 312e30"));
  CHECK(pkts[5].payload == hex("05 656d707479 fb"));
  auto end = decode_eof(pkts[6].payload);
  REQUIRE(end.ok());
  CHECK(end->status_flags == status::AUTOCOMMIT);

  // The tracker agrees it is one complete response.
  ResponseTracker t;
  t.begin(Command::query, caps);
  for (size_t i = 0; i < pkts.size(); ++i) {
    const auto& p = pkts[i].payload;
    const auto step = t.on_packet(std::span<const uint8_t>(p.data(), t.capture_bytes(p[0], p.size())),
                                  static_cast<uint32_t>(p.size()));
    CHECK(step == (i + 1 == pkts.size() ? ResponseTracker::Step::done : ResponseTracker::Step::more));
  }
}

TEST_CASE("resultset writer: MariaDB's EXTENDED_TYPE_INFO adds an empty block to each column") {
  // libmariadb (the mariadb CLI) agrees to it and reads the block: without it, 2027 malformed packet.
  std::vector<uint8_t> out;
  encode_text_resultset({"a"}, {{"1"}}, cap::PROTOCOL_41, 1, out, status::AUTOCOMMIT, true);
  auto pkts = split(out);
  REQUIRE(pkts.size() == 5);
  auto c = decode_column_definition41(pkts[1].payload, true);
  REQUIRE(c.ok());
  CHECK(c->name == "a");
  CHECK(c->extended_type_info.empty());
  CHECK(c->type == ColumnType::var_string);
  CHECK(!decode_column_definition41(pkts[1].payload, false).ok());
  std::vector<uint8_t> plain;
  encode_text_resultset({"a"}, {{"1"}}, cap::PROTOCOL_41, 1, plain);
  CHECK(split(plain)[1].payload.size() + 1 == pkts[1].payload.size());
}

TEST_CASE("resultset writer: DEPRECATE_EOF ends with a 0xFE OK and no metadata EOF") {
  std::vector<uint8_t> out;
  const uint32_t caps = cap::PROTOCOL_41 | cap::DEPRECATE_EOF | cap::SESSION_TRACK;
  const uint8_t next =
      encode_text_resultset({"a"}, {{"1"}, {"2"}}, caps, 1, out, status::AUTOCOMMIT | status::IN_TRANS);
  auto pkts = split(out);
  REQUIRE(pkts.size() == 1 + 1 + 2 + 1);
  CHECK(next == 6);
  const auto& last = pkts.back().payload;
  CHECK(last[0] == 0xFE);
  CHECK(is_ok_terminator(last));
  auto ok = decode_ok(last, caps);
  REQUIRE(ok.ok());
  CHECK(ok->status_flags == (status::AUTOCOMMIT | status::IN_TRANS));
}

TEST_CASE("resultset writer: rows shorter than the column list are padded with NULL; zero rows") {
  std::vector<uint8_t> out;
  encode_text_resultset({"a", "b"}, {{"x"}}, cap::PROTOCOL_41, 0, out);
  auto pkts = split(out);
  REQUIRE(pkts.size() == 6);
  CHECK(pkts[4].payload == hex("01 78 fb"));
  out.clear();
  encode_text_resultset({"a"}, {}, cap::PROTOCOL_41, 0, out);
  CHECK(split(out).size() == 4);
}

TEST_CASE("framed ERR and OK") {
  std::vector<uint8_t> out;
  CHECK(encode_err_packet(2, ErrPacket{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied"}, out) == 3);
  CHECK(decode_header(out.data()).seq == 2);
  auto e = decode_err(std::span<const uint8_t>(out).subspan(4));
  REQUIRE(e.ok());
  CHECK(e->code == 1045);
  CHECK(e->sql_state == "28000");
  out.clear();
  CHECK(encode_ok_packet(0xFF, OkPacket{}, cap::PROTOCOL_41, out) == 0);
  CHECK(out == hex("07 00 00 ff 00 00 00 00 00 00 00"));
}
