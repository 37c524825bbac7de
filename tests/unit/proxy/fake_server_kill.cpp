// The fake server's KILLs: from another connection of the server (KILL, COM_PROCESS_KILL), or the
// server killing its own connection; each checks that it stops the client it was meant for.
#include <cstdio>
#include <cstdlib>

#include "protocol/constants.h"
#include "protocol/resultset_writer.h"
#include "tests/unit/proxy/fake_known_issues.h"
#include "tests/unit/proxy/fake_mysql.h"

namespace odp::fakeio {

using namespace protocol;

void FakeServer::kill_now(Tag t) {
  // The statement in progress (or the command just arrived) gets the ERR, and the connection ends.
  begin_answer(t);
  put_err(SqlError{errc::ER_CONNECTION_KILLED, "70100", "Connection was killed (fake server)"});
  end_answer();
  state_ = State::done;
  queue_.clear();
  s_.reset("");
  conn_.close(true);
}

void FakeServer::kill(bool query_only, const FakeServer& by) {
  if (state_ == State::done) return;
  static const bool trace = std::getenv("ODP_FAKE_IO_TRACE") != nullptr;
  if (trace) {
    std::fprintf(stderr, "%llu ms: server %zu thread %u: KILL%s by thread %u (%s)\n",
                 static_cast<unsigned long long>(sim_.now_ms()), server_, thread_id_, query_only ? " QUERY" : "",
                 by.thread_id_, sleeping_ ? ("running " + tag_text(sleep_tag_)).c_str() : "idle");
  }
  if (&by != this) check_kill_target(by, query_only);
  if (query_only) {
    if (!sleeping_) return;
    sleeping_ = false;
    ++sleep_generation_;
    begin_answer(sleep_tag_);
    put_err(SqlError{errc::ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted"});
    end_answer();
    // (It goes on with what waited behind the statement once the killer's event is over.)
    sim_.at(0, [this] { process(); });
    return;
  }
  if (&by == this) {
    closing_ = true;  // the KILL's own answer is this connection's last
    return;
  }
  if (state_ == State::infile) {
    end_infile_with(SqlError{errc::ER_CONNECTION_KILLED, "70100", "Connection was killed"});
  } else if (sleeping_) {
    sleeping_ = false;
    ++sleep_generation_;
    begin_answer(sleep_tag_);
    put_err(SqlError{errc::ER_CONNECTION_KILLED, "70100", "Connection was killed"});
    end_answer();
  } else {
    std::vector<uint8_t> out;
    encode_err_packet(0, ErrPacket{errc::ER_CONNECTION_KILLED, "70100", "Connection was killed"}, out);
    conn_.write(out);
  }
  state_ = State::done;
  queue_.clear();
  s_.reset("");
  conn_.close(true);
}

void FakeServer::check_kill_target(const FakeServer& by, bool query_only) {
  // Whose statement or connection this is: the statement running, else the session waiting on it,
  // else (a KILL CONNECTION) the session that keeps the connection between its statements.
  const std::string& host = world_.cluster().host_port(server_);
  uint32_t victim = sleeping_                 ? sleep_tag_.client
                    : state_ == State::infile ? infile_tag_.client
                                              : world_.running_on(host, thread_id_).client;
  if (victim == 0 && !query_only) victim = world_.held_by(host, thread_id_);
  if (victim == 0) return;  // an idle connection in the pool: nobody's (a KILL QUERY: a no-op)
  // Who said it: the client whose command runs on that connection, else the client whose session
  // opened it (odp says a client's KILL on a side connection of the killer's own).
  uint32_t killer = world_.running_on(host, by.thread_id_).client;
  if (killer == 0) killer = world_.opener_of(by.conn_.serial());
  if (killer != 0 && world_.killing(killer, victim)) return;
  // odp's own KILL QUERY of a statement past limits.server_query_timeout_ms, said for the session
  // whose statement it is (the clock runs from the client's command: a read re-run on another
  // server after a death started its sleep there later).
  if (query_only && killer == victim && world_.query_timeout_ms() != 0) return;
  std::string what = "KILL" + std::string(query_only ? " QUERY" : "") + " on server " + std::to_string(server_) +
                     " hit client " + std::to_string(victim) + "'s " +
                     (sleeping_ ? "statement " + tag_text(sleep_tag_) : std::string("connection")) + " (thread " +
                     std::to_string(thread_id_) + "), said for client " + std::to_string(killer) +
                     ", which waits for no KILL of client " + std::to_string(victim);
  // Fixed (the target holds its connection until the KILL is over): no longer tolerated.
  ++KnownIssues::counts().kill_hit_other_client;
  world_.cluster().violate(what);
}

void FakeServer::end_infile_with(const SqlError& e) {
  // The LOAD DATA in progress ends with the ERR, numbered after the file packets seen so far.
  tag_ = infile_tag_;
  record_ = infile_record_;
  out_.clear();
  seq_ = static_cast<uint8_t>(infile_seq_ + 1);
  info_ = ResultInfo{};
  put_err(e);
  end_answer();
  infile_record_.reset();
}

void FakeServer::close_after_answer() {
  state_ = State::done;
  queue_.clear();
  s_.reset("");
  conn_.close(true);
}

// --- answers ---------------------------------------------------------------------------------

void FakeServer::handle_process_kill(std::span<const uint8_t> payload) {
  Reader r(payload.data() + 1, payload.size() - 1);
  uint32_t thread = 0;
  FakeServer* target = r.u32(thread) ? world_.cluster().find_thread(server_, thread) : nullptr;
  if (target == nullptr) {
    put_err(SqlError{errc::ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + std::to_string(thread)});
    end_answer();
    return;
  }
  target->kill(false, *this);
  put_ok(OkPacket{}, Changes{});
  end_answer();
}

}  // namespace odp::fakeio
