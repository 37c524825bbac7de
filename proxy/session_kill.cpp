// ClientSession, KILL: clients name odp's connection ids; the server knows its own thread ids.
// The target's worker says where the target's statement runs now (through its mailbox), and the
// KILL goes to that server as this session's own statement (the server checks the privilege).
#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::forward_kill(const KillStatement& kill, bool as_com_process_kill) {
  if (kill.id > UINT32_MAX) {
    on_kill_located(kill, as_com_process_kill, std::nullopt);
    return;
  }
  enter(Phase::locating);
  uint64_t token = token_;
  (void)token;
  env_.locate_session(static_cast<uint32_t>(kill.id), token_,
                      [this, kill, as_com_process_kill](std::optional<SessionLocation> where) {
                        if (phase_ != Phase::locating) return;
                        on_kill_located(kill, as_com_process_kill, std::move(where));
                      });
}

void ClientSession::on_kill_located(const KillStatement& kill, bool as_com_process_kill,
                                    std::optional<SessionLocation> where) {
  if (!where) {
    link_.send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
    resume_ready();
    return;
  }
  if (where->server.empty()) {
    // The target holds no server connection (between statements, its connections are pooled): no
    // query runs to stop; the connection itself is odp's to close.
    if (!kill.query_only && !env_.terminate_session(static_cast<uint32_t>(kill.id))) {
      link_.send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
      resume_ready();
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
  auto cmd = static_cast<Command>(payload[0]);
  exchange_.set_request(framed, cmd);
  // Answered like a plain statement (the facts of an unknown query: nothing to model).
  facts_for_command(cmd, query_facts_);
  facts_ = &query_facts_;
  ps_ = PsCommand{};
  plan_ = Plan{};
  ServerId sid = env_.directory().intern(where->server);
  if (sid == kNoServer) {
    link_.send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
    resume_ready();
    return;
  }
  // The statement goes to the server the target's statements run on.
  plan_.candidates[0] = sid;
  plan_.count = 1;
  plan_.reason = "KILL: the target's server";
  execute_plan();
}

}  // namespace odp::proxy
