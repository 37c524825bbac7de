#pragma once
// Says one KILL on a side connection of its own: a client's KILL of another session (logged in as
// the killer's user, so the server checks the privilege) and `kill query N` from root@proxysys
// (as the target's user: a user may always kill its own queries). It logs into the server the
// target's statement runs on, sends the KILL, reads its one OK or ERR, quits and reports. It
// never waits in the pool's line (the connection the KILL names may be what others wait for), and
// the session it serves keeps its own connections as they are. The owner frees it once done(),
// never from inside its callback.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "proxy/server_conn.h"

namespace odp::proxy {

class QueryKiller final : public ServerConn::Owner {
 public:
  struct Answer {
    enum class Kind {
      ok,             // the server took the KILL
      err,            // the server's ERR (no privilege, unknown thread...)
      no_connection,  // no KILL went out: the side connection failed to log in (err: why)
      lost,           // the KILL went out and the connection ended before its answer
    };
    Kind kind = Kind::lost;
    protocol::ErrPacket err;
  };
  using Callback = std::function<void(const Answer&)>;

  // `request`: the KILL, one framed packet (COM_QUERY or COM_PROCESS_KILL).
  QueryKiller(SessionEnv& env, ServerLogin login, std::vector<uint8_t> request, Callback callback);
  // Connects and logs in; the callback may run before this returns (no socket could be made).
  void start();
  bool done() const { return done_; }
  // The KILL went out (its effect may come even if no answer does).
  bool sent() const { return sent_; }

  // ServerConn::Owner
  void on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) override;
  void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket& err) override;
  void on_server_data(ServerConn& conn, std::span<const uint8_t> data) override;
  void on_server_closed(ServerConn& conn, int err) override;
  void on_server_writable(ServerConn&) override {}

 private:
  void finish(Answer answer);

  SessionEnv& env_;
  ServerLogin login_;
  std::vector<uint8_t> request_;
  Callback callback_;
  bool sent_ = false;
  bool done_ = false;
  protocol::PacketAssembler in_{64 * 1024};
  std::unique_ptr<ServerConn> conn_;
};

}  // namespace odp::proxy
