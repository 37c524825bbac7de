// bench_session's fake server (see session_fakes.h).
#include <cstdlib>

#include "benchmarks/session_fakes.h"
#include "protocol/auth.h"
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/prepare_ok.h"
#include "protocol/result_packets.h"
#include "protocol/resultset_writer.h"
#include "proxy/server_conn.h"
#include "tests/unit/proxy/fake_mysql_util.h"

namespace odp::benchfake {

using namespace protocol;
using namespace fakeio::detail;

FakeServer::FakeServer(Sim& sim, FakeConn& conn, ServerPlan plan, uint32_t thread_id,
                       std::function<Transcript*(uint32_t)> find_transcript)
    : sim_(sim), conn_(conn), plan_(plan), thread_id_(thread_id), find_transcript_(std::move(find_transcript)) {}

void FakeServer::start() {
  conn_.set_handler(this);
  conn_.start_reading();
  if (plan_.silent_greeting) return;
  HandshakeV10 hs;
  hs.server_version = "5.7.25-fake";
  hs.connection_id = thread_id_;
  scramble_ = sim_scramble(sim_.rng());
  handshake_scramble_ = scramble_;
  hs.scramble = scramble_;
  hs.capabilities = proxy::proxy_capabilities();
  hs.charset = charset::utf8mb4_general_ci;
  hs.status_flags = status::AUTOCOMMIT;
  hs.auth_plugin_name = kNativePasswordPlugin;
  std::vector<uint8_t> payload;
  encode_handshake_v10(hs, payload);
  conn_.write(framed_packet(0, payload));
  if (plan_.kill_at_ms >= 0) {
    sim_.at(static_cast<uint64_t>(plan_.kill_at_ms), [this] {
      if (state_ == State::done) return;
      // A KILL lands while a statement runs: the statement gets the ERR and the connection ends.
      // An idle connection is killed when its next command arrives (the client would otherwise
      // never see the ERR; odp drops idle connections the server closes and reconnects later).
      if (busy_) {
        kill_now();
      } else {
        kill_pending_ = true;
      }
    });
  }
}

void FakeServer::kill_now() {
  std::vector<uint8_t> out;
  encode_err_packet(0, ErrPacket{1927, "70100", "Connection was killed (fake server)"}, out);
  send(out, true);
  state_ = State::done;
  conn_.close(true);
}

void FakeServer::fail() {
  state_ = State::done;
  conn_.close(false);
}

void FakeServer::on_stream_closed(int /*err*/) {
  state_ = State::done;
  conn_.close(false);
}

void FakeServer::on_stream_data(std::span<const uint8_t> data) {
  if (state_ == State::done) return;
  bool ok = assemble(in_, data, [this](std::span<const uint8_t> payload, uint8_t seq, uint8_t last) {
    handle(payload, seq, last);
    return state_ != State::done;
  });
  if (!ok) fail();
}

bool FakeServer::from_client(std::span<const uint8_t> payload) {
  if (transcript_ == nullptr || transcript_->pending.empty() || payload.empty()) return false;
  const std::vector<uint8_t>& next = transcript_->pending.front();
  if (payload[0] == static_cast<uint8_t>(Command::stmt_close)) return false;
  bool same = next[0] == payload[0];
  // Statement ids differ (odp's towards the client, the connection's towards the server); SQL
  // text must be the client's.
  if (same && (payload[0] == static_cast<uint8_t>(Command::query) ||
               payload[0] == static_cast<uint8_t>(Command::stmt_prepare) ||
               payload[0] == static_cast<uint8_t>(Command::init_db)))
    same = std::equal(next.begin(), next.end(), payload.begin(), payload.end());
  if (same) transcript_->pending.pop_front();
  return same;
}

void FakeServer::send(const std::vector<uint8_t>& framed, bool complete) {
  conn_.write(framed);
  if (complete) busy_ = false;
  if (transcript_ == nullptr || !recording_) return;
  if (framed.size() >= kPacketHeaderBytes + 12 && framed[kPacketHeaderBytes] == 0x00 && prepare_ok_pending_) {
    transcript_->statement_ids.push_back(transcript_->sent.size() + kPacketHeaderBytes + 1);
  }
  prepare_ok_pending_ = false;
  transcript_->sent.insert(transcript_->sent.end(), framed.begin(), framed.end());
  if (complete) {
    transcript_->responses++;
    transcript_->boundaries.push_back(transcript_->sent.size());
    transcript_->infile_wanted = false;
  } else {
    transcript_->infile_wanted = true;
  }
}

void FakeServer::handle(std::span<const uint8_t> payload, uint8_t seq, uint8_t last_seq) {
  switch (state_) {
    case State::greeting:
    case State::switching:
      handle_login(payload, seq);
      return;
    case State::ready:
      if (seq != 0 || payload.empty()) {
        fail();
        return;
      }
      handle_command(payload);
      return;
    case State::infile:
      if (!payload.empty()) {
        infile_bytes_ += payload.size();
        return;
      }
      {
        OkPacket ok;
        ok.affected_rows = infile_bytes_;
        ok.status_flags = status::AUTOCOMMIT;
        std::vector<uint8_t> out;
        encode_ok_packet(static_cast<uint8_t>(last_seq + 1), ok, caps_, out);
        state_ = State::ready;
        send(out, true);
      }
      return;
    case State::change_user_switch:
      finish_change_user({reinterpret_cast<const char*>(payload.data()), payload.size()}, seq);
      return;
    case State::done:
      return;
  }
}

void FakeServer::handle_change_user(std::span<const uint8_t> payload) {
  Reader r(payload.data() + 1, payload.size() - 1);
  std::string_view user, auth;
  uint8_t len = 0;
  if (!r.null_str(user) || !r.u8(len) || !r.fixed_str(len, auth) || user != kUser) {
    ErrPacket err{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied (fake server, COM_CHANGE_USER)"};
    std::vector<uint8_t> out;
    encode_err_packet(1, err, out);
    send(out, true);
    return;
  }
  if (plan_.auth_switch) {
    scramble_ = sim_scramble(sim_.rng());
    AuthSwitchRequest sw;
    sw.plugin_name = kNativePasswordPlugin;
    sw.plugin_data.assign(scramble_.begin(), scramble_.end());
    sw.plugin_data.push_back('\0');
    std::vector<uint8_t> body;
    encode_auth_switch_request(sw, body);
    conn_.write(framed_packet(1, body));  // answered by the proxy itself: not client-visible
    state_ = State::change_user_switch;
    return;
  }
  scramble_ = handshake_scramble_;
  finish_change_user(auth, 0);
}

void FakeServer::finish_change_user(std::string_view auth, uint8_t seq) {
  state_ = State::ready;
  std::vector<uint8_t> payload;
  bool ok = native_password_verify(auth, scramble_, native_password_stage2(kPassword)).has_value();
  if (ok) {
    OkPacket pkt;
    pkt.status_flags = status::AUTOCOMMIT;
    encode_ok(pkt, caps_, payload);
  } else {
    encode_err(ErrPacket{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied (fake server, COM_CHANGE_USER)"},
               payload);
  }
  conn_.write(framed_packet(static_cast<uint8_t>(seq + 1), payload));
  // The proxy relays the verdict with the client's numbering: the client sees sequence id 1.
  if (transcript_ != nullptr) {
    std::vector<uint8_t> seen = framed_packet(1, payload);
    transcript_->sent.insert(transcript_->sent.end(), seen.begin(), seen.end());
    transcript_->responses++;
    transcript_->boundaries.push_back(transcript_->sent.size());
  }
}

void FakeServer::handle_login(std::span<const uint8_t> payload, uint8_t seq) {
  std::string auth;
  if (state_ == State::greeting) {
    auto r = decode_handshake_response41(payload);
    if (!r) {
      fail();
      return;
    }
    caps_ = r->capabilities;
    for (const auto& [k, v] : r->attributes) {
      if (k == "_odp_connection_id")
        transcript_ = find_transcript_(static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 10)));
    }
    if (r->username != kUser) {
      ErrPacket err{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied for user"};
      std::vector<uint8_t> out;
      encode_err_packet(static_cast<uint8_t>(seq + 1), err, out);
      conn_.write(out);
      state_ = State::done;
      conn_.close(true);
      return;
    }
    if (plan_.auth_switch) {
      conn_.write(server_auth_switch(seq, sim_.rng(), scramble_));
      state_ = State::switching;
      return;
    }
    auth = r->auth_response;
  } else {
    auth.assign(payload.begin(), payload.end());
  }
  std::vector<uint8_t> out;
  const bool ok = server_login_answer(auth, scramble_, kPassword, seq, caps_, out);
  conn_.write(out);
  if (!ok) {
    state_ = State::done;
    conn_.close(true);
    return;
  }
  state_ = State::ready;
  if (transcript_ != nullptr) transcript_->server_logged_in = true;
}

void FakeServer::send_resultset(size_t rows, size_t cols, uint16_t flags, uint8_t& seq, std::vector<uint8_t>& out,
                                size_t big_bytes) {
  std::vector<std::string> names;
  for (size_t c = 0; c < cols; ++c) names.push_back("c" + std::to_string(c));
  std::vector<std::vector<std::optional<std::string>>> data;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>> row;
    for (size_t c = 0; c < cols; ++c) {
      if (big_bytes > 0) {
        row.emplace_back(std::string(big_bytes + r, static_cast<char>('a' + r % 26)));
      } else if (sim_.rng().chance(100)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(sim_.rng().below(40), static_cast<char>('a' + sim_.rng().below(26))));
      }
    }
    data.push_back(std::move(row));
  }
  seq = encode_text_resultset(names, data, caps_, seq, out, flags);
}

// Statements odp sends on its own behalf: their answers never reach the client.
bool FakeServer::odp_internal(std::string_view sql) {
  return sql.rfind("SET @@SESSION.", 0) == 0 || sql.rfind("DO LAST_INSERT_ID(", 0) == 0;
}

void FakeServer::handle_query(std::string_view sql) {
  std::vector<uint8_t> out;
  uint8_t seq = 1;
  auto number_after = [&](std::string_view prefix) {
    return std::strtoull(std::string(sql.substr(prefix.size())).c_str(), nullptr, 10);
  };
  if (sql.rfind("SELECT rows=", 0) == 0) {
    send_resultset(std::min<uint64_t>(number_after("SELECT rows="), 100000), 3, status::AUTOCOMMIT, seq, out);
  } else if (sql.rfind("SELECT big=", 0) == 0) {
    send_resultset(2, 1, status::AUTOCOMMIT, seq, out, std::min<uint64_t>(number_after("SELECT big="), 40u << 20));
  } else if (sql.rfind("CALL multi(", 0) == 0) {
    uint64_t n = std::min<uint64_t>(number_after("CALL multi("), 10);
    for (uint64_t i = 0; i < n; ++i) {
      send_resultset(1 + sim_.rng().below(5), 2, status::AUTOCOMMIT | status::MORE_RESULTS_EXISTS, seq, out);
    }
    OkPacket ok;
    ok.status_flags = status::AUTOCOMMIT;
    seq = encode_ok_packet(seq, ok, caps_, out);
  } else if (sql.rfind("LOAD DATA LOCAL INFILE", 0) == 0) {
    std::vector<uint8_t> payload{0xFB};
    put_bytes(payload, std::string_view("data.csv"));
    state_ = State::infile;
    infile_bytes_ = 0;
    send(framed_packet(1, payload), false);
    return;
  } else if (sql.rfind("SELECT SLEEP(", 0) == 0) {
    return;  // never answers: the proxy's query timeout must cut it off
  } else if (odp_internal(sql)) {
    // odp's own statements (session-tracking set-up, state replay): answered, but not part of
    // what the client sees.
    OkPacket ok;
    ok.status_flags = status::AUTOCOMMIT;
    encode_ok_packet(seq, ok, caps_, out);
    conn_.write(out);
    busy_ = false;
    return;
  } else if (sql == "DO ok" || sql.rfind("INSERT", 0) == 0) {
    OkPacket ok;
    ok.affected_rows = 1;
    ok.status_flags = status::AUTOCOMMIT;
    encode_ok_packet(seq, ok, caps_, out);
  } else {
    ErrPacket err{errc::ER_PARSE_ERROR, "42000", "You have an error in your SQL syntax (fake server)"};
    encode_err_packet(seq, err, out);
  }
  send(out, true);
}

void FakeServer::handle_command(std::span<const uint8_t> payload) {
  auto cmd = static_cast<Command>(payload[0]);
  recording_ = from_client(payload);
  prepare_ok_pending_ = cmd == Command::stmt_prepare;
  busy_ = cmd != Command::stmt_close && cmd != Command::stmt_send_long_data && cmd != Command::quit;
  std::string_view text(reinterpret_cast<const char*>(payload.data()) + 1, payload.size() - 1);
  bool setup = cmd == Command::query && odp_internal(text);
  if (setup) busy_ = false;
  if (kill_pending_ && busy_ && !setup) {
    kill_now();
    return;
  }
  std::vector<uint8_t> out;
  std::vector<uint8_t> p;
  const bool deprecate_eof = (caps_ & cap::DEPRECATE_EOF) != 0;
  auto column = [&](const char* name, uint8_t& seq) {
    ColumnDefinition41 col;
    col.name = col.org_name = name;
    p.clear();
    encode_column_definition41(col, p);
    seq = encode_packet(seq, p, out);
  };
  auto eof = [&](uint8_t& seq) {
    if (deprecate_eof) return;
    p.clear();
    encode_eof(EofPacket{0, status::AUTOCOMMIT}, p);
    seq = encode_packet(seq, p, out);
  };
  switch (cmd) {
    case Command::quit:
      state_ = State::done;
      conn_.close(true);
      return;
    case Command::ping:
    case Command::reset_connection:
    case Command::init_db: {
      OkPacket ok;
      ok.status_flags = status::AUTOCOMMIT;
      encode_ok_packet(1, ok, caps_, out);
      break;
    }
    case Command::query:
      handle_query({reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1});
      return;
    case Command::stmt_prepare: {
      PrepareOk pok;
      pok.statement_id = next_stmt_id_++;
      pok.num_columns = 1;
      pok.num_params = 1;
      encode_prepare_ok(pok, p);
      uint8_t seq = encode_packet(1, p, out);
      column("?", seq);
      eof(seq);
      column("v", seq);
      eof(seq);
      break;
    }
    case Command::stmt_execute: {
      Reader r(payload.data() + 1, payload.size() - 1);
      uint32_t id = 0;
      if (!r.u32(id) || id == 0 || id >= next_stmt_id_) {
        ErrPacket err{errc::ER_UNKNOWN_STMT_HANDLER, "HY000", "Unknown prepared statement handler"};
        encode_err_packet(1, err, out);
        break;
      }
      p.clear();
      put_lenenc_int(p, 1);
      uint8_t seq = encode_packet(1, p, out);
      column("v", seq);
      eof(seq);
      p.clear();
      put_u8(p, 0x00);
      put_u8(p, 0x00);  // NULL bitmap for one column (offset 2)
      put_lenenc_str(p, "value");
      seq = encode_packet(seq, p, out);
      p.clear();
      if (deprecate_eof) {
        OkPacket ok;
        ok.status_flags = status::AUTOCOMMIT;
        encode_ok(ok, caps_, p, 0xFE);
      } else {
        encode_eof(EofPacket{0, status::AUTOCOMMIT}, p);
      }
      encode_packet(seq, p, out);
      break;
    }
    case Command::stmt_close:
      return;
    case Command::change_user:
      handle_change_user(payload);
      return;
    default: {
      ErrPacket err{errc::ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command (fake server)"};
      encode_err_packet(1, err, out);
      break;
    }
  }
  send(out, true);
}

}  // namespace odp::benchfake
