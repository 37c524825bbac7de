// bench_session's fake client driver (see session_fakes.h).
#include <cstdlib>

#include "benchmarks/session_fakes.h"
#include "protocol/auth.h"
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/prepare_ok.h"
#include "protocol/result_packets.h"
#include "protocol/resultset_writer.h"
#include "tests/unit/proxy/fake_mysql_util.h"

namespace odp::benchfake {

using namespace protocol;
using namespace fakeio::detail;

FakeClient::FakeClient(Sim& sim, FakeConn& conn, ClientPlan plan, Transcript& transcript)
    : sim_(sim), conn_(conn), plan_(std::move(plan)), t_(transcript) {
  conn_.set_handler(this);
}

void FakeClient::close_now(bool flush) {
  conn_.close(flush);
  state_ = State::closed;
}

void FakeClient::on_stream_closed(int err) {
  closed_err_ = err;
  close_now(false);
}

void FakeClient::on_stream_data(std::span<const uint8_t> data) {
  if (state_ == State::closed) return;
  if (!logged_in_) {
    bool ok = assemble(login_in_, data, [this](std::span<const uint8_t> payload, uint8_t seq, uint8_t) {
      on_login_packet(payload, seq);
      return !logged_in_ && state_ != State::closed;
    });
    if (!ok) {
      close_now(false);
      return;
    }
    // Nothing may follow the login OK before our first command.
    return;
  }
  if (compressed_) {
    std::vector<uint8_t> plain;
    std::vector<CompressedFrame> frames;
    if (!decoder_->feed(data, plain, &frames)) {
      close_now(false);
      return;
    }
    // Pipelined requests each start at 0 and are answered one after the other: no one sequence.
    for (const auto& f : frames) {
      if (!plan_.pipeline && f.seq != expect_comp_seq_ && frame_seq_error_.empty()) {
        frame_seq_error_ = "compressed frame " + std::to_string(f.seq) + " where " + std::to_string(expect_comp_seq_) +
                           " was due, after " + std::to_string(got_.size()) + " response bytes";
      }
      expect_comp_seq_ = static_cast<uint8_t>(f.seq + 1);
    }
    on_plain(plain);
  } else {
    on_plain(data);
  }
}

void FakeClient::on_login_packet(std::span<const uint8_t> payload, uint8_t seq) {
  if (payload.empty()) {
    close_now(false);
    return;
  }
  if (state_ == State::greeting) {
    auto hs = decode_handshake_v10(payload);
    if (!hs) {
      if (payload[0] == 0xFF) {
        auto e = decode_err(payload);
        login_error_ = e ? e->code : 1;
      }
      close_now(false);
      return;
    }
    if (plan_.stall_login) return;
    proxy_scramble_ = hs->scramble;
    send_packets(client_hello(login_of(plan_), *hs, seq, sim_.rng(), asked_compression_));
    state_ = State::auth;
    return;
  }
  if (state_ != State::auth) return;
  if (payload[0] == 0x00) {
    logged_in_ = true;
    if (asked_compression_) {
      compressed_ = true;
      decoder_ = std::make_unique<CompressedDecoder>(64u << 20);
    }
    state_ = State::running;
    next_step();
  } else if (payload[0] == 0xFF) {
    auto e = decode_err(payload);
    login_error_ = e ? e->code : 1;
  } else if (payload[0] == 0xFE) {
    auto answer = client_switch_answer(login_of(plan_), payload, seq);
    if (!answer) {
      close_now(false);
      return;
    }
    send_packets(*answer);
  }
}

void FakeClient::send_packets(const std::vector<uint8_t>& framed) {
  if (!compressed_) {
    conn_.write(framed);
    return;
  }
  std::vector<uint8_t> frames;
  comp_seq_ = encode_compressed(comp_seq_, framed, frames);
  expect_comp_seq_ = comp_seq_;
  conn_.write(frames);
}

// Renumbers the chunks of the packets in `framed` first, first + 2, ... (Connector/J's way).
static void loosen_inner_seq(std::vector<uint8_t>& framed, uint8_t first) {
  size_t off = 0;
  uint8_t seq = first;
  while (off + kPacketHeaderBytes <= framed.size()) {
    framed[off + 3] = seq;
    seq = static_cast<uint8_t>(seq + 2);
    off += kPacketHeaderBytes + decode_header(framed.data() + off).length;
  }
}

void FakeClient::send_command(const std::vector<uint8_t>& payload) {
  comp_seq_ = 0;
  // (COM_STMT_CLOSE never reaches a server: odp closes server statements when no client holds
  // their text any more.)
  if (!payload.empty() && payload[0] != static_cast<uint8_t>(Command::quit) &&
      payload[0] != static_cast<uint8_t>(Command::stmt_close)) {
    if (payload[0] == static_cast<uint8_t>(Command::query) ||
        payload[0] == static_cast<uint8_t>(Command::stmt_prepare) ||
        payload[0] == static_cast<uint8_t>(Command::init_db)) {
      t_.pending.push_back(payload);
    } else {
      t_.pending.push_back({payload[0]});
    }
  }
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  if (compressed_ && plan_.loose_inner_seq) loosen_inner_seq(framed, 1);
  send_packets(framed);
}

void FakeClient::next_step() {
  if (state_ == State::closed) return;
  if (step_ >= plan_.script.size()) {
    if (plan_.quit_at_end) {
      state_ = State::quitting;
      send_command({static_cast<uint8_t>(Command::quit)});
    } else {
      state_ = State::idle;
    }
    return;
  }
  StepKind kind = plan_.script[step_];
  // Statement ids are odp's (it answers unknown ones itself, which the transcript of what the
  // server sent cannot show): nothing is executed or closed before it was prepared.
  if ((kind == StepKind::execute || kind == StepKind::stmt_close) && stmt_id_ == 0) kind = StepKind::ping;
  uint32_t rows = step_ < plan_.rows.size() ? plan_.rows[step_] : 3;
  ++step_;
  std::vector<uint8_t> p;
  auto query = [&](std::string_view sql) {
    put_u8(p, static_cast<uint8_t>(Command::query));
    put_bytes(p, sql);
  };
  switch (kind) {
    case StepKind::select:
      query("SELECT rows=" + std::to_string(rows));
      break;
    case StepKind::big_select:
      query("SELECT big=" + std::to_string((16u << 20) + rows));
      break;
    case StepKind::ok:
      query("DO ok");
      break;
    case StepKind::err:
      query("DO err");
      break;
    case StepKind::multi:
      query("CALL multi(" + std::to_string(1 + rows % 4) + ")");
      break;
    case StepKind::infile:
      query("LOAD DATA LOCAL INFILE 'data.csv' INTO TABLE t");
      break;
    case StepKind::big_insert:
      query("INSERT INTO t VALUES ('" + std::string((16u << 20) + rows, 'z') + "')");
      break;
    case StepKind::ping:
      put_u8(p, static_cast<uint8_t>(Command::ping));
      break;
    case StepKind::init_db:
      put_u8(p, static_cast<uint8_t>(Command::init_db));
      put_bytes(p, std::string_view("test"));
      break;
    case StepKind::prepare:
      put_u8(p, static_cast<uint8_t>(Command::stmt_prepare));
      put_bytes(p, std::string_view("SELECT ?"));
      break;
    case StepKind::execute:
      put_u8(p, static_cast<uint8_t>(Command::stmt_execute));
      put_u32(p, stmt_id_);
      put_u8(p, 0);     // flags: no cursor
      put_u32(p, 1);    // iteration count
      put_u8(p, 0);     // NULL bitmap, one parameter
      put_u8(p, 1);     // new params bound
      put_u8(p, 0xFD);  // VAR_STRING
      put_u8(p, 0);
      put_lenenc_str(p, "x");
      break;
    case StepKind::stmt_close:
      put_u8(p, static_cast<uint8_t>(Command::stmt_close));
      put_u32(p, stmt_id_);
      stmt_id_ = 0;  // closed: odp answers an execute of it itself (Unknown prepared statement handler)
      send_command(p);
      next_step();  // no response comes
      return;
    case StepKind::sleep:
      query("SELECT SLEEP(1000000)");
      break;
    case StepKind::change_user: {
      stmt_id_ = 0;  // the session's prepared statements are gone
      put_u8(p, static_cast<uint8_t>(Command::change_user));
      put_null_str(p, kUser);
      std::string auth = native_password_response_from_password(plan_.password, proxy_scramble_);
      put_u8(p, static_cast<uint8_t>(auth.size()));
      put_bytes(p, auth);
      put_null_str(p, "");
      put_u16(p, charset::utf8mb4_general_ci);
      put_null_str(p, kNativePasswordPlugin);
      break;
    }
  }
  ++expect_responses_;
  state_ = State::waiting;
  send_command(p);
  // Pipelining: commands whose responses need no answer from us may follow at once.
  auto simple = [](StepKind k) {
    return k == StepKind::select || k == StepKind::ok || k == StepKind::err || k == StepKind::multi ||
           k == StepKind::ping || k == StepKind::init_db;
  };
  if (plan_.pipeline && simple(kind) && step_ < plan_.script.size() && simple(plan_.script[step_])) next_step();
}

void FakeClient::on_plain(std::span<const uint8_t> plain) {
  got_.insert(got_.end(), plain.begin(), plain.end());
  if (got_.size() >= plan_.vanish_after_bytes) {
    vanished_ = true;
    close_now(false);
    return;
  }
  progress();
}

void FakeClient::progress() {
  if (state_ != State::waiting || got_.size() != t_.sent.size()) return;
  if (t_.infile_wanted && t_.responses + 1 == expect_responses_) {
    // The server asked for the file: send a few data packets and the empty end packet,
    // numbered after the 0xFB request (seq 1).
    uint8_t seq = 2;
    std::vector<uint8_t> framed;
    size_t packets = sim_.rng().below(4);
    for (size_t i = 0; i < packets; ++i) {
      std::vector<uint8_t> chunk(1 + sim_.rng().below(3000), static_cast<uint8_t>('0' + i));
      seq = encode_packet(seq, chunk, framed);
    }
    encode_packet(seq, {}, framed);
    if (compressed_ && plan_.loose_inner_seq) loosen_inner_seq(framed, 7);
    if (compressed_) comp_seq_ = static_cast<uint8_t>(decoder_->last_seq() + 1);
    send_packets(framed);
    t_.infile_wanted = false;  // sent; the server's OK completes the response
    return;
  }
  if (t_.responses == expect_responses_) {
    // A prepare's answer names the statement with odp's id: executes use it.
    if (!t_.statement_ids.empty() && t_.statement_ids.back() + 4 <= got_.size() &&
        t_.statement_ids.back() > last_id_offset_) {
      size_t at = t_.statement_ids.back();
      last_id_offset_ = at;
      stmt_id_ = static_cast<uint32_t>(got_[at] | (got_[at + 1] << 8) | (got_[at + 2] << 16) | (got_[at + 3] << 24));
    }
    next_step();
  }
}

std::string FakeClient::check_received(bool allow_truncation) const {
  const auto& exp = t_.sent;
  size_t common = 0;
  size_t next_id = 0;  // statement ids in PREPARE_OK are odp's, not the server's
  while (common < got_.size() && common < exp.size()) {
    if (next_id < t_.statement_ids.size() && common == t_.statement_ids[next_id]) {
      common += std::min<size_t>(4, std::min(got_.size(), exp.size()) - common);
      ++next_id;
      continue;
    }
    if (got_[common] != exp[common]) break;
    ++common;
  }
  if (common == got_.size()) {
    if (!allow_truncation && got_.size() != exp.size()) {
      return "response truncated: got " + std::to_string(got_.size()) + " of " + std::to_string(exp.size()) + " bytes";
    }
    return "";
  }
  // The proxy may answer a command itself with one ERR instead of the server's response (query
  // timeout, lost server) but only before any byte of that response went to the client.
  size_t b = 0;
  for (size_t x : t_.boundaries) {
    if (x <= common) b = std::max(b, x);
  }
  std::span<const uint8_t> tail(got_.data() + b, got_.size() - b);
  // A client that vanished, or whose link was reset, may have seen only the start of that ERR.
  bool one_err =
      tail.size() > kPacketHeaderBytes && tail[kPacketHeaderBytes] == 0xFF &&
      (decode_header(tail.data()).length + kPacketHeaderBytes == tail.size() ||
       ((vanished_ || closed_err_ > 0) && decode_header(tail.data()).length + kPacketHeaderBytes > tail.size()));
  if (allow_truncation && one_err) return "";
  std::string hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = b; i < got_.size() && i < b + 64; ++i) {
    hex += kHex[got_[i] >> 4];
    hex += kHex[got_[i] & 15];
  }
  return "client data diverged from the server's at byte " + std::to_string(common) + " of " +
         std::to_string(got_.size()) + " (expected " + std::to_string(exp.size()) +
         "); from the last response boundary " + std::to_string(b) + " the client got " + hex;
}

}  // namespace odp::benchfake
