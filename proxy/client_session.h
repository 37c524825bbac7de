#pragma once
// One client connection: the proxy's own handshake and login (TLS, auth switch, credential
// check against the stored SHA1(SHA1(password))), the login to the server, then the command
// loop that forwards each command and streams its response back, watching packet boundaries
// only as far as needed to know where a response ends.
//
// States (phase_): greeting -> [tls] -> auth (-> auth_switch) -> lookup -> server_login -> ready
//                  ready -> [routing_wait] -> [connecting] -> [syncing] -> command
//                        (-> upload for LOCAL INFILE / streamed requests) -> [after] -> ready
//                  command -> rerouting -> ... (error 4038 on a statement that may be retried)
//                  any -> closing
// Each statement is routed (client_session_route.cpp): the session keeps at most one connection
// per server, replays the session state a connection lacks before using it, and sticks to one
// connection inside transactions and while server-side state (temporary tables, locks, prepared
// statements) ties it there.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/byte_buffer.h"
#include "core/tcp_stream.h"
#include "core/timer_wheel.h"
#include "protocol/handshake.h"
#include "protocol/response_tracker.h"
#include "proxy/client_channel.h"
#include "proxy/internal_query.h"
#include "proxy/kill_statement.h"
#include "proxy/login_name.h"
#include "proxy/packet_scanner.h"
#include "proxy/query_killer.h"
#include "proxy/server_conn.h"
#include "proxy/server_pool.h"
#include "proxy/session_env.h"
#include "proxy/session_state.h"
#include "routing/sql_classifier.h"

namespace odp::proxy {

class ClientSession final : public core::StreamHandler, public ServerConn::Owner, public PoolWaiter {
 public:
  enum class Phase {
    greeting,
    auth_switch,
    lookup,
    server_login,
    ready,
    routing_wait,  // waiting (bounded) for a table's location entry
    connecting,    // opening a connection to the chosen server
    syncing,       // replaying session state / a held BEGIN on it
    command,
    upload,
    after,      // reading user variables back after a statement assigned them
    rerouting,  // the statement hit a stale route (4038): waiting for fresh metadata to retry
    change_user,
    closing
  };

  ClientSession(SessionEnv& env, Conn* client, uint32_t connection_id, std::string peer);
  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void start();
  // Drain: close now if idle, else after the command in flight.
  void begin_drain();
  // Closes both sides at once (kill proxysession, shutdown).
  void terminate(const char* why);
  // `kill query N` from root@proxysys: stops the statement this session runs, if any.
  void kill_running_query();

  uint32_t id() const { return id_; }
  uint64_t token() const { return token_; }
  Phase phase() const { return phase_; }
  const std::string& peer() const { return peer_; }
  const std::string& user() const { return login_.user; }
  bool is_admin() const { return admin_; }
  bool finished() const { return finished_; }

  // core::StreamHandler (client side)
  void on_stream_data(std::span<const uint8_t> data) override;
  void on_stream_closed(int err) override;
  void on_stream_writable() override;
  void on_stream_splice_ready() override;
  void on_stream_spliced(uint64_t bytes) override;

  // ServerConn::Owner
  void on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) override;
  void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket& err) override;
  void on_server_data(ServerConn& conn, std::span<const uint8_t> data) override;
  void on_server_closed(ServerConn& conn, int err) override;
  void on_server_writable(ServerConn& conn) override;
  void on_server_splice_ready(ServerConn& conn) override;
  void on_server_spliced(ServerConn& conn, uint64_t bytes) override;

  // PoolWaiter: a connection slot to the server this session waits for came free.
  void on_pool_slot() override;

  // For `show proxysession` and tests.
  size_t server_connection_count() const { return backends_.size(); }
  const SessionState& session_state() const { return state_; }

 private:
  // Login phase (client_session_login.cpp).
  void send_greeting();
  bool handle_login_packet(std::span<const uint8_t> payload, uint8_t seq);
  bool handle_handshake_response(std::span<const uint8_t> payload, uint8_t seq);
  void request_native_password();
  void verify_credentials(const std::string& auth_response);
  void on_credential(Result<UserCredential, std::string> result);
  void connect_server();
  void login_to(const std::string& host_port);
  void fail_over_login(const std::string& host_port, const protocol::ErrPacket& err);
  void finish_login(std::span<const uint8_t> ok_payload);
  ServerLogin make_server_login(const std::string& host_port) const;
  void handle_internal_command(std::span<const uint8_t> payload);
  uint32_t advertised_capabilities() const;

  // Command phase (client_session_command.cpp).
  struct ResponseConsumer;
  struct RequestConsumer;
  void process_client_input();
  // Returns bytes consumed from `in`; sets *stop when the session must wait for something.
  size_t consume_client(std::span<const uint8_t> in, bool& stop);
  size_t start_command(std::span<const uint8_t> in, bool& stop);
  size_t stream_request(std::span<const uint8_t> in, bool& stop);
  // A streamed request ended: true when the next command must wait for the response.
  bool end_of_request();
  void reject_oversized_request();
  void handle_small_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload);
  void forward_command(std::span<const uint8_t> packet, protocol::Command cmd);
  void response_done();
  // After a scan of response bytes: acts on the end of the response, an error or a LOCAL INFILE
  // request. True when the caller must stop (nothing more of this chunk is to be scanned).
  bool settle_scan(const ResponseConsumer& consumer, bool bytes_follow);
  // The rest of a large packet goes by splice (client_session_splice.cpp): server -> client for
  // responses, client -> server for streamed requests (big statements, LOCAL INFILE data).
  void maybe_splice_response();
  void maybe_splice_request();
  // Learns session-state changes from an OK packet's payload; returns the payload to give the
  // client instead when it did not ask for session tracking (empty: forward unchanged).
  std::vector<uint8_t> take_ok_state(std::span<const uint8_t> ok_payload);
  bool handle_not_master(std::span<const uint8_t> data);
  bool retry_lost_read(const std::string& host_port);
  void forward_kill(const KillStatement& kill, bool as_com_process_kill);
  void begin_change_user(std::span<const uint8_t> payload);
  void send_change_user_to_server();
  void handle_change_user_reply(std::span<const uint8_t> data);

  // Routing (client_session_route.cpp).
  struct Backend {
    std::unique_ptr<ServerConn> conn;
    ConnSync sync;
    bool needs_tracking_setup = false;  // COM_CHANGE_USER reset the server's session tracking
  };
  struct Plan {
    std::vector<std::string> candidates;  // host:port, best first
    size_t next = 0;
    const char* reason = "";
    std::string cluster, tenant, database, table;  // the routed table ("" = none)
    bool retryable = false;                        // may be re-sent after a 4038 / refused connect
    bool replayable_read = false;                  // a plain read: may run again if its server dies
    // Another server answered 4038: the leader the (refreshed) metadata names is tried first even
    // while it is avoided for recent failures (it may have just come back and taken over again).
    bool leader_confirmed = false;
    bool weak = false;
    uint32_t attempts = 0;
    uint64_t deadline_ms = 0;
    uint64_t generation = 0;                   // snapshot generation the route came from
    std::vector<std::string> fetch_user_vars;  // user variables to read back after the statement
    const char* pin_reason = nullptr;          // on success the session sticks to its server
    int lock_tables = -1;                      // 1 LOCK TABLES, 0 UNLOCK TABLES, -1 neither
    bool sent_begin = false;                   // the held BEGIN went out before this statement
    // Prepared-statement commands: what to do once the connection is ready.
    enum class Ps : uint8_t { none, prepare, execute, fetch, reset, long_data } ps = Ps::none;
    uint32_t stmt_id = 0;               // the client's (odp's) statement id
    std::string stmt_key;               // ServerStmtCache key
    std::string stmt_sql;               // to prepare on a connection that lacks it
    int prepare_step = -1;              // index in preamble_ of the COM_STMT_PREPARE, -1 none
    bool streamed = false;              // readying the connection for a streamed request still buffered
    bool login = false;                 // a pooled connection stands in for the login to the server
    bool calc_found_rows = false;       // SQL_CALC_FOUND_ROWS / FOUND_ROWS / ROW_COUNT involved
    bool wants_last_insert_id = false;  // LAST_INSERT_ID(): the connection must answer the session's
  };
  enum class PlanOutcome { go, wait, answered };
  void run_command(std::span<const uint8_t> packet, protocol::Command cmd);
  PlanOutcome plan_route(protocol::Command cmd, std::string_view sql, bool allow_local = true);
  std::string_view request_sql() const;
  protocol::Command route_cmd() const;
  std::optional<PlanOutcome> route_by_topology(const routing::ClassifiedSql& c);
  void plan_for_sql(std::string_view sql, const routing::ClassifiedSql& c);
  bool local_answer(const routing::ClassifiedSql& c, std::string_view sql);
  void execute_plan();
  Backend* find_backend(const std::string& host_port);
  Backend* backend_of(const ServerConn& conn);
  void drop_backend(ServerConn& conn);
  void open_backend(const std::string& host_port);
  void start_preamble(Backend& b);
  void send_next_preamble();
  void continue_after_preamble();
  void on_internal_data(std::span<const uint8_t> data);
  void after_response();
  // Outside transactions and server-tied state, connections go back to the worker's pool.
  bool tied_to_server() const;
  void release_backends();
  PoolKey pool_key(const std::string& host_port) const;
  void publish_location();
  void start_fetch_user_vars();
  void retry_poll();
  void send_ok_local(uint16_t extra_status = 0);
  uint16_t client_status_flags() const;

  // Back to ready after a command finished without a server response, and on to the next
  // buffered command (unless we are already inside the input loop).
  void resume_ready();
  struct Consuming {
    bool& flag;
    bool was;
    explicit Consuming(bool& f) : flag(f), was(f) { flag = true; }
    ~Consuming() { flag = was; }
  };

  // Prepared statements (client_session_ps.cpp).
  void run_stmt_command(std::span<const uint8_t> packet, protocol::Command cmd);
  void finish_ps_command();
  void reply_prepare(const ServerStmt& stmt);
  void take_prepared(const InternalQuery& q);
  bool prepare_streamed_stmt(std::span<const uint8_t> in, protocol::Command cmd, bool& stop);
  void after_response_local();
  static bool is_statement_command(protocol::Command cmd);

  // Shared helpers.
  void send_to_client(std::span<const uint8_t> bytes);
  void forward_to_client(std::span<const uint8_t> bytes);
  void send_err(uint8_t seq, uint16_t code, const std::string& message, const char* sql_state = "HY000");
  void fail_protocol(const char* what, bool count_client = true);
  void close_session(bool flush_client);
  void arm_timer(uint64_t delay_ms);
  // How long the client may stay idle: the session's own wait_timeout once it set one (as a
  // server would), else limits.client_idle_timeout_ms.
  uint64_t idle_timeout_ms() const;
  void update_backpressure();
  void resume_server_reads();
  static void on_timer(core::Timer& t);

  SessionEnv& env_;
  Conn* client_;
  ClientChannel channel_;
  uint32_t id_;
  std::string peer_;
  Phase phase_ = Phase::greeting;
  bool finished_ = false;
  bool draining_ = false;
  core::Timer timer_;
  uint64_t token_ = 0;

  // Login state.
  std::array<uint8_t, 20> scramble_{};
  protocol::HandshakeResponse41 hello_;
  uint32_t client_caps_ = 0;
  uint8_t next_client_seq_ = 0;  // sequence id of our next packet to the client during login
  LoginName login_;
  std::optional<std::array<uint8_t, 20>> stage1_;
  std::string pending_auth_response_;

  // Command state.
  std::vector<Backend> backends_;                            // at most one connection per server
  std::vector<std::unique_ptr<ServerConn>> dead_backends_;   // closed, freed when the session is idle
  std::vector<std::unique_ptr<QueryKiller>> query_killers_;  // freed once done, when the session is idle
  ServerConn* server_ = nullptr;                             // the connection running (or last ran) a command
  SessionState state_;
  Plan plan_;
  std::vector<uint8_t> request_;  // the current small command, kept for async steps and retries
  protocol::Command request_cmd_ = protocol::Command::sleep;
  std::vector<std::vector<uint8_t>> preamble_;  // internal statements to run before request_
  size_t preamble_next_ = 0;
  InternalQuery internal_;
  bool consuming_ = false;       // inside the client input loop
  bool in_transaction_ = false;  // the last response said SERVER_STATUS_IN_TRANS
  bool autocommit_ = true;
  std::string held_begin_;         // BEGIN answered locally, sent with the first real statement
  const char* pinned_ = nullptr;   // why the session may not leave server_ (nullptr = free)
  bool waiting_for_slot_ = false;  // queued in the pool for a connection slot
  // The last statement left per-connection results (warnings, an error, affected rows, found
  // rows) that the next one may ask for: keep its connection one statement longer.
  bool keep_current_ = false;
  uint64_t last_insert_id_ = 0;  // the session's LAST_INSERT_ID()
  bool lock_tables_ = false;
  routing::Consistency session_consistency_ = routing::Consistency::unset;  // SET ob_read_consistency
  std::map<uint32_t, ClientStmt> client_stmts_;                             // odp's statement ids
  uint32_t next_stmt_id_ = 1;
  std::vector<routing::SqlValue> route_params_;  // COM_STMT_EXECUTE parameters, for routing
  std::optional<uint32_t> patch_stmt_id_;        // streamed statement command: the server's id
  core::ByteBuffer in_;                          // client plain bytes not yet consumed
  PacketScanner response_scanner_;
  PacketScanner request_scanner_;
  protocol::ResponseTracker tracker_;
  uint64_t request_bytes_ = 0;     // logical size of a streamed request so far
  bool response_started_ = false;  // some response bytes already went to the client
  bool upload_is_infile_ = false;  // the upload is LOCAL INFILE data (ends with an empty packet)
  bool server_paused_ = false;
  bool client_paused_ = false;
  bool admin_ = false;      // root@proxysys: internal commands only, no server
  bool published_ = false;  // listed in the env's session directory (for KILL)
  uint32_t published_thread_ = 0;
  bool published_idle_ = false;
  bool changing_user_ = false;                                      // a COM_CHANGE_USER is being verified and replayed
  std::string change_user_attrs_;                                   // its connect attributes, passed through raw
  protocol::PacketAssembler change_user_in_{kMaxLoginPacketBytes};  // the server's reply, bounded
};

}  // namespace odp::proxy
