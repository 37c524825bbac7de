// The fake client's protocol side: login, framing, and taking answers apart (see fake_client.h).
#include "tests/unit/proxy/fake_client.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/result_packets.h"
#include "tests/unit/proxy/fake_backend.h"
#include "tests/unit/proxy/fake_known_issues.h"
#include "tests/unit/proxy/fake_mysql_util.h"

namespace odp::fakeio {

using namespace protocol;
using namespace detail;

namespace {
std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 96; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return bytes.size() > 96 ? out + "..." : out;
}
}  // namespace

FakeClient::FakeClient(Sim& sim, ClientWorld& world, FakeConn& conn, uint32_t id, ClientPlan plan, bool strict)
    : sim_(sim), world_(world), conn_(conn), id_(id), plan_(std::move(plan)), model_(id, plan_.database, strict) {
  conn_.set_handler(this);
}

Tag FakeClient::solo_tag() const {
  // A closed client's last untagged command may still reach a server: odp read it before it saw
  // the connection end.
  if (outstanding_.empty()) return state_ == State::closed ? lost_solo_ : Tag{};
  if (!outstanding_.front().solo) return {};
  return outstanding_.front().tag;
}

void FakeClient::close_now(bool flush) {
  conn_.close(flush);
  if (state_ == State::closed) return;
  state_ = State::closed;
  lose_outstanding();
}

void FakeClient::trace(const Sent& s, const Outcome& o) const {
  // ODP_FAKE_IO_TRACE=1: every answer as the client took it (with the replayed seed's logs).
  static const bool on = std::getenv("ODP_FAKE_IO_TRACE") != nullptr;
  if (!on) return;
  static const char* kKinds[] = {"server", "odp-ok", "odp-err", "lost"};
  std::string what = kKinds[static_cast<int>(o.kind)];
  if (o.info != nullptr) {
    what += o.info->error ? " ERR " + std::to_string(o.info->code) + " " + o.info->message
                          : " OK rows=" + std::to_string(o.info->rows.size()) +
                                (o.info->rows.size() == 1 && !o.info->rows[0].empty() && o.info->rows[0][0]
                                     ? " '" + o.info->rows[0][0]->substr(0, 60) + "'"
                                     : std::string());
  }
  if (o.kind == Outcome::Kind::local_err) what += " " + std::to_string(o.code) + " " + o.message;
  if (o.odp_stmt_id != 0) what += " stmt=" + std::to_string(o.odp_stmt_id);
  std::fprintf(stderr, "%llu ms: client %u %s %s row=%lld stmt=%u: %s\n",
               static_cast<unsigned long long>(sim_.now_ms()), id_, tag_text(s.tag).c_str(), step_name(s.step.kind),
               static_cast<long long>(s.row), s.stmt, what.c_str());
}

void FakeClient::lose_outstanding() {
  if (consumed_ < got_.size()) truncated_ = true;
  while (!outstanding_.empty()) {
    if (outstanding_.front().solo) lost_solo_ = outstanding_.front().tag;
    Outcome o;
    o.kind = Outcome::Kind::lost;
    trace(outstanding_.front(), o);
    model_.answered(outstanding_.front(), o);
    outstanding_.pop_front();
  }
  model_.ended();
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
    if (!ok) close_now(false);
    return;  // nothing may follow the login OK before our first command
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
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  if (compressed_ && plan_.loose_inner_seq) loosen_inner_seq(framed, 1);
  send_packets(framed);
}

void FakeClient::send_infile() {
  // The server asked for the file: a few data packets and the empty end packet, numbered after
  // the 0xFB request (seq 1).
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
}

void FakeClient::on_plain(std::span<const uint8_t> plain) {
  got_.insert(got_.end(), plain.begin(), plain.end());
  if (got_.size() >= plan_.vanish_after_bytes) {
    vanished_ = true;
    take_answers();
    close_now(false);
    return;
  }
  take_answers();
}

FakeClient::Match FakeClient::match(Sent& s, std::span<const uint8_t> view) const {
  Match m;
  bool prefix = false;
  // `slot`: where this (answer, variant)'s comparison stands, so that each byte is compared once
  // however many chunks the answer comes in (16 MiB rows).
  auto compare = [&](const ResponseRecord& r, const std::vector<uint8_t>& b, const std::vector<size_t>& ids,
                     size_t slot) {
    if (s.verified.size() <= slot) s.verified.resize(slot + 1, 0);
    uint64_t& done = s.verified[slot];
    if (done == UINT64_MAX) return false;  // diverged before
    size_t n = std::min(view.size(), b.size());
    for (size_t i = done; i < n;) {
      auto id = std::find_if(ids.begin(), ids.end(), [&](size_t at) { return i < at + 4; });
      size_t stop = id == ids.end() ? n : std::min(n, std::max(i, *id));
      if (stop > i && std::memcmp(view.data() + i, b.data() + i, stop - i) != 0) {
        done = UINT64_MAX;
        return false;
      }
      i = id == ids.end() ? n : std::max(stop, std::min(n, *id + 4));  // the id's 4 bytes are odp's
    }
    done = std::max<uint64_t>(done, n);
    if (view.size() >= b.size() && (r.complete || r.infile)) {
      m.kind = r.complete ? Match::Kind::server : Match::Kind::infile;
      m.length = b.size();
      m.record = &r;
      return true;
    }
    prefix = true;
    return false;
  };
  if (const auto* answers = world_.records().find(s.tag)) {
    for (size_t k = 0; k < answers->size(); ++k) {
      const ResponseRecord& r = (*answers)[k];
      if (compare(r, r.view(plan_.session_track), r.view_ids(plan_.session_track), 2 * k)) return m;
      // odp passes an OK through unchanged when it arrived split over reads and its start already
      // went to the client: then the client gets the records it did not ask for (see the report).
      if (!KnownIssues::strict() && r.has_state && compare(r, r.bytes, r.ids, 2 * k + 1)) {
        m.unstripped = true;
        return m;
      }
    }
  }
  if (prefix) return m;  // the start of a server's answer: wait for the rest
  // Not a server's answer: odp's own, one OK or ERR packet.
  if (view.size() < kPacketHeaderBytes) return m;
  size_t len = decode_header(view.data()).length;
  if (view.size() < kPacketHeaderBytes + len) return m;
  uint8_t first = len > 0 ? view[kPacketHeaderBytes] : 0xAA;
  if (first == 0xFF || first == 0x00) {
    m.kind = Match::Kind::local;
    m.length = kPacketHeaderBytes + len;
    return m;
  }
  m.kind = Match::Kind::diverged;
  return m;
}

std::string FakeClient::local_note(const Sent& s, std::span<const uint8_t> packet) const {
  // What a packet taken for odp's own looked like next to what the servers said (for failures).
  std::string out = "odp's packet " + hex(packet);
  if (const auto* answers = world_.records().find(s.tag)) {
    for (const ResponseRecord& r : *answers)
      out += "; server " + std::to_string(r.server) + " answered " + hex(r.view(plan_.session_track));
  }
  return out;
}

std::string FakeClient::diverged_message(const Sent& s, std::span<const uint8_t> view) const {
  const auto* answers = world_.records().find(s.tag);
  return "client " + std::to_string(id_) + " command " + tag_text(s.tag) + " (" + step_name(s.step.kind) +
         "): got bytes no server sent for it and not one odp packet, after " + std::to_string(consumed_) +
         " bytes; the server answered " + std::to_string(answers ? answers->size() : 0) + " time(s); got " + hex(view);
}

void FakeClient::take_answers() {
  while (!outstanding_.empty() && !diverged_) {
    Sent& s = outstanding_.front();
    std::span<const uint8_t> view(got_.data() + consumed_, got_.size() - consumed_);
    if (view.empty()) break;
    Match m = match(s, view);
    if (m.kind == Match::Kind::need_more) break;
    if (m.kind == Match::Kind::diverged) {
      diverged_ = true;
      if (failure_.empty()) failure_ = diverged_message(s, view);
      break;
    }
    if (m.kind == Match::Kind::infile) {
      if (!s.infile_sent) {
        s.infile_sent = true;
        send_infile();
      }
      break;
    }
    Outcome o;
    if (m.kind == Match::Kind::server) {
      if (m.unstripped) {
        ++unstripped_;
        ++KnownIssues::counts().unstripped_session_state;
        // Fixed (Exchange holds back a split OK until it is whole): no longer tolerated.
        if (failure_.empty()) {
          failure_ = "client " + std::to_string(id_) + " command " + tag_text(s.tag) +
                     ": an OK came with session-state records the client did not ask for";
        }
      }
      o.kind = Outcome::Kind::server;
      o.info = &m.record->info;
      const auto& ids = m.unstripped ? m.record->ids : m.record->view_ids(plan_.session_track);
      // odp numbers a session's statements 1, 2, 3... in the order they were prepared.
      if (!ids.empty() && !m.record->info.error) ++prepared_;
      if (!ids.empty() && ids[0] + 4 <= view.size()) {
        size_t at = ids[0];
        o.odp_stmt_id = static_cast<uint32_t>(view[at] | (view[at + 1] << 8) | (view[at + 2] << 16) |
                                              (static_cast<uint32_t>(view[at + 3]) << 24));
        if (o.odp_stmt_id >= BackendSession::kFirstStatementId) {
          // The server's id, not odp's: odp did not rewrite the PREPARE_OK.
          if (failure_.empty()) {  // fixed (a split PREPARE_OK is held back): no longer tolerated
            failure_ = "client " + std::to_string(id_) + " command " + tag_text(s.tag) +
                       ": PREPARE_OK arrived with the server's statement id " + std::to_string(o.odp_stmt_id) +
                       " instead of odp's";
          }
          ++KnownIssues::counts().unrewritten_statement_id;
          o.odp_stmt_id = prepared_;  // what odp keeps it under (it did take the statement)
        }
      }
    } else {
      if (model_.failure().empty()) local_note_ = local_note(s, view.first(m.length));
      std::span<const uint8_t> payload = view.subspan(kPacketHeaderBytes, m.length - kPacketHeaderBytes);
      if (payload[0] == 0x00) {
        o.kind = Outcome::Kind::local_ok;
      } else {
        o.kind = Outcome::Kind::local_err;
        if (auto e = decode_err(payload)) {
          o.code = e->code;
          o.message = e->message;
        }
      }
    }
    consumed_ += m.length;
    Sent done = std::move(s);
    outstanding_.pop_front();
    trace(done, o);
    model_.answered(done, o);
  }
  if (state_ == State::closed) return;
  if (outstanding_.empty() && state_ == State::waiting) state_ = State::running;
  next_step();
}

}  // namespace odp::fakeio
