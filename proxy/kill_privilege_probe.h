#pragma once
// Asks a server whether a killer may kill another user's threads, for a KILL of an idle session
// (kill_authority.h): no server thread of the target runs anything for the server to judge the
// KILL on, so odp makes one. It logs the target's user in (a stand-in thread that runs nothing),
// then says `KILL QUERY <stand-in>` as the killer on a side connection (QueryKiller) on the same
// server: the server answers OK exactly when the killer could kill any thread of the target's
// user (CONNECTION ADMIN / SUPER on MariaDB, CONNECTION_ADMIN / SUPER on MySQL, roles and all),
// ER_KILL_DENIED_ERROR otherwise. The KILL QUERY stops nothing: the stand-in is idle and quits
// right after. The owner frees it once done(), never from inside its callback.
#include <functional>
#include <memory>

#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "proxy/query_killer.h"
#include "proxy/server_conn.h"

namespace odp::proxy {

class KillPrivilegeProbe final : public ServerConn::Owner {
 public:
  enum class Verdict {
    allowed,  // the server took the killer's KILL of a thread of the target's user
    denied,   // the server refused it (ER_KILL_DENIED_ERROR)
    unknown,  // no answer (a login failed, a connection broke): err says why
  };
  struct Result {
    Verdict verdict = Verdict::unknown;
    protocol::ErrPacket err;
  };
  using Callback = std::function<void(const Result&)>;

  // Both logins name the same server (host_port, server).
  KillPrivilegeProbe(SessionEnv& env, ServerLogin killer, ServerLogin target, Callback callback);
  // The callback may run before this returns.
  void start();
  bool done() const { return done_ && (killer_ == nullptr || killer_->done()); }

  // ServerConn::Owner (the stand-in)
  void on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) override;
  void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket& err) override;
  void on_server_data(ServerConn&, std::span<const uint8_t>) override {}
  void on_server_closed(ServerConn& conn, int err) override;
  void on_server_writable(ServerConn&) override {}

 private:
  void on_killer_answer(const QueryKiller::Answer& answer);
  void finish(Result result);

  SessionEnv& env_;
  ServerLogin killer_login_;
  ServerLogin target_login_;
  Callback callback_;
  bool done_ = false;
  std::unique_ptr<ServerConn> stand_in_;
  std::unique_ptr<QueryKiller> killer_;
};

}  // namespace odp::proxy
