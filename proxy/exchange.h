#pragma once
// One client command in flight on a server connection: the request going out (whole, or streamed
// for large statements, long data and LOCAL INFILE contents), the response streaming back to the
// client while the ResponseTracker watches packet heads only, the facts the session model needs
// from it (ResponseOutcome), OK packets rewritten for clients that did not ask for session
// tracking, and the opaque rest of large packets moved by splice.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/response_tracker.h"
#include "proxy/client_link.h"
#include "proxy/packet_scanner.h"
#include "proxy/server_conn.h"
#include "proxy/session_model.h"

namespace odp::proxy {

class Exchange {
 public:
  enum class Step {
    more,          // the response goes on
    done,          // the response ended
    local_infile,  // the server asks for the client's file: the client's bytes stream up now
    hidden_err,    // the whole response is the ERR asked to hide and nothing reached the client yet
    failed,        // the server broke the protocol
  };

  Exchange(SessionEnv& env, ClientLink& link) : env_(env), link_(link) {}
  // The client's session tracking (the session model's): what of the servers' records it gets.
  void set_client_tracking(const ClientTracking* tracking) { tracking_ = tracking; }

  // The command being served, framed (a small one, kept whole for retries and async steps).
  std::vector<uint8_t>& request() { return request_; }
  std::span<const uint8_t> request() const { return request_; }
  protocol::Command command() const { return command_; }
  void set_request(std::span<const uint8_t> packet, protocol::Command cmd);
  void clear_request() {
    request_.clear();
    command_ = protocol::Command::sleep;
  }

  // The request is the client's own COM_STMT_PREPARE: its PREPARE_OK goes to the client with
  // odp's statement id instead of the server's.
  void expect_prepare(uint32_t odp_id) { prepare_id_ = odp_id; }
  std::optional<protocol::PrepareOk> prepare_ok() const { return tracker_.prepare_ok(); }
  // Sends the request on `conn` and starts following the response. False when no response comes
  // (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA).
  bool send(ServerConn& conn, uint32_t client_caps);
  // Starts a streamed request whose first bytes (`head`: header and at least the command byte) are
  // in the client's input; the caller passes them through stream_request as they come.
  // `patch_stmt_id`: the server's id for a statement command.
  void start_upload(ServerConn& conn, std::span<const uint8_t> head, std::optional<uint32_t> patch_stmt_id);
  // Client bytes of a streamed request: forwarded; returns bytes consumed. *end when the request
  // (or the LOCAL INFILE contents) ended; *too_large past limits.max_packet_bytes.
  size_t stream_request(ServerConn& conn, std::span<const uint8_t> in, bool* end, bool* too_large);
  bool uploading_infile() const { return upload_is_infile_; }
  // The LOCAL INFILE contents went by: the rest of the response follows.
  void infile_sent();

  // Server bytes of the response. On `done`, nothing followed the response's end. With
  // `hide_refusals`, a response that is exactly one ERR saying the statement did not run there
  // (protocol::refused_before_running: 4038, 8001, 8002, 5150) is not forwarded
  // (Step::hidden_err, hidden_code()): the caller retries elsewhere, or calls again without hiding.
  Step on_server_data(ServerConn& conn, std::span<const uint8_t> data, uint32_t client_caps,
                      bool hide_refusals = false);
  uint16_t hidden_code() const { return hidden_code_; }
  const char* failure() const { return failure_; }

  const ResponseOutcome& outcome() const { return outcome_; }
  bool response_started() const { return response_started_; }
  // The next server byte starts a packet (nothing of one is pending or held back).
  bool at_packet_boundary() const { return held_.empty() && response_scanner_.at_boundary(); }
  bool last_was_error() const { return tracker_.last_was_error(); }
  const char* error_reason() const { return tracker_.error_reason(); }
  // Forget a partial header a dead server left (the command runs again elsewhere).
  void reset_response() {
    response_scanner_.reset();
    held_.clear();
    response_started_ = false;
    outcome_.clear();
  }
  uint8_t last_seq() const { return last_seq_; }

  // Splice: the opaque rest of a large response packet server -> client, or of a streamed
  // request client -> server.
  void maybe_splice_response(ServerConn& conn);
  // Bytes to splice now (0: resume reads instead).
  uint32_t response_splice_bytes() const;
  Step on_response_spliced(ServerConn& conn, uint64_t bytes, uint32_t client_caps);
  void maybe_splice_request(ServerConn& conn);
  uint32_t request_splice_bytes() const;
  // Returns true when the request ended; *too_large as for stream_request.
  bool on_request_spliced(uint64_t bytes, bool* too_large);

 private:
  friend struct ResponseConsumer;
  friend struct RequestConsumer;
  void note_ok(std::span<const uint8_t> ok_payload, const ServerConn& conn, uint32_t client_caps,
               std::vector<uint8_t>& rewrite);
  Step settle(bool done, bool local_infile, bool failed, bool bytes_follow);
  // Bytes at the end of `scanned` that belong to a packet still under way and must be held back.
  size_t tail_to_hold(size_t scanned) const;
  bool holdable() const;  // the packet under way may still need a rewrite
  void pass(ServerConn& conn, std::span<const uint8_t> bytes, bool copy);

  SessionEnv& env_;
  ClientLink& link_;
  const ClientTracking* tracking_ = nullptr;
  std::vector<uint8_t> request_;
  protocol::Command command_ = protocol::Command::sleep;
  PacketScanner response_scanner_;
  PacketScanner request_scanner_;
  protocol::ResponseTracker tracker_;
  ResponseOutcome outcome_;
  std::vector<uint8_t> rewrite_;  // an OK packet rewritten for the client (reused)
  // The start of a packet odp may have to rewrite (an OK with session state, a PREPARE_OK) that
  // the server's bytes split over reads: held back until the packet is whole.
  std::vector<uint8_t> held_;
  uint64_t request_bytes_ = 0;  // logical size of a streamed request so far
  std::optional<uint32_t> patch_stmt_id_;
  std::optional<uint32_t> prepare_id_;
  uint8_t last_seq_ = 0;
  bool response_started_ = false;
  bool upload_is_infile_ = false;
  uint16_t hidden_code_ = 0;
  const char* failure_ = nullptr;
};

}  // namespace odp::proxy
