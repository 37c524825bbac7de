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
// server answers for an idle thread), and a KILL CONNECTION closes the target's session at once.
#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/wire.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::forward_kill(const KillStatement& kill, bool as_com_process_kill) {
  if (kill.id > UINT32_MAX) {
    on_kill_held(kill, as_com_process_kill, std::nullopt);
    return;
  }
  enter(Phase::locating);
  kill_ = KillInFlight{};
  kill_.target = static_cast<uint32_t>(kill.id);
  env_.hold_for_kill(kill_.target, kill.query_only, token_,
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

void ClientSession::on_kill_held(const KillStatement& kill, bool as_com_process_kill, std::optional<KillHold> hold) {
  if (!hold) {
    link_.send_err(1, errc::ER_NO_SUCH_THREAD, "Unknown thread id: " + std::to_string(kill.id));
    resume_ready();
    return;
  }
  if (hold->server.empty()) {
    // No statement of the target runs on a server: nothing to stop (a KILL CONNECTION closed the
    // session on its worker already).
    send_ok_local();
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
    send_ok_local();
    return;
  }
  link_.send_err(1, answer.err);
  resume_ready();
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
}

// --- the target's side (on its own worker) ------------------------------------------------------

KillHold ClientSession::hold_for_kill(bool query_only) {
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
