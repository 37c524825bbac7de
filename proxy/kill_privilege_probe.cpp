#include "proxy/kill_privilege_probe.h"

#include <string>
#include <utility>

#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/constants.h"

namespace odp::proxy {

using namespace protocol;

KillPrivilegeProbe::KillPrivilegeProbe(SessionEnv& env, ServerLogin killer, ServerLogin target, Callback callback)
    : env_(env),
      killer_login_(std::move(killer)),
      target_login_(std::move(target)),
      callback_(std::move(callback)),
      stand_in_(std::make_unique<ServerConn>(env, *this)) {}

void KillPrivilegeProbe::start() {
  // Outside the pool's cap, like the KILL's own side connection; no database to fail on.
  target_login_.pooled = false;
  target_login_.database.clear();
  stand_in_->login(target_login_);
}

void KillPrivilegeProbe::on_server_ready(ServerConn& conn, std::span<const uint8_t> /*ok_payload*/) {
  if (done_) return;
  std::vector<uint8_t> payload, framed;
  encode_com_query("KILL QUERY " + std::to_string(conn.thread_id()), payload);
  encode_packet(0, payload, framed);
  killer_login_.database.clear();
  killer_ = std::make_unique<QueryKiller>(env_, killer_login_, std::move(framed),
                                          [this](const QueryKiller::Answer& a) { on_killer_answer(a); });
  killer_->start();
}

void KillPrivilegeProbe::on_killer_answer(const QueryKiller::Answer& answer) {
  using Kind = QueryKiller::Answer::Kind;
  Result r;
  r.err = answer.err;
  if (answer.kind == Kind::ok) {
    r.verdict = Verdict::allowed;
  } else if (answer.kind == Kind::err && answer.err.code == errc::ER_KILL_DENIED_ERROR) {
    r.verdict = Verdict::denied;
  }
  finish(std::move(r));
}

void KillPrivilegeProbe::on_server_login_failed(ServerConn& conn, const ErrPacket& err) {
  // The target's user cannot log in (password changed, server gone): nothing proves the privilege.
  LOG_WARN("kill: no stand-in connection for user %s to %s: %s", target_login_.user.c_str(), conn.host_port().c_str(),
           err.message.c_str());
  Result r;
  r.err = err;
  finish(std::move(r));
}

void KillPrivilegeProbe::on_server_closed(ServerConn& conn, int /*err*/) {
  Result r;
  r.err.code = errc::ER_NET_READ_ERROR;
  r.err.sql_state = "08S01";
  r.err.message = "odp: lost connection to server " + conn.host_port() + " while checking a KILL";
  finish(std::move(r));
}

void KillPrivilegeProbe::finish(Result result) {
  if (done_) return;
  done_ = true;
  if (stand_in_->state() != ServerConn::State::closed) stand_in_->quit();
  // Last: the callback may lead the owner to free this object once its callbacks are over.
  if (callback_) callback_(result);
}

}  // namespace odp::proxy
