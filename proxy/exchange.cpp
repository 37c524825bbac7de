#include "proxy/exchange.h"

#include "base/assert.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/session_track.h"
#include "proxy/client_tracking.h"

namespace odp::proxy {

using namespace protocol;

namespace {
// The largest packet held back whole when reads split it: OK and PREPARE_OK packets are far smaller.
constexpr uint32_t kMaxHeldPacket = 64 * 1024;
}  // namespace

void patch_statement_id_in_prepare_ok(std::span<uint8_t> payload, uint32_t id);

// Walks response packets for the tracker, noting what the session model needs.
struct ResponseConsumer {
  Exchange& x;
  const ServerConn& conn;
  uint32_t client_caps;
  bool done = false;
  bool failed = false;
  bool local_infile = false;
  bool rewrote = false;  // x.rewrite_ holds the packet to send instead of the last one scanned
  uint32_t rewrite_payload_len = 0;
  uint8_t rewrite_seq = 0;
  size_t capture_bytes(uint8_t first, uint32_t len, bool continuation) const {
    return continuation ? 0 : x.tracker_.capture_bytes(first, len);
  }
  bool on_packet(const ScannedPacket& p) {
    x.last_seq_ = p.seq;
    if (p.continuation) return false;
    ResponseTracker::Step step = x.tracker_.on_packet(p.head, p.payload_len);
    if (x.prepare_id_ && p.head.size() == p.payload_len && p.payload_len >= 5 && p.head[0] == 0x00) {
      // The PREPARE_OK: the client gets odp's statement id.
      x.rewrite_.clear();
      encode_packet(0, p.head, x.rewrite_);
      patch_statement_id_in_prepare_ok(std::span<uint8_t>(x.rewrite_).subspan(kPacketHeaderBytes), *x.prepare_id_);
      x.prepare_id_.reset();
      rewrote = true;
      rewrite_payload_len = p.payload_len;
      rewrite_seq = p.seq;
    } else if (x.tracker_.last_packet_was_ok() && (x.tracker_.last_status_flags() & status::SESSION_STATE_CHANGED) &&
               p.head.size() == p.payload_len) {
      x.note_ok(p.head, conn, client_caps, x.rewrite_);
      if (!x.rewrite_.empty()) {
        rewrote = true;
        rewrite_payload_len = p.payload_len;
        rewrite_seq = p.seq;
      }
    }
    switch (step) {
      case ResponseTracker::Step::more:
        return rewrote;  // stop to send the rewritten packet in place of this one
      case ResponseTracker::Step::done:
        done = true;
        return true;
      case ResponseTracker::Step::local_infile:
        local_infile = true;
        return true;
      case ResponseTracker::Step::error:
        failed = true;
        return true;
    }
    return true;
  }
};

// Walks a streamed request (bounded by limits.max_packet_bytes) or LOCAL INFILE contents.
struct RequestConsumer {
  Exchange& x;
  uint64_t max_bytes;
  bool end = false;
  bool too_large = false;
  size_t capture_bytes(uint8_t, uint32_t, bool) const { return 0; }
  bool on_packet(const ScannedPacket& p) {
    if (x.upload_is_infile_) {
      end = p.payload_len == 0;
      return end;
    }
    x.request_bytes_ += p.payload_len;
    if (x.request_bytes_ > max_bytes) {
      too_large = true;
      return true;
    }
    end = p.payload_len < kMaxPacketChunk;
    return end;
  }
};

void patch_statement_id_in_prepare_ok(std::span<uint8_t> payload, uint32_t id) {
  // PREPARE_OK: 0x00, statement id (4 bytes, little endian), ...
  for (int i = 0; i < 4; ++i) payload[1 + i] = static_cast<uint8_t>(id >> (8 * i));
}

void Exchange::set_request(std::span<const uint8_t> packet, Command cmd) {
  request_.assign(packet.begin(), packet.end());
  command_ = cmd;
  prepare_id_.reset();
}

bool Exchange::send(ServerConn& conn, uint32_t client_caps) {
  (void)client_caps;
  core::Stats& stats = env_.stats();
  core::Stats::inc(stats.sql_request_total);
  core::Stats::inc(stats.server_bytes_sent_total, static_cast<int64_t>(request_.size()));
  conn.write(request_);
  outcome_.clear();
  response_started_ = false;
  response_scanner_.reset();
  held_.clear();
  failure_ = nullptr;
  if (!tracker_.expects_response(command_)) return false;
  tracker_.begin(command_, conn.capabilities(), request_.data() + kPacketHeaderBytes,
                 request_.size() - kPacketHeaderBytes);
  return true;
}

void Exchange::start_upload(ServerConn& conn, std::span<const uint8_t> head, std::optional<uint32_t> patch_stmt_id) {
  ODP_ASSERT(head.size() > kPacketHeaderBytes);
  command_ = static_cast<Command>(head[kPacketHeaderBytes]);
  tracker_.begin(command_, conn.capabilities(), head.data() + kPacketHeaderBytes, head.size() - kPacketHeaderBytes);
  core::Stats::inc(env_.stats().sql_request_total);
  request_.clear();
  outcome_.clear();
  response_started_ = false;
  response_scanner_.reset();
  held_.clear();
  request_bytes_ = 0;
  request_scanner_.reset();
  if (link_.channel().compressed()) request_scanner_.renumber_from(0);
  upload_is_infile_ = false;
  patch_stmt_id_ = patch_stmt_id;
  failure_ = nullptr;
}

size_t Exchange::stream_request(ServerConn& conn, std::span<const uint8_t> in, bool* end, bool* too_large) {
  RequestConsumer consumer{*this, env_.config().limits.max_packet_bytes};
  size_t used = 0;
  if (link_.channel().compressed()) {
    // Decompressed bytes live in the link's input, which we own: renumber inner packets in place.
    ODP_ASSERT(in.data() == link_.input().data().data());
    used = request_scanner_.scan(link_.input().mutable_data().first(in.size()), consumer);
  } else {
    used = request_scanner_.scan(in, consumer);
  }
  *too_large = consumer.too_large;
  *end = consumer.end;
  if (consumer.too_large) return in.size();
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(used));
  if (patch_stmt_id_ && used >= kPacketHeaderBytes + 5) {
    // The first bytes of a streamed statement command: the client's statement id becomes the
    // connection's.
    std::array<uint8_t, kPacketHeaderBytes + 5> head{};
    std::copy(in.begin(), in.begin() + head.size(), head.begin());
    patch_statement_id(std::span<uint8_t>(head).subspan(kPacketHeaderBytes), *patch_stmt_id_);
    patch_stmt_id_.reset();
    conn.write(head);
    conn.write(in.subspan(head.size(), used - head.size()));
  } else {
    conn.write(in.first(used));
  }
  if (consumer.end) {
    request_scanner_.reset();
    if (upload_is_infile_) tracker_.on_local_infile_sent();
    // The answer is numbered after the compressed frame that carried the request's last byte.
    link_.channel().request_read(in.size() - used);
  }
  return used;
}

void Exchange::infile_sent() {
  upload_is_infile_ = false;
}

void Exchange::note_ok(std::span<const uint8_t> ok_payload, const ServerConn& conn, uint32_t client_caps,
                       std::vector<uint8_t>& rewrite) {
  rewrite.clear();
  auto ok = decode_ok(ok_payload, conn.capabilities());
  if (!ok || !(ok->status_flags & status::SESSION_STATE_CHANGED)) return;
  const bool client_tracks = (client_caps & cap::SESSION_TRACK) != 0;
  // Decoded once, for the model (odp's trackers) and for the client's view of them.
  auto records = conn.tracks_session_state() || client_tracks
                     ? decode_session_track(std::string_view(ok->session_state))
                     : Err{DecodeError{"not read"}};
  if (conn.tracks_session_state()) {
    if (records) {
      for (const auto& r : records.value()) {
        if (r.type == SessionTrackType::system_variables) {
          outcome_.system_variables.emplace_back(r.name, r.value);
        } else if (r.type == SessionTrackType::schema) {
          outcome_.schema = r.value;
        } else if (r.type == SessionTrackType::state_change) {
          outcome_.state_change = true;
        }
      }
    }
  }
  if (client_tracks) {
    // The records the client's own trackers would have produced, no more (client_tracking.h);
    // records that do not parse go as they came.
    auto kept = tracking_ && records ? filter_session_state(records.value(), *tracking_) : std::nullopt;
    if (!kept) return;
    OkPacket client_ok = std::move(ok.value());
    client_ok.session_state = std::move(*kept);
    if (client_ok.session_state.empty())
      client_ok.status_flags &= static_cast<uint16_t>(~status::SESSION_STATE_CHANGED);
    std::vector<uint8_t> payload;
    encode_ok(client_ok, client_caps, payload, ok_payload[0]);
    encode_packet(0, payload, rewrite);
    return;
  }
  // The client did not ask for session tracking: give it the OK it expects.
  std::vector<uint8_t> plain;
  encode_ok_without_session_state(std::move(ok.value()), client_caps, plain, ok_payload[0]);
  encode_packet(0, plain, rewrite);  // framed; the sequence id is set by the caller
}

Exchange::Step Exchange::on_server_data(ServerConn& conn, std::span<const uint8_t> data, uint32_t client_caps,
                                        bool hide_refusals) {
  if (hide_refusals && !response_started_ && response_scanner_.at_boundary() && data.size() >= kPacketHeaderBytes + 3) {
    PacketHeader h = decode_header(data.data());
    uint16_t code = static_cast<uint16_t>(data[kPacketHeaderBytes + 1] | (data[kPacketHeaderBytes + 2] << 8));
    if (data.size() == kPacketHeaderBytes + h.length && data[kPacketHeaderBytes] == 0xFF &&
        refused_before_running(code)) {
      hidden_code_ = code;
      return Step::hidden_err;
    }
  }
  size_t pos = 0;
  bool rewrote_any = false;
  while (pos < data.size()) {
    ResponseConsumer consumer{*this, conn, client_caps};
    std::span<const uint8_t> rest = data.subspan(pos);
    size_t held_before = held_.size();
    size_t used = response_scanner_.scan(rest, consumer);
    if (used > 0) response_started_ = true;
    if (consumer.rewrote) {
      rewrote_any = true;
      size_t packet_bytes = kPacketHeaderBytes + consumer.rewrite_payload_len;
      if (held_before > 0 && held_before + used == packet_bytes) {
        // The held-back packet: its rewrite takes its place.
        held_.clear();
        rewrite_[3] = consumer.rewrite_seq;
        link_.send(rewrite_);
      } else if (used >= packet_bytes) {
        // What came before the packet goes first (a held packet that ended unchanged, then the
        // packets of this chunk); the rewritten packet takes the place of the server's.
        if (held_before > 0) link_.send(held_);
        held_.clear();
        if (used > packet_bytes) link_.send(rest.first(used - packet_bytes));
        rewrite_[3] = consumer.rewrite_seq;
        link_.send(rewrite_);
      } else {
        // Began in an earlier chunk too large to hold back (over kMaxHeldPacket): unchanged.
        if (held_before > 0) link_.send(held_);
        held_.clear();
        link_.send(rest.first(used));
      }
      rewrite_.clear();
    } else if (used > 0) {
      bool same_packet = held_before > 0 && !response_scanner_.at_boundary() &&
                         response_scanner_.packet_bytes_seen() == held_before + used;
      if (same_packet && holdable()) {
        held_.insert(held_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(used));
      } else if (same_packet) {
        // Its first byte or length now says odp will not rewrite it: no more holding back.
        link_.send(held_);
        held_.clear();
        rewrote_any = true;
        link_.send(rest.first(used));
      } else {
        if (held_before > 0) {
          link_.send(held_);  // the held packet ended in this chunk, unchanged
          held_.clear();
          rewrote_any = true;  // order: what follows must not overtake it
        }
        // The tail is copied first: forwarding may give the server's buffer back at once.
        size_t tail = tail_to_hold(used);
        if (tail > 0) {
          auto from = rest.begin() + static_cast<std::ptrdiff_t>(used - tail);
          held_.assign(from, from + static_cast<std::ptrdiff_t>(tail));
        }
        pass(conn, rest.first(used - tail), rewrote_any);
      }
    }
    pos += used;
    Step step = settle(consumer.done, consumer.local_infile, consumer.failed, pos < data.size());
    if (step != Step::more) return step;
    if (used == 0) break;
  }
  return Step::more;
}

bool Exchange::holdable() const {
  const PacketScanner& s = response_scanner_;
  if (s.at_boundary()) return false;
  // Only packets odp may rewrite are held: OK (0x00; 0xFE closing a result without EOF) and
  // PREPARE_OK (0x00), all small. Until the first byte is known, anything may be one.
  if (s.header_complete() && s.payload_length() > kMaxHeldPacket) return false;
  if (s.first_byte_seen() && s.first_byte() != 0x00 && s.first_byte() != 0xFE) return false;
  return true;
}

size_t Exchange::tail_to_hold(size_t scanned) const {
  const PacketScanner& s = response_scanner_;
  if (!holdable() || s.packet_bytes_seen() > scanned) return 0;
  return s.packet_bytes_seen();
}

void Exchange::pass(ServerConn& conn, std::span<const uint8_t> bytes, bool copy) {
  if (bytes.empty()) return;
  // Zero-copy forwarding lends the server connection's receive buffer; bytes unwrapped from OB 2.0
  // frames live in odp's own buffer instead, which the next read reuses: they are copied.
  if (copy || conn.ob20()) {
    link_.send(bytes);
  } else {
    link_.forward(conn.conn(), bytes);
  }
}

Exchange::Step Exchange::settle(bool done, bool local_infile, bool failed, bool bytes_follow) {
  if (failed) {
    failure_ = tracker_.error_reason() ? tracker_.error_reason() : "malformed response";
    return Step::failed;
  }
  if (local_infile) {
    // Nothing may follow the request until the client's file went by.
    if (bytes_follow) {
      failure_ = "server sent bytes after a LOCAL INFILE request";
      return Step::failed;
    }
    upload_is_infile_ = true;
    request_scanner_.reset();
    if (link_.channel().compressed()) request_scanner_.renumber_from(static_cast<uint8_t>(last_seq_ + 1));
    return Step::local_infile;
  }
  if (done) {
    if (bytes_follow) {
      failure_ = "server sent bytes after the end of a response";
      return Step::failed;
    }
    outcome_.error = tracker_.last_was_error();
    outcome_.error_code = tracker_.last_error_code();
    outcome_.status_known = tracker_.status_known();
    outcome_.status_flags = tracker_.last_status_flags();
    outcome_.last_insert_id = tracker_.last_insert_id();
    outcome_.affected_rows = tracker_.last_affected_rows();
    outcome_.warnings = tracker_.last_warnings();
    outcome_.cursor_opened = tracker_.cursor_opened();
    return Step::done;
  }
  return Step::more;
}

// --- splice ---------------------------------------------------------------------------------------

uint32_t Exchange::response_splice_bytes() const {
  uint32_t min = env_.config().limits.splice_min_bytes;
  uint32_t bytes = response_scanner_.opaque_left();
  return min == 0 || bytes < min ? 0 : bytes;
}

void Exchange::maybe_splice_response(ServerConn& conn) {
  // OB 2.0 frames are not the client's MySQL stream: they are unwrapped, never spliced.
  if (!held_.empty() || !link_.open() || !link_.passthrough() || conn.ob20() || response_splice_bytes() == 0) return;
  // Refused while this connection already splices or is stopping its reads for it.
  if (!conn.conn().can_splice_to(*link_.conn())) return;
  conn.conn().request_splice();
}

Exchange::Step Exchange::on_response_spliced(ServerConn& conn, uint64_t bytes, uint32_t client_caps) {
  core::Stats& stats = env_.stats();
  core::Stats::inc(stats.server_bytes_received_total, static_cast<int64_t>(bytes));
  core::Stats::inc(stats.client_bytes_sent_total, static_cast<int64_t>(bytes));
  core::Stats::inc(stats.splice_to_client_bytes_total, static_cast<int64_t>(bytes));
  response_started_ = true;
  ResponseConsumer consumer{*this, conn, client_caps};
  response_scanner_.skip(static_cast<uint32_t>(bytes), consumer);
  return settle(consumer.done, consumer.local_infile, consumer.failed, false);
}

uint32_t Exchange::request_splice_bytes() const {
  uint32_t min = env_.config().limits.splice_min_bytes;
  uint32_t bytes = request_scanner_.opaque_left();
  return min == 0 || bytes < min ? 0 : bytes;
}

void Exchange::maybe_splice_request(ServerConn& conn) {
  if (!link_.open() || !link_.passthrough() || !link_.input().empty() || patch_stmt_id_ || conn.ob20()) return;
  if (request_splice_bytes() == 0 || !link_.conn()->can_splice_to(conn.conn())) return;
  link_.conn()->request_splice();
}

bool Exchange::on_request_spliced(uint64_t bytes, bool* too_large) {
  core::Stats& stats = env_.stats();
  core::Stats::inc(stats.client_bytes_received_total, static_cast<int64_t>(bytes));
  core::Stats::inc(stats.server_bytes_sent_total, static_cast<int64_t>(bytes));
  core::Stats::inc(stats.splice_to_server_bytes_total, static_cast<int64_t>(bytes));
  RequestConsumer consumer{*this, env_.config().limits.max_packet_bytes};
  request_scanner_.skip(static_cast<uint32_t>(bytes), consumer);
  *too_large = consumer.too_large;
  if (consumer.end) {
    request_scanner_.reset();
    if (upload_is_infile_) tracker_.on_local_infile_sent();
    link_.channel().request_read(link_.input().size());
  }
  return consumer.end;
}

}  // namespace odp::proxy
