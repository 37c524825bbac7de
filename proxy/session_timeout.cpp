// ClientSession, a statement's clock: the query timeout and the silence probe.
//
// A statement past limits.server_query_timeout_ms is stopped as gently as the server allows:
// odp says KILL QUERY on a side connection (as for a client's KILL, the connection pinned to this
// session until it is over), the server ends the statement with its ERR 1317 on the statement's own
// connection, and the client gets odp's ERR 1317 naming the limit instead; the session and its
// server connection live on. A server that does not stop the statement within the KILL's grace
// (connect + answer: twice limits.server_connect_timeout_ms), or that odp cannot reach for the
// KILL, is hung: see end_on_hung_server. A statement that ends before the KILL reports holds the
// next command until it does (Phase::killing): the KILL must not land on that command.
//
// A long statement on a live server is fine; a statement on a hung one (SIGSTOP, a wedged
// machine: TCP still accepts, nothing answers) would otherwise wait the whole query timeout. So a
// statement whose server sent nothing for limits.server_silence_probe_ms makes odp ask whether
// the server is alive (SessionEnv::probe_server: one probe per server at a time, a greeting within
// limits.server_connect_timeout_ms). Alive: wait on, and ask again after the next silence. Not:
// every worker avoids the server (shared health) and the statement ends at once.
//
// Ending a statement on a hung server: its connection is retired, and the client gets ERR 1158
// (SQLSTATE 08S01: libmariadb refuses client-range codes such as 2013 from a server) naming the
// server. A session tied to that connection (transaction, temporary table, lock...) lost its
// server state, so it closes after the ERR; otherwise the next statement takes another connection.
// A response already partly streamed cannot take an ERR in its middle: the client is closed then.
#include <algorithm>
#include <string>

#include "base/log.h"
#include "protocol/commands.h"
#include "protocol/packet.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::start_statement_clock() {
  const admin::LimitsConfig& limits = env_.config().limits;
  uint64_t now = env_.now_ms();
  ++watch_.statement;
  watch_.started_ms = now;
  watch_.last_heard_ms = now;
  watch_.query_deadline_ms = limits.server_query_timeout_ms == 0 ? 0 : now + limits.server_query_timeout_ms;
  watch_.probing = false;
  watch_.killing = false;
  watch_.next_after_kill = false;
  arm_statement_timer();
}

// The next moment the statement needs a look: its query deadline, or the end of its server's
// silence (when a probe is not already under way).
void ClientSession::arm_statement_timer() {
  uint64_t silence_ms = env_.config().limits.server_silence_probe_ms;
  uint64_t next = watch_.query_deadline_ms;
  if (silence_ms != 0 && !watch_.probing) {
    uint64_t check = std::max(watch_.last_heard_ms + silence_ms, env_.now_ms() + 1);
    next = next == 0 ? check : std::min(next, check);
  }
  // (0: nothing to watch; set_deadline keeps the timer for a later deadline, cheap.)
  set_deadline(next);
}

void ClientSession::on_statement_deadline() {
  if (watch_.next_after_kill) {
    // The statement is over; its KILL's report is overdue (the side connection's own timeouts
    // end it too): wait no longer.
    on_own_kill_over();
    return;
  }
  uint64_t now = env_.now_ms();
  ServerConn* conn = lease_.current();
  // Only a statement whose request is out and whose answer has not begun can be stopped and
  // answered by odp; a COM_CHANGE_USER or a LOCAL INFILE upload is cut off as before.
  bool on_server = phase_ == Phase::command && conn != nullptr && conn->state() == ServerConn::State::ready &&
                   !login_.changing_user && !lease_.readying(*conn);
  if (watch_.killing) {
    // The KILL's grace is over and the statement still runs: the server does not answer.
    if (on_server) {
      end_on_hung_server("did not stop the statement after KILL QUERY");
    } else {
      cut_off_and_close();
    }
    return;
  }
  if (watch_.query_deadline_ms != 0 && now >= watch_.query_deadline_ms) {
    core::Stats::inc(env_.stats().server_query_timeouts_total);
    if (on_server && !exchange_.response_started()) {
      stop_timed_out_statement(*conn);
      return;
    }
    cut_off_and_close();
    return;
  }
  uint64_t silence_ms = env_.config().limits.server_silence_probe_ms;
  if (on_server && silence_ms != 0 && !watch_.probing && now >= watch_.last_heard_ms + silence_ms) {
    probe_silent_server(*conn);
    return;
  }
  arm_statement_timer();
}

void ClientSession::probe_silent_server(ServerConn& conn) {
  watch_.probing = true;
  arm_statement_timer();  // the query deadline still holds meanwhile
  uint64_t statement = watch_.statement;
  std::string host_port = conn.host_port();
  LOG_DEBUG("server silent, probing conn_id=%u server=%s thread=%u", id_, host_port.c_str(), conn.thread_id());
  env_.probe_server(host_port, token_,
                    [this, statement, host_port](bool alive) { on_probe_answer(statement, host_port, alive); });
}

void ClientSession::on_probe_answer(uint64_t statement, const std::string& host_port, bool alive) {
  if (statement != watch_.statement || !watch_.probing) return;  // that statement is over
  watch_.probing = false;
  ServerConn* conn = lease_.current();
  if (phase_ != Phase::command || conn == nullptr || conn->host_port() != host_port) return;
  if (alive) {
    // A long statement on a live server: wait on, and look again after the next silence.
    watch_.last_heard_ms = env_.now_ms();
    arm_statement_timer();
    return;
  }
  end_on_hung_server("did not answer a liveness probe");
}

void ClientSession::stop_timed_out_statement(ServerConn& conn) {
  LOG_WARN("query timed out, KILL QUERY conn_id=%u peer=%s server=%s thread=%u", id_, peer_.c_str(),
           conn.host_port().c_str(), conn.thread_id());
  watch_.killing = true;
  watch_.kill_unanswered = true;
  watch_.probing = false;
  uint64_t statement = watch_.statement;
  // The KILL logs in and is answered, each within server_connect_timeout_ms; then the statement's
  // ERR is due.
  set_timeout(2ull * env_.config().limits.server_connect_timeout_ms);
  say_kill_query(conn, [this, statement](const QueryKiller::Answer& answer) {
    using Kind = QueryKiller::Answer::Kind;
    watch_.kill_unanswered = false;
    if (watch_.next_after_kill) {
      on_own_kill_over();
      return;
    }
    if (statement != watch_.statement || !watch_.killing || phase_ != Phase::command) return;
    // No side connection (connect or login timed out, reset) or it died: the server cannot be
    // reached, so it will not stop the statement either. A server that refused the side login
    // (ERR of its own) is alive: its statement's answer may still come within the grace.
    bool unreachable =
        answer.kind == Kind::lost ||
        (answer.kind == Kind::no_connection &&
         (answer.err.code == errc::ER_CONNECT_TO_FOREIGN_DATA_SOURCE || answer.err.code == errc::ER_NET_READ_ERROR));
    if (unreachable) end_on_hung_server("could not be reached for KILL QUERY");
    // OK (or an ERR: the statement ended meanwhile): its answer comes on its own connection.
  });
}

// Server bytes while odp's KILL QUERY is on its way. When they end with the server's ERR 1317 (the
// statement stopped; MariaDB may send a result's column definitions first, in the same write),
// what comes before it goes to the client as usual and odp's ERR takes the ERR's place, with its
// sequence id. False: not that (the statement's own answer, or an ERR split over reads, which then
// reaches the client as the server sent it).
bool ClientSession::replace_kill_answer(ServerConn& conn, std::span<const uint8_t> data) {
  if (!exchange_.at_packet_boundary()) return false;
  size_t pos = 0;  // the start of the last packet
  for (;;) {
    if (data.size() - pos < kPacketHeaderBytes) return false;
    size_t end = pos + kPacketHeaderBytes + decode_header(data.data() + pos).length;
    if (end > data.size()) return false;  // a packet still under way
    if (end == data.size()) break;
    pos = end;
  }
  const uint8_t* err = data.data() + pos;
  if (data.size() - pos < kPacketHeaderBytes + 3 || err[kPacketHeaderBytes] != 0xFF ||
      (err[kPacketHeaderBytes + 1] | (err[kPacketHeaderBytes + 2] << 8)) != errc::ER_QUERY_INTERRUPTED)
    return false;
  uint8_t seq = err[3];
  if (pos > 0) {
    Exchange::Step step = exchange_.on_server_data(conn, data.first(pos), model_.identity().client_caps);
    if (step != Exchange::Step::more) {
      handle_step(conn, step);  // (not a response that goes on into an ERR: cannot be the KILL's)
      return true;
    }
  }
  end_timed_out_statement(seq);
  return true;
}

// The statement is over, its connection fine; nothing the statement did needs to be learned.
void ClientSession::end_timed_out_statement(uint8_t seq) {
  watch_.killing = false;
  exchange_.reset_response();
  core::Stats::inc(env_.stats().sql_request_errors_total);
  LOG_INFO("query timeout: statement stopped conn_id=%u", id_);
  link_.send_err(seq, errc::ER_QUERY_INTERRUPTED,
                 "odp: query cut off after limits.server_query_timeout_ms (" +
                     std::to_string(env_.config().limits.server_query_timeout_ms) + " ms)",
                 "70100");
  finish_command();
}

void ClientSession::end_on_hung_server(const char* why) {
  ServerConn* conn = lease_.current();
  if (conn == nullptr) {
    cut_off_and_close();
    return;
  }
  std::string host_port = conn->host_port();
  uint64_t ran_ms = env_.now_ms() - watch_.started_ms;
  LOG_WARN("server hung conn_id=%u server=%s thread=%u: %s after %llu ms", id_, host_port.c_str(), conn->thread_id(),
           why, static_cast<unsigned long long>(ran_ms));
  core::Stats::inc(env_.stats().server_aborts_total);
  watch_.killing = false;
  watch_.kill_unanswered = false;  // (its connection goes: the KILL cannot stop a later command there)
  watch_.probing = false;
  env_.note_server_failure(host_port);
  bool streamed = exchange_.response_started();
  // The connection's server state is gone with it: a session tied to it cannot go on.
  bool lost_state = model_.tied() || env_.pool() == nullptr;
  lease_.drop(*conn);
  if (!streamed) {
    link_.send_err(
        1, errc::ER_NET_READ_ERROR,
        "odp: server " + host_port + " stopped answering; statement cut off after " + std::to_string(ran_ms) + " ms",
        "08S01");
  }
  if (streamed || lost_state) {
    close_session(true);
    return;
  }
  exchange_.reset_response();
  finish_command();
}

// The statement odp said KILL QUERY for ended before the KILL's report came (its ERR, or its own
// answer just before the KILL landed); its next command waited for the report in Phase::killing.
void ClientSession::on_own_kill_over() {
  watch_.next_after_kill = false;
  if (phase_ != Phase::killing) return;  // closing
  resume_ready();                        // (a draining session answers its next command with 1053 there, then closes)
  update_backpressure();
}

// What odp did before it could stop statements: the client gets an ERR if nothing of the answer
// reached it, and is closed.
void ClientSession::cut_off_and_close() {
  ServerConn* c = lease_.current();
  LOG_WARN("command timed out conn_id=%u peer=%s server=%s", id_, peer_.c_str(),
           c != nullptr ? c->host_port().c_str() : "-");
  if (!exchange_.response_started() && phase_ != Phase::reading_back) {
    link_.send_err(1, errc::ER_QUERY_INTERRUPTED,
                   "odp: query cut off after limits.server_query_timeout_ms; the connection is closed", "70100");
  }
  close_session(true);
}

void ClientSession::say_kill_query(ServerConn& conn, QueryKiller::Callback then) {
  // The connection stays this session's until the KILL is over (as for a client's KILL).
  uint64_t pin = ++next_kill_pin_;
  kill_pins_.emplace_back(pin, false);
  lease_.pin(conn, pin, false);
  ServerLogin login = lease_.login();
  login.host_port = conn.host_port();
  login.server = conn.server();
  login.database.clear();
  std::vector<uint8_t> payload, framed;
  encode_com_query("KILL QUERY " + std::to_string(conn.thread_id()), payload);
  encode_packet(0, payload, framed);
  start_query_killer(std::move(login), std::move(framed),
                     [this, pin, then = std::move(then)](const QueryKiller::Answer& answer) {
                       using Kind = QueryKiller::Answer::Kind;
                       release_kill_hold(pin, answer.kind == Kind::ok              ? KillOutcome::done
                                              : answer.kind == Kind::err           ? KillOutcome::refused
                                              : answer.kind == Kind::no_connection ? KillOutcome::not_sent
                                                                                   : KillOutcome::unknown);
                       if (then) then(answer);
                     });
}

}  // namespace odp::proxy
