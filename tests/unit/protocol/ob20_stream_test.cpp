#include "protocol/ob20_stream.h"

#include <doctest/doctest.h>

#include "protocol/packet.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

namespace {

std::vector<uint8_t> command(uint8_t code, std::string_view body, uint8_t seq = 0) {
  std::vector<uint8_t> payload{code};
  payload.insert(payload.end(), body.begin(), body.end());
  std::vector<uint8_t> framed;
  encode_packet(seq, payload, framed);
  return framed;
}

// Splits a byte stream of whole frames into decoded frames (the test's own view of the wire).
std::vector<Ob20Frame> frames_of(const std::vector<uint8_t>& wire) {
  std::vector<Ob20Frame> out;
  std::span<const uint8_t> rest(wire);
  while (!rest.empty()) {
    size_t size = ob20_frame_size(rest);
    REQUIRE(size > 0);
    REQUIRE(size <= rest.size());
    auto f = decode_ob20_frame(rest.first(size));
    REQUIRE(f);
    out.push_back(*f);
    rest = rest.subspan(size);
  }
  return out;
}

std::vector<uint8_t> response_frame(uint32_t conn, uint32_t request, uint8_t seq, bool last,
                                    const std::vector<uint8_t>& mysql) {
  Ob20Header h;
  h.connection_id = conn;
  h.request_id = request;
  h.packet_seq = seq;
  h.comp_seq = seq;
  h.flags = last ? ob20flag::LAST_PACKET : 0;
  std::vector<uint8_t> out;
  encode_ob20_frame(h, {}, mysql, true, out);
  return out;
}

// Connection 7's one-frame answer (an OK packet) to `request`, numbered 1, with `extra` info.
std::vector<uint8_t> ok_answer(uint32_t request, uint32_t flags, std::span<const uint8_t> extra) {
  Ob20Header h;
  h.connection_id = 7;
  h.request_id = request;
  h.packet_seq = 1;
  h.flags = flags;
  std::vector<uint8_t> out;
  encode_ob20_frame(h, extra, hex("07 00 00 01 00 00 00 02 00 00 00"), true, out);
  return out;
}

// The trace records Ob20RequestReader keeps from a one-frame `SELECT 1` request of connection 9
// whose extra info is `extra` (in the format `flags` say).
std::vector<uint8_t> trace_kept(uint32_t flags, std::span<const uint8_t> extra) {
  Ob20Header h;
  h.connection_id = 9;
  h.request_id = 5;
  h.flags = ob20flag::LAST_PACKET | flags;
  std::vector<uint8_t> wire;
  encode_ob20_frame(h, extra, command(0x03, "SELECT 1"), true, wire);
  Ob20RequestReader reader(9, 1 << 20);
  std::vector<uint8_t> mysql;
  std::vector<Ob20RequestFrame> frames;
  REQUIRE(reader.feed(wire, mysql, frames));
  REQUIRE(frames.size() == 1);
  CHECK(mysql == command(0x03, "SELECT 1"));
  return frames[0].trace_info;
}

// The session records `reader` keeps from `answer` (fed whole, as the answer `expect` waits for).
std::vector<ObSessionRecord> session_records_read(Ob20ResponseReader& reader, const std::vector<uint8_t>& answer,
                                                  std::deque<Ob20PendingRequest>& expect) {
  std::vector<uint8_t> mysql;
  REQUIRE(reader.feed(answer, expect, mysql));
  std::vector<ObSessionRecord> got;
  reader.take_session_info(got);
  return got;
}

}  // namespace

TEST_CASE("ob20 stream: one command is OB-VECTORS' synthetic select 1 frame") {
  Ob20RequestFramer framer(0x0C000001, 1, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> out;
  framer.wrap(command(0x03, "select 1"), out, expect);
  CHECK(out == hex("29 00 00 00 00 00 00 ab 20 14 00 01 00 00 0c 01 00 00 00 0d 00 00 00 02 00 00 00 00 00 49 a3"
                   "09 00 00 00 03 73 65 6c 65 63 74 20 31 6e e9 6c ae"));
  REQUIRE(expect.size() == 1);
  CHECK(expect[0].request_id == 1);
  CHECK(expect[0].first_response_seq == 1);
  CHECK(framer.next_request_id() == 2);
}

TEST_CASE("ob20 stream: pieces of one command become numbered frames, the last one flagged") {
  Ob20RequestFramer framer(7, 100, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> out;
  const auto cmd = command(0x03, "select 'a streamed upload'");
  for (uint8_t b : cmd) framer.wrap(std::span<const uint8_t>(&b, 1), out, expect);
  auto frames = frames_of(out);
  REQUIRE(frames.size() == cmd.size());
  std::vector<uint8_t> joined;
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].header.packet_seq == i);
    CHECK(frames[i].header.request_id == 100);
    CHECK(frames[i].header.connection_id == 7);
    CHECK(static_cast<bool>(frames[i].header.flags & ob20flag::LAST_PACKET) == (i + 1 == frames.size()));
    joined.insert(joined.end(), frames[i].mysql_bytes.begin(), frames[i].mysql_bytes.end());
  }
  CHECK(joined == cmd);
  REQUIRE(expect.size() == 1);
  CHECK(expect[0].first_response_seq == frames.size());
}

TEST_CASE("ob20 stream: commands written back to back are separate requests; unanswered ones expect nothing") {
  Ob20RequestFramer framer(1, 0xFFFFFF, false);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> wire;
  auto a = command(0x03, "SET @a = 1");
  auto close = command(0x19, std::string_view("\x05\x00\x00\x00", 4));
  auto b = command(0x0e, "");
  wire.insert(wire.end(), a.begin(), a.end());
  wire.insert(wire.end(), close.begin(), close.end());
  wire.insert(wire.end(), b.begin(), b.end());
  std::vector<uint8_t> out;
  framer.wrap(wire, out, expect);
  auto frames = frames_of(out);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].header.request_id == 0xFFFFFF);  // wraps past 2^24 - 1 to 0
  CHECK(frames[1].header.request_id == 0);
  CHECK(frames[2].header.request_id == 1);
  for (const auto& f : frames) CHECK(f.header.packet_seq == 0);
  // Without checksums both fields read 0 ("skip").
  CHECK(out[29] == 0);
  CHECK(out[30] == 0);
  REQUIRE(expect.size() == 2);
  CHECK(expect[0].request_id == 0xFFFFFF);
  CHECK(expect[1].request_id == 1);
}

TEST_CASE("ob20 stream: a 16 MiB packet continues the same command") {
  Ob20RequestFramer framer(1, 5, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> body(0xFFFFFF + 10, 'x');
  body[0] = 0x03;
  std::vector<uint8_t> wire;
  encode_packet(0, body, wire);  // splits into a full packet and a short one
  std::vector<uint8_t> out;
  framer.wrap(wire, out, expect);
  auto frames = frames_of(out);
  REQUIRE(frames.size() >= 2);
  for (const auto& f : frames) {
    CHECK(f.header.request_id == 5);
    CHECK(f.mysql_bytes.size() <= kOb20MaxFramePayload);
  }
  CHECK((frames.back().header.flags & ob20flag::LAST_PACKET) != 0);
  REQUIRE(expect.size() == 1);
  CHECK(framer.next_request_id() == 6);
}

TEST_CASE("ob20 stream: responses are unwrapped in order and checked") {
  const auto ok = hex("07 00 00 01 00 00 00 02 00 00 00");
  std::deque<Ob20PendingRequest> expect{{10, 1}, {11, 1}};
  std::vector<uint8_t> wire = response_frame(3, 10, 1, false, ok);
  auto second = response_frame(3, 10, 2, true, ok);
  auto third = response_frame(3, 11, 1, true, ok);
  wire.insert(wire.end(), second.begin(), second.end());
  wire.insert(wire.end(), third.begin(), third.end());
  SUBCASE("whole") {
    Ob20ResponseReader reader(3, 1 << 20);
    std::vector<uint8_t> mysql;
    REQUIRE(reader.feed(wire, expect, mysql));
    CHECK(mysql.size() == 3 * ok.size());
    CHECK(expect.empty());
  }
  SUBCASE("byte at a time") {
    Ob20ResponseReader reader(3, 1 << 20);
    std::vector<uint8_t> mysql;
    for (uint8_t b : wire) REQUIRE(reader.feed(std::span<const uint8_t>(&b, 1), expect, mysql));
    CHECK(mysql.size() == 3 * ok.size());
    CHECK(expect.empty());
    CHECK(reader.frames() == 3);
  }
}

TEST_CASE("ob20 stream: a response that does not match is refused for good") {
  const auto ok = hex("07 00 00 01 00 00 00 02 00 00 00");
  std::deque<Ob20PendingRequest> expect{{10, 1}};
  Ob20ResponseReader reader(3, 1 << 20);
  std::vector<uint8_t> mysql;
  SUBCASE("payload checksum") {
    auto f = response_frame(3, 10, 1, true, ok);
    f[kOb20HeaderBytes + 2] ^= 0x40;
    auto r = reader.feed(f, expect, mysql);
    REQUIRE_FALSE(r);
    CHECK(std::string(r.error().what).find("checksum") != std::string::npos);
  }
  SUBCASE("header checksum") {
    auto f = response_frame(3, 10, 1, true, ok);
    f[19] ^= 0x01;  // payload length's low byte, covered by the header CRC
    CHECK_FALSE(reader.feed(f, expect, mysql));
  }
  SUBCASE("sequence") {
    CHECK_FALSE(reader.feed(response_frame(3, 10, 2, true, ok), expect, mysql));
  }
  SUBCASE("request id") {
    CHECK_FALSE(reader.feed(response_frame(3, 9, 1, true, ok), expect, mysql));
  }
  SUBCASE("connection id") {
    CHECK_FALSE(reader.feed(response_frame(4, 10, 1, true, ok), expect, mysql));
  }
  SUBCASE("nobody asked") {
    expect.clear();
    CHECK_FALSE(reader.feed(response_frame(3, 10, 1, true, ok), expect, mysql));
  }
  CHECK(mysql.empty());
  // Final: even a good frame is refused afterwards.
  std::deque<Ob20PendingRequest> again{{10, 1}};
  CHECK_FALSE(reader.feed(response_frame(3, 10, 1, true, ok), again, mysql));
}

TEST_CASE("ob20 stream: a LOCAL INFILE file continues the request that asked for it") {
  Ob20RequestFramer framer(3, 20, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> out;
  framer.wrap(command(0x03, "LOAD DATA LOCAL INFILE 'f' INTO TABLE t"), out, expect);
  REQUIRE(expect.size() == 1);
  // The server's frame 1 asks for the file (0xFB); the reader has seen it.
  Ob20ResponseReader reader(3, 1 << 20);
  std::vector<uint8_t> mysql;
  std::vector<uint8_t> ask = hex("02 00 00 01 fb 66");
  REQUIRE(reader.feed(response_frame(3, 20, 1, true, ask), expect, mysql));
  CHECK(expect.empty());
  framer.continue_request(reader.last_request_id(), static_cast<uint8_t>(reader.last_seq() + 1));
  out.clear();
  std::vector<uint8_t> file;
  encode_packet(2, std::vector<uint8_t>{'1', '\n'}, file);
  encode_packet(3, std::vector<uint8_t>{}, file);  // the empty packet ends the file
  framer.wrap(file, out, expect);
  auto frames = frames_of(out);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].header.request_id == 20);
  CHECK(frames[0].header.packet_seq == 2);
  CHECK((frames[0].header.flags & ob20flag::LAST_PACKET) != 0);
  REQUIRE(expect.size() == 1);
  CHECK(expect[0].request_id == 20);
  CHECK(expect[0].first_response_seq == 3);
  // The final OK continues the numbering; the next command is a new request.
  REQUIRE(reader.feed(response_frame(3, 20, 3, true, hex("07 00 00 04 00 01 00 02 00 00 00")), expect, mysql));
  out.clear();
  framer.wrap(command(0x0e, ""), out, expect);
  CHECK(frames_of(out)[0].header.request_id == 21);
}

TEST_CASE("ob20 stream: odp's responses to an OB 2.0 client end with a non-empty LAST_PACKET frame") {
  Ob20ResponseFramer framer(9, true);
  std::vector<uint8_t> out;
  framer.end_response(out);
  CHECK(out.empty());  // nothing held, nothing sent (a command without an answer)
  framer.respond_to(7, 3);
  const auto ok = hex("07 00 00 01 00 00 00 02 00 00 00");
  framer.write(ok, out);
  CHECK(out.empty());  // held until the response ends
  framer.end_response(out);
  auto frames = frames_of(out);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].header.request_id == 7);
  CHECK(frames[0].header.packet_seq == 3);
  CHECK(frames[0].header.connection_id == 9);
  CHECK((frames[0].header.flags & ob20flag::LAST_PACKET) != 0);
  CHECK(std::vector<uint8_t>(frames[0].mysql_bytes.begin(), frames[0].mysql_bytes.end()) == ok);

  // A large response: early frames carry all but the last held byte, numbered on.
  out.clear();
  framer.respond_to(8, 1);
  std::vector<uint8_t> big(3 * Ob20ResponseFramer::kHeldBytes + 17, 'r');
  for (size_t i = 0; i < big.size(); i += 1000)
    framer.write(std::span<const uint8_t>(big).subspan(i, std::min<size_t>(1000, big.size() - i)), out);
  framer.end_response(out);
  frames = frames_of(out);
  REQUIRE(frames.size() >= 2);
  size_t total = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].header.request_id == 8);
    CHECK(frames[i].header.packet_seq == 1 + i);
    CHECK(static_cast<bool>(frames[i].header.flags & ob20flag::LAST_PACKET) == (i + 1 == frames.size()));
    CHECK(!frames[i].mysql_bytes.empty());
    total += frames[i].mysql_bytes.size();
  }
  CHECK(total == big.size());
}

TEST_CASE("ob20 stream: an OB 2.0 client's requests are checked and unwrapped") {
  // The client side framed as odp frames its own requests to servers.
  Ob20RequestFramer client(42, 500, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> wire;
  auto q1 = command(0x03, "select 1");
  auto q2 = command(0x0e, "");
  client.wrap(q1, wire, expect);
  client.wrap(q2, wire, expect);
  SUBCASE("whole and in pieces") {
    for (size_t step : {size_t{1}, size_t{7}, wire.size()}) {
      Ob20RequestReader reader(42, 1 << 20);
      std::vector<uint8_t> mysql;
      std::vector<Ob20RequestFrame> frames;
      for (size_t off = 0; off < wire.size(); off += step)
        REQUIRE(
            reader.feed(std::span<const uint8_t>(wire).subspan(off, std::min(step, wire.size() - off)), mysql, frames));
      std::vector<uint8_t> want = q1;
      want.insert(want.end(), q2.begin(), q2.end());
      CHECK(mysql == want);
      REQUIRE(frames.size() == 2);
      CHECK(frames[0].request_id == 500);
      CHECK(frames[1].request_id == 501);
      CHECK(frames[0].mysql_bytes == q1.size());
      CHECK(reader.buffered_bytes() == 0);
    }
  }
  SUBCASE("another connection id") {
    Ob20RequestReader reader(43, 1 << 20);
    std::vector<uint8_t> mysql;
    std::vector<Ob20RequestFrame> frames;
    CHECK_FALSE(reader.feed(wire, mysql, frames));
  }
  SUBCASE("a spoiled payload") {
    wire[kOb20HeaderBytes + 1] ^= 0x20;
    Ob20RequestReader reader(42, 1 << 20);
    std::vector<uint8_t> mysql;
    std::vector<Ob20RequestFrame> frames;
    auto r = reader.feed(wire, mysql, frames);
    REQUIRE_FALSE(r);
    CHECK(std::string(r.error().what).find("checksum") != std::string::npos);
  }
}

TEST_CASE("ob20 stream: session records (SESS_INFO) go with the next request and come back with answers") {
  std::vector<uint8_t> records;
  const ObSessionRecord app{obsess::APPLICATION_INFO, "module=pay"}, sys{obsess::SYS_VAR, std::string("\0\x01x", 3)};
  const std::vector<ObSessionRecord> both{app, sys};
  encode_session_info(both, records);
  // Out: the first frame of the next request only, flagged as new-format extra info.
  Ob20RequestFramer framer(7, 100, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> wire;
  framer.attach_extra_info(records);
  framer.wrap(command(0x03, "SELECT 1"), wire, expect);
  framer.wrap(command(0x03, "SELECT 2"), wire, expect);
  auto frames = frames_of(wire);
  REQUIRE(frames.size() == 2);
  CHECK((frames[0].header.flags & (ob20flag::EXTRA_INFO | ob20flag::NEW_EXTRA_INFO)) ==
        (ob20flag::EXTRA_INFO | ob20flag::NEW_EXTRA_INFO));
  CHECK(std::vector<uint8_t>(frames[0].extra_info.begin(), frames[0].extra_info.end()) == records);
  CHECK(frames[0].mysql_bytes.size() == command(0x03, "SELECT 1").size());
  CHECK((frames[1].header.flags & ob20flag::EXTRA_INFO) == 0);
  // In: the records of an answer's frames, in order, transaction records left out.
  std::vector<uint8_t> with_txn = records;
  std::vector<ObSessionRecord> txn{{obsess::TXN_STATIC, "t"}};
  encode_session_info(txn, with_txn);
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, hex("01 02"), with_txn);  // not a session record
  const auto answer = ok_answer(100, ob20flag::LAST_PACKET | ob20flag::NEW_EXTRA_INFO, with_txn);
  Ob20ResponseReader reader(7, 1 << 20);
  std::vector<ObSessionRecord> got = session_records_read(reader, answer, expect);
  REQUIRE(got.size() == 2);
  CHECK(got[0].type == app.type);
  CHECK(got[0].bytes == app.bytes);
  CHECK(got[1].type == sys.type);
  CHECK(got[1].bytes == sys.bytes);
  reader.take_session_info(got);
  CHECK(got.empty());  // taken once
  // A malformed SESS_INFO is a broken frame.
  std::vector<uint8_t> bad;
  encode_ob20_extra_info_item(ob20extra::SESS_INFO, hex("04 00 ff ff 00 00"), bad);
  std::vector<ObSessionRecord> none;
  auto bad_items = decode_ob20_extra_info(bad);
  REQUIRE(bad_items);
  CHECK_FALSE(collect_session_info(*bad_items, none));
  const auto spoiled = ok_answer(101, ob20flag::LAST_PACKET | ob20flag::NEW_EXTRA_INFO, bad);
  std::deque<Ob20PendingRequest> next{{101, 1}};
  std::vector<uint8_t> mysql;
  CHECK_FALSE(reader.feed(spoiled, next, mysql));
}

TEST_CASE("ob20 stream: a driver's trace records are kept to pass on; attached records add up") {
  std::vector<uint8_t> extra, trace;
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, hex("74 72 61 63 65"), extra);
  encode_ob20_extra_info_item(ob20extra::FEEDBACK_PROXY_INFO, hex("00"), extra);  // not passed on
  encode_ob20_extra_info_item(ob20extra::FULL_LINK_TRACE, hex("01 02 03"), extra);
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, hex("74 72 61 63 65"), trace);
  encode_ob20_extra_info_item(ob20extra::FULL_LINK_TRACE, hex("01 02 03"), trace);
  CHECK(trace_kept(ob20flag::NEW_EXTRA_INFO, extra) == trace);
  // Towards the server: session records and the trace, attached separately, in one extra info.
  std::vector<uint8_t> records;
  const std::vector<ObSessionRecord> app{{obsess::APPLICATION_INFO, "m"}};
  encode_session_info(app, records);
  Ob20RequestFramer framer(9, 1, false);
  framer.attach_extra_info(records);
  framer.attach_extra_info(trace);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> out;
  framer.wrap(command(0x03, "SELECT 1"), out, expect);
  auto sent = frames_of(out);
  REQUIRE(sent.size() == 1);
  std::vector<uint8_t> both = records;
  both.insert(both.end(), trace.begin(), trace.end());
  CHECK(std::vector<uint8_t>(sent[0].extra_info.begin(), sent[0].extra_info.end()) == both);
  // Records staged for a request that never went are forgotten, not sent with the next one.
  framer.attach_extra_info(records);
  framer.forget_extra_info();
  out.clear();
  framer.wrap(command(0x03, "SELECT 2"), out, expect);
  sent = frames_of(out);
  REQUIRE(sent.size() == 1);
  CHECK((sent[0].header.flags & ob20flag::EXTRA_INFO) == 0);
}

TEST_CASE("ob20 stream: a server without the TLV format gets and sends extra info in the old format") {
  std::vector<uint8_t> records;
  const ObSessionRecord app{obsess::APPLICATION_INFO, "module=pay"};
  encode_session_info(std::vector<ObSessionRecord>{app}, records);
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, hex("74 72"), records);
  Ob20RequestFramer framer(7, 200, true);
  framer.set_new_extra_info(false);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> wire;
  framer.attach_extra_info(records);
  framer.wrap(command(0x03, "SELECT 1"), wire, expect);
  auto frames = frames_of(wire);
  REQUIRE(frames.size() == 1);
  CHECK((frames[0].header.flags & ob20flag::EXTRA_INFO) != 0);
  CHECK((frames[0].header.flags & ob20flag::NEW_EXTRA_INFO) == 0);
  // The old format: "sess_inf" with the SESS_INFO value, "ob_trace_info" with the trace bytes.
  auto items = decode_ob20_old_extra_info(frames[0].extra_info);
  REQUIRE(items);
  REQUIRE(items->size() == 2);
  CHECK((*items)[0].type == ob20extra::SESS_INFO);
  CHECK((*items)[1].type == ob20extra::TRACE_INFO);
  CHECK(std::vector<uint8_t>((*items)[1].value.begin(), (*items)[1].value.end()) == hex("74 72"));
  std::vector<ObSessionRecord> sent;
  REQUIRE(collect_session_info(*items, sent));
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].bytes == app.bytes);

  // Its answers' old-format session records are kept as the new format's are.
  std::vector<uint8_t> sess_value;
  encode_ob20_extra_info_item(obsess::CLIENT_ID, hex("63 31"), sess_value);
  std::vector<uint8_t> old;
  encode_ob20_old_extra_info_item(ob20extra::SESS_INFO, sess_value, old);
  const auto answer = ok_answer(200, ob20flag::LAST_PACKET, old);  // without NEW_EXTRA_INFO: the old format
  Ob20ResponseReader reader(7, 1 << 20);
  const std::vector<ObSessionRecord> got = session_records_read(reader, answer, expect);
  REQUIRE(got.size() == 1);
  CHECK(got[0].type == obsess::CLIENT_ID);
  CHECK(got[0].bytes == "c1");
}

TEST_CASE("ob20 stream: an OB 2.0 driver's old-format trace info is kept to pass on") {
  std::vector<uint8_t> old, want;
  encode_ob20_old_extra_info_item(ob20extra::TRACE_INFO, hex("61 62 63"), old);
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, hex("61 62 63"), want);
  CHECK(trace_kept(0, old) == want);
}
