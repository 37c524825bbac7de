// ClientSession, prepared statements (see prepared_statements.h): odp's statement ids towards the
// client, each server connection's own ids towards it, executes routed by their parameters and
// statements prepared again, transparently, on whichever connection runs them.
#include "core/log.h"
#include "protocol/packet.h"
#include "protocol/prepare_ok.h"
#include "protocol/resultset_writer.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::run_stmt_command(std::span<const uint8_t> packet, Command cmd) {
  std::span<const uint8_t> payload = packet.subspan(kPacketHeaderBytes);
  request_.assign(packet.begin(), packet.end());
  request_cmd_ = cmd;
  plan_ = Plan{};
  plan_.deadline_ms = env_.now_ms() + 500;
  route_params_.clear();

  if (cmd == Command::stmt_prepare) {
    core::Stats::inc(env_.stats().ps_prepares_total);
    plan_.ps = Plan::Ps::prepare;
    plan_.stmt_sql.assign(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
    plan_.stmt_key = ServerStmtCache::key(state_.database(), plan_.stmt_sql);
  } else {
    auto id = statement_id_of(payload);
    auto it = id ? client_stmts_.find(*id) : client_stmts_.end();
    if (it == client_stmts_.end()) {
      if (cmd == Command::stmt_close || cmd == Command::stmt_send_long_data) return;  // no answer expected
      send_err(1, errc::ER_UNKNOWN_STMT_HANDLER,
               "Unknown prepared statement handler (" + (id ? std::to_string(*id) : std::string("?")) + ") given to " +
                   command_name(cmd));
      resume_ready();
      return;
    }
    ClientStmt& stmt = it->second;
    if (cmd == Command::stmt_close) {
      // The server-side statement stays cached on its connection for whoever prepares the same text.
      client_stmts_.erase(it);
      return;
    }
    plan_.stmt_id = *id;
    plan_.stmt_sql = stmt.sql;
    plan_.stmt_key = ServerStmtCache::key(stmt.database, stmt.sql);
    if (cmd == Command::stmt_execute) {
      core::Stats::inc(env_.stats().ps_executes_total);
      plan_.ps = Plan::Ps::execute;
      auto params = execute_params(payload, stmt);
      if (!params) {
        send_err(1, errc::ER_NET_READ_ERROR, "odp: " + params.error(), "08S01");
        fail_protocol("malformed COM_STMT_EXECUTE");
        return;
      }
      route_params_ = std::move(params.value());
      auto head = decode_com_stmt_execute_head(payload);
      if (head && (head->flags & (cursor::READ_ONLY | cursor::FOR_UPDATE | cursor::SCROLLABLE)) != 0) {
        plan_.pin_reason = "sticky: cursor";  // COM_STMT_FETCH must find it on the same connection
      }
    } else if (cmd == Command::stmt_fetch) {
      plan_.ps = Plan::Ps::fetch;
    } else if (cmd == Command::stmt_reset) {
      plan_.ps = Plan::Ps::reset;
    } else {
      plan_.ps = Plan::Ps::long_data;
      // The data accumulates on one connection until the execute: stay there.
      plan_.pin_reason = "sticky: long data";
    }
  }

  PlanOutcome outcome = PlanOutcome::go;
  if (plan_.ps == Plan::Ps::prepare || plan_.ps == Plan::Ps::execute) {
    outcome = plan_route(Command::query, plan_.stmt_sql, false);
  } else {
    outcome = plan_route(cmd, {}, false);  // the connection it ran on
  }
  if (plan_.ps == Plan::Ps::long_data && pinned_ == nullptr) pinned_ = plan_.pin_reason;
  switch (outcome) {
    case PlanOutcome::answered:
      return;
    case PlanOutcome::wait:
      phase_ = Phase::routing_wait;
      arm_timer(5);
      return;
    case PlanOutcome::go:
      execute_plan();
      return;
  }
}

// A COM_STMT_PREPARE answered on a connection (the payloads of its response): cache it there.
void ClientSession::take_prepared(const InternalQuery& q) {
  if (server_ == nullptr || q.error()) return;
  auto ok = q.prepare_ok();
  if (!ok) return;
  ServerStmt s;
  s.id = ok->statement_id;
  s.num_params = ok->num_params;
  s.num_columns = ok->num_columns;
  s.response = q.payloads();
  for (uint32_t evicted : server_->statements().insert(plan_.stmt_key, std::move(s))) {
    std::vector<uint8_t> p, framed;
    encode_com_stmt_close(evicted, p);
    encode_packet(0, p, framed);
    server_->write(framed);  // no answer comes
  }
}

void ClientSession::reply_prepare(const ServerStmt& stmt) {
  uint32_t id = next_stmt_id_++;
  if (next_stmt_id_ == 0) next_stmt_id_ = 1;
  ClientStmt cs;
  cs.sql = plan_.stmt_sql;
  cs.database = state_.database();
  cs.num_params = stmt.num_params;
  cs.num_columns = stmt.num_columns;
  client_stmts_[id] = std::move(cs);
  std::vector<uint8_t> framed;
  uint8_t seq = 1;
  for (size_t i = 0; i < stmt.response.size(); ++i) {
    if (i == 0) {
      // The PREPARE_OK names the statement: the client gets odp's id for it.
      auto pok = decode_prepare_ok(stmt.response[0]);
      if (pok) {
        pok->statement_id = id;
        std::vector<uint8_t> p;
        encode_prepare_ok(pok.value(), p);
        seq = encode_packet(seq, p, framed);
        continue;
      }
    }
    seq = encode_packet(seq, stmt.response[i], framed);
  }
  send_to_client(framed);
  core::Stats::inc(env_.stats().sql_request_total);
}

// The connection is chosen and up to date (state replayed, statement prepared on it).
void ClientSession::finish_ps_command() {
  ServerStmt* ss = server_ != nullptr ? server_->statements().find(plan_.stmt_key) : nullptr;
  if (ss == nullptr) {
    // Preparing it failed: the client already has the server's ERR.
    resume_ready();
    return;
  }
  if (plan_.ps == Plan::Ps::prepare) {
    reply_prepare(*ss);
    after_response_local();
    return;
  }
  auto it = client_stmts_.find(plan_.stmt_id);
  if (it == client_stmts_.end()) {
    resume_ready();
    return;
  }
  std::vector<uint8_t> payload(request_.begin() + kPacketHeaderBytes, request_.end());
  Command cmd = request_cmd_;
  if (plan_.ps == Plan::Ps::execute) {
    auto rw = rewrite_execute(payload, it->second, ss->id, !ss->types_bound);
    if (!rw) {
      send_err(1, errc::ER_NET_READ_ERROR, "odp: " + rw.error(), "08S01");
      fail_protocol("malformed COM_STMT_EXECUTE");
      return;
    }
    ss->types_bound = ss->types_bound || it->second.types.size() == it->second.num_params;
    payload = std::move(rw->payload);
  } else {
    patch_statement_id(payload, ss->id);
  }
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  request_ = std::move(framed);
  forward_command(request_, cmd);
}

// A prepare answered from a connection's cache ran no statement on the server: finish like one.
void ClientSession::after_response_local() {
  release_backends();
  resume_ready();
}

bool ClientSession::is_statement_command(Command cmd) {
  return cmd == Command::stmt_prepare || cmd == Command::stmt_execute || cmd == Command::stmt_fetch ||
         cmd == Command::stmt_close || cmd == Command::stmt_reset || cmd == Command::stmt_send_long_data;
}

// A COM_STMT_EXECUTE or SEND_LONG_DATA too large to buffer streams to the session's connection:
// only its statement id is rewritten on the way. Returns false when the request must wait (the
// statement is being prepared on the connection first) or failed (the session is closing).
bool ClientSession::prepare_streamed_stmt(std::span<const uint8_t> in, Command cmd, bool& stop) {
  std::span<const uint8_t> head = in.subspan(kPacketHeaderBytes);
  auto id = statement_id_of(head);
  auto it = id ? client_stmts_.find(*id) : client_stmts_.end();
  if (it == client_stmts_.end()) {
    send_err(1, errc::ER_UNKNOWN_STMT_HANDLER,
             "Unknown prepared statement handler given to " + std::string(command_name(cmd)));
    fail_protocol("streamed statement command for an unknown statement");
    stop = true;
    return false;
  }
  const ClientStmt& stmt = it->second;
  std::string key = ServerStmtCache::key(stmt.database, stmt.sql);
  Backend* b = backend_of(*server_);
  ServerStmt* ss = server_->statements().find(key);
  if (ss == nullptr ||
      (b != nullptr && (!held_begin_.empty() || b->needs_tracking_setup || !state_.plan(b->sync).empty()))) {
    request_.clear();
    plan_ = Plan{};
    plan_.ps = Plan::Ps::long_data;
    plan_.streamed = true;
    plan_.stmt_key = key;
    plan_.stmt_sql = stmt.sql;
    if (b != nullptr) start_preamble(*b);
    stop = true;
    return false;
  }
  if (cmd == Command::stmt_execute && !ss->types_bound && stmt.num_params > 0) {
    // The parameter types would have to be inserted, which changes the packet's length.
    size_t flag_at = kPacketHeaderBytes + 10 + (stmt.num_params + 7) / 8;
    if (in.size() <= flag_at || in[flag_at] == 0) {
      send_err(1, errc::ER_NOT_SUPPORTED_YET,
               "odp: a statement executed with parameters over 64 KiB must bind its parameter types on this "
               "connection first");
      fail_protocol("streamed execute without parameter types");
      stop = true;
      return false;
    }
    ss->types_bound = true;
  }
  if (cmd == Command::stmt_send_long_data && pinned_ == nullptr) pinned_ = "sticky: long data";
  patch_stmt_id_ = ss->id;
  return true;
}

}  // namespace odp::proxy
