#pragma once
// The server connections one session holds, and how one is made ready for the session's next
// command: the session's own connection to that server, else one from the worker's pool (the one
// the session gave back last when still idle), else a new login, waiting in the pool's FIFO at
// the cap. A connection is then brought up to date with the session model in one round trip: the
// steps (COM_RESET_CONNECTION when another session left state no value undoes, the database, one
// SET with the variables that differ, LAST_INSERT_ID, the held BEGIN, the statement prepared
// there) go out back to back and their answers are read in order. A connection another session
// left in a database, taken by a session in none, first logs in again without one
// (COM_CHANGE_USER as the session's login, answering an auth switch itself): one more round trip,
// which the pool avoids when it has an idle connection in no database.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/internal_query.h"
#include "proxy/server_conn.h"
#include "proxy/server_pool.h"
#include "proxy/session_model.h"

namespace odp::proxy {

class BackendLease final : public PoolWaiter, public PoolKeeper {
 public:
  struct Failure {
    enum class Kind {
      unreachable,  // connect or login failed for a reason another server may not share
      refused,      // the server refused the login (wrong password...): final
      replay,       // a replay step failed (the server's ERR is the answer)
      lost,         // the server went away while the connection was readied (nothing was sent)
      busy,         // no connection within pool.max_wait_ms
    };
    Kind kind;
    protocol::ErrPacket err;
    std::string host_port;
    // The command had gone out behind the replay (Needs::pipeline): its answer is lost with the
    // connection, and nothing of it reached the client.
    bool after_command = false;
  };
  class Events {
   public:
    virtual ~Events() = default;
    virtual void on_lease_ready(ServerConn& conn) = 0;
    virtual void on_lease_failed(const Failure& failure) = 0;
  };
  // What the next command needs on the connection besides the session's state.
  struct Needs {
    const StatementShape* prepare = nullptr;  // this statement must be prepared there
    bool last_insert_id = false;              // LAST_INSERT_ID() must answer the session's
    bool held_begin = true;                   // the held BEGIN goes out ahead of the command
    bool check_alive = false;                 // nothing to replay: one COM_PING proves the server answers
    bool bare = false;                        // no replay at all (COM_CHANGE_USER replaces the state)
    // A login of its own, never a pooled connection: the server is to check this client's password
    // (server_mode "oceanbase": odp cannot, so a session uses the pool only once a login proved it).
    bool fresh_login = false;
    // A plain read: it may go out right behind the replay steps instead of after their answers
    // (one round trip, not two). If a step fails, the read's answer is dropped with the
    // connection and the step's ERR is the answer; a read has no effect to lose.
    bool pipeline = false;
  };

  BackendLease(SessionEnv& env, SessionModel& model, Events& events, ServerConn::Owner& owner);
  ~BackendLease() override;
  BackendLease(const BackendLease&) = delete;
  BackendLease& operator=(const BackendLease&) = delete;

  // The login dialect the session's connections are pooled under (set at login).
  void set_dialect(DialectId dialect) { dialect_ = dialect; }
  // The login every new connection of this session makes.
  void set_login(ServerLogin login) { login_ = std::move(login); }
  const ServerLogin& login() const { return login_; }

  // Readies a connection to `server` (the lease keeps trying until ready or failed).
  void acquire(ServerId server, const Needs& needs);
  bool busy() const { return state_ != State::idle; }
  // Stops whatever is under way (the session is closing or the command was answered otherwise).
  void abandon();

  // The connection commands run on (nullptr: none now).
  ServerConn* current() const { return current_; }
  void set_current(ServerConn* conn) { current_ = conn; }
  ServerConn* held(ServerId server) const;
  ConnSync* sync_of(const ServerConn& conn);
  size_t held_count() const { return held_.size(); }
  ServerConn* any_held() const { return held_.empty() ? nullptr : held_.front().conn.get(); }
  bool holds(const ServerConn& conn) const;
  bool holds_thread(std::string_view host_port, uint32_t thread_id) const;

  // Server events for a connection being opened or readied (the session forwards them).
  bool readying(const ServerConn& conn) const;
  // The session's command went out behind replay steps whose answers are still being read.
  bool replaying_under_command() const { return pipelined_; }
  void on_conn_ready(ServerConn& conn);
  void on_conn_login_failed(ServerConn& conn, const protocol::ErrPacket& err);
  // Returns the bytes it took: the rest, after a pipelined replay, is the command's answer.
  size_t on_conn_data(ServerConn& conn, std::span<const uint8_t> data);
  void on_conn_closed(ServerConn& conn, int err);

  // Gives back to the pool what nothing ties the session to (keeping the current connection when
  // `keep_current`); a session that holds no connection between statements lets others use them.
  void release(bool keep_current);
  // The connection is gone (closed, broken): the session forgets it; freed at a safe point.
  void drop(ServerConn& conn);
  // Every connection but `keep` is closed (they were logged in as a user the session left).
  void drop_others(ServerConn& keep);
  // Every connection is closed (COM_CHANGE_USER by a new login: they are logged in as the old user).
  void drop_all();
  // Between commands: dropped connections go to the pool, which frees them from the worker loop
  // (a command may end inside a dropped connection's own callback: a server login that failed).
  // Without a pool they stay until the session goes.
  void reap();
  // The session ends: idle connections go back to the pool (reset first if they hold more than
  // the model says), the one mid-command (`busy`) is cut.
  void close_all(ServerConn* busy);

  // A KILL from another session is on its way to `conn` (ClientSession::hold_for_kill): it stays
  // with this session until unpin(pin), never given back to the pool, where another client's
  // statement could take it before the KILL lands (the session's own statements still use it).
  // `connection`: a KILL CONNECTION; the connection is doomed (its close ends the session).
  void pin(ServerConn& conn, uint64_t pin, bool connection);
  // `retire`: whether the KILL landed is unknown: the connection is closed instead of pooled.
  void unpin(uint64_t pin, bool retire);
  bool doomed(const ServerConn& conn) const;

  // PoolWaiter
  void on_pool_handoff(PooledConn pooled) override;
  void on_pool_slot() override;
  void on_pool_timeout() override;
  // PoolKeeper: a waiter needs the connection kept for the next statement's sake.
  void on_pool_reclaim() override;

 private:
  struct Held {
    std::unique_ptr<ServerConn> conn;
    ConnSync sync;
    std::vector<std::pair<uint64_t, bool>> pins;  // KILLs on their way (pin, KILL CONNECTION)
    bool retired = false;                         // never back to the pool (a KILL may still land)
  };
  // changing_user: COM_CHANGE_USER without a database is out (SessionState::Replay::change_user).
  enum class State { idle, waiting, connecting, changing_user, syncing };
  enum class StepKind : uint8_t { reset, init_db, set, role, last_insert_id, begin, prepare, ping };

  Held* find(const ServerConn& conn);
  PoolKey key(ServerId server) const { return PoolKey{server, dialect_}; }
  void open(ServerId server);
  void adopt(PooledConn pooled);
  // `fresh`: it just logged in (it answered just now: no COM_PING needed to prove it).
  void ready(Held& h, bool fresh = false);
  void finish_steps(Held& h);
  void change_user(Held& h);
  void note_reset_sent();
  void wait_in_line(ServerPool& pool, PoolKey key);
  void on_change_user_data(Held& h, std::span<const uint8_t> data);
  // The connection being readied broke the protocol or went quiet: it goes, the command fails.
  void lose(ServerConn& conn, const std::string& why);
  void fail(Failure::Kind kind, const protocol::ErrPacket& err, const std::string& host_port);
  Failure::Kind step_failure_kind(uint16_t code, const std::string& host_port);
  void hand_over(Held& h);
  void take_prepared(Held& h);
  void close_statements(ServerConn& conn, const std::vector<uint32_t>& ids);
  ServerPool::Ticket ticket_for(ServerId server) const;
  void remember_ticket(ServerId server, ServerPool::Ticket ticket);

  SessionEnv& env_;
  SessionModel& model_;
  Events& events_;
  ServerConn::Owner& owner_;
  ServerLogin login_;
  DialectId dialect_ = 0;
  std::vector<Held> held_;  // at most one per server
  std::vector<std::unique_ptr<ServerConn>> dead_;
  ServerConn* current_ = nullptr;
  State state_ = State::idle;
  ServerId target_ = kNoServer;
  ServerConn* readying_ = nullptr;
  Needs needs_;
  // Steps written back to back and the one whose answer is expected next.
  std::vector<StepKind> steps_;
  size_t step_ = 0;
  bool ran_reset_ = false;
  // When the reset or COM_CHANGE_USER under way was sent: the global values it gives are of then.
  uint64_t reset_sent_ms_ = 0;
  uint64_t reset_sent_global_sets_ = 0;
  std::vector<protocol::ObSessionRecord> ob_info_;           // session records for the command (hand_over)
  bool changed_user_ = false;                                // the connection being readied answered COM_CHANGE_USER
  std::optional<protocol::PacketAssembler> change_user_in_;  // its answer (an auth switch, OK, ERR)
  bool pipelined_ = false;                                   // the command went out behind the steps being answered
  InternalQuery internal_;
  std::vector<std::pair<ServerId, ServerPool::Ticket>> tickets_;
  std::vector<uint8_t> scratch_;
  std::vector<uint32_t> to_close_;
};

}  // namespace odp::proxy
