// ClientSession and the hot upgrade's phase 2: a session at a quiet point leaves the old process
// with its client socket and its model (proxy/handover.h); the new process adopts it in
// Phase::ready, as if the client had just logged in, with the same connection id.
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "core/tcp_stream.h"
#include "protocol/constants.h"
#include "proxy/client_session.h"
#include "proxy/handover.h"

namespace odp::proxy {

ClientSession::Handover ClientSession::try_hand_over(int sock) {
  if (handover_never_ || phase_ == Phase::closing) return Handover::never;
  auto* stream = dynamic_cast<core::TcpStream*>(link_.conn());
  // TLS state cannot leave OpenSSL; a draining session is closing anyway.
  // TLS and OB 2.0 sessions keep their channel state in this process: they stay and drain.
  if (stream == nullptr || link_.channel().tls_active() || link_.channel().ob20() || draining_) {
    handover_never_ = !draining_ && stream != nullptr;
    return Handover::never;
  }
  bool quiet = phase_ == Phase::ready && !login_.changing_user && link_.input().empty() &&
               link_.channel().holds_nothing() && stream->pending_output() == 0 && !model_.tied() &&
               !model_.in_transaction() && model_.held_begin().empty() &&
               kill_pins_.empty();  // a KILL on its way keeps its connection pinned here
  if (!quiet) {
    if (handover_paused_) {
      // A command came in after all (the receive in flight had it): serve on, try again later.
      handover_paused_ = false;
      update_backpressure();
    }
    return Handover::later;
  }
  if (!handover_paused_) {
    // Nothing may be read here once the socket is the new process's: stop the receive and wait
    // until the kernel confirms it ended (its last completion may still bring a command).
    handover_paused_ = true;
    link_.set_reading(false);
    return Handover::later;
  }
  if (stream->receive_pending()) return Handover::later;

  HandoverMessage msg;
  msg.connection_id = id_;
  msg.mariadb_ext_caps = model_.identity().mariadb_ext_caps;
  msg.flags = link_.channel().compressed() ? HandoverMessage::kCompressed : 0;
  msg.peer = peer_;
  model_.serialize(msg.model);
  std::vector<uint8_t> bytes;
  encode_handover(msg, bytes);
  int err = send_handover(sock, stream->fd(), bytes);
  if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return Handover::later;  // stays paused
  if (err != 0) {
    LOG_WARN("handover: session conn_id=%u peer=%s cannot move (%s); it stays here", id_, peer_.c_str(),
             std::strerror(err));
    handover_paused_ = false;
    handover_never_ = true;
    update_backpressure();
    return Handover::never;
  }
  LOG_INFO("handover: session conn_id=%u peer=%s user=%s moved to the new process (%zu bytes, %zu statements)", id_,
           peer_.c_str(), user().c_str(), bytes.size(), model_.statements().size());
  // The new process holds the socket now: closing this descriptor sends nothing to the client.
  // The server connections go back to this process's pool and close with it.
  close_session(false);
  return Handover::moved;
}

void ClientSession::adopt(SessionModel model, uint32_t mariadb_ext_caps, bool compressed) {
  model_ = std::move(model);
  model_.set_mariadb_ext_caps(mariadb_ext_caps);
  const SessionIdentity& id = model_.identity();
  lease_.set_dialect(env_.directory().dialect(id.login.cluster, id.login.tenant, id.login.user, id.client_caps,
                                              id.charset, id.mariadb_ext_caps, id.attributes));
  lease_.set_login(make_server_login());
  env_.session_started(id_, location());
  published_ = true;
  if (compressed) link_.channel().start_compression(env_.config().limits.max_packet_bytes + (1u << 20));
  plan_ = Plan{};
  enter(Phase::ready);
  set_timeout(idle_timeout_ms());
  link_.conn()->start_reading();
  LOG_INFO("handover: adopted session conn_id=%u peer=%s user=%s database=%s statements=%zu%s", id_, peer_.c_str(),
           user().c_str(), model_.database().c_str(), model_.statements().size(), compressed ? " compressed" : "");
}

}  // namespace odp::proxy
