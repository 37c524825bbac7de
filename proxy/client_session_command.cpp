// ClientSession, command phase: read each client command, forward it, stream the response
// back while the ResponseTracker watches packet boundaries, and stream large requests and
// LOAD DATA LOCAL file contents to the server.
#include "core/assert.h"
#include "core/log.h"
#include "protocol/auth.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"
#include "proxy/kill_statement.h"
#include "proxy/stream_consumers.h"

namespace odp::proxy {

using namespace protocol;

namespace {
// Commands up to this size are buffered whole and inspected before forwarding; larger ones
// (big INSERTs, long data) are streamed to the server as they arrive.
constexpr size_t kInspectBytes = 64 * 1024;

bool unsupported_command(Command cmd) {
  switch (cmd) {
    case Command::binlog_dump:
    case Command::binlog_dump_gtid:
    case Command::register_slave:
    case Command::table_dump:
    case Command::connect_out:
    case Command::daemon:
    case Command::connect:
    case Command::delayed_insert:
    case Command::time:
    case Command::sleep:
      return true;
    default:
      return false;
  }
}
}  // namespace

void ClientSession::on_stream_data(std::span<const uint8_t> data) {
  core::Stats::inc(env_.stats().client_bytes_received_total, static_cast<int64_t>(data.size()));
  if (finished_) return;
  if (channel_.passthrough() && in_.empty()) {
    // Fast path: parse the socket bytes in place; keep only what is left over.
    bool stop = false;
    size_t used = 0;
    Consuming guard(consuming_);
    while (used < data.size() && !finished_) {
      size_t n = consume_client(data.subspan(used), stop);
      used += n;
      if (stop || n == 0 || !channel_.passthrough()) break;
    }
    if (finished_) return;
    if (used < data.size()) {
      if (channel_.passthrough()) {
        in_.append(data.subspan(used));
      } else if (!channel_.decode(data.subspan(used), in_)) {
        core::Stats::inc(env_.stats().client_tls_failures_total);
        LOG_INFO("client channel error conn_id=%u peer=%s: %s", id_, peer_.c_str(), channel_.error().c_str());
        close_session(false);
        return;
      }
    }
  } else if (!channel_.decode(data, in_)) {
    if (channel_.tls_active())
      core::Stats::inc(env_.stats().client_tls_failures_total);
    else
      core::Stats::inc(env_.stats().client_protocol_errors_total);
    LOG_INFO("client channel error conn_id=%u peer=%s: %s", id_, peer_.c_str(), channel_.error().c_str());
    close_session(false);
    return;
  }
  process_client_input();
  update_backpressure();
  maybe_splice_request();
}

void ClientSession::process_client_input() {
  if (consuming_) return;  // called back from inside the loop below: it goes on by itself
  Consuming guard(consuming_);
  while (!finished_ && !in_.empty()) {
    bool was_passthrough = channel_.passthrough();
    bool stop = false;
    size_t used = consume_client(in_.data(), stop);
    in_.consume(used);
    if (finished_) return;
    if (was_passthrough && !channel_.passthrough() && !in_.empty()) {
      // The client switched to TLS mid-buffer: what follows its SSLRequest is ciphertext.
      core::ByteBuffer cipher;
      cipher.swap(in_);
      if (!channel_.decode(cipher.data(), in_)) {
        core::Stats::inc(env_.stats().client_tls_failures_total);
        close_session(false);
        return;
      }
      continue;
    }
    if (stop || used == 0) break;
  }
}

size_t ClientSession::consume_client(std::span<const uint8_t> in, bool& stop) {
  switch (phase_) {
    case Phase::greeting:
    case Phase::auth_switch: {
      if (in.size() < kPacketHeaderBytes) {
        stop = true;
        return 0;
      }
      PacketHeader h = decode_header(in.data());
      if (h.length > kMaxLoginPacketBytes) {
        send_err(next_client_seq_, errc::ER_HANDSHAKE_ERROR, "odp: bad handshake (oversized login packet)", "08S01");
        fail_protocol("oversized login packet");
        stop = true;
        return in.size();
      }
      if (in.size() < kPacketHeaderBytes + h.length) {
        stop = true;
        return 0;
      }
      handle_login_packet(in.subspan(kPacketHeaderBytes, h.length), h.seq);
      stop = phase_ != Phase::greeting && phase_ != Phase::auth_switch;
      return kPacketHeaderBytes + h.length;
    }
    case Phase::ready:
      return start_command(in, stop);
    case Phase::upload:
      return stream_request(in, stop);
    case Phase::closing:
      return in.size();
    default:
      // Waiting for credentials, the server or a response: keep the bytes (pipelining).
      stop = true;
      return 0;
  }
}

size_t ClientSession::start_command(std::span<const uint8_t> in, bool& stop) {
  if (in.size() < kPacketHeaderBytes) {
    stop = true;
    return 0;
  }
  PacketHeader h = decode_header(in.data());
  if (h.seq != 0) {
    send_err(h.seq + 1, errc::ER_NET_PACKETS_OUT_OF_ORDER, "odp: got packets out of order", "08S01");
    fail_protocol("command packet with a non-zero sequence id");
    stop = true;
    return in.size();
  }
  if (h.length == 0) {
    send_err(1, errc::ER_NET_READ_ERROR, "odp: empty command packet", "08S01");
    fail_protocol("empty command packet");
    stop = true;
    return in.size();
  }
  // A 0xFFFFFF-long first chunk announces a logical packet at least that long.
  if (h.length > env_.config().limits.max_packet_bytes) {
    send_err(1, errc::ER_NET_PACKET_TOO_LARGE,
             "Got a packet bigger than 'max_allowed_packet' bytes (odp limits.max_packet_bytes)", "08S01");
    fail_protocol("packet larger than max_packet_bytes");
    stop = true;
    return in.size();
  }
  arm_timer(env_.config().limits.server_query_timeout_ms);
  if (h.length <= kInspectBytes) {
    if (in.size() < kPacketHeaderBytes + h.length) {
      stop = true;
      return 0;
    }
    size_t total = kPacketHeaderBytes + h.length;
    channel_.request_read(in.size() - total);
    handle_small_command(in.first(total), in.subspan(kPacketHeaderBytes, h.length));
    return total;
  }
  if (in.size() < kPacketHeaderBytes + 1) {
    stop = true;
    return 0;
  }
  auto cmd = static_cast<Command>(in[kPacketHeaderBytes]);
  if (admin_ || unsupported_command(cmd) || cmd == Command::quit || cmd == Command::change_user) {
    send_err(1, errc::ER_NET_PACKET_TOO_LARGE, "odp: oversized command packet", "08S01");
    fail_protocol("oversized control command");
    stop = true;
    return in.size();
  }
  // A request too large to inspect goes to the session's current server (or any it has, or one
  // of the tenant's servers).
  if (server_ == nullptr && !backends_.empty()) server_ = backends_.front().conn.get();
  if (server_ == nullptr) {
    request_.clear();
    plan_ = Plan{};
    plan_.streamed = true;
    plan_route(Command::ping, {});
    execute_plan();
    if (!finished_ && phase_ == Phase::ready && server_ == nullptr) {
      fail_protocol("no server connection for a streamed request", false);  // the client has the ERR
    }
    if (finished_) {
      stop = true;
      return in.size();
    }
    if (phase_ != Phase::ready) {
      stop = true;  // connecting or readying it: the request waits in the buffer
      return 0;
    }
  }
  if (server_->state() != ServerConn::State::ready) {
    send_err(1, errc::ER_NET_READ_ERROR, "odp: no server connection for a streamed request", "08S01");
    fail_protocol("no server connection", false);
    stop = true;
    return in.size();
  }
  if (Backend* b = backend_of(*server_);
      b != nullptr && (!held_begin_.empty() || b->needs_tracking_setup || !state_.plan(b->sync).empty())) {
    // Bring the connection up to date first; the request stays buffered and comes back here.
    request_.clear();
    plan_ = Plan{};
    start_preamble(*b);
    stop = true;
    return 0;
  }
  patch_stmt_id_.reset();
  if ((cmd == Command::stmt_execute || cmd == Command::stmt_send_long_data) && env_.pool() != nullptr) {
    if (in.size() < kPacketHeaderBytes + 16) {
      stop = true;
      return 0;
    }
    if (!prepare_streamed_stmt(in, cmd, stop)) return 0;
  }
  core::Stats::inc(env_.stats().sql_request_total);
  tracker_.begin(cmd, server_->capabilities(), in.data() + kPacketHeaderBytes, 1);
  request_bytes_ = 0;
  request_scanner_.reset();
  if (channel_.compressed()) request_scanner_.renumber_from(0);
  response_started_ = false;
  upload_is_infile_ = false;
  phase_ = Phase::upload;
  return stream_request(in, stop);
}

size_t ClientSession::stream_request(std::span<const uint8_t> in, bool& stop) {
  RequestConsumer consumer{*this, upload_is_infile_};
  size_t used = 0;
  if (channel_.compressed()) {
    // Decompressed bytes live in in_, which we own: renumber the inner packets in place.
    ODP_ASSERT(in.data() == in_.data().data());
    used = request_scanner_.scan(in_.mutable_data().first(in.size()), consumer);
  } else {
    used = request_scanner_.scan(in, consumer);
  }
  if (consumer.too_large) {
    reject_oversized_request();
    stop = true;
    return in.size();
  }
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(used));
  if (patch_stmt_id_ && used >= kPacketHeaderBytes + 5) {
    // The first bytes of a streamed statement command: the client's statement id becomes the
    // connection's.
    std::array<uint8_t, kPacketHeaderBytes + 5> head{};
    std::copy(in.begin(), in.begin() + head.size(), head.begin());
    patch_statement_id(std::span<uint8_t>(head).subspan(kPacketHeaderBytes), *patch_stmt_id_);
    patch_stmt_id_.reset();
    server_->write(head);
    server_->write(in.subspan(head.size(), used - head.size()));
  } else {
    server_->write(in.first(used));
  }
  if (consumer.end) {
    channel_.request_read(in.size() - used);
    stop = end_of_request();
  }
  return used;
}

void ClientSession::reject_oversized_request() {
  send_err(1, errc::ER_NET_PACKET_TOO_LARGE,
           "Got a packet bigger than 'max_allowed_packet' bytes (odp limits.max_packet_bytes)", "08S01");
  if (server_ != nullptr) server_->close(false);
  fail_protocol("request larger than max_packet_bytes");
}

bool ClientSession::end_of_request() {
  request_scanner_.reset();
  if (upload_is_infile_) tracker_.on_local_infile_sent();
  if (!upload_is_infile_ && !tracker_.expects_response(tracker_.command())) {
    // COM_STMT_SEND_LONG_DATA: no answer comes; the next command may follow at once.
    phase_ = Phase::ready;
    arm_timer(idle_timeout_ms());
    return false;
  }
  phase_ = Phase::command;
  return true;  // what follows is the next command: wait for this response first
}

void ClientSession::handle_small_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload) {
  if (admin_) {
    handle_internal_command(payload);
    return;
  }
  auto cmd = static_cast<Command>(payload[0]);
  if (cmd == Command::quit) {
    close_session(true);
    return;
  }
  if (unsupported_command(cmd)) {
    send_err(1, errc::ER_UNKNOWN_COM_ERROR,
             std::string("odp: command ") + command_name(cmd) + " is not supported through the proxy", "08S01");
    arm_timer(idle_timeout_ms());
    return;
  }
  if (cmd == Command::change_user) {
    begin_change_user(payload);
    return;
  }
  if (cmd == Command::process_kill) {
    Reader r(payload.data() + 1, payload.size() - 1);
    uint32_t target = 0;
    if (!r.u32(target)) {
      send_err(1, errc::ER_NET_READ_ERROR, "odp: malformed COM_PROCESS_KILL", "08S01");
      fail_protocol("malformed COM_PROCESS_KILL");
      return;
    }
    KillStatement kill;
    kill.id = target;
    forward_kill(kill, true);
    return;
  }
  if (cmd == Command::query) {
    std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
    if (auto kill = parse_kill_statement(sql)) {
      forward_kill(*kill, false);
      return;
    }
  }
  std::vector<uint8_t> rewritten;
  if (cmd == Command::query || cmd == Command::stmt_prepare) {
    std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
    if (auto replaced = replace_connection_id(sql, id_)) {
      std::vector<uint8_t> p;
      p.push_back(payload[0]);
      p.insert(p.end(), replaced->begin(), replaced->end());
      encode_packet(packet[3], p, rewritten);
      packet = rewritten;
    }
  }
  if (is_statement_command(cmd) && env_.pool() != nullptr) {
    run_stmt_command(packet, cmd);
    return;
  }
  run_command(packet, cmd);
}

void ClientSession::forward_kill(const KillStatement& kill, bool as_com_process_kill) {
  // Clients know odp's connection ids; the server knows its own thread ids.
  auto where = kill.id <= UINT32_MAX ? env_.find_session(static_cast<uint32_t>(kill.id)) : std::nullopt;
  if (!where) {
    send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
    arm_timer(idle_timeout_ms());
    return;
  }
  if (where->server.empty()) {
    // The target holds no server connection (between statements, its connection is pooled): no
    // query runs to stop; the connection itself is odp's to close.
    if (!kill.query_only && !env_.terminate_session(static_cast<uint32_t>(kill.id))) {
      send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
      arm_timer(idle_timeout_ms());
      return;
    }
    send_ok_local();
    return;
  }
  std::vector<uint8_t> payload;
  if (as_com_process_kill) {
    put_u8(payload, static_cast<uint8_t>(Command::process_kill));
    put_u32(payload, where->server_thread_id);
  } else {
    put_u8(payload, static_cast<uint8_t>(Command::query));
    std::string sql = format_kill_statement(kill, where->server_thread_id);
    put_bytes(payload, {reinterpret_cast<const uint8_t*>(sql.data()), sql.size()});
  }
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  // The statement goes to the server the target's statements run on.
  request_ = std::move(framed);
  request_cmd_ = static_cast<Command>(payload[0]);
  plan_ = Plan{};
  plan_.candidates.push_back(where->server);
  plan_.reason = "KILL: the target's server";
  execute_plan();
}

void ClientSession::forward_command(std::span<const uint8_t> packet, Command cmd) {
  if (server_ == nullptr || server_->state() != ServerConn::State::ready) {
    send_err(1, errc::ER_NET_READ_ERROR, "odp: no server connection", "08S01");
    close_session(true);
    return;
  }
  core::Stats::inc(env_.stats().sql_request_total);
  core::Stats::inc(env_.stats().server_bytes_sent_total, static_cast<int64_t>(packet.size()));
  server_->write(packet);
  if (!tracker_.expects_response(cmd)) {
    resume_ready();
    return;
  }
  tracker_.begin(cmd, server_->capabilities(), packet.data() + kPacketHeaderBytes, packet.size() - kPacketHeaderBytes);
  response_started_ = false;
  phase_ = Phase::command;
}

void ClientSession::on_server_data(ServerConn& conn, std::span<const uint8_t> data) {
  core::Stats::inc(env_.stats().server_bytes_received_total, static_cast<int64_t>(data.size()));
  if (finished_) return;
  if (&conn != server_) {
    // A connection this session is not using spoke: the server is closing it (KILL,
    // wait_timeout, shutdown). Forget it; the next statement that needs that server reconnects.
    // (Only with a pool can a session hold connections it is not using.)
    core::Stats::inc(env_.stats().server_aborts_total);
    LOG_INFO("idle server connection closed by the server conn_id=%u server=%s", id_, conn.host_port().c_str());
    drop_backend(conn);
    return;
  }
  if (phase_ == Phase::change_user) {
    handle_change_user_reply(data);
    return;
  }
  if (phase_ == Phase::syncing || phase_ == Phase::after) {
    on_internal_data(data);
    return;
  }
  if (phase_ != Phase::command && phase_ != Phase::upload) {
    // Unsolicited bytes on an idle connection. An ERR means the server is closing it (KILL,
    // wait_timeout, shutdown): a lost server, not a protocol violation.
    bool goodbye = data.size() > kPacketHeaderBytes && data[kPacketHeaderBytes] == 0xFF;
    if (goodbye) {
      auto err = decode_err(data.subspan(
          kPacketHeaderBytes, std::min<size_t>(decode_header(data.data()).length, data.size() - kPacketHeaderBytes)));
      LOG_WARN("server closed an idle connection conn_id=%u server=%s code=%u msg=\"%s\"", id_,
               server_->host_port().c_str(), err ? err->code : 0, err ? err->message.c_str() : "?");
      core::Stats::inc(env_.stats().server_aborts_total);
    } else {
      LOG_WARN("unexpected data from idle server conn_id=%u server=%s bytes=%zu", id_, server_->host_port().c_str(),
               data.size());
      core::Stats::inc(env_.stats().server_protocol_errors_total);
    }
    // Without a pool (tests' fake IO) a session's one connection is its session: it ends with it.
    bool lost_transaction = in_transaction_ || pinned_ != nullptr || lock_tables_ || env_.pool() == nullptr;
    drop_backend(conn);
    // Outside a transaction and without state tied to it, the session lives on and the next
    // statement reconnects; otherwise the client must learn that its transaction is gone.
    if (lost_transaction) close_session(true);
    return;
  }
  if (phase_ == Phase::command && handle_not_master(data)) return;
  size_t pos = 0;
  bool rewrote = false;
  while (pos < data.size()) {
    ResponseConsumer consumer{*this};
    std::span<const uint8_t> rest = data.subspan(pos);
    size_t used = response_scanner_.scan(rest, consumer);
    if (!consumer.rewrite.empty()) {
      rewrote = true;
      size_t packet_bytes = kPacketHeaderBytes + consumer.rewrite_payload_len;
      if (used >= packet_bytes) {
        if (used > packet_bytes) send_to_client(rest.first(used - packet_bytes));
        std::vector<uint8_t> framed;
        encode_packet(consumer.rewrite_seq, consumer.rewrite, framed);
        send_to_client(framed);
      } else {
        // The packet began in an earlier chunk that already went out: it passes unchanged.
        send_to_client(rest.first(used));
      }
      response_started_ = true;
    } else if (used > 0) {
      response_started_ = true;
      if (rewrote)
        send_to_client(rest.first(used));
      else
        forward_to_client(rest.first(used));
    }
    pos += used;
    if (settle_scan(consumer, pos < data.size())) return;
    if (used == 0) break;
  }
  update_backpressure();
  maybe_splice_response();
}

bool ClientSession::settle_scan(const ResponseConsumer& consumer, bool bytes_follow) {
  if (consumer.failed) {
    LOG_WARN("server broke the protocol conn_id=%u server=%s: %s", id_, server_->host_port().c_str(),
             tracker_.error_reason() ? tracker_.error_reason() : "?");
    drop_backend(*server_);
    fail_protocol("malformed response from server", false);
    return true;
  }
  if (consumer.local_infile) {
    if (bytes_follow) {
      // Nothing may follow the request until the client's file went by: these bytes would
      // otherwise be dropped and the stream parsed out of step.
      drop_backend(*server_);
      fail_protocol("server sent bytes after a LOCAL INFILE request", false);
      return true;
    }
    upload_is_infile_ = true;
    request_scanner_.reset();
    if (channel_.compressed()) request_scanner_.renumber_from(static_cast<uint8_t>(consumer.last_seq + 1));
    phase_ = Phase::upload;
    process_client_input();
    update_backpressure();
    return true;
  }
  if (consumer.done) {
    if (bytes_follow) {
      drop_backend(*server_);
      fail_protocol("server sent bytes after the end of a response", false);
      return true;
    }
    response_done();
    update_backpressure();
    return true;
  }
  return false;
}

void ClientSession::forward_to_client(std::span<const uint8_t> bytes) {
  // Plain TCP to the client: send straight from the server's receive buffer when the client
  // has nothing queued (no copy in user space); otherwise copy behind what is queued.
  uint16_t buffer_id = 0;
  if (client_ != nullptr && channel_.passthrough() && server_->conn().hold_current_buffer(buffer_id)) {
    if (client_->write_held(bytes, buffer_id)) {
      core::Stats::inc(env_.stats().client_bytes_sent_total, static_cast<int64_t>(bytes.size()));
      return;
    }
    server_->conn().release_held(buffer_id);
  }
  send_to_client(bytes);
}

void ClientSession::response_done() {
  resume_server_reads();
  if (phase_ != Phase::ready) {
    phase_ = Phase::ready;
    if (tracker_.last_was_error()) core::Stats::inc(env_.stats().sql_request_errors_total);
    after_response();
    if (phase_ == Phase::after) return;  // reading user variables back first
  }
  dead_backends_.clear();
  std::erase_if(query_killers_, [](const auto& k) { return k->done(); });
  release_backends();
  if (draining_) {
    close_session(true);
    return;
  }
  arm_timer(idle_timeout_ms());
  process_client_input();
}

}  // namespace odp::proxy
