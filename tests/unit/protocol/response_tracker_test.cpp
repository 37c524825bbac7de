#include "protocol/response_tracker.h"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "protocol/column_def.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/prepare_ok.h"
#include "protocol/result_packets.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;
using Step = ResponseTracker::Step;

namespace {

constexpr uint32_t kBase = cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::SECURE_CONNECTION | cap::MULTI_RESULTS |
                           cap::PS_MULTI_RESULTS | cap::SESSION_TRACK;
constexpr uint32_t kDep = kBase | cap::DEPRECATE_EOF;

// A server packet: its payload, or (for big rows) just a head and a declared length.
struct Pkt {
  std::vector<uint8_t> payload;
  uint32_t declared_len = 0;  // 0: payload.size()
};

Pkt ok(uint16_t flags, uint8_t header = 0x00, uint64_t affected = 0) {
  OkPacket o;
  o.status_flags = flags;
  o.affected_rows = affected;
  Pkt p;
  encode_ok(o, kBase, p.payload, header);
  return p;
}
Pkt eof(uint16_t flags) {
  Pkt p;
  encode_eof(EofPacket{0, flags}, p.payload);
  return p;
}
Pkt err(uint16_t code) {
  Pkt p;
  encode_err(ErrPacket{code, "HY000", "boom"}, p.payload);
  return p;
}
Pkt count(uint64_t n) {
  Pkt p;
  put_lenenc_int(p.payload, n);
  return p;
}
Pkt coldef(const std::string& name) {
  ColumnDefinition41 c;
  c.name = name;
  Pkt p;
  encode_column_definition41(c, p.payload);
  return p;
}
Pkt text_row(std::initializer_list<const char*> values) {
  Pkt p;
  for (const char* v : values) {
    if (v == nullptr) {
      put_u8(p.payload, 0xFB);
    } else {
      put_lenenc_str(p.payload, v);
    }
  }
  return p;
}
Pkt binary_row() {
  return Pkt{hex("00 00 01000000"), 0};
}  // header, null bitmap, INT 1
Pkt raw(const char* h) {
  return Pkt{hex(h), 0};
}
Pkt prepare_ok_pkt(uint32_t id, uint16_t cols, uint16_t params) {
  Pkt p;
  encode_prepare_ok(PrepareOk{id, cols, params, 0}, p.payload);
  return p;
}

// Runs packets through the tracker the way the proxy does: capture_bytes of each, then on_packet.
std::vector<Step> run(ResponseTracker& t, const std::vector<Pkt>& pkts) {
  std::vector<Step> steps;
  for (const auto& p : pkts) {
    const uint32_t len = p.declared_len ? p.declared_len : static_cast<uint32_t>(p.payload.size());
    const size_t want = p.payload.empty() ? 0 : t.capture_bytes(p.payload[0], len);
    REQUIRE(want <= len);
    REQUIRE(want <= p.payload.size());
    steps.push_back(t.on_packet(std::span<const uint8_t>(p.payload.data(), want), len));
  }
  return steps;
}

std::vector<Step> run(Command cmd, uint32_t caps, const std::vector<Pkt>& pkts, ResponseTracker* out = nullptr) {
  ResponseTracker local;
  ResponseTracker& t = out ? *out : local;
  t.begin(cmd, caps);
  return run(t, pkts);
}

std::vector<Step> mores_then(size_t n, Step last) {
  std::vector<Step> v(n, Step::more);
  v.push_back(last);
  return v;
}

}  // namespace

TEST_CASE("tracker: simple commands end at OK or ERR") {
  for (Command c : {Command::ping, Command::init_db, Command::reset_connection, Command::stmt_reset,
                    Command::process_kill, Command::refresh, Command::create_db}) {
    ResponseTracker t;
    CHECK(t.expects_response(c));
    CHECK(run(c, kBase, {ok(status::AUTOCOMMIT)}, &t) == std::vector<Step>{Step::done});
    CHECK(t.last_status_flags() == status::AUTOCOMMIT);
    CHECK_FALSE(t.last_was_error());
    CHECK(run(c, kBase, {err(errc::ER_BAD_DB_ERROR)}, &t) == std::vector<Step>{Step::done});
    CHECK(t.last_was_error());
    CHECK(t.last_error_code() == errc::ER_BAD_DB_ERROR);
  }
  CHECK(run(Command::ping, kBase, {raw("03 00")}) == std::vector<Step>{Step::error});
}

TEST_CASE("tracker: commands without a response") {
  ResponseTracker t;
  for (Command c : {Command::quit, Command::stmt_close, Command::stmt_send_long_data}) {
    CHECK_FALSE(t.expects_response(c));
    t.begin(c, kBase);
    CHECK(t.finished());
  }
  CHECK(t.expects_response(Command::query));
}

TEST_CASE("tracker: golden text result set from the protocol docs (no DEPRECATE_EOF)") {
  // SELECT @@version_comment LIMIT 1, as in the MySQL COM_QUERY response documentation.
  const char* framed[] = {
      "01 00 00 01 01",
      ("27 00 00 02 03 64 65 66 00 00 00 11 40 40 76 65 72 73 69 6f 6e 5f 63 6f 6d 6d 65 6e 74 00 0c 08 00 1c 00 00 00 "
       "fd 00 00 1f 00 00"),
      "05 00 00 03 fe 00 00 02 00",
      "1d 00 00 04 1c 4d 79 53 51 4c 20 43 6f 6d 6d 75 6e 69 74 79 20 53 65 72 76 65 72 20 28 47 50 4c 29",
      "05 00 00 05 fe 00 00 02 00",
  };
  std::vector<Pkt> pkts;
  for (const char* f : framed) {
    auto b = hex(f);
    REQUIRE(decode_header(b.data()).length == b.size() - 4);
    pkts.push_back(Pkt{std::vector<uint8_t>(b.begin() + 4, b.end()), 0});
  }
  auto col = decode_column_definition41(pkts[1].payload);
  REQUIRE(col.ok());
  CHECK(col->name == "@@version_comment");
  CHECK(col->type == ColumnType::var_string);
  CHECK(col->column_length == 28);
  CHECK(col->decimals == 0x1f);
  ResponseTracker t;
  CHECK(run(Command::query, kBase & ~cap::DEPRECATE_EOF, pkts, &t) == mores_then(4, Step::done));
  CHECK(t.rows() == 1);
  CHECK(t.result_sets() == 1);
  CHECK(t.last_status_flags() == status::AUTOCOMMIT);
}

TEST_CASE("tracker: text result set with DEPRECATE_EOF") {
  ResponseTracker t;
  auto steps = run(Command::query, kDep,
                   {count(2), coldef("a"), coldef("b"), text_row({"1", nullptr}), text_row({"", "x"}),
                    ok(status::AUTOCOMMIT | status::IN_TRANS, 0xFE)},
                   &t);
  CHECK(steps == mores_then(5, Step::done));
  CHECK(t.rows() == 2);
  CHECK(t.last_status_flags() == (status::AUTOCOMMIT | status::IN_TRANS));
  // Empty result set.
  CHECK(run(Command::query, kDep, {count(1), coldef("a"), ok(status::AUTOCOMMIT, 0xFE)}) == mores_then(2, Step::done));
  CHECK(run(Command::query, kBase, {count(1), coldef("a"), eof(2), eof(2)}) == mores_then(3, Step::done));
}

TEST_CASE("tracker: OK-only results and multi-statements") {
  const uint16_t more = status::AUTOCOMMIT | status::MORE_RESULTS_EXISTS;
  CHECK(run(Command::query, kBase, {ok(status::AUTOCOMMIT)}) == std::vector<Step>{Step::done});
  // "INSERT ...; SELECT ...; UPDATE ..."
  for (uint32_t caps : {kBase, kDep}) {
    const bool dep = caps & cap::DEPRECATE_EOF;
    std::vector<Pkt> pkts{ok(more, 0x00, 1), count(1), coldef("a")};
    if (!dep) pkts.push_back(eof(more & ~status::MORE_RESULTS_EXISTS));
    pkts.push_back(text_row({"1"}));
    pkts.push_back(dep ? ok(more, 0xFE) : eof(more));
    pkts.push_back(ok(status::AUTOCOMMIT, 0x00, 3));
    ResponseTracker t;
    CHECK(run(Command::query, caps, pkts, &t) == mores_then(pkts.size() - 1, Step::done));
    CHECK(t.last_affected_rows() == 3);
    CHECK(t.result_sets() == 1);
  }
  // An error in the second statement ends the response.
  ResponseTracker t;
  CHECK(run(Command::query, kBase, {ok(more), err(1064)}, &t) == mores_then(1, Step::done));
  CHECK(t.last_was_error());
  CHECK(t.status_known());
  CHECK(t.last_status_flags() == status::AUTOCOMMIT);  // MORE_RESULTS_EXISTS cleared
  CHECK(run(Command::query, kBase, {err(1064)}, &t) == std::vector<Step>{Step::done});
  CHECK_FALSE(t.status_known());
}

TEST_CASE("tracker: CALL of a stored procedure returning two result sets") {
  const uint16_t more = status::AUTOCOMMIT | status::MORE_RESULTS_EXISTS;
  std::vector<Pkt> pkts{count(1),
                        coldef("x"),
                        eof(more),
                        text_row({"1"}),
                        eof(more),  // set 1
                        count(2),
                        coldef("y"),
                        coldef("z"),
                        eof(more),
                        eof(more),                // set 2, no rows
                        ok(status::AUTOCOMMIT)};  // CALL's own OK
  ResponseTracker t;
  CHECK(run(Command::query, kBase, pkts, &t) == mores_then(pkts.size() - 1, Step::done));
  CHECK(t.result_sets() == 2);
  std::vector<Pkt> dep{count(1), coldef("x"), text_row({"1"}), ok(more, 0xFE), ok(status::AUTOCOMMIT)};
  CHECK(run(Command::query, kDep, dep) == mores_then(dep.size() - 1, Step::done));
}

TEST_CASE("tracker: MariaDB progress reports do not end a response") {
  const Pkt progress = raw("ff ffff 01 01 02 400d0300 0c 73746167652031");
  ResponseTracker t;
  CHECK(run(Command::query, kBase, {progress, progress, ok(2, 0x00, 4)}, &t) == mores_then(2, Step::done));
  CHECK_FALSE(t.last_was_error());
  CHECK(t.last_affected_rows() == 4);
}

TEST_CASE("tracker: error in the middle of rows") {
  ResponseTracker t;
  CHECK(run(Command::query, kBase, {count(1), coldef("a"), eof(2), text_row({"1"}), err(errc::ER_QUERY_INTERRUPTED)},
            &t) == mores_then(4, Step::done));
  CHECK(t.last_was_error());
  CHECK(t.last_error_code() == errc::ER_QUERY_INTERRUPTED);
}

TEST_CASE("tracker: a row starting with 0xFE (a 2^24+ byte string) is not a terminator") {
  Pkt big;
  big.payload = hex("fe 0000000001000000");  // lenenc 2^24; the rest of the row follows
  big.declared_len = kMaxPacketChunk;
  for (uint32_t caps : {kBase, kDep}) {
    ResponseTracker t;
    t.begin(Command::query, caps);
    std::vector<Pkt> head{count(1), coldef("blob")};
    if (!(caps & cap::DEPRECATE_EOF)) head.push_back(eof(2));
    CHECK(run(t, head) == std::vector<Step>(head.size(), Step::more));
    CHECK(t.capture_bytes(0xFE, kMaxPacketChunk) == 1);
    CHECK(run(t, {big}) == std::vector<Step>{Step::more});  // continuation packets are skipped by the caller
    CHECK(run(t, {(caps & cap::DEPRECATE_EOF) ? ok(2, 0xFE) : eof(2)}) == std::vector<Step>{Step::done});
    CHECK(t.rows() == 1);
  }
}

TEST_CASE("tracker: LOCAL INFILE") {
  ResponseTracker t;
  t.begin(Command::query, kBase);
  CHECK(t.capture_bytes(0xFB, 12) == 12);
  CHECK(run(t, {raw("fb 2f746d702f782e637376")}) == std::vector<Step>{Step::local_infile});
  CHECK(t.waiting_for_local_infile());
  t.on_local_infile_sent();
  CHECK(run(t, {ok(status::AUTOCOMMIT, 0x00, 10)}) == std::vector<Step>{Step::done});
  CHECK(t.last_affected_rows() == 10);
  // A server packet while the client should be sending the file is a protocol error.
  t.begin(Command::query, kBase);
  CHECK(run(t, {raw("fb 61"), ok(2)}) == std::vector<Step>{Step::local_infile, Step::error});
  // Multi-statement: LOAD DATA then SELECT.
  t.begin(Command::query, kDep);
  CHECK(run(t, {raw("fb 61")}) == std::vector<Step>{Step::local_infile});
  t.on_local_infile_sent();
  CHECK(run(t, {ok(status::MORE_RESULTS_EXISTS), count(1), coldef("a"), ok(0, 0xFE)}) == mores_then(3, Step::done));
  // A prepared LOAD DATA LOCAL INFILE: the execute's answer asks for the file, then its OK.
  t.begin(Command::stmt_execute, kDep);
  CHECK(run(t, {raw("fb 61")}) == std::vector<Step>{Step::local_infile});
  t.on_local_infile_sent();
  CHECK(run(t, {ok(status::AUTOCOMMIT, 0x00, 2)}) == std::vector<Step>{Step::done});
  CHECK(t.last_affected_rows() == 2);
  // Not valid for other commands.
  CHECK(run(Command::ping, kBase, {raw("fb 61")}) == std::vector<Step>{Step::error});
}

TEST_CASE("tracker: COM_STMT_PREPARE") {
  for (uint32_t caps : {kBase, kDep}) {
    const bool dep = caps & cap::DEPRECATE_EOF;
    ResponseTracker t;
    std::vector<Pkt> pkts{prepare_ok_pkt(7, 1, 2), coldef("?"), coldef("?")};
    if (!dep) pkts.push_back(eof(2));
    pkts.push_back(coldef("c"));
    if (!dep) pkts.push_back(eof(2));
    CHECK(run(Command::stmt_prepare, caps, pkts, &t) == mores_then(pkts.size() - 1, Step::done));
    REQUIRE(t.prepare_ok());
    CHECK(t.prepare_ok()->statement_id == 7);
    CHECK(t.prepare_ok()->num_params == 2);
    CHECK(t.prepare_ok()->num_columns == 1);

    CHECK(run(Command::stmt_prepare, caps, {prepare_ok_pkt(1, 0, 0)}) == std::vector<Step>{Step::done});
    std::vector<Pkt> params_only{prepare_ok_pkt(2, 0, 1), coldef("?")};
    if (!dep) params_only.push_back(eof(2));
    CHECK(run(Command::stmt_prepare, caps, params_only) == mores_then(params_only.size() - 1, Step::done));
    std::vector<Pkt> cols_only{prepare_ok_pkt(3, 2, 0), coldef("a"), coldef("b")};
    if (!dep) cols_only.push_back(eof(2));
    CHECK(run(Command::stmt_prepare, caps, cols_only) == mores_then(cols_only.size() - 1, Step::done));
  }
  ResponseTracker t;
  CHECK(run(Command::stmt_prepare, kBase, {err(1064)}, &t) == std::vector<Step>{Step::done});
  CHECK(t.last_was_error());
  CHECK_FALSE(t.prepare_ok());
  CHECK(run(Command::stmt_prepare, kBase, {raw("00 01")}) == std::vector<Step>{Step::error});
  CHECK(run(Command::stmt_prepare, kBase, {prepare_ok_pkt(1, 1, 0), coldef("a"), ok(2)}) ==
        std::vector<Step>{Step::more, Step::more, Step::error});
}

TEST_CASE("tracker: COM_STMT_EXECUTE with binary rows, OK, and cursors") {
  // Binary rows start with 0x00 and must not be taken for OK packets.
  ResponseTracker t;
  CHECK(run(Command::stmt_execute, kBase, {count(1), coldef("a"), eof(2), binary_row(), binary_row(), eof(2)}, &t) ==
        mores_then(5, Step::done));
  CHECK(t.rows() == 2);
  CHECK(run(Command::stmt_execute, kDep, {count(1), coldef("a"), binary_row(), ok(2, 0xFE)}) ==
        mores_then(3, Step::done));
  CHECK(run(Command::stmt_execute, kBase, {ok(2, 0x00, 5)}, &t) == std::vector<Step>{Step::done});
  CHECK(t.last_affected_rows() == 5);
  // Cursor asked for and opened: no rows after the column definitions.
  const uint16_t cursor = status::AUTOCOMMIT | status::CURSOR_EXISTS;
  const uint8_t with_cursor[] = {0x17, 1, 0, 0, 0, odp::protocol::cursor::READ_ONLY};
  t.begin(Command::stmt_execute, kBase, with_cursor, sizeof with_cursor);
  CHECK(run(t, {count(1), coldef("a"), eof(cursor)}) == mores_then(2, Step::done));
  CHECK((t.last_status_flags() & status::CURSOR_EXISTS) != 0);
  CHECK(t.cursor_opened());
  // Not asked for: a procedure that opened (and closed) a cursor of its own reports
  // CURSOR_EXISTS there too, and its rows follow.
  const uint8_t no_cursor[] = {0x17, 1, 0, 0, 0, odp::protocol::cursor::NO_CURSOR};
  t.begin(Command::stmt_execute, kBase, no_cursor, sizeof no_cursor);
  CHECK(run(t, {count(1), coldef("a"), eof(cursor), binary_row(), eof(status::AUTOCOMMIT)}) ==
        mores_then(4, Step::done));
  CHECK_FALSE(t.cursor_opened());
  CHECK(run(Command::stmt_execute, kDep, {count(1), coldef("a"), ok(cursor, 0xFE)}, &t) == mores_then(2, Step::done));
  CHECK((t.last_status_flags() & status::CURSOR_EXISTS) != 0);
  // PS multi-results (CALL via a prepared statement).
  const uint16_t more = status::AUTOCOMMIT | status::MORE_RESULTS_EXISTS | status::PS_OUT_PARAMS;
  CHECK(run(Command::stmt_execute, kBase,
            {count(1), coldef("o"), eof(more), binary_row(), eof(more), ok(status::AUTOCOMMIT)}) ==
        mores_then(5, Step::done));
}

TEST_CASE("tracker: COM_STMT_FETCH") {
  const uint16_t cursor = status::AUTOCOMMIT | status::CURSOR_EXISTS;
  CHECK(run(Command::stmt_fetch, kBase, {binary_row(), binary_row(), eof(cursor)}) == mores_then(2, Step::done));
  ResponseTracker t;
  CHECK(run(Command::stmt_fetch, kBase, {binary_row(), eof(status::AUTOCOMMIT | status::LAST_ROW_SENT)}, &t) ==
        mores_then(1, Step::done));
  CHECK((t.last_status_flags() & status::LAST_ROW_SENT) != 0);
  CHECK(run(Command::stmt_fetch, kDep, {binary_row(), ok(cursor, 0xFE)}) == mores_then(1, Step::done));
  CHECK(run(Command::stmt_fetch, kBase, {err(errc::ER_UNKNOWN_STMT_HANDLER)}) == std::vector<Step>{Step::done});
  CHECK(run(Command::stmt_fetch, kBase, {eof(status::LAST_ROW_SENT)}) == std::vector<Step>{Step::done});
}

TEST_CASE("tracker: COM_FIELD_LIST, COM_STATISTICS, COM_SET_OPTION") {
  CHECK(run(Command::field_list, kBase, {coldef("a"), coldef("b"), eof(2)}) == mores_then(2, Step::done));
  CHECK(run(Command::field_list, kDep, {coldef("a"), ok(2, 0xFE)}) == mores_then(1, Step::done));
  CHECK(run(Command::field_list, kBase, {eof(2)}) == std::vector<Step>{Step::done});
  CHECK(run(Command::field_list, kBase, {err(1146)}) == std::vector<Step>{Step::done});
  CHECK(run(Command::statistics, kBase, {Pkt{test::bytes_of("Uptime: 5  Threads: 1"), 0}}) ==
        std::vector<Step>{Step::done});
  ResponseTracker t;
  CHECK(run(Command::statistics, kBase, {err(1227)}, &t) == std::vector<Step>{Step::done});
  CHECK(t.last_was_error());
  CHECK(run(Command::set_option, kBase, {eof(2)}) == std::vector<Step>{Step::done});
  CHECK(run(Command::set_option, kBase, {ok(2)}) == std::vector<Step>{Step::done});
  CHECK(run(Command::set_option, kBase, {err(1047)}) == std::vector<Step>{Step::done});
}

TEST_CASE("tracker: COM_CHANGE_USER auth exchange") {
  CHECK(run(Command::change_user, kBase, {ok(2)}) == std::vector<Step>{Step::done});
  CHECK(run(Command::change_user, kBase, {raw("fe 6d7973716c5f6e61746976655f70617373776f726400 3132"), ok(2)}) ==
        mores_then(1, Step::done));
  CHECK(run(Command::change_user, kBase, {raw("01 03"), ok(2)}) == mores_then(1, Step::done));
  CHECK(run(Command::change_user, kBase, {err(1045)}) == std::vector<Step>{Step::done});
}

TEST_CASE("tracker: protocol violations are errors, never crashes") {
  CHECK(run(Command::query, kBase, {raw("fe 0000 0200")}) == std::vector<Step>{Step::error});
  CHECK(run(Command::query, kBase, {count(0)}) == std::vector<Step>{Step::error});
  CHECK(run(Command::query, kBase, {raw("fc 01")}) == std::vector<Step>{Step::error});  // truncated count
  CHECK(run(Command::query, kBase, {count(1), coldef("a"), text_row({"1"})}) ==
        std::vector<Step>{Step::more, Step::more, Step::error});  // missing EOF
  CHECK(run(Command::query, kBase, {ok(2), ok(2)}) == std::vector<Step>{Step::done, Step::error});
  CHECK(run(Command::query, kBase, {raw("00 01")}) == std::vector<Step>{Step::error});  // truncated OK
  CHECK(run(Command::query, kBase, {Pkt{}}) == std::vector<Step>{Step::error});         // empty packet
  ResponseTracker t;
  CHECK(t.on_packet(hex("00 00 00 0200 0000"), 7) == Step::error);  // before begin()
  t.begin(Command::query, kBase);
  CHECK(t.on_packet(hex("00 00 00 0200 0000"), 3) == Step::error);  // head longer than packet
  CHECK(t.error_reason() != nullptr);
  CHECK(t.on_packet(hex("00"), 1) == Step::error);  // stays failed
}

TEST_CASE("tracker: capture sizes") {
  ResponseTracker t;
  t.begin(Command::query, kBase);
  CHECK(t.capture_bytes(0x00, 11) == 11);  // OK
  CHECK(t.capture_bytes(0xFF, 30) == 30);  // ERR
  CHECK(t.capture_bytes(0x03, 1) == 1);    // column count 3
  CHECK(t.capture_bytes(0xFC, 3) == 3);    // column count 2-byte
  CHECK(t.capture_bytes(0xFE, 9000000) <= 64 * 1024);
  CHECK(run(t, {count(1)}) == std::vector<Step>{Step::more});
  CHECK(t.capture_bytes(0x03, 40) == 1);  // column definition
  CHECK(run(t, {coldef("a")}) == std::vector<Step>{Step::more});
  CHECK(t.capture_bytes(0xFE, 5) == 5);  // EOF
  CHECK(run(t, {eof(2)}) == std::vector<Step>{Step::more});
  CHECK(t.capture_bytes(0x00, 4000) == 1);  // row
  CHECK(t.capture_bytes(0xFE, 5) == 5);     // EOF
  CHECK(t.capture_bytes(0xFF, 50) == 50);   // ERR
}
