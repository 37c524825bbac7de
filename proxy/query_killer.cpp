#include "proxy/query_killer.h"

#include <string>
#include <vector>

#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"

namespace odp::proxy {

QueryKiller::QueryKiller(SessionEnv& env, ServerLogin login, uint32_t thread_id)
    : thread_id_(thread_id), conn_(std::make_unique<ServerConn>(env, *this)) {
  conn_->login(std::move(login));
}

void QueryKiller::on_server_ready(ServerConn& conn, std::span<const uint8_t> /*ok_payload*/) {
  std::vector<uint8_t> payload, framed;
  protocol::encode_com_query("KILL QUERY " + std::to_string(thread_id_), payload);
  protocol::encode_packet(0, payload, framed);
  conn.write(framed);
}

void QueryKiller::on_server_login_failed(ServerConn& conn, const protocol::ErrPacket& err) {
  LOG_WARN("kill query: no side connection to %s: %s", conn.host_port().c_str(), err.message.c_str());
  done_ = true;
}

void QueryKiller::on_server_data(ServerConn& conn, std::span<const uint8_t> data) {
  // The answer is one OK or ERR packet; either way the kill was said.
  if (data.size() > protocol::kPacketHeaderBytes && data[protocol::kPacketHeaderBytes] == 0xFF) {
    LOG_WARN("kill query: %s refused to kill thread %u", conn.host_port().c_str(), thread_id_);
  }
  conn.quit();
  done_ = true;
}

void QueryKiller::on_server_closed(ServerConn& /*conn*/, int /*err*/) {
  done_ = true;
}

}  // namespace odp::proxy
