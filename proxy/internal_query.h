#pragma once
// A statement odp sends on its own behalf on a server connection (session-state replay, reading
// variables back, turning session tracking on after login, preparing a statement) and its answer.
// The response is followed to its end whatever its size (the connection stays in step); its
// contents are kept up to a bound (overflowed() says when they were not). The client never sees
// these bytes.
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
#include "proxy/packet_scanner.h"

namespace odp::proxy {

class InternalQuery {
 public:
  enum class Step { more, done, error };
  static constexpr size_t kDefaultKeepBytes = 4u << 20;

  explicit InternalQuery(size_t max_keep_bytes = kDefaultKeepBytes) : max_keep_(max_keep_bytes) {}

  // Frames `payload` (a whole command payload, e.g. COM_QUERY + SQL) as a request and prepares to
  // collect its response; returns the bytes to write to the server.
  std::vector<uint8_t> begin(std::span<const uint8_t> payload, uint32_t server_caps);
  std::vector<uint8_t> begin_query(std::string_view sql, uint32_t server_caps);
  // Prepares to collect the response to a command already written (requests sent back to back).
  void expect(protocol::Command cmd, uint32_t server_caps);
  // Column definitions carry MariaDB's extended type info on this connection.
  void set_extended_type_info(bool on) { extended_type_info_ = on; }

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
  // COM_STMT_PREPARE: the PREPARE_OK, and every payload of the response in order.
  std::optional<protocol::PrepareOk> prepare_ok() const { return tracker_.prepare_ok(); }
  const std::vector<std::vector<uint8_t>>& payloads() const { return payloads_; }
  // The response held more than max_keep_bytes: it was followed to its end but not kept.
  bool overflowed() const { return overflowed_; }
  const char* failure() const { return failure_; }

 private:
  friend struct InternalQueryConsumer;
  void take(std::span<const uint8_t> payload);

  size_t max_keep_;
  bool extended_type_info_ = false;
  uint32_t caps_ = 0;
  protocol::ResponseTracker tracker_;
  PacketScanner scanner_;
  size_t kept_ = 0;
  bool overflowed_ = false;
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
