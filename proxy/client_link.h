#pragma once
// The client's side of a session below the MySQL commands: the socket, TLS and compression
// (ClientChannel), the bytes received and not consumed yet, what goes back to the client, and
// backpressure (the client is not read while the server side cannot keep up, nor while too many
// pipelined bytes wait).
#include <cstdint>
#include <span>
#include <string>

#include "core/byte_buffer.h"
#include "core/conn.h"
#include "core/stats.h"
#include "protocol/result_packets.h"
#include "proxy/client_channel.h"

namespace odp::proxy {

class ClientLink {
 public:
  // Client bytes buffered while a command is in flight (pipelining) before the client is not read.
  static constexpr size_t kMaxBufferedBytes = 4u << 20;

  ClientLink(core::Conn* conn, core::Stats& stats) : conn_(conn), channel_(conn), stats_(stats) {}
  ClientLink(const ClientLink&) = delete;
  ClientLink& operator=(const ClientLink&) = delete;

  bool open() const { return conn_ != nullptr; }
  core::Conn* conn() { return conn_; }
  ClientChannel& channel() { return channel_; }
  // Bytes pass untouched (no TLS, no compression): socket bytes may be parsed in place.
  bool passthrough() const { return channel_.passthrough(); }

  // Plain MySQL bytes received and not consumed yet.
  core::ByteBuffer& input() { return in_; }
  // Socket bytes in: decoded (TLS, compression) into input(). False on a channel error (counted;
  // error() says which).
  bool take(std::span<const uint8_t> raw);
  const std::string& error() const { return channel_.error(); }

  // Plain MySQL bytes out.
  void send(std::span<const uint8_t> bytes);
  void send_err(uint8_t seq, uint16_t code, std::string_view message, const char* sql_state = "HY000");
  void send_err(uint8_t seq, const protocol::ErrPacket& err);
  // Bytes of a server's receive buffer: sent straight from it when possible (no copy).
  void forward(core::Conn& from, std::span<const uint8_t> bytes);

  // Reads the client or not: not while the server side is above its high watermark or too many
  // pipelined bytes wait.
  void set_reading(bool want);
  bool above_high_watermark() const { return conn_ != nullptr && conn_->above_high_watermark(); }
  bool wants_more_input() const { return in_.size() < kMaxBufferedBytes; }

  // Closes the socket (after sending what is queued when `flush`); the link is dead afterwards.
  void close(bool flush);

 private:
  core::Conn* conn_;
  ClientChannel channel_;
  core::Stats& stats_;
  core::ByteBuffer in_;
  bool paused_ = false;
};

}  // namespace odp::proxy
