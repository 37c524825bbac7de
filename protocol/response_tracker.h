#pragma once
// Tells a forwarding proxy when the server's response to one client command is complete.
//
// The proxy streams the response packet by packet and shows the tracker only the first bytes of
// each physical packet: capture_bytes() says how many it needs (the whole payload of small
// OK/ERR/EOF candidates, a few bytes of rows and column definitions). Continuation packets of a
// 0xFFFFFF-byte packet are not shown. Pure state machine: no IO, no allocation per packet.
//
// Shapes handled (caps = the capabilities agreed with the server):
//   simple commands          OK | ERR
//   COM_QUERY, PROCESS_INFO  OK | ERR | 0xFB LOCAL INFILE | result set, repeated while
//                            SERVER_MORE_RESULTS_EXISTS (multi-statements, CALL)
//   result set               column-count, column defs, [EOF], rows, EOF | OK(0xFE) | ERR
//   COM_STMT_EXECUTE         as COM_QUERY with binary rows (they start with 0x00); a cursor
//                            (CURSOR_EXISTS in the EOF/OK after the column defs) ends the response
//   COM_STMT_FETCH           rows, EOF | OK(0xFE) | ERR
//   COM_STMT_PREPARE         PREPARE_OK, params, [EOF], columns, [EOF] | ERR
//   COM_FIELD_LIST           column defs, EOF | OK(0xFE) | ERR
//   COM_STATISTICS           one string packet
//   COM_SET_OPTION           EOF | OK | ERR
// An ERR-shaped packet with code 0xFFFF (a MariaDB progress report) never ends a response.
// Capabilities the tracker does not model and a proxy must not pass to the server:
// OPTIONAL_RESULTSET_METADATA (MySQL) and MariaDB's CACHE_METADATA extended capability.
// COM_CHANGE_USER answers with OK | ERR only after any auth exchange: an auth switch (0xFE) or
// more-data (0x01) packet returns Step::more and the caller relays the client's answer itself.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "protocol/constants.h"
#include "protocol/prepare_ok.h"

namespace odp::protocol {

class ResponseTracker {
 public:
  enum class Step {
    more,          // the response continues: keep forwarding
    done,          // the last packet of the response was this one
    local_infile,  // server asked for a LOCAL INFILE: the client sends file packets, then an empty
                   // packet; call on_local_infile_sent() when that empty packet went by
    error,         // the server broke the protocol (or a caller misuse); close the connection
  };

  // Starts tracking the response to one client command. cmd_payload_head: the first bytes of the
  // command's payload (COM_STMT_EXECUTE's flags say whether a cursor was asked for).
  void begin(Command cmd, uint32_t caps, const uint8_t* cmd_payload_head = nullptr, size_t head_len = 0);

  // How many leading payload bytes on_packet() needs for the next packet (<= payload_len).
  size_t capture_bytes(uint8_t first_byte, uint32_t payload_len) const;

  // One physical server packet; head holds at least capture_bytes() bytes of its payload.
  Step on_packet(std::span<const uint8_t> head, uint32_t payload_len);
  void on_local_infile_sent();

  // False for commands the server never answers: COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA.
  bool expects_response(Command cmd) const;

  bool finished() const { return state_ == State::done || state_ == State::failed; }
  bool waiting_for_local_infile() const { return state_ == State::local_infile; }

  // Facts about the response so far (final once Step::done was returned).
  // Status flags of the last OK/EOF of this response. An ERR carries none: after one, these are the
  // flags of an earlier OK/EOF of the same response (multi-statements) with MORE_RESULTS_EXISTS
  // cleared, and status_known() tells whether there was any such packet.
  uint16_t last_status_flags() const { return last_status_flags_; }
  bool status_known() const { return status_known_; }
  bool last_was_error() const { return last_was_error_; }
  uint16_t last_error_code() const { return last_error_code_; }
  uint64_t last_affected_rows() const { return last_affected_rows_; }
  uint64_t last_insert_id() const { return last_insert_id_; }
  uint16_t last_warnings() const { return last_warnings_; }
  uint64_t rows() const { return rows_; }                // row packets seen, over all result sets
  uint32_t result_sets() const { return result_sets_; }  // result sets (not OK-only results) seen
  bool saw_session_state_change() const { return session_state_changed_; }
  // The packet just given to on_packet() was an OK (0x00, or the 0xFE terminator with
  // DEPRECATE_EOF) and its head holds the whole payload: a caller may decode it.
  bool last_packet_was_ok() const { return last_packet_ok_; }
  std::optional<PrepareOk> prepare_ok() const { return prepare_ok_; }
  // COM_STMT_EXECUTE opened the cursor it asked for: its rows come by COM_STMT_FETCH.
  bool cursor_opened() const { return cursor_opened_; }
  Command command() const { return cmd_; }
  const char* error_reason() const { return error_reason_; }

 private:
  enum class State {
    idle,
    first,        // first packet of a (next) result
    column_defs,  // columns_left_ column definitions to go
    columns_eof,  // the EOF after column definitions (no DEPRECATE_EOF)
    rows,
    prepare_first,
    prepare_params,
    prepare_params_eof,
    prepare_columns,
    prepare_columns_eof,
    field_list,
    statistics,
    simple,
    change_user,
    local_infile,
    done,
    failed,
  };

  Step fail(const char* why);
  Step on_first(std::span<const uint8_t> head, uint32_t payload_len);
  Step on_rows(std::span<const uint8_t> head, uint32_t payload_len);
  Step on_prepare(std::span<const uint8_t> head, uint32_t payload_len);
  Step on_simple(std::span<const uint8_t> head, uint32_t payload_len);
  // Records an OK (0x00 or 0xFE header) or EOF; returns false if it does not parse.
  bool take_ok(std::span<const uint8_t> head);
  bool take_eof(std::span<const uint8_t> head);
  void take_err(std::span<const uint8_t> head);
  // After a result's final OK/EOF: another result follows or the response is done.
  Step end_of_result();
  Step after_prepare_params();
  bool deprecate_eof() const { return (caps_ & cap::DEPRECATE_EOF) != 0; }
  bool is_terminator(uint8_t first_byte, uint32_t payload_len) const;

  State state_ = State::idle;
  Command cmd_ = Command::sleep;
  uint32_t caps_ = 0;
  uint64_t columns_left_ = 0;
  uint16_t params_left_ = 0;
  uint16_t last_status_flags_ = 0;
  bool last_was_error_ = false;
  uint16_t last_error_code_ = 0;
  uint64_t last_affected_rows_ = 0;
  uint64_t last_insert_id_ = 0;
  uint16_t last_warnings_ = 0;
  uint64_t rows_ = 0;
  uint32_t result_sets_ = 0;
  bool session_state_changed_ = false;
  bool last_packet_ok_ = false;
  bool status_known_ = false;
  bool cursor_requested_ = false;
  bool cursor_opened_ = false;
  std::optional<PrepareOk> prepare_ok_;
  const char* error_reason_ = nullptr;
};

}  // namespace odp::protocol
