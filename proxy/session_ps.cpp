// ClientSession, prepared statements: odp's statement ids towards the client (client_statements.h),
// each server connection's own ids towards it (prepared_statements.h). A client's prepare always
// reaches a server and its answer is the client's (statement id rewritten); an execute is routed
// by its parameters and its statement prepared again, silently, on a connection that lacks it.
#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/prepare_ok.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"
#include "proxy/prepared_statements.h"

namespace odp::proxy {

using namespace protocol;

bool ClientSession::is_statement_command(Command cmd) {
  return cmd == Command::stmt_prepare || cmd == Command::stmt_execute || cmd == Command::stmt_fetch ||
         cmd == Command::stmt_close || cmd == Command::stmt_reset || cmd == Command::stmt_send_long_data ||
         cmd == Command::stmt_bulk_execute;
}

void ClientSession::run_stmt_command(std::span<const uint8_t> packet, Command cmd) {
  if (packet.data() != exchange_.request().data()) exchange_.set_request(packet, cmd);
  std::span<const uint8_t> payload = std::span<const uint8_t>(exchange_.request()).subspan(kPacketHeaderBytes);
  plan_ = Plan{};
  ps_ = PsCommand{};
  ps_.cmd = cmd;
  param_count_ = 0;
  facts_for_command(cmd, query_facts_);
  facts_ = &query_facts_;

  if (cmd == Command::stmt_prepare) {
    core::Stats::inc(env_.stats().ps_prepares_total);
    std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
    ps_.shape = env_.shapes().get(sql);
    ps_.reserved_id = model_.statements().next_id();
    // A prepare runs where its executes are likely to run: routed by its text (no values yet).
    route_and_run(&ps_.shape->classified, Command::query);
    return;
  }
  auto id = statement_id_of(payload);
  if (id) id = model_.statements().resolve(*id);
  ClientStmt* stmt = id ? model_.statements().find(*id) : nullptr;
  if (stmt == nullptr) {
    if (cmd == Command::stmt_close || cmd == Command::stmt_send_long_data) {  // no answer expected
      resume_ready();
      return;
    }
    link_.send_err(1, errc::ER_UNKNOWN_STMT_HANDLER,
                   "Unknown prepared statement handler (" + (id ? std::to_string(*id) : std::string("?")) +
                       ") given to " + command_name(cmd));
    resume_ready();
    return;
  }
  ps_.stmt_id = *id;
  ps_.shape = stmt->shape;
  switch (cmd) {
    case Command::stmt_close:
      // Server statements of a text no client holds any more are closed when their connection
      // goes back to the pool.
      model_.statements().erase(*id);
      if (!std::any_of(model_.statements().all().begin(), model_.statements().all().end(),
                       [](const auto& kv) { return kv.second.has_long_data(); }))
        model_.untie(Tie::long_data);
      resume_ready();
      return;
    case Command::stmt_reset:
      stmt->clear_long_data();
      if (!model_.ties().has(Tie::long_data) && !model_.ties().has(Tie::cursor)) {
        // Nothing of this statement waits on any server: the reset is odp's to answer.
        send_ok_local();
        return;
      }
      break;
    case Command::stmt_send_long_data: {
      Reader r(payload.data() + 5, payload.size() - 5);
      uint16_t param = 0;
      if (!r.u16(param) || param >= stmt->num_params) {
        resume_ready();  // the server would ignore it too (no answer either way)
        return;
      }
      stmt->long_data.resize(stmt->num_params, 0);
      stmt->long_data[param] = 1;
      // The data accumulates on one connection until the execute: stay there.
      model_.tie(Tie::long_data);
      plan_.needs.prepare = stmt->shape.get();
      break;
    }
    case Command::stmt_execute: {
      core::Stats::inc(env_.stats().ps_executes_total);
      facts_ = &stmt->shape->facts;
      if (stmt->shape->classified.type == routing::StmtType::kill) {
        if (auto kill = parse_kill_statement(stmt->sql())) {
          forward_kill(*kill, false);
          return;
        }
      }
      auto params = execute_params(payload, *stmt, params_);
      if (!params) {
        // Parameters that do not match the statement (a client's bug, or a test of the server's
        // checks): refused as a server refuses them; the packet was whole, so the session goes on.
        core::Stats::inc(env_.stats().client_protocol_errors_total);
        LOG_INFO("malformed COM_STMT_EXECUTE conn_id=%u: %s", id_, params.error().c_str());
        link_.send_err(1, errc::ER_WRONG_ARGUMENTS, "Incorrect arguments to mysqld_stmt_execute");
        resume_ready();
        return;
      }
      param_count_ = *params;
      plan_.needs.prepare = stmt->shape.get();
      plan_.needs.last_insert_id = facts_->uses_last_insert_id;
      route_and_run(&stmt->shape->classified, Command::query);
      return;
    }
    case Command::stmt_bulk_execute:
      // Many rows of parameters: routed by the statement's text alone (its rows may span
      // partitions); the types travel with it, only the statement id changes.
      core::Stats::inc(env_.stats().ps_executes_total);
      facts_ = &stmt->shape->facts;
      plan_.needs.prepare = stmt->shape.get();
      route_and_run(&stmt->shape->classified, Command::query);
      return;
    default:  // fetch: the cursor ties the session to its connection
      break;
  }
  plan_.needs.prepare = stmt->shape.get();
  route_and_run(nullptr, cmd);
}

// The connection is ready (state replayed, statement prepared on it): the command goes out with
// the connection's statement id.
void ClientSession::send_stmt_command(ServerConn& conn) {
  if (ps_.cmd == Command::stmt_prepare) {
    // The client's own prepare: the server's answer of now, under odp's id.
    exchange_.expect_prepare(ps_.reserved_id);
    send_command(conn);
    return;
  }
  ClientStmt* stmt = model_.statements().find(ps_.stmt_id);
  ServerStmt* ss =
      stmt != nullptr ? conn.statements().find(stmt->shape.get(), model_.vars().current()->context) : nullptr;
  if (ss == nullptr) {
    // The client closed it meanwhile, or preparing it here failed (the client has the ERR).
    finish_command();
    return;
  }
  std::vector<uint8_t>& request = exchange_.request();
  if (ps_.cmd == Command::stmt_execute) {
    auto ready = ready_execute(request, *stmt, *ss, scratch_);
    if (!ready) {
      link_.send_err(1, errc::ER_NET_READ_ERROR, "odp: " + ready.error(), "08S01");
      fail_protocol("malformed COM_STMT_EXECUTE");
      return;
    }
  } else {
    patch_statement_id(std::span<uint8_t>(request).subspan(kPacketHeaderBytes), ss->id);
    // Which types a bulk execute leaves bound is the server's business: the next execute that
    // does not send types gets the client's inserted.
    if (ps_.cmd == Command::stmt_bulk_execute) ss->types.clear();
  }
  send_command(conn);
}

// After the response to a prepared-statement command: what it means for the client's statements.
void ClientSession::after_stmt_command() {
  ServerConn* conn = lease_.current();
  const ResponseOutcome& outcome = exchange_.outcome();
  switch (ps_.cmd) {
    case Command::stmt_prepare: {
      auto pok = exchange_.prepare_ok();
      if (outcome.error || !pok || conn == nullptr) {
        // As a server: a failed prepare leaves no last statement (an execute of 0xFFFFFFFF
        // pipelined behind it must fail, never run an older statement).
        model_.statements().prepared(0);
        return;
      }
      ClientStmt cs;
      cs.shape = ps_.shape;
      cs.database = model_.database();
      cs.num_params = pok->num_params;
      cs.num_columns = pok->num_columns;
      cs.long_data.assign(cs.num_params, 0);
      model_.statements().put(ps_.reserved_id, std::move(cs));
      model_.statements().prepared(ps_.reserved_id);
      ServerStmt ss;
      ss.shape = ps_.shape;
      ss.context = model_.vars().current()->context;
      ss.id = pok->statement_id;
      ss.num_params = pok->num_params;
      ss.num_columns = pok->num_columns;
      std::vector<uint32_t> to_close;
      conn->statements().insert(std::move(ss), to_close);
      for (uint32_t old : to_close) {
        std::vector<uint8_t> p, framed;
        encode_com_stmt_close(old, p);
        encode_packet(0, p, framed);
        conn->write(framed);  // no answer comes
      }
      return;
    }
    case Command::stmt_execute:
    case Command::stmt_bulk_execute:
    case Command::stmt_reset:
      if (ClientStmt* stmt = model_.statements().find(ps_.stmt_id)) stmt->clear_long_data();
      if (!std::any_of(model_.statements().all().begin(), model_.statements().all().end(),
                       [](const auto& kv) { return kv.second.has_long_data(); }))
        model_.untie(Tie::long_data);
      return;
    default:
      return;
  }
}

// A COM_STMT_EXECUTE or SEND_LONG_DATA too large to buffer streams to the session's connection:
// only its statement id is rewritten on the way. False when the request must wait (the statement
// is being prepared there first) or failed (the session is closing).
bool ClientSession::start_streamed_stmt(std::span<const uint8_t> in, Command cmd, bool& stop) {
  std::span<const uint8_t> head = in.subspan(kPacketHeaderBytes);
  auto id = statement_id_of(head);
  if (id) id = model_.statements().resolve(*id);
  ClientStmt* stmt = id ? model_.statements().find(*id) : nullptr;
  if (stmt == nullptr) {
    link_.send_err(1, errc::ER_UNKNOWN_STMT_HANDLER,
                   "Unknown prepared statement handler given to " + std::string(command_name(cmd)));
    fail_protocol("streamed statement command for an unknown statement");
    stop = true;
    return false;
  }
  ServerConn* server = lease_.current();
  ServerStmt* ss = server->statements().find(stmt->shape.get(), model_.vars().current()->context);
  if (ss == nullptr) {
    exchange_.clear_request();
    plan_ = Plan{};
    plan_.streamed = true;
    plan_.needs.prepare = stmt->shape.get();
    plan_.candidates[0] = server->server();
    plan_.count = 1;
    execute_plan();
    stop = true;
    return false;
  }
  if (cmd == Command::stmt_execute && stmt->num_params > 0) {
    size_t flag_at = kPacketHeaderBytes + 10 + (stmt->num_params + 7) / 8;
    bool sends_types = in.size() > flag_at && in[flag_at] != 0;
    if (!sends_types && ss->types != stmt->types) {
      // The parameter types would have to be inserted, which changes the packet's length.
      link_.send_err(1, errc::ER_NOT_SUPPORTED_YET,
                     "odp: a statement executed with parameters over 64 KiB must bind its parameter types on this "
                     "connection first");
      fail_protocol("streamed execute without parameter types");
      stop = true;
      return false;
    }
    if (sends_types) {
      // The types are at the start of the first chunk: the client's and the server's are these now.
      size_t n = stmt->num_params;
      if (in.size() >= flag_at + 1 + 2 * n) {
        stmt->types.resize(n);
        for (size_t i = 0; i < n; ++i)
          stmt->types[i] =
              ParamType{static_cast<ColumnType>(in[flag_at + 1 + 2 * i]), (in[flag_at + 2 + 2 * i] & 0x80) != 0};
        ss->types = stmt->types;
      } else {
        ss->types.clear();  // unknown: the next execute re-sends the client's
      }
    }
  }
  // Which types a bulk execute leaves bound is the server's business (as for a buffered one).
  if (cmd == Command::stmt_bulk_execute) ss->types.clear();
  if (cmd == Command::stmt_send_long_data) {
    uint16_t param = static_cast<uint16_t>(
        in.size() >= kPacketHeaderBytes + 7 ? in[kPacketHeaderBytes + 5] | (in[kPacketHeaderBytes + 6] << 8) : 0);
    stmt->long_data.resize(stmt->num_params, 0);
    if (param < stmt->num_params) stmt->long_data[param] = 1;
    model_.tie(Tie::long_data);
  }
  ps_ = PsCommand{};
  ps_.cmd = cmd;
  ps_.stmt_id = *id;
  ps_.reserved_id = ss->id;  // the server's id, patched into the streamed request
  facts_for_command(cmd, query_facts_);
  facts_ = cmd == Command::stmt_execute ? &stmt->shape->facts : &query_facts_;
  return true;
}

}  // namespace odp::proxy
