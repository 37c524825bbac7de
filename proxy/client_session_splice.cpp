// ClientSession, splice: the unread rest of a large server packet (a big row or value) moves from
// the server's socket to the client's inside the kernel. The scanner has already seen the
// packet's header and the leading bytes the tracker needs; what is left is opaque, so odp only
// counts it. Plain TCP clients only: TLS and compression must see every byte.
#include "core/log.h"
#include "proxy/client_session.h"
#include "proxy/response_consumer.h"

namespace odp::proxy {

void ClientSession::maybe_splice_response() {
  uint32_t min = env_.config().limits.splice_min_bytes;
  if (min == 0 || finished_ || phase_ != Phase::command || server_ == nullptr || client_ == nullptr) return;
  if (!channel_.passthrough() || response_scanner_.opaque_left() < min) return;
  // Refused while this connection already splices or is stopping its reads for it.
  if (!server_->conn().can_splice_to(*client_)) return;
  server_->conn().request_splice();
}

void ClientSession::on_server_splice_ready(ServerConn& conn) {
  // Bytes that were on their way when reads stopped have been scanned since: take what is left.
  uint32_t bytes = 0;
  if (&conn == server_ && !finished_ && phase_ == Phase::command && client_ != nullptr && channel_.passthrough()) {
    bytes = response_scanner_.opaque_left();
    if (bytes < env_.config().limits.splice_min_bytes) bytes = 0;
  }
  if (bytes == 0) {
    conn.conn().splice_to(conn.conn(), 0);  // resumes reads
    return;
  }
  conn.conn().splice_to(*client_, bytes);  // false: no pipe to be had; reads resumed instead
}

void ClientSession::on_server_spliced(ServerConn& conn, uint64_t bytes) {
  core::Stats::inc(env_.stats().server_bytes_received_total, static_cast<int64_t>(bytes));
  core::Stats::inc(env_.stats().client_bytes_sent_total, static_cast<int64_t>(bytes));
  if (&conn != server_ || finished_ || phase_ != Phase::command) return;
  response_started_ = true;
  ResponseConsumer consumer{*this};
  response_scanner_.skip(static_cast<uint32_t>(bytes), consumer);
  if (settle_scan(consumer, false)) return;
  update_backpressure();
}

}  // namespace odp::proxy
