#include "protocol/ob20_stream.h"

#include <algorithm>

#include "protocol/compress.h"
#include "protocol/constants.h"

namespace odp::protocol {
namespace {

constexpr uint32_t kMaxMysqlPacketBody = 0xFFFFFF;

// Commands the server does not answer: their requests expect no frames back.
bool unanswered(uint8_t command) {
  return command == static_cast<uint8_t>(Command::stmt_close) ||
         command == static_cast<uint8_t>(Command::stmt_send_long_data) ||
         command == static_cast<uint8_t>(Command::quit);
}

}  // namespace

Ob20RequestFramer::Ob20RequestFramer(uint32_t connection_id, uint32_t first_request_id, bool checksum)
    : connection_id_(connection_id), request_id_(first_request_id & kOb20MaxRequestId), checksum_(checksum) {}

size_t Ob20RequestFramer::scan(std::span<const uint8_t> in, size_t max_bytes) {
  command_ended_ = false;
  const size_t limit = std::min(in.size(), max_bytes);
  size_t i = 0;
  while (i < limit) {
    if (header_have_ < 4) {
      if (header_have_ == 0 && !command_started_) {
        command_started_ = true;
        first_body_byte_ = !continuation_;  // file bytes are no command
        answered_ = true;
      }
      header_[header_have_++] = in[i++];
      if (header_have_ < 4) continue;
      body_left_ = static_cast<uint32_t>(header_[0]) | (static_cast<uint32_t>(header_[1]) << 8) |
                   (static_cast<uint32_t>(header_[2]) << 16);
      packet_len_ = body_left_;
      last_packet_of_command_ = continuation_ ? body_left_ == 0 : body_left_ < kMaxMysqlPacketBody;
    } else {
      const size_t take = std::min<size_t>(body_left_, limit - i);
      if (first_body_byte_ && take > 0) {
        answered_ = !unanswered(in[i]);
        first_body_byte_ = false;
      }
      i += take;
      body_left_ -= static_cast<uint32_t>(take);
    }
    if (header_have_ == 4 && body_left_ == 0) {  // a whole packet
      header_have_ = 0;
      first_body_byte_ = false;
      if (last_packet_of_command_) {
        command_started_ = false;
        command_ended_ = true;
        return i;
      }
    }
  }
  return i;
}

void Ob20RequestFramer::wrap(std::span<const uint8_t> mysql_bytes, std::vector<uint8_t>& out,
                             std::deque<Ob20PendingRequest>& expect) {
  while (!mysql_bytes.empty()) {
    // A request's first frame carries the attached extra info (and its u32 length) within the
    // frame's payload limit.
    const bool first_frame = frame_seq_ == 0 && !continuation_;
    if (first_frame && !new_extra_info_ && !extra_info_.empty()) {
      // A server without the TLV format (no PROXY_NEW_EXTRA_INFO) reads the old one. The records
      // are odp's own encoding: they always decode.
      std::vector<uint8_t> old;
      if (!ob20_extra_info_to_old(extra_info_, old)) old.clear();
      extra_info_.swap(old);
    }
    if (extra_info_.size() > kOb20MaxFramePayload / 2) extra_info_.clear();  // absurd: never sent
    const bool with_extra = !extra_info_.empty() && first_frame;
    const size_t n =
        scan(mysql_bytes, with_extra ? kOb20MaxFramePayload - 4 - extra_info_.size() : kOb20MaxFramePayload);
    Ob20Header h;
    h.connection_id = connection_id_;
    h.request_id = continuation_ ? continued_request_id_ : request_id_;
    h.packet_seq = frame_seq_;
    h.comp_seq = frame_seq_;  // the compressed seq is the OB 2.0 frame seq
    h.flags = command_ended_ ? ob20flag::LAST_PACKET : 0;
    if (with_extra) {
      if (new_extra_info_) h.flags |= ob20flag::NEW_EXTRA_INFO;
      encode_ob20_frame(h, extra_info_, mysql_bytes.first(n), checksum_, out);
      extra_info_.clear();
    } else {
      encode_ob20_frame(h, {}, mysql_bytes.first(n), checksum_, out);
    }
    if (command_ended_) {
      if (answered_) expect.push_back(Ob20PendingRequest{h.request_id, static_cast<uint8_t>(frame_seq_ + 1)});
      if (continuation_) {
        continuation_ = false;
      } else {
        request_id_ = (request_id_ + 1) & kOb20MaxRequestId;
      }
      frame_seq_ = 0;
    } else {
      ++frame_seq_;
    }
    mysql_bytes = mysql_bytes.subspan(n);
  }
}

void Ob20RequestFramer::continue_request(uint32_t request_id, uint8_t next_seq) {
  continuation_ = true;
  continued_request_id_ = request_id & kOb20MaxRequestId;
  frame_seq_ = next_seq;
}

Ob20ResponseReader::Ob20ResponseReader(uint32_t connection_id, uint64_t max_frame_bytes)
    : connection_id_(connection_id), splitter_(max_frame_bytes) {}

const char* Ob20ResponseReader::accept(const Ob20Frame& f, std::deque<Ob20PendingRequest>& expect,
                                       std::vector<uint8_t>& out) {
  const Ob20Header& h = f.header;
  if (h.connection_id != connection_id_) return "ob20: frame of another connection id";
  if (expect.empty()) return "ob20: a frame no request asked for";
  const Ob20PendingRequest& front = expect.front();
  if (h.request_id != front.request_id) return "ob20: response to another request id";
  const uint8_t want = in_response_ ? next_seq_ : front.first_response_seq;
  if (h.packet_seq != want) return "ob20: frame out of sequence";
  next_seq_ = static_cast<uint8_t>(want + 1);
  last_request_id_ = h.request_id;
  in_response_ = true;
  put_bytes(out, f.mysql_bytes);
  if (h.flags & ob20flag::EXTRA_INFO) {
    auto items = decode_ob20_extra_info_of(h.flags, f.extra_info);
    if (!items || !collect_session_info(*items, session_info_)) return "ob20: malformed extra info";
  }
  if (h.flags & ob20flag::LAST_PACKET) {
    expect.pop_front();
    in_response_ = false;
  }
  ++frames_;
  return nullptr;
}

Result<size_t, DecodeError> Ob20ResponseReader::feed(std::span<const uint8_t> in,
                                                     std::deque<Ob20PendingRequest>& expect,
                                                     std::vector<uint8_t>& out) {
  return splitter_.feed(in, [&](const Ob20Frame& f) { return accept(f, expect, out); });
}

Ob20RequestReader::Ob20RequestReader(uint32_t connection_id, uint64_t max_frame_bytes)
    : connection_id_(connection_id), splitter_(max_frame_bytes) {}

Result<size_t, DecodeError> Ob20RequestReader::feed(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                                                    std::vector<Ob20RequestFrame>& frames) {
  return splitter_.feed(in, [&](const Ob20Frame& f) -> const char* {
    if (f.header.connection_id != connection_id_) return "ob20: frame of another connection id";
    put_bytes(out, f.mysql_bytes);
    frames.push_back(Ob20RequestFrame{f.header.request_id, f.header.packet_seq, f.mysql_bytes.size(), {}});
    if (f.header.flags & ob20flag::EXTRA_INFO) {
      auto items = decode_ob20_extra_info_of(f.header.flags, f.extra_info);
      if (!items) return "ob20: malformed extra info";
      for (const Ob20ExtraInfoItem& item : *items)
        if (item.type == ob20extra::TRACE_INFO || item.type == ob20extra::FULL_LINK_TRACE)
          encode_ob20_extra_info_item(item.type, item.value, frames.back().trace_info);
    }
    return nullptr;
  });
}

Ob20ResponseFramer::Ob20ResponseFramer(uint32_t connection_id, bool checksum)
    : connection_id_(connection_id), checksum_(checksum) {}

void Ob20ResponseFramer::respond_to(uint32_t request_id, uint8_t first_seq) {
  request_id_ = request_id & kOb20MaxRequestId;
  seq_ = first_seq;
}

void Ob20ResponseFramer::emit(std::span<const uint8_t> bytes, bool last, std::vector<uint8_t>& out) {
  Ob20Header h;
  h.connection_id = connection_id_;
  h.request_id = request_id_;
  h.packet_seq = seq_;
  h.comp_seq = seq_;
  h.flags = last ? ob20flag::LAST_PACKET : 0;
  encode_ob20_frame(h, {}, bytes, checksum_, out);
  ++seq_;
}

void Ob20ResponseFramer::write(std::span<const uint8_t> mysql_bytes, std::vector<uint8_t>& out) {
  held_.insert(held_.end(), mysql_bytes.begin(), mysql_bytes.end());
  while (held_.size() > kHeldBytes) {
    const size_t n = std::min(held_.size() - 1, kOb20MaxFramePayload);  // the last byte waits for the end
    emit(std::span<const uint8_t>(held_).first(n), false, out);
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

void Ob20ResponseFramer::end_response(std::vector<uint8_t>& out) {
  if (held_.empty()) return;
  emit(held_, true, out);
  held_.clear();
}

}  // namespace odp::protocol
