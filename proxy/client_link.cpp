#include "proxy/client_link.h"

#include "protocol/packet.h"
#include "protocol/resultset_writer.h"

namespace odp::proxy {

bool ClientLink::take(std::span<const uint8_t> raw) {
  if (channel_.decode(raw, in_)) return true;
  if (channel_.tls_active()) {
    core::Stats::inc(stats_.client_tls_failures_total);
  } else if (channel_.ob20()) {
    core::Stats::inc(stats_.client_ob20_errors_total);
    core::Stats::inc(stats_.client_protocol_errors_total);
  } else {
    core::Stats::inc(stats_.client_protocol_errors_total);
  }
  return false;
}

void ClientLink::send(std::span<const uint8_t> bytes) {
  if (conn_ == nullptr) return;
  core::Stats::inc(stats_.client_bytes_sent_total, static_cast<int64_t>(bytes.size()));
  channel_.write(bytes);
}

void ClientLink::send_err(uint8_t seq, uint16_t code, std::string_view message, const char* sql_state) {
  protocol::ErrPacket err;
  err.code = code;
  err.sql_state = sql_state;
  err.message = std::string(message);
  send_err(seq, err);
}

void ClientLink::send_err(uint8_t seq, const protocol::ErrPacket& err) {
  std::vector<uint8_t> framed;
  protocol::encode_err_packet(seq, err, framed);
  send(framed);
}

void ClientLink::forward(core::Conn& from, std::span<const uint8_t> bytes) {
  // Plain TCP to the client: send straight from the server's receive buffer (no copy in user
  // space); otherwise copy behind what is queued.
  uint16_t buffer_id = 0;
  if (conn_ != nullptr && channel_.passthrough() && from.hold_current_buffer(buffer_id)) {
    if (conn_->write_held(bytes, buffer_id)) {
      core::Stats::inc(stats_.client_bytes_sent_total, static_cast<int64_t>(bytes.size()));
      return;
    }
    from.release_held(buffer_id);
  }
  send(bytes);
}

void ClientLink::set_reading(bool want) {
  if (conn_ == nullptr || want != paused_) return;
  paused_ = !want;
  if (want) {
    conn_->start_reading();
  } else {
    conn_->stop_reading();
  }
}

void ClientLink::close(bool flush) {
  if (conn_ == nullptr) return;
  if (flush) channel_.end_response();  // (OB 2.0: what is held goes out as a whole response)
  conn_->close(flush);
  channel_.detach();
  conn_ = nullptr;
}

}  // namespace odp::proxy
