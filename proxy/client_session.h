#pragma once
// One client connection: a small orchestrator over the parts that do the work.
//
//   ClientLink     the client's socket, TLS, compression, backpressure        (client_link.h)
//   SessionModel   identity, variables, transaction, ties, prepared stmts     (session_model.h)
//   BackendLease   the server connections held, pool, replay, re-prepare      (backend_lease.h)
//   Exchange       one command in flight: request out, response streamed back (exchange.h)
//   routing::route_statement decides where a statement runs; the session acts on it.
//
// Transition table (every phase change goes through enter(); the events are the methods named):
//
//   phase          event                                   next
//   greeting       handshake response / auth switch        [auth_switch] lookup
//   lookup         credential checked                      ready (admin; or cached credential and
//                                                          known database: no server yet) |
//                                                          lookup (mismatch: re-check) |
//                                                          server_login | closing
//   server_login   lease ready (login OK sent)             ready
//   ready          command from the client                 ready (answered locally) | routing_wait |
//                                                          acquiring | locating (KILL) | upload
//   routing_wait   table location loaded / deadline       acquiring
//   locating       KILL target held (its worker's answer)  killing | ready (nothing runs there)
//   killing        the KILL's answer (side connection)     ready
//                  (odp's own KILL QUERY of a timed-out statement that ended: the next command
//                  waits for it, so that it cannot land on that command; session_timeout.cpp)
//                  the privilege proven (another user's    locating (held again, as proven)
//                  idle target: KillPrivilegeProbe)
//   acquiring      lease ready                             command | upload (streamed request)
//                  lease failed                            acquiring (next candidate) | rerouting | ready
//   command        response done                           reading_back | ready
//                  ERR 4038 (stale route), retryable       rerouting
//                  server lost under a read                acquiring | rerouting
//                  LOCAL INFILE asked                      upload
//                  replay under a pipelined read failed    ready (the step's ERR) | acquiring (lost)
//   upload         request or file sent                    command | ready (no answer expected)
//   reading_back   variables read back                     ready
//   rerouting      fresh metadata / deadline               acquiring
//   change_user    server's verdict                        ready | closing
//   any            client gone, fatal error, timeout       closing
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/timer_wheel.h"
#include "protocol/handshake.h"
#include "proxy/autocommit_set.h"
#include "proxy/backend_lease.h"
#include "proxy/client_link.h"
#include "proxy/exchange.h"
#include "proxy/kill_privilege_probe.h"
#include "proxy/kill_statement.h"
#include "proxy/query_killer.h"
#include "proxy/server_conn.h"
#include "proxy/session_env.h"
#include "proxy/session_model.h"
#include "routing/statement_route.h"

namespace odp::proxy {

class ClientSession final : public core::StreamHandler, public ServerConn::Owner, public BackendLease::Events {
 public:
  enum class Phase {
    greeting,
    auth_switch,
    lookup,
    server_login,
    ready,
    routing_wait,
    locating,
    killing,
    acquiring,
    command,
    upload,
    reading_back,
    rerouting,
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
  // listen.drain_timeout_ms passed (session_drain.cpp): the client gets ERR 1053 where it can
  // read one and the session closes. A statement of it still running on a server is returned:
  // the worker says KILL for it on a side connection (the session's own user), so nothing of a
  // drained odp runs on after it.
  struct DrainKill {
    ServerLogin login;  // the session's login at the server the statement runs on
    uint32_t thread_id = 0;
  };
  std::optional<DrainKill> expire_drain();
  // Closes both sides at once (kill proxysession, shutdown).
  void terminate(const char* why);
  // `kill query N`: stops the statement this session runs, if any (a side connection says KILL).
  void kill_running_query();
  // Hot upgrade phase 2 (proxy/handover.h). Old process: moves the session to the new one over
  // `sock` if it is at a quiet point; called again and again while handing over (the first call at
  // a quiet point stops reading the client, a later one sends once no receive is in flight).
  enum class Handover { moved, later, never };
  Handover try_hand_over(int sock);
  // New process: the session of a socket handed over, in Phase::ready (instead of start()).
  void adopt(SessionModel model, uint32_t mariadb_ext_caps, bool compressed);
  // Where this session's statements run now (the session directory, `show proxysession`).
  SessionLocation location() const;
  // A KILL of this session from another one (on this session's worker): the server connection a
  // statement of this session runs on (or the session is tied to), kept by the session for the
  // KILL until release_kill_hold(pin) (it never serves another session meanwhile). Nothing
  // running: no server to tell; a KILL CONNECTION closes the session now if `killer` may
  // (kill_authority.h), else the hold asks for proof and nothing happens.
  KillHold hold_for_kill(bool query_only, const KillAuthority& killer);
  void release_kill_hold(uint64_t pin, KillOutcome outcome);
  // What SHOW PROCESSLIST shows of this session (session_processlist.cpp).
  SessionActivity activity() const;
  // odp's own replay steps run on the connection ahead of the command already sent behind them.
  bool replaying_under_command() const { return lease_.replaying_under_command(); }

  uint32_t id() const { return id_; }
  uint64_t token() const { return token_; }
  Phase phase() const { return phase_; }
  const std::string& peer() const { return peer_; }
  const std::string& user() const { return model_.identity().login.user; }
  bool is_admin() const { return model_.identity().admin; }
  bool finished() const { return phase_ == Phase::closing; }
  const SessionModel& model() const { return model_; }
  size_t server_connection_count() const { return lease_.held_count(); }
  // The session holds that server connection (tests: whose connection a KILL hit).
  bool holds_server_thread(std::string_view host_port, uint32_t thread_id) const {
    return lease_.holds_thread(host_port, thread_id);
  }

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

  // BackendLease::Events
  void on_lease_ready(ServerConn& conn) override;
  void on_lease_failed(const BackendLease::Failure& failure) override;

 private:
  // Where the current command goes: candidates best first, and how it may be retried.
  struct Plan {
    std::array<ServerId, routing::RouteDecision::kMaxCandidates> candidates{};
    uint8_t count = 0;
    uint8_t next = 0;
    const char* reason = "";
    bool retryable = false;        // may be re-sent after a 4038 / a refused connect
    bool replayable_read = false;  // a plain read: may run again if its server dies
    bool leader_confirmed = false;
    bool weak = false;
    uint32_t attempts = 0;
    uint64_t deadline_ms = 0;
    uint64_t failover_until_ms = 0;             // retries of a statement that never ran end here (0: none yet)
    bool starts_transaction = false;            // this statement begins its transaction (see StatementRouteRequest)
    bool rerunnable_transaction_start = false;  // see routing::StatementRoute
    std::string begin_sql;                      // the held BEGIN it carries, to hold again if it never ran
    uint64_t generation = 0;
    std::string table_database, table_name;  // the routed table ("" = none)
    bool streamed = false;                   // readying for a streamed request still in the client's input
    bool login = false;                      // readying stands in for the login to the server
    bool from_text = false;                  // routed by SQL text (query or prepared statement)
    std::vector<uint8_t> trace;              // an OB 2.0 driver's trace records for the request
    BackendLease::Needs needs;
  };
  // The prepared-statement command in flight.
  struct PsCommand {
    protocol::Command cmd = protocol::Command::sleep;
    uint32_t stmt_id = 0;      // the client's (odp's) id
    uint32_t reserved_id = 0;  // COM_STMT_PREPARE: the id the client gets if it succeeds
    ShapePtr shape;
  };

  // --- phases and timers (client_session.cpp) ---
  void enter(Phase p) {
    if ((p == Phase::ready) != (phase_ == Phase::ready)) phase_since_ms_ = env_.now_ms();  // SHOW PROCESSLIST's Time
    phase_ = p;
  }
  void set_deadline(uint64_t deadline_ms);
  // A deadline `ms` from now; 0 = none.
  void set_timeout(uint64_t ms) { set_deadline(ms == 0 ? 0 : env_.now_ms() + ms); }
  uint64_t idle_timeout_ms() const;
  static void on_timer(core::Timer& t);
  void on_deadline();
  void update_backpressure();
  void close_session(bool flush_client);

  // --- a statement's clock: the query timeout and the silence probe (session_timeout.cpp) ---
  // The command starts (again, after a routing wait): limits.server_query_timeout_ms from now.
  void start_statement_clock();
  void arm_statement_timer();
  void on_statement_deadline();
  void probe_silent_server(ServerConn& conn);
  void on_probe_answer(uint64_t statement, const std::string& host_port, bool alive);
  void stop_timed_out_statement(ServerConn& conn);
  bool replace_kill_answer(ServerConn& conn, std::span<const uint8_t> data);
  void end_timed_out_statement(uint8_t seq);
  void end_on_hung_server(const char* why);
  void on_own_kill_over();
  void cut_off_and_close();
  void fail_protocol(const char* what, bool client_side = true);
  void resume_ready();
  // Draining, between statements and outside a transaction: ERR 1053 for the client's next
  // command, then the close (session_drain.cpp). True when it closed the session.
  bool drain_if_quiet();
  void send_shutdown_err(uint8_t seq, const char* message);
  void send_unsolicited_shutdown_err(const char* message);

  // --- login (session_login.cpp) ---
  void send_greeting();
  uint32_t advertised_capabilities() const;
  uint32_t advertised_mariadb_capabilities() const;
  void handle_login_packet(std::span<const uint8_t> payload, uint8_t seq);
  void handle_handshake_response(std::span<const uint8_t> payload, uint8_t seq);
  void request_native_password();
  void verify_credentials(const std::string& auth_response);
  bool proxy_login_mode() const;
  void forward_login(const std::string& auth_response);
  void look_up_credential(bool recheck);
  void on_credential(Result<UserCredential, std::string> result);
  void refuse_account(const UserCredential& cred);
  bool may_log_in_locally(const UserCredential& cred) const;
  void log_in_locally();
  void start_identity(SessionIdentity identity);
  void connect_server();
  void login_to_next_candidate(const protocol::ErrPacket* last_error);
  void finish_login(std::span<const uint8_t> ok_payload);
  uint64_t ob_caps_for_client(const protocol::HandshakeResponse41& hello) const;
  // The client's login OK (with ob_capability_flag when an OceanBase driver gets OB 2.0).
  std::vector<uint8_t> login_ok_payload() const;
  ServerLogin make_server_login() const;
  void handle_internal_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload);

  // --- commands (session_command.cpp) ---
  void process_client_input();
  void client_channel_failed();
  size_t consume_client(std::span<const uint8_t> in, bool& stop);
  size_t start_command(std::span<const uint8_t> in, bool& stop);
  size_t start_streamed(std::span<const uint8_t> in, bool& stop);
  size_t stream_request(std::span<const uint8_t> in, bool& stop);
  void end_of_upload();
  void reject_oversized_request();
  void handle_small_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload);
  void run_command(std::span<const uint8_t> packet, protocol::Command cmd);
  bool local_answer(const routing::ClassifiedSql& c, std::string_view sql);
  void send_ok_local(uint16_t extra_status = 0, std::string session_state = {});
  bool may_set_autocommit_locally() const;
  std::string autocommit_set_state(const AutocommitSet& set) const;

  // --- routing (session_route.cpp) ---
  enum class RouteOutcome { go, wait };
  RouteOutcome plan_route(const routing::ClassifiedSql* c, protocol::Command cmd, bool give_up_wait = false);
  void route_and_run(const routing::ClassifiedSql* c, protocol::Command cmd);
  void execute_plan();
  void retry_poll();
  bool sticky() const;
  routing::ClassifiedSql* classified();

  // --- the command on its connection (session_exchange.cpp) ---
  void send_command(ServerConn& conn);
  void on_response_data(ServerConn& conn, std::span<const uint8_t> data);
  void handle_step(ServerConn& conn, Exchange::Step step);
  void response_done();
  void after_response();
  void finish_command();
  void start_read_back(const ReadBack& rb);
  void on_read_back_data(ServerConn& conn, std::span<const uint8_t> data);
  bool retry_not_master(ServerConn& conn);
  bool retry_refused(ServerConn& conn, uint16_t code);
  bool may_retry_unran();
  bool retry_lost(const std::string& host_port, bool unsent);
  bool retry_lost_transaction_start(const std::string& host_port);
  void maybe_splice();

  // --- prepared statements (session_ps.cpp) ---
  static bool is_statement_command(protocol::Command cmd);
  void run_stmt_command(std::span<const uint8_t> packet, protocol::Command cmd);
  void send_stmt_command(ServerConn& conn);
  void after_stmt_command();
  bool start_streamed_stmt(std::span<const uint8_t> in, protocol::Command cmd, bool& stop);

  // --- KILL and COM_CHANGE_USER (session_kill.cpp, session_change_user.cpp) ---
  void forward_kill(const KillStatement& kill, bool as_com_process_kill, std::vector<uint8_t> then = {});
  void kill_succeeded();
  bool kill_in_multi_statement(uint8_t seq, std::string_view sql);
  void ask_kill_hold(const KillStatement& kill, bool as_com_process_kill, bool proven);
  void prove_kill_privilege(const KillStatement& kill, bool as_com_process_kill, const ServerLogin& target);
  void on_kill_held(const KillStatement& kill, bool as_com_process_kill, std::optional<KillHold> hold);
  // SHOW [FULL] PROCESSLIST, answered by odp (session_processlist.cpp).
  void list_processes(std::span<const uint8_t> packet, bool full);
  void on_kill_answer(const QueryKiller::Answer& answer);
  void start_query_killer(ServerLogin login, std::vector<uint8_t> request, QueryKiller::Callback callback);
  // KILL QUERY of the statement on `conn` (pinned to this session until the KILL is over); `then`
  // hears the answer after the pin is released.
  void say_kill_query(ServerConn& conn, QueryKiller::Callback then);
  void free_done_killers();
  void begin_change_user(std::span<const uint8_t> payload);
  void send_change_user_to_server(ServerConn& conn);
  void change_user_by_login();
  void finish_change_user_by_login(ServerConn& conn);
  void handle_change_user_reply(ServerConn& conn, std::span<const uint8_t> data);

  SessionEnv& env_;
  ClientLink link_;
  SessionModel model_;
  BackendLease lease_;
  Exchange exchange_;
  uint32_t id_;
  std::string peer_;
  int64_t connected_at_us_ = 0;  // wall clock, for OBServers (__client_connect_time)
  uint64_t token_ = 0;
  uint64_t phase_since_ms_ = 0;  // when the session last became idle or busy
  Phase phase_ = Phase::greeting;
  core::Timer timer_;
  uint64_t deadline_ms_ = 0;
  // The statement on a server: when it started, its query deadline, when its server last spoke.
  struct StatementWatch {
    uint64_t statement = 0;  // counts statements: a late probe answer for an earlier one is ignored
    uint64_t started_ms = 0;
    uint64_t query_deadline_ms = 0;  // 0: no limit
    uint64_t last_heard_ms = 0;
    bool probing = false;          // a liveness probe of its server is under way
    bool killing = false;          // timed out: odp's KILL QUERY is on its way (the server's 1317 becomes odp's)
    bool kill_unanswered = false;  // that KILL's side connection has not reported yet
    bool next_after_kill = false;  // the statement is over: the next command waits for that report
  } watch_;
  bool draining_ = false;
  bool consuming_ = false;  // inside the client input loop (callbacks must not re-enter it)
  bool published_ = false;
  bool handover_paused_ = false;  // reading stopped to move the session to a new process
  bool handover_never_ = false;   // cannot move (TLS, send failed)

  // Login (until the client is in).
  struct Login {
    std::array<uint8_t, 20> scramble{};
    protocol::HandshakeResponse41 hello;
    uint8_t next_seq = 0;  // sequence id of our next packet to the client during login
    std::string pending_auth_response;
    bool rechecked = false;  // the credential was read again after a mismatch
    SessionIdentity identity;
    bool changing_user = false;     // a COM_CHANGE_USER is being verified and replayed
    std::string change_user_attrs;  // its connect attributes, passed through raw
    std::optional<protocol::PacketAssembler> change_user_in;
    // What odp grants an OceanBase driver (its __proxy_capability_flag): OB 2.0 framing after the
    // login OK, which says so in its session state (ob_capability_flag). 0: plain MySQL.
    uint64_t ob_client_caps = 0;
  } login_;

  // The command in flight.
  Plan plan_;
  std::vector<protocol::ObSessionRecord> ob_records_;  // taken from a connection after a response (reused)
  StatementFacts query_facts_;                         // facts of the current COM_QUERY (reused)
  const StatementFacts* facts_ = &query_facts_;        // this command's (a prepared statement's own)
  std::array<routing::SqlValue, 16> params_{};         // COM_STMT_EXECUTE values for routing
  size_t param_count_ = 0;
  PsCommand ps_;
  ReadBack read_back_;
  InternalQuery read_back_query_{64u << 20};
  std::vector<uint8_t> scratch_;
  std::vector<std::unique_ptr<QueryKiller>> query_killers_;       // freed once done, outside their callbacks
  std::vector<std::unique_ptr<KillPrivilegeProbe>> kill_probes_;  // likewise
  int killer_callbacks_ = 0;  // inside a QueryKiller's or KillPrivilegeProbe's callback
  // The KILL this session says (phases locating, killing).
  struct KillInFlight {
    uint32_t target = 0;
    uint64_t pin = 0;
    bool held = false;  // the target keeps a connection for it: release_kill_hold is owed
    const QueryKiller* sender = nullptr;
    std::vector<uint8_t> then;  // a multi-statement's rest, run once the KILL succeeded (framed)
  } kill_;
  // KILLs of this session on their way to its connections (pin, KILL CONNECTION).
  std::vector<std::pair<uint64_t, bool>> kill_pins_;
  uint64_t next_kill_pin_ = 0;
};

}  // namespace odp::proxy
