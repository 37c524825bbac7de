// ClientSession, KILL: clients name odp's connection ids; the server knows its own thread ids.
//
// The killer asks the target's worker (through its mailbox) to hold the target: if a statement of
// the target runs on a server connection (or the target is tied to one), the target keeps that
// connection for the KILL (BackendLease::pin): it does not go back to the pool until the KILL is
// over, so the thread id the KILL names is the target's when it lands, never another client's.
// The KILL goes out on a side connection of the killer's own (QueryKiller, the killer's user: the
// server checks the privilege), which never waits in the pool's line and leaves the killer's own
// connections as they are (a killer tied to its connection stays on it). Then the killer tells the
// target's worker how it went: the hold ends, and a KILL CONNECTION the server took ends the
// target's session. Nothing of the target running: a KILL QUERY has nothing to stop (OK, as a
// server answers for an idle thread), and a KILL CONNECTION closes the target's session at once —
// for a killer of the target's own user; another user's KILL first proves its privilege on a
// server (kill_authority.h, KillPrivilegeProbe), else it gets the server's ERROR 1095.
#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::forward_kill(const KillStatement& kill, bool as_com_process_kill, std::vector<uint8_t> then) {
  kill_ = KillInFlight{};
  kill_.then = std::move(then);
  if (kill.id > UINT32_MAX) {
    on_kill_held(kill, as_com_process_kill, std::nullopt);
    return;
  }
  kill_.target = static_cast<uint32_t>(kill.id);
  ask_kill_hold(kill, as_com_process_kill, false);
}

// `proven`: the server took a KILL of a thread of the target's user from this session's user.
void ClientSession::ask_kill_hold(const KillStatement& kill, bool as_com_process_kill, bool proven) {
  enter(Phase::locating);
  KillAuthority killer = kill_authority_of(model_.identity().login);
  killer.proven = proven;
  env_.hold_for_kill(kill_.target, kill.query_only, killer, token_,
                     [this, kill, as_com_process_kill](std::optional<KillHold> hold) {
                       if (phase_ != Phase::locating) {
                         // Not waiting for it any more (closing): the target need not hold on.
                         if (hold && !hold->server.empty())
                           env_.release_kill_hold(static_cast<uint32_t>(kill.id), hold->pin, KillOutcome::not_sent);
                         return;
                       }
                       on_kill_held(kill, as_com_process_kill, std::move(hold));
                     });
}

// An idle session of another user: no server thread of it runs anything to judge the KILL on, so
// the server judges one of a stand-in (KillPrivilegeProbe) before odp acts on the target.
void ClientSession::prove_kill_privilege(const KillStatement& kill, bool as_com_process_kill,
                                         const ServerLogin& target) {
  plan_route(nullptr, Command::ping, true);
  if (plan_.count == 0) {
    link_.send_err(1, kill_denied(kill.id));
    resume_ready();
    return;
  }
  ServerId sid = plan_.candidates[0];
  ServerLogin killer = lease_.login();
  killer.host_port = env_.directory().host_port(sid);
  killer.server = sid;
  killer.database.clear();
  ServerLogin stand_in = target;
  stand_in.host_port = killer.host_port;
  stand_in.server = sid;
  LOG_INFO("kill conn_id=%u target=%u: idle session of user %s; asking %s whether %s may kill it", id_, kill_.target,
           target.user.c_str(), killer.host_port.c_str(), killer.user.c_str());
  enter(Phase::killing);
  auto done = [this, kill, as_com_process_kill](const KillPrivilegeProbe::Result& r) {
    ++killer_callbacks_;  // nothing frees the probe under its own callback
    if (phase_ == Phase::killing) {
      using Verdict = KillPrivilegeProbe::Verdict;
      if (r.verdict == Verdict::allowed) {
        ask_kill_hold(kill, as_com_process_kill, true);
      } else {
        // Not proven: refused as the server refuses a KILL it may not do (fail closed; the log
        // says why when the check itself failed).
        if (r.verdict == Verdict::unknown)
          LOG_WARN("kill conn_id=%u target=%u refused: the privilege check failed: %u %s", id_, kill_.target,
                   r.err.code, r.err.message.c_str());
        link_.send_err(1, kill_denied(kill.id));
        resume_ready();
      }
    }
    --killer_callbacks_;
  };
  kill_probes_.push_back(std::make_unique<KillPrivilegeProbe>(env_, std::move(killer), std::move(stand_in), done));
  kill_probes_.back()->start();
}

void ClientSession::on_kill_held(const KillStatement& kill, bool as_com_process_kill, std::optional<KillHold> hold) {
  if (!hold) {
    link_.send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
    resume_ready();
    return;
  }
  if (hold->needs_proof) {
    prove_kill_privilege(kill, as_com_process_kill, *hold->needs_proof);
    return;
  }
  if (hold->server.empty()) {
    // No statement of the target runs on a server: nothing to stop (a KILL CONNECTION closed the
    // session on its worker already).
    kill_succeeded();
    return;
  }
  kill_.pin = hold->pin;
  kill_.held = true;
  ServerId sid = env_.directory().intern(hold->server);
  if (sid == kNoServer) {
    env_.release_kill_hold(kill_.target, kill_.pin, KillOutcome::not_sent);
    kill_.held = false;
    link_.send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
    resume_ready();
    return;
  }
  std::vector<uint8_t> payload;
  if (as_com_process_kill) {
    put_u8(payload, static_cast<uint8_t>(Command::process_kill));
    put_u32(payload, hold->server_thread_id);
  } else {
    put_u8(payload, static_cast<uint8_t>(Command::query));
    std::string sql = format_kill_statement(kill, hold->server_thread_id);
    put_bytes(payload, {reinterpret_cast<const uint8_t*>(sql.data()), sql.size()});
  }
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  LOG_INFO("kill%s conn_id=%u target=%u server=%s thread=%u", kill.query_only ? " query" : "", id_, kill_.target,
           hold->server.c_str(), hold->server_thread_id);
  // The killer's own login (the server checks the privilege), without a database to fail on.
  ServerLogin login = lease_.login();
  login.host_port = hold->server;
  login.server = sid;
  login.database.clear();
  enter(Phase::killing);
  start_query_killer(std::move(login), std::move(framed),
                     [this](const QueryKiller::Answer& answer) { on_kill_answer(answer); });
}

void ClientSession::on_kill_answer(const QueryKiller::Answer& answer) {
  if (phase_ != Phase::killing) return;  // closing: close_session told the target
  using Kind = QueryKiller::Answer::Kind;
  KillOutcome outcome = answer.kind == Kind::ok              ? KillOutcome::done
                        : answer.kind == Kind::err           ? KillOutcome::refused
                        : answer.kind == Kind::no_connection ? KillOutcome::not_sent
                                                             : KillOutcome::unknown;
  kill_.held = false;
  kill_.sender = nullptr;
  env_.release_kill_hold(kill_.target, kill_.pin, outcome);
  if (answer.kind == Kind::ok) {
    kill_succeeded();
    return;
  }
  // The server's refusal names its own thread id; the client named odp's.
  link_.send_err(1, answer.kind == Kind::err && answer.err.code == errc::ER_KILL_DENIED_ERROR
                        ? kill_denied(kill_.target)
                        : answer.err);
  resume_ready();
}

// The KILL's OK, or (a multi-statement that started with the KILL) the statements after it.
void ClientSession::kill_succeeded() {
  if (kill_.then.empty()) {
    send_ok_local();
    return;
  }
  exchange_.set_request(kill_.then, Command::query);
  kill_.then.clear();
  run_command(exchange_.request(), Command::query);
}

void ClientSession::start_query_killer(ServerLogin login, std::vector<uint8_t> request,
                                       QueryKiller::Callback callback) {
  auto guarded = [this, callback = std::move(callback)](const QueryKiller::Answer& answer) {
    // Whatever the callback leads to (the next command...), no QueryKiller is freed under it.
    ++killer_callbacks_;
    callback(answer);
    --killer_callbacks_;
  };
  query_killers_.push_back(std::make_unique<QueryKiller>(env_, std::move(login), std::move(request), guarded));
  QueryKiller* k = query_killers_.back().get();
  if (phase_ == Phase::killing) kill_.sender = k;
  k->start();
}

void ClientSession::free_done_killers() {
  if (killer_callbacks_ > 0) return;
  std::erase_if(query_killers_, [](const auto& k) { return k->done(); });
  std::erase_if(kill_probes_, [](const auto& p) { return p->done(); });
}

// --- the target's side (on its own worker) ------------------------------------------------------

KillHold ClientSession::hold_for_kill(bool query_only, const KillAuthority& killer) {
  KillHold hold;
  if (phase_ == Phase::closing) return hold;
  // Between statements a pooled session holds no connection: no statement runs to stop (and a
  // connection it kept for results is nobody's statement either).
  bool running = phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::reading_back ||
                 phase_ == Phase::acquiring || model_.tied();
  ServerConn* c = lease_.current();
  if (c != nullptr && running && c->state() == ServerConn::State::ready) {
    hold.server = c->host_port();
    hold.server_thread_id = c->thread_id();
    hold.pin = ++next_kill_pin_;
    kill_pins_.emplace_back(hold.pin, !query_only);
    lease_.pin(*c, hold.pin, !query_only);
    LOG_DEBUG("held for kill%s conn_id=%u server=%s thread=%u pin=%llu", query_only ? " query" : "", id_,
              hold.server.c_str(), hold.server_thread_id, static_cast<unsigned long long>(hold.pin));
    return hold;
  }
  // Nothing running for a server to judge the KILL on: another user's KILL waits for the server's
  // word on its privilege (kill_authority.h) before it closes, or is let through, anything.
  if (!may_kill_idle(killer, model_.identity().login)) {
    hold.needs_proof = std::make_shared<const ServerLogin>(lease_.login());
    return hold;
  }
  if (!query_only) terminate("KILL CONNECTION");
  return hold;
}

void ClientSession::release_kill_hold(uint64_t pin, KillOutcome outcome) {
  auto it = std::find_if(kill_pins_.begin(), kill_pins_.end(), [&](const auto& p) { return p.first == pin; });
  if (it == kill_pins_.end()) return;
  bool connection = it->second;
  kill_pins_.erase(it);
  if (connection && outcome == KillOutcome::done) {
    // The server took the KILL CONNECTION: the session ends as a server's would (the connection,
    // still pinned, closes with it: it never goes back to the pool).
    terminate("KILL CONNECTION");
    return;
  }
  lease_.unpin(pin, outcome == KillOutcome::unknown);
  if (phase_ == Phase::closing) return;
  // Between statements, the connection the KILL kept goes back to the pool now (unless the
  // session keeps it for its next statement's sake).
  if (phase_ == Phase::ready && !lease_.busy()) lease_.release(lease_.pool_keeping());
}

}  // namespace odp::proxy
