// Seeded random responses built with our encoders: the tracker must say `more` for every packet but
// the last and `done` exactly at the last, for every shape and capability combination.
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "protocol/column_def.h"
#include "protocol/prepare_ok.h"
#include "protocol/response_tracker.h"
#include "protocol/result_packets.h"
#include "protocol/rows.h"

using namespace odp::protocol;
using Step = ResponseTracker::Step;

namespace {

struct Packet {
  std::vector<uint8_t> head;  // whole payload, or the first bytes of a 0xFFFFFF-long row
  uint32_t len;
};

class Gen {
 public:
  Gen(uint32_t seed, uint32_t caps) : rng_(seed), caps_(caps) {}

  bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  uint32_t upto(uint32_t n) { return static_cast<uint32_t>(rng_() % (n + 1)); }
  bool dep() const { return caps_ & cap::DEPRECATE_EOF; }

  void ok(std::vector<Packet>& out, uint16_t flags, uint8_t header = 0x00) {
    OkPacket o;
    o.status_flags = flags;
    o.affected_rows = upto(100000);
    o.info = chance(30) ? "Records: 1  Duplicates: 0  Warnings: 0" : "";
    if ((caps_ & cap::SESSION_TRACK) && chance(30)) {
      o.status_flags |= status::SESSION_STATE_CHANGED;
      o.session_state = std::string("\x01\x05\x04test", 7);
    }
    push(out, [&](auto& p) { encode_ok(o, caps_, p, header); });
  }
  void eof(std::vector<Packet>& out, uint16_t flags) {
    push(out, [&](auto& p) { encode_eof(EofPacket{static_cast<uint16_t>(upto(3)), flags}, p); });
  }
  void err(std::vector<Packet>& out) {
    push(out, [&](auto& p) { encode_err(ErrPacket{1064, "42000", "syntax"}, p); });
  }
  void coldefs(std::vector<Packet>& out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      ColumnDefinition41 c;
      c.name = "c" + std::to_string(i);
      push(out, [&](auto& p) { encode_column_definition41(c, p); });
    }
  }
  void row(std::vector<Packet>& out, size_t ncols, bool binary) {
    if (chance(5)) {
      // A row whose first value is a 2^24+ byte string: only its head is shown, length 0xFFFFFF.
      std::vector<uint8_t> head{binary ? uint8_t{0x00} : uint8_t{0xFE}, 0, 0, 0, 1, 0, 0, 0, 0};
      out.push_back(Packet{head, kMaxPacketChunk});
      return;
    }
    std::vector<uint8_t> p;
    if (binary) {
      std::vector<BinaryValue> vals(ncols);
      static const std::vector<uint8_t> four{1, 2, 3, 4};
      for (auto& v : vals) {
        v.type = {ColumnType::long_, false};
        v.is_null = chance(20);
        v.raw = four;
      }
      encode_binary_row(vals, p);
    } else {
      std::vector<std::optional<std::string_view>> vals;
      for (size_t i = 0; i < ncols; ++i)
        vals.push_back(chance(20) ? std::nullopt : std::optional(std::string_view("v")));
      encode_text_row(vals, p);
    }
    out.push_back(Packet{p, static_cast<uint32_t>(p.size())});
  }
  // One result (OK or result set or ERR); returns false if it ended the response with ERR.
  bool result(std::vector<Packet>& out, bool binary, bool more, Command cmd) {
    const uint16_t flags = static_cast<uint16_t>(status::AUTOCOMMIT | (more ? status::MORE_RESULTS_EXISTS : 0));
    const int kind = static_cast<int>(upto(9));
    if (kind == 0) {
      err(out);
      return false;
    }
    if (kind <= 2) {
      ok(out, flags);
      return true;
    }
    const size_t ncols = 1 + upto(4);
    std::vector<uint8_t> cnt;
    put_lenenc_int(cnt, ncols);
    out.push_back(Packet{cnt, static_cast<uint32_t>(cnt.size())});
    coldefs(out, ncols);
    const bool cursor = cmd == Command::stmt_execute && !more && chance(20);
    const uint16_t meta_flags = static_cast<uint16_t>(flags | (cursor ? status::CURSOR_EXISTS : 0));
    if (cursor) {
      if (dep()) {
        ok(out, meta_flags, 0xFE);
      } else {
        eof(out, meta_flags);
      }
      return true;
    }
    if (!dep()) eof(out, flags);
    const size_t rows = upto(6);
    for (size_t i = 0; i < rows; ++i) row(out, ncols, binary);
    if (chance(5)) {
      err(out);
      return false;
    }
    if (dep()) {
      ok(out, flags, 0xFE);
    } else {
      eof(out, flags);
    }
    return true;
  }

  std::vector<Packet> response(Command cmd) {
    std::vector<Packet> out;
    switch (cmd) {
      case Command::query:
      case Command::stmt_execute: {
        const size_t results = 1 + upto(3);
        for (size_t i = 0; i < results; ++i) {
          if (!result(out, cmd == Command::stmt_execute, i + 1 < results, cmd)) break;
        }
        break;
      }
      case Command::stmt_fetch: {
        const size_t rows = upto(5);
        for (size_t i = 0; i < rows; ++i) row(out, 2, true);
        if (dep()) {
          ok(out, status::LAST_ROW_SENT, 0xFE);
        } else {
          eof(out, status::LAST_ROW_SENT);
        }
        break;
      }
      case Command::stmt_prepare: {
        if (chance(10)) {
          err(out);
          break;
        }
        PrepareOk p{upto(1000), static_cast<uint16_t>(upto(3)), static_cast<uint16_t>(upto(3)), 0};
        push(out, [&](auto& b) { encode_prepare_ok(p, b); });
        coldefs(out, p.num_params);
        if (p.num_params && !dep()) eof(out, 2);
        coldefs(out, p.num_columns);
        if (p.num_columns && !dep()) eof(out, 2);
        break;
      }
      case Command::field_list:
        coldefs(out, upto(4));
        if (dep()) {
          ok(out, 2, 0xFE);
        } else {
          eof(out, 2);
        }
        break;
      default:
        if (chance(20)) {
          err(out);
        } else {
          ok(out, status::AUTOCOMMIT);
        }
        break;
    }
    return out;
  }

 private:
  template <typename F>
  void push(std::vector<Packet>& out, F&& fill) {
    std::vector<uint8_t> p;
    fill(p);
    out.push_back(Packet{p, static_cast<uint32_t>(p.size())});
  }

  std::mt19937 rng_;
  uint32_t caps_;
};

}  // namespace

TEST_CASE("tracker: random valid responses end exactly at their last packet") {
  const Command cmds[] = {Command::query,      Command::stmt_execute, Command::stmt_fetch, Command::stmt_prepare,
                          Command::field_list, Command::ping,         Command::init_db,    Command::reset_connection};
  const uint32_t base = cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::MULTI_RESULTS | cap::PS_MULTI_RESULTS;
  for (uint32_t seed = 1; seed <= 4000; ++seed) {
    const uint32_t caps = base | ((seed & 1) ? cap::DEPRECATE_EOF : 0) | ((seed & 2) ? cap::SESSION_TRACK : 0);
    Gen g(seed, caps);
    const Command cmd = cmds[seed % std::size(cmds)];
    const auto pkts = g.response(cmd);
    REQUIRE(!pkts.empty());
    ResponseTracker t;
    t.begin(cmd, caps);
    for (size_t i = 0; i < pkts.size(); ++i) {
      const auto& p = pkts[i];
      const size_t want = std::min(t.capture_bytes(p.head[0], p.len), p.head.size());
      const Step s = t.on_packet(std::span<const uint8_t>(p.head.data(), want), p.len);
      const Step expected = i + 1 == pkts.size() ? Step::done : Step::more;
      if (s != expected) {
        FAIL_CHECK("seed " << seed << " cmd " << command_name(cmd) << " packet " << i << "/" << pkts.size()
                           << " reason " << (t.error_reason() ? t.error_reason() : "-"));
        break;
      }
    }
  }
}
