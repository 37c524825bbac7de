// ClientSession, commands from the client: read each one (parsed in place from the socket's
// bytes when nothing is buffered), answer what odp answers itself, hand the rest to routing, and
// stream requests too large to inspect (big statements, long data, LOCAL INFILE contents).
#include "base/ascii.h"
#include "base/assert.h"
#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "protocol/session_track.h"
#include "protocol/wire.h"
#include "proxy/autocommit_set.h"
#include "proxy/client_session.h"
#include "proxy/client_tracking.h"
#include "proxy/connection_id_rewrite.h"
#include "proxy/kill_statement.h"
#include "proxy/processlist.h"

namespace odp::proxy {

using namespace protocol;

namespace {
// Commands up to this size are buffered whole and inspected before forwarding; larger ones (big
// INSERTs, long data) are streamed to the server as they arrive. A COM_STMT_PREPARE is always
// inspected whole (up to one packet): its text is kept to prepare it again on other connections.
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

struct ConsumingGuard {
  bool& flag;
  bool was;
  explicit ConsumingGuard(bool& f) : flag(f), was(f) { flag = true; }
  ~ConsumingGuard() { flag = was; }
};
}  // namespace

void ClientSession::on_stream_data(std::span<const uint8_t> data) {
  core::Stats::inc(env_.stats().client_bytes_received_total, static_cast<int64_t>(data.size()));
  if (phase_ == Phase::closing) return;
  core::ByteBuffer& in = link_.input();
  if (link_.passthrough() && in.empty()) {
    // Fast path: parse the socket bytes in place; keep only what is left over.
    bool stop = false;
    size_t used = 0;
    ConsumingGuard guard(consuming_);
    while (used < data.size() && phase_ != Phase::closing) {
      size_t n = consume_client(data.subspan(used), stop);
      used += n;
      if (stop || n == 0 || !link_.passthrough()) break;
    }
    if (phase_ == Phase::closing) return;
    if (used < data.size() && !link_.take(data.subspan(used))) {
      client_channel_failed();
      return;
    }
  } else if (!link_.take(data)) {
    client_channel_failed();
    return;
  }
  process_client_input();
  update_backpressure();
  if (phase_ == Phase::upload && lease_.current() != nullptr) exchange_.maybe_splice_request(*lease_.current());
}

// TLS or framing below the packets broke. An OB 2.0 client still reads frames: it is told why
// (a refused checksum...) before the connection closes; the others cannot be told anything.
void ClientSession::client_channel_failed() {
  LOG_INFO("client channel error conn_id=%u peer=%s: %s", id_, peer_.c_str(), link_.error().c_str());
  if (link_.channel().ob20()) {
    link_.send_err(1, errc::ER_NET_READ_ERROR, "odp: " + link_.error(), "08S01");
    close_session(true);
    return;
  }
  close_session(false);
}

void ClientSession::process_client_input() {
  if (consuming_) return;  // called back from inside the loop below: it goes on by itself
  ConsumingGuard guard(consuming_);
  core::ByteBuffer& in = link_.input();
  while (phase_ != Phase::closing && !in.empty()) {
    bool was_passthrough = link_.passthrough();
    bool stop = false;
    size_t used = consume_client(in.data(), stop);
    in.consume(used);
    if (phase_ == Phase::closing) return;
    if (was_passthrough && !link_.passthrough() && !in.empty()) {
      // The client switched to TLS mid-buffer: what follows its SSLRequest is ciphertext.
      core::ByteBuffer cipher;
      cipher.swap(in);
      if (!link_.take(cipher.data())) {
        client_channel_failed();
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
        link_.send_err(login_.next_seq, errc::ER_HANDSHAKE_ERROR, "odp: bad handshake (oversized login packet)",
                       "08S01");
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
      // Waiting for credentials, a server or a response: keep the bytes (pipelining).
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
  // (Inside compressed frames the channel has renumbered the packets: servers do not check those
  // ids, and neither does odp.)
  if (h.seq != 0) {
    link_.send_err(static_cast<uint8_t>(h.seq + 1), errc::ER_NET_PACKETS_OUT_OF_ORDER, "odp: got packets out of order",
                   "08S01");
    fail_protocol("command packet with a non-zero sequence id");
    stop = true;
    return in.size();
  }
  if (h.length == 0) {
    link_.send_err(1, errc::ER_NET_READ_ERROR, "odp: empty command packet", "08S01");
    fail_protocol("empty command packet");
    stop = true;
    return in.size();
  }
  // A 0xFFFFFF-long first chunk announces a logical packet at least that long.
  if (h.length > env_.config().limits.max_packet_bytes) {
    link_.send_err(1, errc::ER_NET_PACKET_TOO_LARGE,
                   "Got a packet bigger than 'max_allowed_packet' bytes (odp limits.max_packet_bytes)", "08S01");
    fail_protocol("packet larger than max_packet_bytes");
    stop = true;
    return in.size();
  }
  if (in.size() < kPacketHeaderBytes + 1) {
    stop = true;
    return 0;
  }
  auto cmd = static_cast<Command>(in[kPacketHeaderBytes]);
  bool inspect = h.length <= kInspectBytes || (cmd == Command::stmt_prepare && h.length < kMaxPacketChunk);
  start_statement_clock();
  if (!inspect) return start_streamed(in, stop);
  if (in.size() < kPacketHeaderBytes + h.length) {
    stop = true;
    return 0;
  }
  size_t total = kPacketHeaderBytes + h.length;
  // Answers (odp's own too) are numbered after the compressed frame that carried the command.
  link_.channel().request_read(in.size() - total);
  handle_small_command(in.first(total), in.subspan(kPacketHeaderBytes, h.length));
  return total;
}

// A request too large to inspect goes to the session's current server (or any it holds, or one of
// the tenant's servers), as it arrives.
size_t ClientSession::start_streamed(std::span<const uint8_t> in, bool& stop) {
  auto cmd = static_cast<Command>(in[kPacketHeaderBytes]);
  // A streamed request carries no trace on to the server (it is forwarded as it comes), and a
  // trace left from a request odp answered itself is not this one's.
  (void)link_.channel().take_request_trace();
  if (model_.identity().admin || unsupported_command(cmd) || cmd == Command::quit || cmd == Command::change_user ||
      cmd == Command::stmt_prepare) {
    link_.send_err(1, errc::ER_NET_PACKET_TOO_LARGE, "odp: oversized command packet", "08S01");
    fail_protocol("oversized control command");
    stop = true;
    return in.size();
  }
  ServerConn* server = lease_.current();
  if (server == nullptr) server = lease_.any_held();
  if (server == nullptr || !model_.vars().plan(*lease_.sync_of(*server), model_.baseline()).empty() ||
      !model_.held_begin().empty()) {
    // Take (or bring up to date) a connection first; the request waits in the input buffer and
    // comes back here once it is ready.
    exchange_.clear_request();
    plan_ = Plan{};
    plan_.streamed = true;
    if (server != nullptr) {
      plan_.candidates[0] = server->server();
      plan_.count = 1;
      plan_.reason = "streamed request: the session's server";
    } else {
      plan_route(nullptr, Command::ping, true);
    }
    if ((cmd == Command::stmt_execute || cmd == Command::stmt_send_long_data) && in.size() >= kPacketHeaderBytes + 5) {
      auto id = statement_id_of(in.subspan(kPacketHeaderBytes));
      if (ClientStmt* stmt = id ? model_.statements().find(*id) : nullptr) plan_.needs.prepare = stmt->shape.get();
    }
    execute_plan();
    if (phase_ != Phase::ready) {
      stop = true;  // the request waits in the input buffer; it comes back here once the connection is ready
      return 0;
    }
    // Ready at once (nothing to replay): go on with it.
    start_statement_clock();
    server = lease_.current();
    if (server == nullptr) {
      stop = true;
      return 0;
    }
  }
  lease_.set_current(server);
  std::optional<uint32_t> patch;
  if (cmd == Command::stmt_execute || cmd == Command::stmt_send_long_data || cmd == Command::stmt_bulk_execute) {
    if (in.size() < kPacketHeaderBytes + 16) {
      stop = true;
      return 0;
    }
    if (!start_streamed_stmt(in, cmd, stop)) return stop && phase_ == Phase::closing ? in.size() : 0;
    patch = ps_.reserved_id;  // start_streamed_stmt put the server's id there
  }
  exchange_.start_upload(*server, in.first(kPacketHeaderBytes + 1), patch);
  enter(Phase::upload);
  return stream_request(in, stop);
}

size_t ClientSession::stream_request(std::span<const uint8_t> in, bool& stop) {
  ServerConn* server = lease_.current();
  if (server == nullptr) {
    stop = true;
    return 0;
  }
  bool end = false, too_large = false;
  size_t used = exchange_.stream_request(*server, in, &end, &too_large);
  if (too_large) {
    reject_oversized_request();
    stop = true;
    return in.size();
  }
  if (end) {
    end_of_upload();
    stop = phase_ != Phase::ready;  // what follows is the next command: wait for this response first
  }
  return used;
}

void ClientSession::end_of_upload() {
  if (exchange_.uploading_infile()) {
    exchange_.infile_sent();
    enter(Phase::command);
    return;
  }
  if (exchange_.command() == Command::stmt_send_long_data) {
    // No answer comes; the next command may follow at once.
    resume_ready();
    return;
  }
  enter(Phase::command);
}

void ClientSession::reject_oversized_request() {
  link_.send_err(1, errc::ER_NET_PACKET_TOO_LARGE,
                 "Got a packet bigger than 'max_allowed_packet' bytes (odp limits.max_packet_bytes)", "08S01");
  if (ServerConn* s = lease_.current()) lease_.drop(*s);
  fail_protocol("request larger than max_packet_bytes");
}

void ClientSession::handle_small_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload) {
  if (model_.identity().admin) {
    handle_internal_command(packet, payload);
    return;
  }
  auto cmd = static_cast<Command>(payload[0]);
  if (cmd == Command::quit) {
    close_session(true);
    return;
  }
  if (unsupported_command(cmd)) {
    link_.send_err(1, errc::ER_UNKNOWN_COM_ERROR,
                   std::string("odp: command ") + command_name(cmd) + " is not supported through the proxy", "08S01");
    set_timeout(idle_timeout_ms());
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
      link_.send_err(1, errc::ER_NET_READ_ERROR, "odp: malformed COM_PROCESS_KILL", "08S01");
      fail_protocol("malformed COM_PROCESS_KILL");
      return;
    }
    KillStatement kill;
    kill.id = target;
    forward_kill(kill, true);
    return;
  }
  if (cmd == Command::query || cmd == Command::stmt_prepare) {
    // CONNECTION_ID() answers odp's id (the handshake's, the one KILL takes), with the function's
    // own column name and type.
    std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
    // A statement that reads the process list compares CONNECTION_ID() with the server's thread
    // ids: there it stays the server's (the statement runs on that connection).
    auto replaced = base::icontains(sql, "processlist") ? std::nullopt : rewrite_connection_id(sql, id_);
    if (replaced) {
      std::vector<uint8_t> p, rewritten;
      p.push_back(payload[0]);
      p.insert(p.end(), replaced->begin(), replaced->end());
      encode_packet(packet[3], p, rewritten);
      exchange_.set_request(rewritten, cmd);
      packet = exchange_.request();
      payload = packet.subspan(kPacketHeaderBytes);
    }
  }
  if (cmd == Command::query) {
    std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
    if (auto kill = parse_kill_statement(sql)) {
      forward_kill(*kill, false);
      return;
    }
    if ((model_.identity().client_caps & cap::MULTI_STATEMENTS) && base::icontains(sql, "kill") &&
        kill_in_multi_statement(packet[3], sql))
      return;
    if (auto full = parse_show_processlist(sql)) {
      list_processes(packet, *full);
      return;
    }
  }
  if (is_statement_command(cmd)) {
    run_stmt_command(packet, cmd);
    return;
  }
  run_command(packet, cmd);
}

// A multi-statement with KILLs in it (find_kills): the first statement's KILL runs as odp's own,
// then the rest with `DO 0` (the same OK a KILL gives) in its place; a KILL further on is refused.
// Returns false when the text is not ours to handle (no KILL of an id at a statement's start).
bool ClientSession::kill_in_multi_statement(uint8_t seq, std::string_view sql) {
  KillsInText kills = find_kills(sql);
  if (!kills.multi) return false;
  if (kills.later) {
    core::Stats::inc(env_.stats().client_refused_statements_total);
    link_.send_err(static_cast<uint8_t>(seq + 1), errc::ER_NOT_SUPPORTED_YET,
                   "odp: KILL after the first statement of a multi-statement is not supported (send the KILL alone "
                   "or first): nothing of the statement ran",
                   "42000");
    resume_ready();
    return true;
  }
  if (!kills.leading) return false;
  auto kill = parse_kill_statement(sql.substr(0, kills.first_end));
  if (!kill) return false;  // KILL USER ..., KILL QUERY ID ...: no odp id in it, as when alone
  std::vector<uint8_t> payload, rest;
  put_u8(payload, static_cast<uint8_t>(Command::query));
  std::string_view tail = sql.substr(kills.first_end);
  put_bytes(payload, {reinterpret_cast<const uint8_t*>("DO 0"), 4});
  put_bytes(payload, {reinterpret_cast<const uint8_t*>(tail.data()), tail.size()});
  encode_packet(seq, payload, rest);
  forward_kill(*kill, false, std::move(rest));
  return true;
}

// Every command that goes to a server (not prepared-statement commands).
void ClientSession::run_command(std::span<const uint8_t> packet, Command cmd) {
  if (packet.data() != exchange_.request().data()) exchange_.set_request(packet, cmd);
  plan_ = Plan{};
  ps_ = PsCommand{};
  param_count_ = 0;
  if (cmd != Command::query) {
    facts_for_command(cmd, query_facts_);
    if (cmd == Command::init_db)
      query_facts_.database.assign(reinterpret_cast<const char*>(exchange_.request().data() + kPacketHeaderBytes + 1),
                                   exchange_.request().size() - kPacketHeaderBytes - 1);
    facts_ = &query_facts_;
    route_and_run(nullptr, cmd);
    return;
  }
  std::string_view sql(reinterpret_cast<const char*>(exchange_.request().data() + kPacketHeaderBytes + 1),
                       exchange_.request().size() - kPacketHeaderBytes - 1);
  routing::ClassifiedSql& c = *classified();
  routing::classify_sql(sql, c);
  facts_for_sql(c, sql, query_facts_);
  facts_ = &query_facts_;
  if (local_answer(c, sql)) return;
  route_and_run(&c, cmd);
}

bool ClientSession::local_answer(const routing::ClassifiedSql& c, std::string_view sql) {
  if (c.multi_statement) return false;
  // BEGIN is held until the first real statement, which decides the server. Not a consistent
  // snapshot: its snapshot is taken when it runs, which must be now.
  if (c.type == routing::StmtType::begin && !c.with_consistent_snapshot && !model_.in_transaction() &&
      model_.held_begin().empty() && !model_.tied()) {
    model_.hold_begin(sql);
    core::Stats::inc(env_.stats().route_held_begins_total);
    send_ok_local();
    return true;
  }
  if ((c.type == routing::StmtType::commit || c.type == routing::StmtType::rollback) && !model_.held_begin().empty() &&
      !model_.in_transaction()) {
    model_.drop_held_begin();  // the transaction never reached a server: nothing to end
    send_ok_local();
    return true;
  }
  if (c.type == routing::StmtType::set && c.sets_autocommit && may_set_autocommit_locally()) {
    if (std::optional<AutocommitSet> set = parse_autocommit_set(sql)) {
      model_.set_autocommit_locally(set->on);
      core::Stats::inc(env_.stats().session_local_sets_total);
      send_ok_local(0, autocommit_set_state(*set));
      return true;
    }
  }
  if (c.type == routing::StmtType::set && base::icontains(sql, "ob_read_consistency")) {
    // An OceanBase session variable a MySQL server does not know: odp keeps it.
    if (base::icontains(sql, "weak") || base::icontains(sql, "frozen")) {
      model_.set_consistency(routing::Consistency::weak);
    } else if (base::icontains(sql, "strong")) {
      model_.set_consistency(routing::Consistency::strong);
    } else {
      link_.send_err(1, errc::ER_WRONG_VALUE_FOR_VAR, "odp: ob_read_consistency must be 'STRONG' or 'WEAK'", "42000");
      resume_ready();
      return true;
    }
    send_ok_local();
    return true;
  }
  return false;
}

// Outside a transaction (where SET autocommit = 1 would commit), with nothing the last statement
// left on its connection (a SET clears its warnings there), and in front of MySQL servers (an
// OBServer's session variables travel in its own session records).
bool ClientSession::may_set_autocommit_locally() const {
  if (model_.in_transaction() || !model_.held_begin().empty() || model_.tied() || model_.keeps_results()) return false;
  const admin::ClusterConfig* cluster = env_.config().find_cluster(model_.identity().login.cluster);
  return cluster != nullptr && cluster->server_mode == admin::ServerMode::mysql;
}

// The records a server with odp's trackers sends for `SET autocommit = v` (the variable, then the
// state change), as this client's own trackers would have them.
std::string ClientSession::autocommit_set_state(const AutocommitSet& set) const {
  if (!(model_.identity().client_caps & cap::SESSION_TRACK)) return {};
  const bool mariadb = env_.backend().server_version.find("MariaDB") != std::string::npos;
  if (mariadb && set.bare_system_variable) return {};  // its tracker misses `SET @@autocommit = v`
  std::vector<uint8_t> all;
  encode_session_track_record(SessionTrackType::system_variables, "autocommit", set.on ? "ON" : "OFF", all);
  if (mariadb) {
    // MariaDB sends the state-change flag bare (a record of the one byte "1"), MySQL as a string.
    put_u8(all, static_cast<uint8_t>(SessionTrackType::state_change));
    put_lenenc_int(all, 1);
    put_u8(all, '1');
  } else {
    encode_session_track_record(SessionTrackType::state_change, {}, "1", all);
  }
  auto records = decode_session_track(std::span<const uint8_t>(all));
  if (!records) return {};
  std::optional<std::string> kept = filter_session_state(records.value(), model_.client_tracking());
  return kept ? std::move(*kept) : std::string(all.begin(), all.end());
}

void ClientSession::send_ok_local(uint16_t extra_status, std::string session_state) {
  OkPacket ok;
  ok.status_flags = static_cast<uint16_t>(model_.status_flags() | extra_status);
  if (!session_state.empty()) {
    ok.status_flags |= status::SESSION_STATE_CHANGED;
    ok.session_state = std::move(session_state);
  }
  std::vector<uint8_t> payload, framed;
  encode_ok(ok, model_.identity().client_caps, payload);
  encode_packet(1, payload, framed);
  link_.send(framed);
  core::Stats::inc(env_.stats().sql_request_total);
  resume_ready();
}

}  // namespace odp::proxy
