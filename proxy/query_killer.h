#pragma once
// Stops the statement a session runs, for `kill query N` from root@proxysys: the session's own
// connection is busy with the statement, so a side connection with the session's credentials (a
// user may always kill its own queries) logs into the same server, says KILL QUERY <thread id>
// and quits. The owner frees it once done() (never from inside its callbacks).
#include <cstdint>
#include <memory>

#include "proxy/server_conn.h"

namespace odp::proxy {

class QueryKiller final : public ServerConn::Owner {
 public:
  QueryKiller(SessionEnv& env, ServerLogin login, uint32_t thread_id);
  bool done() const { return done_; }

  // ServerConn::Owner
  void on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) override;
  void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket& err) override;
  void on_server_data(ServerConn& conn, std::span<const uint8_t> data) override;
  void on_server_closed(ServerConn& conn, int err) override;
  void on_server_writable(ServerConn&) override {}

 private:
  uint32_t thread_id_;
  bool done_ = false;
  std::unique_ptr<ServerConn> conn_;
};

}  // namespace odp::proxy
