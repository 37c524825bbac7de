// The fake server's answers: framed, written once whole, and filed under the command's tag with
// the variant a client without CLIENT_SESSION_TRACK must get.
#include "protocol/constants.h"
#include "protocol/packet.h"
#include "tests/unit/proxy/fake_mysql.h"

namespace odp::fakeio {

using namespace protocol;

uint16_t FakeServer::status() const {
  return static_cast<uint16_t>(status::AUTOCOMMIT | (s_.in_tx ? status::IN_TRANS : 0));
}

void FakeServer::begin_answer(Tag tag, uint8_t first_seq) {
  tag_ = tag;
  record_.reset();
  out_.clear();
  seq_ = first_seq;
  info_ = ResultInfo{};
}

void FakeServer::ensure_record() {
  // Opened on the first byte: a statement that only starts (a SLEEP) files nothing yet.
  if (!record_ && tag_.valid()) record_ = world_.records().open(tag_, server_, thread_id_);
}

void FakeServer::put(const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> framed;
  seq_ = encode_packet(seq_, payload, framed);
  put_framed(framed, seq_);
}

void FakeServer::put_framed(const std::vector<uint8_t>& framed, uint8_t next_seq) {
  out_.insert(out_.end(), framed.begin(), framed.end());
  seq_ = next_seq;
  ensure_record();
  if (!record_) return;
  world_.records().at(tag_, *record_).append(framed);
}

void FakeServer::put_ok(OkPacket ok, const Changes& changes, uint8_t header) {
  ok.status_flags = static_cast<uint16_t>(ok.status_flags | status());
  std::string state = s_.session_state(changes);
  if (!state.empty() && (caps_ & cap::SESSION_TRACK)) {
    ok.status_flags |= status::SESSION_STATE_CHANGED;
    ok.session_state = state;
  }
  std::vector<uint8_t> payload, framed;
  encode_ok(ok, caps_, payload, header);
  uint8_t seq = seq_;
  seq_ = encode_packet(seq_, payload, framed);
  out_.insert(out_.end(), framed.begin(), framed.end());
  info_.status = ok.status_flags;
  info_.affected = ok.affected_rows;
  ensure_record();
  if (!record_) return;
  ResponseRecord& r = world_.records().at(tag_, *record_);
  if (ok.session_state.empty()) {
    r.append(framed);
    return;
  }
  // What a client that did not ask for session tracking must get instead.
  OkPacket plain = ok;
  plain.status_flags = static_cast<uint16_t>(plain.status_flags & ~status::SESSION_STATE_CHANGED);
  plain.session_state.clear();
  std::vector<uint8_t> p2, f2;
  encode_ok(plain, caps_ & ~cap::SESSION_TRACK, p2, header);
  encode_packet(seq, p2, f2);
  // And what one that asked for it (with the default trackers) must get.
  OkPacket tracked = plain;
  tracked.session_state = s_.client_default_state(changes);
  if (!tracked.session_state.empty()) tracked.status_flags |= status::SESSION_STATE_CHANGED;
  std::vector<uint8_t> p3, f3;
  encode_ok(tracked, caps_, p3, header);
  encode_packet(seq, p3, f3);
  r.append_ok(framed, f2, f3);
}

void FakeServer::put_err(const SqlError& e) {
  info_.error = true;
  info_.code = e.code;
  info_.message = e.message;
  std::vector<uint8_t> payload;
  encode_err(ErrPacket{e.code, e.state, e.message}, payload);
  put(payload);
}

void FakeServer::end_answer(bool complete) {
  ensure_record();
  if (record_) {
    ResponseRecord& r = world_.records().at(tag_, *record_);
    r.complete = complete;
    r.infile = !complete;
    r.info = info_;
  }
  uint64_t before = conn_.written_total();
  conn_.write(out_);
  if (pending_apply_ != SIZE_MAX) {
    // Where the answer ends in the stream odp reads; never, when the link was already broken.
    bool written = conn_.written_total() > before;
    world_.cluster().answered(pending_apply_, written ? conn_.written_total() : UINT64_MAX);
    pending_apply_ = SIZE_MAX;
  }
  out_.clear();
  record_.reset();
  tag_ = {};
  if (closing_) close_after_answer();
}

}  // namespace odp::fakeio
