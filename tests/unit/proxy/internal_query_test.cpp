#include "proxy/internal_query.h"

#include <doctest/doctest.h>

#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/rows.h"
#include "protocol/wire.h"

using namespace odp;
using namespace odp::protocol;
using odp::proxy::InternalQuery;

namespace {
void frame(std::vector<uint8_t>& out, uint8_t& seq, const std::vector<uint8_t>& payload) {
  seq = encode_packet(seq, payload, out);
}
}  // namespace

TEST_CASE("internal query: OK with session state, fed byte by byte") {
  uint32_t caps = cap::PROTOCOL_41 | cap::SESSION_TRACK | cap::DEPRECATE_EOF;
  InternalQuery q;
  auto req = q.begin_query("SET @@SESSION.x = 1", caps);
  CHECK(req.size() == 4 + 1 + 19);
  OkPacket ok;
  ok.status_flags = status::AUTOCOMMIT | status::SESSION_STATE_CHANGED;
  ok.session_state = "xyz";
  std::vector<uint8_t> payload, bytes;
  encode_ok(ok, caps, payload);
  uint8_t seq = 1;
  frame(bytes, seq, payload);
  bytes.push_back(0x42);  // the next response's first byte: not consumed
  InternalQuery::Step step = InternalQuery::Step::more;
  size_t pos = 0;
  while (step == InternalQuery::Step::more && pos < bytes.size()) {
    size_t used = 0;
    step = q.feed(std::span<const uint8_t>(bytes).subspan(pos, 1), &used);
    pos += used;
  }
  CHECK(step == InternalQuery::Step::done);
  CHECK(pos == bytes.size() - 1);
  REQUIRE(q.last_ok());
  CHECK(q.last_ok()->session_state == "xyz");
  CHECK_FALSE(q.error());
}

TEST_CASE("internal query: a text result set and an error") {
  uint32_t caps = cap::PROTOCOL_41 | cap::SESSION_TRACK | cap::DEPRECATE_EOF;
  InternalQuery q;
  q.begin_query("SELECT @a, @b", caps);
  std::vector<uint8_t> bytes, p;
  uint8_t seq = 1;
  p.clear();
  put_lenenc_int(p, 2);
  frame(bytes, seq, p);
  for (int i = 0; i < 2; ++i) {
    ColumnDefinition41 c;
    c.name = i == 0 ? "@a" : "@b";
    c.type = i == 0 ? ColumnType::longlong : ColumnType::var_string;
    p.clear();
    encode_column_definition41(c, p);
    frame(bytes, seq, p);
  }
  p.clear();
  encode_text_row({std::string_view("5"), std::nullopt}, p);
  frame(bytes, seq, p);
  p.clear();
  OkPacket end;
  encode_ok(end, caps, p, 0xFE);
  frame(bytes, seq, p);
  size_t used = 0;
  CHECK(q.feed(bytes, &used) == InternalQuery::Step::done);
  CHECK(used == bytes.size());
  REQUIRE(q.columns().size() == 2);
  REQUIRE(q.rows().size() == 1);
  CHECK(q.rows()[0][0] == std::optional<std::string>("5"));
  CHECK_FALSE(q.rows()[0][1]);

  q.begin_query("SET x=1", caps);
  bytes.clear();
  seq = 1;
  p.clear();
  ErrPacket e;
  e.code = 1193;
  e.message = "Unknown system variable";
  encode_err(e, p);
  frame(bytes, seq, p);
  CHECK(q.feed(bytes, &used) == InternalQuery::Step::done);
  REQUIRE(q.error());
  CHECK(q.error()->code == 1193);
}

TEST_CASE("internal query: garbage is an error, not a crash") {
  InternalQuery q;
  q.begin_query("SELECT 1", cap::PROTOCOL_41);
  std::vector<uint8_t> bytes = {0x05, 0x00, 0x00, 0x01, 0xFB, 'a', 'b', 'c', 'd'};  // LOCAL INFILE: never ours
  size_t used = 0;
  CHECK(q.feed(bytes, &used) == InternalQuery::Step::error);
}

TEST_CASE("internal query: a value larger than the bound is followed to its end, not kept") {
  // SET @t = REPEAT('x', 2000000); reading @t back must not end the session (a value the server
  // accepts): the answer is read to its end, the caller learns it was too large to keep.
  uint32_t caps = cap::PROTOCOL_41 | cap::DEPRECATE_EOF;
  InternalQuery q(1024);
  q.begin_query("SELECT @t", caps);
  std::vector<uint8_t> bytes, p;
  uint8_t seq = 1;
  put_lenenc_int(p, 1);
  frame(bytes, seq, p);
  ColumnDefinition41 c;
  c.name = "@t";
  p.clear();
  encode_column_definition41(c, p);
  frame(bytes, seq, p);
  p.clear();
  put_lenenc_str(p, std::string(2'000'000, 'x'));
  frame(bytes, seq, p);
  OkPacket ok;
  ok.status_flags = status::AUTOCOMMIT;
  p.clear();
  encode_ok(ok, caps, p, 0xFE);
  frame(bytes, seq, p);
  size_t pos = 0;
  InternalQuery::Step step = InternalQuery::Step::more;
  while (step == InternalQuery::Step::more && pos < bytes.size()) {
    size_t used = 0;
    step = q.feed(std::span<const uint8_t>(bytes).subspan(pos, std::min<size_t>(70000, bytes.size() - pos)), &used);
    pos += used;
  }
  CHECK(step == InternalQuery::Step::done);
  CHECK(pos == bytes.size());
  CHECK(q.overflowed());
  CHECK_FALSE(q.error());
}
