#pragma once
// odp behaviours the oracle flags that are tolerated (and counted) until odp changes, so that the
// suite keeps checking everything else. Each is an odp issue written up in the fake-IO report;
// ODP_FAKE_IO_STRICT=1 tolerates none of them (the run then fails where they happen).
#include <cstdint>
#include <cstdlib>
#include <string>

namespace odp::fakeio {

struct KnownIssues {
  // Fixed, now a failure (counted still): an OK packet that reached odp split over reads went to
  // a client without CLIENT_SESSION_TRACK with the session-state records odp asked the server for.
  uint64_t unstripped_session_state = 0;
  // Fixed, now a failure (counted still): a session without a current database took a pooled
  // connection another client left in its database (COM_INIT_DB cannot undo one), so DATABASE()
  // and unqualified names were the other client's.
  uint64_t database_not_cleared = 0;
  // Fixed, now a failure (counted still): a PREPARE_OK split over reads reached the client with
  // the server's statement id instead of odp's.
  uint64_t unrewritten_statement_id = 0;
  // Fixed, now a failure (counted still): KILL through odp hit another client (odp located the
  // target's server connection, then opened or waited for a connection of its own to say KILL
  // there; meanwhile the target's connection went back to the pool and served someone else). The
  // target now keeps that connection until the KILL is over, and the KILL goes out on a side
  // connection of the killer's own (which also leaves a killer tied to its connection on it).
  uint64_t kill_hit_other_client = 0;
  // Fixed, now a failure (counted still): a wait in the pool's line timed out without faults.
  // Sessions waited while holding a connection kept for results that nobody could reclaim, and
  // deadlocked in a cycle until pool.max_wait_ms; a waiter of another dialect at the head of the
  // line starved while connections went to waiters of their dialect behind it. Scenarios without
  // faults wait up to 600 s (a cap of 1 and a tied session on a slow link is a long, fair wait).
  uint64_t pool_wait_timeouts_without_faults = 0;
  // Fixed (3257034, synchronous readiness of streamed requests), no longer avoided: a request too
  // large to inspect (over 64 KiB) that started in the session's input buffer (always for a
  // compressed client) while the session held no server connection stalled when the pool had one
  // idle (the lease was ready at once, inside the input loop, and nothing took the request out of
  // the buffer again). Compressed clients now send such requests in every scenario.

  static KnownIssues& counts() {
    static KnownIssues k;
    return k;
  }
  static bool strict() {
    static const bool s = [] {
      const char* v = std::getenv("ODP_FAKE_IO_STRICT");
      return v != nullptr && *v != '\0' && *v != '0';
    }();
    return s;
  }
  std::string summary() const {
    return "unstripped_session_state=" + std::to_string(unstripped_session_state) +
           " database_not_cleared=" + std::to_string(database_not_cleared) +
           " unrewritten_statement_id=" + std::to_string(unrewritten_statement_id) +
           " kill_hit_other_client=" + std::to_string(kill_hit_other_client) +
           " pool_wait_timeouts_without_faults=" + std::to_string(pool_wait_timeouts_without_faults);
  }
};

}  // namespace odp::fakeio
