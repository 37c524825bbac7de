// ClientChannel with the compressed protocol on: what the session reads (inner packets numbered
// from 0 whatever the client sent) and how responses are numbered (one past the frame that ended
// the request, as a server numbers them), with frames and packets that do not line up.
#include "proxy/client_channel.h"

#include <doctest/doctest.h>

#include "core/conn.h"
#include "protocol/compress.h"
#include "protocol/packet.h"
#include "protocol/wire.h"

using namespace odp;
using namespace odp::protocol;
using namespace std::literals;

namespace {

// Keeps what the channel sends to the client.
class CaptureConn final : public core::Conn {
 public:
  std::vector<uint8_t> sent;
  void set_handler(core::StreamHandler*) override {}
  void write(std::span<const uint8_t> bytes) override { sent.insert(sent.end(), bytes.begin(), bytes.end()); }
  size_t pending_output() const override { return 0; }
  bool above_high_watermark() const override { return false; }
  void start_reading() override {}
  void stop_reading() override {}
  void close(bool) override {}
};

std::vector<uint8_t> packet(uint8_t seq, std::string_view payload) {
  std::vector<uint8_t> out;
  put_u24(out, static_cast<uint32_t>(payload.size()));
  put_u8(out, seq);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void raw_frame(std::vector<uint8_t>& out, uint8_t seq, std::span<const uint8_t> body) {
  put_u24(out, static_cast<uint32_t>(body.size()));
  put_u8(out, seq);
  put_u24(out, 0);
  out.insert(out.end(), body.begin(), body.end());
}

std::vector<uint8_t> packet_seqs(std::span<const uint8_t> plain) {
  std::vector<uint8_t> seqs;
  size_t off = 0;
  while (off + kPacketHeaderBytes <= plain.size()) {
    const auto h = decode_header(plain.data() + off);
    seqs.push_back(h.seq);
    off += kPacketHeaderBytes + h.length;
  }
  CHECK(off == plain.size());
  return seqs;
}

// Decodes what the channel sent since `from`; returns the frames' sequence ids.
std::vector<uint8_t> sent_frame_seqs(const CaptureConn& conn, size_t from, std::vector<uint8_t>* plain = nullptr) {
  CompressedDecoder d(64ull << 20);
  std::vector<uint8_t> out;
  std::vector<CompressedFrame> frames;
  REQUIRE(d.feed(std::span<const uint8_t>(conn.sent).subspan(from), out, &frames).ok());
  CHECK(d.buffered_bytes() == 0);
  std::vector<uint8_t> seqs;
  for (const auto& f : frames) {
    CHECK(f.plain_bytes <= kMaxPacketChunk);
    seqs.push_back(f.seq);
  }
  if (plain != nullptr) *plain = std::move(out);
  return seqs;
}

struct Fixture {
  CaptureConn conn;
  proxy::ClientChannel channel{&conn};
  core::ByteBuffer in;  // what the session has not read yet
  Fixture() { channel.start_compression(64ull << 20); }
  void feed(const std::vector<uint8_t>& raw, size_t step) {
    for (size_t off = 0; off < raw.size(); off += step) {
      REQUIRE(channel.decode(std::span<const uint8_t>(raw).subspan(off, std::min(step, raw.size() - off)), in));
    }
  }
  void respond(std::string_view payload) { channel.write(packet(1, payload)); }
};

}  // namespace

TEST_CASE("client channel: pipelined commands in one frame come out numbered from 0") {
  // Connector/J after its login: a command with inner id 1, then one with id 0, in one frame.
  const auto a = packet(1, "\x03set autocommit=1");
  const auto b = packet(0, "\x03SELECT 1");
  std::vector<uint8_t> plain = a;
  plain.insert(plain.end(), b.begin(), b.end());
  std::vector<uint8_t> raw;
  encode_compressed(0, plain, raw);
  for (size_t step : {size_t{1}, size_t{6}, raw.size()}) {
    CAPTURE(step);
    Fixture f;
    f.feed(raw, step);
    REQUIRE(f.in.size() == plain.size());
    CHECK(packet_seqs(f.in.data()) == std::vector<uint8_t>{0, 0});
    // The session reads the first command: b follows it. Both answers continue frame 0.
    f.channel.request_read(b.size());
    f.respond("\x00\x00\x00\x02\x00\x00\x00"sv);
    f.in.consume(a.size());
    f.channel.request_read(0);
    const size_t second = f.conn.sent.size();
    f.respond("\x00\x00\x00\x02\x00\x00\x00"sv);
    f.in.consume(b.size());
    CHECK(sent_frame_seqs(f.conn, 0) == std::vector<uint8_t>{1, 1});
    CHECK(sent_frame_seqs(f.conn, second) == std::vector<uint8_t>{1});
  }
}

TEST_CASE("client channel: a request over several frames is answered after its last frame") {
  // A 0xFFFFFF + 100-byte command numbered 1, 3 (Connector/J) in frames 0 (raw, 0xFFFFFF bytes),
  // 1 (4 bytes) and 2, with the next command (its own frame 0) pipelined behind it.
  const size_t max = kMaxPacketChunk;
  std::vector<uint8_t> big;
  put_u24(big, static_cast<uint32_t>(max));
  put_u8(big, 1);
  big.push_back(0x03);
  big.resize(kPacketHeaderBytes + max, 'x');
  const auto tail = packet(3, std::string(100, 'y'));
  big.insert(big.end(), tail.begin(), tail.end());
  const auto next = packet(0, "\x0e");
  std::vector<uint8_t> raw;
  raw_frame(raw, 0, std::span<const uint8_t>(big).first(max));
  raw_frame(raw, 1, std::span<const uint8_t>(big).subspan(max, 4));
  encode_compressed(2, std::span<const uint8_t>(big).subspan(max + 4), raw);
  encode_compressed(0, next, raw);

  Fixture f;
  f.feed(raw, 1 << 16);
  REQUIRE(f.in.size() == big.size() + next.size());
  CHECK(packet_seqs(f.in.data()) == std::vector<uint8_t>{0, 1, 0});
  f.channel.request_read(next.size());
  f.respond("\x00\x00\x00\x02\x00\x00\x00"sv);
  f.in.consume(big.size());
  CHECK(sent_frame_seqs(f.conn, 0) == std::vector<uint8_t>{3});
  f.channel.request_read(0);
  const size_t second = f.conn.sent.size();
  f.respond("\x00\x00\x00\x02\x00\x00\x00"sv);
  CHECK(sent_frame_seqs(f.conn, second) == std::vector<uint8_t>{1});
}

TEST_CASE("client channel: LOAD DATA LOCAL contents continue the numbering, the OK follows their last frame") {
  Fixture f;
  std::vector<uint8_t> raw;
  const auto query = packet(0, "\x03LOAD DATA LOCAL INFILE 'f' INTO TABLE t");
  encode_compressed(0, query, raw);
  f.feed(raw, raw.size());
  f.channel.request_read(0);
  f.in.consume(query.size());
  f.channel.write(packet(1,
                         "\xfb"
                         "f"));  // the server asks for the file
  CHECK(sent_frame_seqs(f.conn, 0) == std::vector<uint8_t>{1});
  // The client sends its file in frames 2 and 3 (inner ids as it likes), then the empty packet.
  const auto d1 = packet(2, std::string(5000, 'a'));
  const auto d2 = packet(2, "");
  raw.clear();
  encode_compressed(2, d1, raw);
  encode_compressed(3, d2, raw);
  f.feed(raw, 7);
  CHECK(packet_seqs(f.in.data()) == std::vector<uint8_t>{0, 0});
  f.channel.request_read(0);
  const size_t ok_at = f.conn.sent.size();
  f.channel.write(packet(4, "\x00\x01\x00\x02\x00\x00\x00"sv));
  CHECK(sent_frame_seqs(f.conn, ok_at) == std::vector<uint8_t>{4});
}

TEST_CASE("client channel: a response of 16 MiB or more goes out in frames of at most 0xFFFFFF bytes") {
  const size_t max = kMaxPacketChunk;
  // A 17 MiB row: a 0xFFFFFF chunk and a continuation, written whole and in 64 KiB pieces.
  std::vector<uint8_t> response;
  std::vector<uint8_t> row(17u << 20);
  for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  encode_packet(1, row, response);
  REQUIRE(packet_seqs(response) == std::vector<uint8_t>{1, 2});
  for (size_t piece : {response.size(), size_t{65536}, max + 1}) {
    CAPTURE(piece);
    Fixture f;
    std::vector<uint8_t> raw;
    encode_compressed(0, packet(0, "\x03SELECT b FROM t"), raw);
    f.feed(raw, raw.size());
    f.channel.request_read(0);
    for (size_t off = 0; off < response.size(); off += piece) {
      f.channel.write(std::span<const uint8_t>(response).subspan(off, std::min(piece, response.size() - off)));
    }
    std::vector<uint8_t> back;
    auto seqs = sent_frame_seqs(f.conn, 0, &back);
    CHECK(back == response);
    REQUIRE(!seqs.empty());
    for (size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == static_cast<uint8_t>(1 + i));
  }
}

// OB 2.0 towards a client: requests unwrapped, each response framed with its request's id,
// numbered on from the request's last frame, held until end_response() flags the last frame.
TEST_CASE("client channel: OB 2.0 responses answer the request that ended in them") {
  CaptureConn conn;
  proxy::ClientChannel channel(&conn);
  channel.start_ob20(77, 64ull << 20, true);
  CHECK_FALSE(channel.passthrough());
  CHECK(channel.ob20());
  // Two pipelined requests: ids 10 (in two frames) and 11.
  Ob20RequestFramer client(77, 10, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> wire;
  const auto q1 = packet(0, "\x03SELECT 1"sv);
  const auto q2 = packet(0, "\x0e"sv);  // COM_PING
  client.wrap(std::span<const uint8_t>(q1).first(5), wire, expect);
  client.wrap(std::span<const uint8_t>(q1).subspan(5), wire, expect);
  client.wrap(q2, wire, expect);
  core::ByteBuffer plain;
  REQUIRE(channel.decode(wire, plain));
  CHECK(plain.size() == q1.size() + q2.size());
  CHECK(channel.holds_nothing());

  const auto ok = packet(1, "\x00\x00\x00\x02\x00\x00\x00"sv);
  channel.request_read(q2.size());  // the first request was read
  channel.write(ok);
  CHECK(conn.sent.empty());  // held: the response is not over
  channel.end_response();
  channel.request_read(0);
  channel.write(ok);
  channel.end_response();
  channel.end_response();  // nothing held: nothing sent

  Ob20ResponseReader reader(77, 1 << 20);
  std::vector<uint8_t> answers;
  REQUIRE(reader.feed(conn.sent, expect, answers));
  CHECK(expect.empty());  // both answered, each with its request id and numbering
  CHECK(answers.size() == 2 * ok.size());

  // A frame that fails its checks is refused; the answer goes to that frame's request.
  std::vector<uint8_t> bad;
  client.wrap(q1, bad, expect);
  bad[kOb20HeaderBytes + 2] ^= 1;
  CHECK_FALSE(channel.decode(bad, plain));
  CHECK(channel.error().find("OB 2.0 frame refused") != std::string::npos);
}
