#include "protocol/response_tracker.h"

#include <algorithm>

#include "protocol/result_packets.h"
#include "protocol/wire.h"

namespace odp::protocol {
namespace {

// OK/ERR/EOF candidates are captured whole up to this many bytes. Real ones are far smaller
// (error messages are capped at 512 bytes); the tracker needs only their first 23 bytes, the rest
// is for the caller (session-state records), and the cap keeps a hostile server from making the
// proxy buffer a 16 MiB "OK packet".
constexpr size_t kMaxCaptureBytes = 64 * 1024;
constexpr size_t kLenencMaxBytes = 9;

size_t whole(uint32_t payload_len) {
  return std::min<size_t>(payload_len, kMaxCaptureBytes);
}
size_t upto(uint32_t payload_len, size_t n) {
  return std::min<size_t>(payload_len, n);
}

}  // namespace

void ResponseTracker::begin(Command cmd, uint32_t caps, const uint8_t* cmd_payload_head, size_t head_len) {
  *this = ResponseTracker{};
  cmd_ = cmd;
  caps_ = caps;
  // COM_STMT_EXECUTE: command, statement id, flags. Only an execute that asked for a cursor ends
  // at the column definitions when the server opens one (a procedure that opens and closes a
  // cursor of its own reports CURSOR_EXISTS there too, and its rows follow).
  if (cmd == Command::stmt_execute && cmd_payload_head != nullptr && head_len >= 6)
    cursor_requested_ = (cmd_payload_head[5] & 0x07) != 0;
  switch (cmd) {
    case Command::query:
    case Command::process_info:
    case Command::stmt_execute:
    case Command::stmt_bulk_execute:
      state_ = State::first;
      break;
    case Command::stmt_fetch:
      state_ = State::rows;
      break;
    case Command::stmt_prepare:
      state_ = State::prepare_first;
      break;
    case Command::field_list:
      state_ = State::field_list;
      break;
    case Command::statistics:
      state_ = State::statistics;
      break;
    case Command::change_user:
      state_ = State::change_user;
      break;
    case Command::quit:
    case Command::stmt_close:
    case Command::stmt_send_long_data:
      state_ = State::done;
      break;
    default:
      state_ = State::simple;
      break;
  }
}

bool ResponseTracker::expects_response(Command cmd) const {
  return cmd != Command::quit && cmd != Command::stmt_close && cmd != Command::stmt_send_long_data;
}

bool ResponseTracker::is_terminator(uint8_t first_byte, uint32_t payload_len) const {
  return deprecate_eof() ? is_ok_terminator(first_byte, payload_len) : is_eof_packet(first_byte, payload_len);
}

size_t ResponseTracker::capture_bytes(uint8_t first_byte, uint32_t payload_len) const {
  if (first_byte == 0xFF) return whole(payload_len);
  switch (state_) {
    case State::first:
      if (first_byte == 0x00 || first_byte == 0xFB || first_byte == 0xFE) return whole(payload_len);
      return upto(payload_len, kLenencMaxBytes);  // column count
    case State::rows:
      return is_terminator(first_byte, payload_len) ? whole(payload_len) : upto(payload_len, 1);
    case State::columns_eof:
    case State::prepare_params_eof:
    case State::prepare_columns_eof:
    case State::simple:
    case State::change_user:
      return whole(payload_len);
    case State::prepare_first:
      return first_byte == 0x00 ? whole(payload_len) : upto(payload_len, 1);
    case State::field_list:
      return is_ok_terminator(first_byte, payload_len) ? whole(payload_len) : upto(payload_len, 1);
    default:
      return upto(payload_len, 1);
  }
}

ResponseTracker::Step ResponseTracker::fail(const char* why) {
  state_ = State::failed;
  error_reason_ = why;
  return Step::error;
}

bool ResponseTracker::take_ok(std::span<const uint8_t> head) {
  Reader r(head);
  uint64_t affected = 0, insert_id = 0;
  uint16_t flags = 0, warnings = 0;
  if (!r.skip(1) || !r.lenenc_int(affected) || !r.lenenc_int(insert_id)) return false;
  if (caps_ & cap::PROTOCOL_41) {
    if (!r.u16(flags) || !r.u16(warnings)) return false;
  } else if (caps_ & cap::TRANSACTIONS) {
    if (!r.u16(flags)) return false;
  }
  last_affected_rows_ = affected;
  last_insert_id_ = insert_id;
  last_status_flags_ = flags;
  last_warnings_ = warnings;
  last_was_error_ = false;
  last_packet_ok_ = true;
  status_known_ = true;
  if (flags & status::SESSION_STATE_CHANGED) session_state_changed_ = true;
  return true;
}

bool ResponseTracker::take_eof(std::span<const uint8_t> head) {
  Reader r(head);
  uint16_t warnings = 0, flags = 0;
  if (!r.skip(1)) return false;
  if (!r.empty() && (!r.u16(warnings) || !r.u16(flags))) return false;
  last_warnings_ = warnings;
  last_status_flags_ = flags;
  last_was_error_ = false;
  status_known_ = true;
  return true;
}

void ResponseTracker::take_err(std::span<const uint8_t> head) {
  Reader r(head);
  uint16_t code = 0;
  (void)r.skip(1);
  (void)r.u16(code);
  last_was_error_ = true;
  last_error_code_ = code;
  last_status_flags_ = static_cast<uint16_t>(last_status_flags_ & ~status::MORE_RESULTS_EXISTS);
}

ResponseTracker::Step ResponseTracker::end_of_result() {
  if (cmd_ != Command::stmt_fetch && (last_status_flags_ & status::MORE_RESULTS_EXISTS)) {
    state_ = State::first;
    return Step::more;
  }
  state_ = State::done;
  return Step::done;
}

ResponseTracker::Step ResponseTracker::on_packet(std::span<const uint8_t> head, uint32_t payload_len) {
  last_packet_ok_ = false;
  if (head.size() > payload_len) return fail("tracker: head longer than the packet");
  if (state_ == State::done) return fail("tracker: packet after the response ended");
  if (state_ == State::failed) return Step::error;
  if (state_ == State::idle) return fail("tracker: packet before begin()");
  if (state_ == State::local_infile) return fail("tracker: server packet while the client sends a LOCAL INFILE");
  if (payload_len == 0) {
    if (state_ == State::statistics) {
      state_ = State::done;
      return Step::done;
    }
    return fail("tracker: empty packet in a response");
  }
  if (head.empty()) return fail("tracker: no payload bytes captured");
  const uint8_t first = head[0];
  if (first == 0xFF) {
    // MariaDB progress reports (CLIENT_PROGRESS) are ERR-shaped packets with code 0xFFFF that do
    // not end the response.
    if (head.size() >= 3 && head[1] == 0xFF && head[2] == 0xFF) return Step::more;
    take_err(head);
    state_ = State::done;
    return Step::done;
  }
  switch (state_) {
    case State::first:
      return on_first(head, payload_len);
    case State::column_defs:
      if (--columns_left_ == 0) state_ = deprecate_eof() ? State::rows : State::columns_eof;
      return Step::more;
    case State::columns_eof:
      if (!is_eof_packet(first, payload_len) || !take_eof(head)) {
        return fail("tracker: expected EOF after column definitions");
      }
      if (cmd_ == Command::stmt_execute && cursor_requested_ && (last_status_flags_ & status::CURSOR_EXISTS)) {
        cursor_opened_ = true;
        state_ = State::done;  // rows come later, through COM_STMT_FETCH
        return Step::done;
      }
      state_ = State::rows;
      return Step::more;
    case State::rows:
      return on_rows(head, payload_len);
    case State::prepare_first:
    case State::prepare_params:
    case State::prepare_params_eof:
    case State::prepare_columns:
    case State::prepare_columns_eof:
      return on_prepare(head, payload_len);
    case State::field_list:
      if (is_ok_terminator(first, payload_len)) {
        if (!(payload_len < 9 ? take_eof(head) : take_ok(head))) return fail("tracker: malformed field list end");
        state_ = State::done;
        return Step::done;
      }
      return Step::more;
    case State::statistics:
      state_ = State::done;
      return Step::done;
    case State::simple:
    case State::change_user:
      return on_simple(head, payload_len);
    default:
      return fail("tracker: packet in an unexpected state");
  }
}

ResponseTracker::Step ResponseTracker::on_first(std::span<const uint8_t> head, uint32_t payload_len) {
  const uint8_t first = head[0];
  if (first == 0x00) {
    if (!take_ok(head)) return fail("tracker: malformed OK packet");
    return end_of_result();
  }
  if (first == 0xFB) {
    // A prepared LOAD DATA LOCAL INFILE asks for the file too (MariaDB runs it as a statement).
    if (cmd_ != Command::query && cmd_ != Command::stmt_execute)
      return fail("tracker: LOCAL INFILE request outside COM_QUERY / COM_STMT_EXECUTE");
    state_ = State::local_infile;
    return Step::local_infile;
  }
  if (first == 0xFE) return fail("tracker: 0xFE where a result was expected");
  Reader r(head);
  uint64_t columns = 0;
  if (!r.lenenc_int(columns) || columns == 0) return fail("tracker: malformed column count");
  (void)payload_len;
  columns_left_ = columns;
  ++result_sets_;
  state_ = State::column_defs;
  return Step::more;
}

ResponseTracker::Step ResponseTracker::on_rows(std::span<const uint8_t> head, uint32_t payload_len) {
  if (is_terminator(head[0], payload_len)) {
    const bool parsed = deprecate_eof() ? take_ok(head) : take_eof(head);
    if (!parsed) return fail("tracker: malformed end of result set");
    return end_of_result();
  }
  ++rows_;
  return Step::more;
}

ResponseTracker::Step ResponseTracker::after_prepare_params() {
  if (columns_left_ > 0) {
    state_ = State::prepare_columns;
    return Step::more;
  }
  state_ = State::done;
  return Step::done;
}

ResponseTracker::Step ResponseTracker::on_prepare(std::span<const uint8_t> head, uint32_t payload_len) {
  switch (state_) {
    case State::prepare_first: {
      auto ok = decode_prepare_ok(head);
      if (!ok) return fail("tracker: malformed PREPARE_OK");
      prepare_ok_ = *ok;
      last_warnings_ = ok->warnings;
      params_left_ = ok->num_params;
      columns_left_ = ok->num_columns;
      if (params_left_ > 0) {
        state_ = State::prepare_params;
        return Step::more;
      }
      return after_prepare_params();
    }
    case State::prepare_params:
      if (--params_left_ > 0) return Step::more;
      if (deprecate_eof()) return after_prepare_params();
      state_ = State::prepare_params_eof;
      return Step::more;
    case State::prepare_params_eof:
      if (!is_eof_packet(head[0], payload_len) || !take_eof(head)) return fail("tracker: expected EOF after params");
      return after_prepare_params();
    case State::prepare_columns:
      if (--columns_left_ > 0) return Step::more;
      if (deprecate_eof()) {
        state_ = State::done;
        return Step::done;
      }
      state_ = State::prepare_columns_eof;
      return Step::more;
    case State::prepare_columns_eof:
      if (!is_eof_packet(head[0], payload_len) || !take_eof(head)) return fail("tracker: expected EOF after columns");
      state_ = State::done;
      return Step::done;
    default:
      return fail("tracker: bad prepare state");
  }
}

ResponseTracker::Step ResponseTracker::on_simple(std::span<const uint8_t> head, uint32_t payload_len) {
  const uint8_t first = head[0];
  if (state_ == State::change_user && (first == 0xFE || first == 0x01)) {
    return Step::more;  // auth switch / more data: the caller relays the exchange
  }
  bool parsed = false;
  if (first == 0x00) {
    parsed = take_ok(head);
  } else if (first == 0xFE) {
    parsed = payload_len < 9 ? take_eof(head) : take_ok(head);
  } else {
    return fail("tracker: expected OK, ERR or EOF");
  }
  if (!parsed) return fail("tracker: malformed OK/EOF packet");
  state_ = State::done;
  return Step::done;
}

void ResponseTracker::on_local_infile_sent() {
  if (state_ == State::local_infile) state_ = State::first;
}

}  // namespace odp::protocol
