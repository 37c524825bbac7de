// ClientSession, drain (SIGTERM / SIGINT, docs/OPERATIONS.md "Signals and reload").
//
// What a client sees:
// - between statements, outside a transaction (at the signal, or when its statement or its
//   transaction ends): an ERR 1053 (ER_SERVER_SHUTDOWN, 08S01) numbered as the answer to its next
//   command, then the close. A server that shuts down says the same to its idle connections; a
//   client reads it as the answer to whatever it sends next (the command did not run), so
//   libmariadb, pymysql and Connector/J report "1053 odp: shutting down" instead of a lost
//   connection, and a pool's validation query fails cleanly (a compressed client with no command
//   under way gets the close alone: see send_unsolicited_shutdown_err);
// - a statement in flight runs to its end and the client gets all of it; a transaction goes on
//   until its COMMIT or ROLLBACK (from the application's view it is in flight: closing it midway
//   would roll back work the application believes it may still finish);
// - still busy at listen.drain_timeout_ms: ERR 1053 "(listen.drain_timeout_ms elapsed)" if no
//   byte of the answer went out yet (else the close alone: an ERR inside a result would be a
//   malformed packet), and the statement is killed on its server.
// The codes are server codes: a client-range code (2000-2999) in an ERR packet makes libmariadb
// report "malformed packet".
#include <span>

#include "base/log.h"
#include "protocol/constants.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

namespace {
constexpr const char* kShuttingDown = "odp: shutting down";
constexpr const char* kDeadline = "odp: shutting down (listen.drain_timeout_ms elapsed)";
}  // namespace

void ClientSession::begin_drain() {
  draining_ = true;
  // Not logged in yet: nothing the client could read as an answer; it sees the close and
  // connects elsewhere (a new connection is refused here: the listeners are closed).
  if (phase_ == Phase::greeting) {
    close_session(true);
    return;
  }
  drain_if_quiet();
}

bool ClientSession::drain_if_quiet() {
  if (!draining_ || phase_ != Phase::ready || model_.in_transaction()) return false;
  LOG_INFO("drain: closing session conn_id=%u peer=%s (between statements)", id_, peer_.c_str());
  send_unsolicited_shutdown_err(kShuttingDown);
  close_session(true);
  return true;
}

void ClientSession::send_shutdown_err(uint8_t seq, const char* message) {
  link_.send_err(seq, errc::ER_SERVER_SHUTDOWN, message, "08S01");
}

// Between commands: the ERR is the answer to the client's next command (1 is the number of the
// first packet of any answer). Compressed clients number frames across commands in their own
// ways, so the frame's number is only known for a command already received whole (buffered,
// unread): with none, a compressed client gets the close alone.
void ClientSession::send_unsolicited_shutdown_err(const char* message) {
  if (link_.channel().compressed()) {
    std::span<const uint8_t> in = link_.input().data();
    if (in.size() < 4) return;
    size_t first =
        4 + (static_cast<size_t>(in[0]) | static_cast<size_t>(in[1]) << 8 | static_cast<size_t>(in[2]) << 16);
    if (in.size() < first) return;  // the rest of it is still on its way, in frames not numbered yet
    link_.channel().request_read(in.size() - first);
  }
  send_shutdown_err(1, message);
}

std::optional<ClientSession::DrainKill> ClientSession::expire_drain() {
  std::optional<DrainKill> kill;
  switch (phase_) {
    case Phase::closing:
      return kill;
    case Phase::greeting:
      break;
    case Phase::auth_switch:
    case Phase::lookup:
    case Phase::server_login:
    case Phase::change_user:
      send_shutdown_err(login_.next_seq, kDeadline);
      break;
    case Phase::ready:  // in a transaction: the ERR answers its next command
      send_unsolicited_shutdown_err(kDeadline);
      break;
    case Phase::routing_wait:
    case Phase::rerouting:
    case Phase::locating:
    case Phase::killing:
    case Phase::acquiring:
    case Phase::command:
    case Phase::upload:
    case Phase::reading_back: {
      if (!exchange_.response_started()) send_shutdown_err(1, kDeadline);
      ServerConn* c = lease_.current();
      bool running = phase_ == Phase::command || phase_ == Phase::upload || phase_ == Phase::reading_back;
      if (running && c != nullptr && c->state() == ServerConn::State::ready) {
        kill.emplace();
        kill->login = lease_.login();
        kill->login.host_port = c->host_port();
        kill->login.server = c->server();
        kill->login.database.clear();
        kill->thread_id = c->thread_id();
      }
      break;
    }
  }
  LOG_INFO("drain: closing session conn_id=%u peer=%s at listen.drain_timeout_ms (phase %d)", id_, peer_.c_str(),
           static_cast<int>(phase_));
  close_session(true);
  return kill;
}

}  // namespace odp::proxy
