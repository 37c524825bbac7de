#pragma once
// A statement odp sends on its own behalf on a server connection (session-state replay, reading
// user variables back, turning session tracking on after login) and the whole answer, collected
// and bounded. The client never sees these bytes.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/column_def.h"
#include "protocol/packet.h"
#include "protocol/response_tracker.h"
#include "protocol/result_packets.h"

namespace odp::proxy {

class InternalQuery {
 public:
  enum class Step { more, done, error };
  static constexpr size_t kMaxResponseBytes = 256 * 1024;

  // Frames `payload` (a whole command payload, e.g. COM_QUERY + SQL) as a request and prepares to
  // collect its response; returns the bytes to write to the server.
  std::vector<uint8_t> begin(std::span<const uint8_t> payload, uint32_t server_caps);
  std::vector<uint8_t> begin_query(std::string_view sql, uint32_t server_caps);

  // Feeds server bytes; *used tells how many were consumed (the rest belongs to what follows).
  Step feed(std::span<const uint8_t> data, size_t* used);

  // Once done: the outcome. An ERR anywhere makes `error` set.
  const std::optional<protocol::ErrPacket>& error() const { return error_; }
  // The last OK of the response (status flags, session-state records).
  const std::optional<protocol::OkPacket>& last_ok() const { return last_ok_; }
  // Every OK packet in order (multi-statement replays).
  const std::vector<protocol::OkPacket>& oks() const { return oks_; }
  // Text result set (first one): column definitions and rows.
  const std::vector<protocol::ColumnDefinition41>& columns() const { return columns_; }
  const std::vector<std::vector<std::optional<std::string>>>& rows() const { return rows_; }
  uint16_t last_status_flags() const { return tracker_.last_status_flags(); }
  // COM_STMT_PREPARE: the PREPARE_OK, and every payload of the response in order (to answer a
  // client's prepare from it later).
  std::optional<protocol::PrepareOk> prepare_ok() const { return tracker_.prepare_ok(); }
  const std::vector<std::vector<uint8_t>>& payloads() const { return payloads_; }
  const char* failure() const { return failure_; }

 private:
  Step take(std::span<const uint8_t> payload);
  Step track(std::span<const uint8_t> payload);

  uint32_t caps_ = 0;
  protocol::ResponseTracker tracker_;
  protocol::PacketAssembler in_{kMaxResponseBytes};
  size_t total_ = 0;
  uint64_t columns_expected_ = 0;
  bool in_rows_ = false;
  std::optional<protocol::ErrPacket> error_;
  std::optional<protocol::OkPacket> last_ok_;
  std::vector<protocol::OkPacket> oks_;
  std::vector<protocol::ColumnDefinition41> columns_;
  std::vector<std::vector<std::optional<std::string>>> rows_;
  std::vector<std::vector<uint8_t>> payloads_;
  bool prepare_ = false;
  const char* failure_ = nullptr;
};

}  // namespace odp::proxy
