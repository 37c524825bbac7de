#include "proxy/query_killer.h"

#include <string>
#include <utility>

#include "base/log.h"
#include "protocol/constants.h"

namespace odp::proxy {

using namespace protocol;

QueryKiller::QueryKiller(SessionEnv& env, ServerLogin login, std::vector<uint8_t> request, Callback callback)
    : env_(env),
      login_(std::move(login)),
      request_(std::move(request)),
      callback_(std::move(callback)),
      conn_(std::make_unique<ServerConn>(env, *this)) {}

void QueryKiller::start() {
  login_.pooled = false;  // outside the pool's cap: it never waits for the connection it stops
  conn_->login(login_);
}

void QueryKiller::finish(Answer answer) {
  if (done_) return;
  done_ = true;
  // Last: the callback may lead the owner to free this object once its callbacks are over.
  if (callback_) callback_(answer);
}

void QueryKiller::on_server_ready(ServerConn& conn, std::span<const uint8_t> /*ok_payload*/) {
  sent_ = true;
  conn.write(request_);
  conn.expect_reply(env_.config().limits.server_connect_timeout_ms);
}

void QueryKiller::on_server_login_failed(ServerConn& conn, const ErrPacket& err) {
  LOG_WARN("kill: no side connection to %s: %s", conn.host_port().c_str(), err.message.c_str());
  Answer a;
  a.kind = Answer::Kind::no_connection;
  a.err = err;
  finish(std::move(a));
}

void QueryKiller::on_server_data(ServerConn& conn, std::span<const uint8_t> data) {
  if (done_) return;
  if (!in_.feed(data)) {
    conn.close(false);
    on_server_closed(conn, 0);  // garbage: as good as no answer
    return;
  }
  if (!in_.has_packet()) return;  // the rest of the answer is on its way
  // The answer is one OK or ERR packet; either way the connection has done its work.
  Answer a;
  std::span<const uint8_t> payload = in_.payload();
  if (!payload.empty() && payload[0] == 0xFF) {
    auto err = decode_err(payload);
    a.kind = Answer::Kind::err;
    if (err) {
      a.err = std::move(*err);
    } else {
      a.err.code = errc::ER_NET_READ_ERROR;
      a.err.sql_state = "08S01";
      a.err.message = "odp: unreadable answer to KILL";
    }
    LOG_INFO("kill: %s refused: %u %s", conn.host_port().c_str(), a.err.code, a.err.message.c_str());
  } else {
    a.kind = Answer::Kind::ok;
  }
  conn.quit();
  finish(std::move(a));
}

void QueryKiller::on_server_closed(ServerConn& conn, int /*err*/) {
  Answer a;
  a.kind = Answer::Kind::lost;
  a.err.code = errc::ER_NET_READ_ERROR;
  a.err.sql_state = "08S01";
  a.err.message = "odp: lost connection to server " + conn.host_port() + " during KILL";
  finish(std::move(a));
}

}  // namespace odp::proxy
