#pragma once
// OB 2.0 on a server connection after login (../shared/OB-VECTORS.md 1.1, 1.5): the proxy's MySQL
// byte stream towards the server cut into one OB 2.0 request per command, and the server's frames
// checked and unwrapped back into the MySQL bytes of its responses. Pure: no IO, no clock.
//
// Requests: each command (a MySQL packet sequence ending with a packet shorter than 0xFFFFFF) is
// one request with its own request id (+1 per request, wrapping past 0xFFFFFF to 0); its frames
// have sequence numbers 0, 1, ... and the frame that ends the command carries LAST_PACKET. Bytes
// may arrive in any pieces (streamed uploads): each piece becomes a frame of its command.
// Responses: a command that gets an answer expects frames carrying its request id, numbered on
// from its last request frame (+1 per frame), the server's connection id, valid checksums; the
// frame flagged LAST_PACKET ends the answer. Commands answered back to back are matched in order.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/ob20.h"
#include "protocol/ob20_old_extra_info.h"
#include "protocol/ob_session_info.h"
#include "protocol/wire.h"

namespace odp::protocol {

// The most MySQL bytes one request frame carries (the drivers' limit: 0xFFFFFF - 24 - 4).
constexpr size_t kOb20MaxFramePayload = 0xFFFFFF - 24 - 4;

// What the writer tells the reader about each request that expects an answer.
struct Ob20PendingRequest {
  uint32_t request_id = 0;
  uint8_t first_response_seq = 0;
};

class Ob20RequestFramer {
 public:
  // `first_request_id`: random in [0, 0xFFFFFF] (obproxy and the JDBC driver start at random).
  Ob20RequestFramer(uint32_t connection_id, uint32_t first_request_id, bool checksum);

  // Frames `mysql_bytes` (any piece of the stream) into `out`. Requests that will be answered are
  // appended to `expect` when their last frame is written.
  void wrap(std::span<const uint8_t> mysql_bytes, std::vector<uint8_t>& out, std::deque<Ob20PendingRequest>& expect);
  void set_checksum(bool on) { checksum_ = on; }
  // Whether the server reads the new (TLV) extra-info format: it granted PROXY_NEW_EXTRA_INFO. Off,
  // the records attached go out in the old format (ob20_old_extra_info.h).
  void set_new_extra_info(bool on) { new_extra_info_ = on; }
  // LOCAL INFILE: the client's file goes to the server as the rest of the request that asked for
  // it (the same request id, frames numbered on from the server's last one), up to the empty
  // packet that ends the file; then the server's final answer is expected.
  void continue_request(uint32_t request_id, uint8_t next_seq);
  uint32_t next_request_id() const { return request_id_; }
  // New-format extra info records (flag NEW_EXTRA_INFO) for the first frame of the next request
  // (converted to the old format there when the server reads only that):
  // the session records this connection lacks (ob_session_info.h), a driver's trace records.
  // Records attached before that request add up.
  void attach_extra_info(std::span<const uint8_t> records) { put_bytes(extra_info_, records); }
  // Records attached for a request that never went (its session gave the connection back first).
  void forget_extra_info() { extra_info_.clear(); }

 private:
  // Bytes of `in` that belong to the current command (up to its end or `limit`); sets
  // command_ended_ when they end it.
  size_t scan(std::span<const uint8_t> in, size_t limit);

  uint32_t connection_id_;
  uint32_t request_id_;
  bool checksum_;
  bool new_extra_info_ = true;
  // The MySQL packet being scanned: header bytes seen so far, then body bytes still to come.
  uint8_t header_[4] = {};
  uint8_t header_have_ = 0;
  uint32_t body_left_ = 0;
  bool last_packet_of_command_ = false;  // the packet being scanned is shorter than 0xFFFFFF
  bool command_started_ = false;
  bool command_ended_ = false;
  bool answered_ = true;  // the current command gets an answer (not COM_STMT_CLOSE, SEND_LONG_DATA, QUIT)
  bool first_body_byte_ = false;
  uint8_t frame_seq_ = 0;
  bool continuation_ = false;  // continue_request(): ends at an empty packet
  uint32_t continued_request_id_ = 0;
  uint32_t packet_len_ = 0;
  std::vector<uint8_t> extra_info_;  // for the next request's first frame
};

// odp as the client of an OB 2.0 server: its responses checked and unwrapped.
class Ob20ResponseReader {
 public:
  Ob20ResponseReader(uint32_t connection_id, uint64_t max_frame_bytes);

  // Consumes `in`, appending the MySQL bytes of every whole frame to `out`. An error is final: the
  // connection can no longer be trusted (a checksum, sequence, request id or connection id that
  // does not match, a frame nobody asked for).
  Result<size_t, DecodeError> feed(std::span<const uint8_t> in, std::deque<Ob20PendingRequest>& expect,
                                   std::vector<uint8_t>& out);
  // The session records (SESS_INFO) the server's frames carried since the last call, oldest
  // first, moved into `out`.
  void take_session_info(std::vector<ObSessionRecord>& out) {
    out.swap(session_info_);
    session_info_.clear();
  }
  uint64_t frames() const { return frames_; }
  // The request id and sequence number of the latest frame read.
  uint32_t last_request_id() const { return last_request_id_; }
  uint8_t last_seq() const { return static_cast<uint8_t>(next_seq_ - 1); }

 private:
  const char* accept(const Ob20Frame& f, std::deque<Ob20PendingRequest>& expect, std::vector<uint8_t>& out);

  uint32_t connection_id_;
  Ob20FrameSplitter splitter_;
  std::vector<ObSessionRecord> session_info_;
  uint64_t frames_ = 0;
  bool in_response_ = false;  // frames of the front request's answer have started
  uint8_t next_seq_ = 0;
  uint32_t last_request_id_ = 0;
};

// odp as the server of an OB 2.0 client (OceanBase Connector/J and /C ask for it): the client's
// request frames checked (magic, version, lengths, checksums when set, odp's connection id) and
// unwrapped. Each frame that carried bytes is reported, so that the response to a request can
// take the id and numbering of the frame that ended it.
struct Ob20RequestFrame {
  uint32_t request_id = 0;
  uint8_t seq = 0;
  size_t mysql_bytes = 0;
  // The driver's trace records (TRACE_INFO, FULL_TRC) from the frame's new-format extra info, as
  // TLV records to pass on to the server with the request (empty: none).
  std::vector<uint8_t> trace_info;
};

class Ob20RequestReader {
 public:
  Ob20RequestReader(uint32_t connection_id, uint64_t max_frame_bytes);
  Result<size_t, DecodeError> feed(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                                   std::vector<Ob20RequestFrame>& frames);
  size_t buffered_bytes() const { return splitter_.buffered_bytes(); }
  // The latest frame's request id and sequence number (a refused one's too).
  uint32_t last_request_id() const { return splitter_.last_request_id(); }
  uint8_t last_seq() const { return splitter_.last_seq(); }

 private:
  uint32_t connection_id_;
  Ob20FrameSplitter splitter_;
};

// odp's responses to an OB 2.0 client: in frames carrying the request's id, numbered on from the
// request's last frame, the last one flagged LAST_PACKET. Bytes are held until the response ends
// (or framed early, all but the last one, past kHeldBytes), so that the frame ending a response is
// never empty and says so.
class Ob20ResponseFramer {
 public:
  static constexpr size_t kHeldBytes = 64 * 1024;
  Ob20ResponseFramer(uint32_t connection_id, bool checksum);
  void respond_to(uint32_t request_id, uint8_t first_seq);
  void write(std::span<const uint8_t> mysql_bytes, std::vector<uint8_t>& out);
  // What is held goes out flagged LAST_PACKET (nothing held: nothing goes out).
  void end_response(std::vector<uint8_t>& out);
  bool holding() const { return !held_.empty(); }

 private:
  void emit(std::span<const uint8_t> bytes, bool last, std::vector<uint8_t>& out);

  uint32_t connection_id_;
  bool checksum_;
  uint32_t request_id_ = 0;
  uint8_t seq_ = 0;
  std::vector<uint8_t> held_;
};

}  // namespace odp::protocol
