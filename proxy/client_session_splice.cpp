// ClientSession, splice: the unread rest of a large packet moves between the two sockets inside
// the kernel. Server -> client: a big row or value, once the scanner has seen the packet's header
// and the leading bytes the tracker needs. Client -> server: a streamed request (a big statement,
// long data, LOCAL INFILE contents), whose payload odp never inspects. The scanner only counts
// what went by. Plain TCP clients only: TLS and compression must see every byte.
#include "core/log.h"
#include "proxy/client_session.h"
#include "proxy/stream_consumers.h"

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
  core::Stats::inc(env_.stats().splice_to_client_bytes_total, static_cast<int64_t>(bytes));
  if (&conn != server_ || finished_ || phase_ != Phase::command) return;
  response_started_ = true;
  ResponseConsumer consumer{*this};
  response_scanner_.skip(static_cast<uint32_t>(bytes), consumer);
  if (settle_scan(consumer, false)) return;
  update_backpressure();
}

void ClientSession::maybe_splice_request() {
  uint32_t min = env_.config().limits.splice_min_bytes;
  if (min == 0 || finished_ || phase_ != Phase::upload || client_ == nullptr || !in_.empty()) return;
  if (server_ == nullptr || server_->state() != ServerConn::State::ready || patch_stmt_id_) return;
  if (!channel_.passthrough() || request_scanner_.opaque_left() < min) return;
  if (!client_->can_splice_to(server_->conn())) return;
  client_->request_splice();
}

void ClientSession::on_stream_splice_ready() {
  // Client bytes that were on their way have been consumed since; an unfinished header among
  // them (in_ not empty) means the packet ended: read on instead.
  uint32_t bytes = 0;
  bool server_ok = server_ != nullptr && server_->state() == ServerConn::State::ready;
  if (!finished_ && phase_ == Phase::upload && in_.empty() && server_ok && channel_.passthrough()) {
    bytes = request_scanner_.opaque_left();
    if (bytes < env_.config().limits.splice_min_bytes) bytes = 0;
  }
  if (bytes == 0) {
    client_->splice_to(*client_, 0);  // resumes reads
    return;
  }
  client_->splice_to(server_->conn(), bytes);
}

void ClientSession::on_stream_spliced(uint64_t bytes) {
  core::Stats::inc(env_.stats().client_bytes_received_total, static_cast<int64_t>(bytes));
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(bytes));
  core::Stats::inc(env_.stats().splice_to_server_bytes_total, static_cast<int64_t>(bytes));
  if (finished_ || phase_ != Phase::upload) return;
  RequestConsumer consumer{*this, upload_is_infile_};
  request_scanner_.skip(static_cast<uint32_t>(bytes), consumer);
  if (consumer.too_large) {
    reject_oversized_request();
    return;
  }
  if (consumer.end && !end_of_request()) process_client_input();
  update_backpressure();
}

}  // namespace odp::proxy
