#pragma once
// Every counter and gauge is declared once here (X-macro) and read by the admin commands
// (SHOW PROXYSTAT) and Prometheus /metrics alike. Each worker owns one Stats block and is its
// only writer, so an increment is a relaxed load+store (no locked instruction on the hot path);
// readers on other threads sum the blocks with relaxed loads.
#include <atomic>
#include <cstdint>
#include <vector>

namespace odp::core {

// X(name, kind, help). Names are the Prometheus names without the `odp_` prefix.
#define ODP_STATS(X)                                                                                               \
  X(client_connections_accepted_total, counter, "Client connections accepted")                                     \
  X(client_connections, gauge, "Client connections open now")                                                      \
  X(client_connections_rejected_total, counter, "Clients refused over limits.client_max_connections")              \
  X(client_handshake_timeouts_total, counter, "Clients that never finished their handshake in time")               \
  X(client_auth_failures_total, counter, "Client logins refused (wrong password or unknown user)")                 \
  X(client_logins_local_total, counter, "Client logins let in with no server round trip")                          \
  X(credential_cache_hits_total, counter, "Credential look-ups answered from memory")                              \
  X(credential_cache_misses_total, counter, "Credential look-ups that read the cluster")                           \
  X(credential_rechecks_total, counter, "Mismatching passwords checked again")                                     \
  X(credential_refreshes_total, counter, "Cached credentials renewed in the background")                           \
  X(client_protocol_errors_total, counter, "Malformed, truncated or oversized client packets")                     \
  X(client_refused_statements_total, counter, "Statements odp refused before any of them ran (a KILL not first)")  \
  X(client_aborts_total, counter, "Clients that vanished (reset or EOF) mid-command or mid-result")                \
  X(client_idle_timeouts_total, counter, "Clients closed after limits.client_idle_timeout_ms")                     \
  X(client_tls_handshakes_total, counter, "Completed client TLS handshakes")                                       \
  X(client_tls_failures_total, counter, "Failed client TLS handshakes or TLS errors")                              \
  X(client_compressed_sessions_total, counter, "Client sessions using the compressed protocol")                    \
  X(client_ob20_sessions_total, counter, "Client sessions in OB 2.0 framing (OceanBase drivers)")                  \
  X(client_ob20_errors_total, counter, "OB 2.0 frames from clients refused (checksum, connection id)")             \
  X(client_bytes_received_total, counter, "Bytes received from clients")                                           \
  X(client_bytes_sent_total, counter, "Bytes sent to clients")                                                     \
  X(sql_request_total, counter, "Commands forwarded to servers")                                                   \
  X(sql_request_errors_total, counter, "Commands answered with an ERR packet")                                     \
  X(server_connections, gauge, "Server connections open now")                                                      \
  X(server_connects_total, counter, "Server connections established")                                              \
  X(server_connect_failures_total, counter, "Server connects refused, timed out or failed to log in")              \
  X(server_protocol_errors_total, counter, "Malformed packets from servers")                                       \
  X(server_ob20_connections_total, counter, "Server connections that switched to OB 2.0 after login")              \
  X(server_ob20_errors_total, counter, "OB 2.0 frames refused (checksum, sequence, request or connection id)")     \
  X(server_aborts_total, counter, "Server connections lost mid-command")                                           \
  X(server_query_timeouts_total, counter, "Commands cut off by limits.server_query_timeout_ms")                    \
  X(server_bytes_received_total, counter, "Bytes received from servers")                                           \
  X(server_bytes_sent_total, counter, "Bytes sent to servers")                                                     \
  X(io_recv_enobufs_total, counter, "Multishot recv stopped for lack of provided buffers")                         \
  X(io_accept_errors_total, counter, "accept() failures (EMFILE and friends)")                                     \
  X(io_splice_bytes_total, counter, "Payload bytes moved by splice without entering user space")                   \
  X(splice_to_client_bytes_total, counter, "Response bytes spliced server -> client (large rows)")                 \
  X(splice_to_server_bytes_total, counter, "Request bytes spliced client -> server (large statements)")            \
  X(route_leader_total, counter, "Statements routed to a partition leader")                                        \
  X(route_weak_reads_total, counter, "Weak reads routed by route_policy and LDC order")                            \
  X(route_switches_total, counter, "Statements that ran on another server than the previous one")                  \
  X(route_connects_total, counter, "Server connections opened by routing (beyond a session's first)")              \
  X(route_failures_total, counter, "Statements refused because no candidate server was reachable")                 \
  X(route_not_master_total, counter, "Errors 4038 (not master) and 5727 (reroute): stale routes")                  \
  X(route_partition_misses_total, counter, "OceanBase answers with ob_proxy_partition_hit = false: route re-read") \
  X(route_server_refusals_total, counter, "OceanBase refusals before running (8001, 8002, 5150)")                  \
  X(route_retries_total, counter, "Statements re-sent after a stale route, hidden from the client")                \
  X(route_held_begins_total, counter, "BEGINs held until the transaction's first statement")                       \
  X(route_pinned_sessions_total, counter, "Sessions tied to one server (temp tables, locks, prepared)")            \
  X(session_local_sets_total, counter, "SET autocommit answered by odp and replayed with the next statement")      \
  X(session_replays_total, counter, "Session-state replays (SET / COM_INIT_DB) before a statement")                \
  X(session_replays_pipelined_total, counter, "Replays a plain read followed at once")                             \
  X(session_replay_failures_total, counter, "Session-state replays a server refused")                              \
  X(pool_reuses_total, counter, "Statements that took an idle pooled server connection")                           \
  X(pool_waits_total, counter, "Statements that waited for a server connection slot (pool limit)")                 \
  X(pool_wait_timeouts_total, counter, "Statements refused after waiting pool.max_wait_ms for a connection")       \
  X(pool_resets_total, counter, "Pooled connections reset (COM_RESET_CONNECTION) before another session")          \
  X(pool_database_clears_total, counter, "Pooled connections taken out of a database (COM_CHANGE_USER)")           \
  X(pool_closed_holding_locks_total, counter,                                                                      \
    "Server connections closed, not pooled: their session ended in a transaction or holding locks")                \
  X(pool_idle_connections, gauge, "Idle server connections in the workers' pools")                                 \
  X(session_ties_total, counter, "Sessions tied to their server connection by state odp cannot replay")            \
  X(ps_prepares_total, counter, "COM_STMT_PREPARE from clients")                                                   \
  X(ps_reprepares_total, counter, "Statements prepared again on another server connection")                        \
  X(ps_executes_total, counter, "COM_STMT_EXECUTE routed by their parameters")

enum class StatKind { counter, gauge };

struct StatInfo {
  const char* name;
  StatKind kind;
  const char* help;
};

class Stats {
 public:
#define ODP_STAT_FIELD(name, kind, help) std::atomic<int64_t> name{0};
  ODP_STATS(ODP_STAT_FIELD)
#undef ODP_STAT_FIELD

  // Single-writer increments: only the owning worker calls these.
  static void inc(std::atomic<int64_t>& c, int64_t by = 1) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  static void set(std::atomic<int64_t>& c, int64_t v) {
    c.store(v, std::memory_order_relaxed);
  }
  static void dec(std::atomic<int64_t>& c, int64_t by = 1) {
    inc(c, -by);
  }
};

inline constexpr StatInfo kStatInfo[] = {
#define ODP_STAT_INFO(name, kind, help) {#name, StatKind::kind, help},
    ODP_STATS(ODP_STAT_INFO)
#undef ODP_STAT_INFO
};
inline constexpr size_t kStatCount = sizeof(kStatInfo) / sizeof(kStatInfo[0]);

// Reads every stat of one block in declaration order (the order of kStatInfo).
void read_stats(const Stats& s, int64_t out[kStatCount]);

// Process-wide list of worker stat blocks, registered at start-up before workers run.
class StatsRegistry {
 public:
  static StatsRegistry& instance();
  void add(const Stats* s) { blocks_.push_back(s); }
  // Sum over every registered block, in kStatInfo order.
  std::vector<int64_t> totals() const;

 private:
  std::vector<const Stats*> blocks_;
};

}  // namespace odp::core
