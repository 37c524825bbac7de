#pragma once
// A fake MariaDB server connection for the fake-IO simulation: the real protocol (handshake,
// mysql_native_password against stage2("secret"), COM_CHANGE_USER, COM_RESET_CONNECTION,
// COM_INIT_DB, COM_PING, COM_PROCESS_KILL, prepared statements, LOCAL INFILE, big split rows,
// multi-results) over a session with real state (fake_backend.h) and the SQL of fake_sql.h
// (fake_server_query.cpp). Every answer to a client's command is filed in ResponseRecords under
// the command's tag; a command without one (COM_PING, COM_INIT_DB, KILL as odp rewrites it...)
// is attributed to the client whose session waits for an answer on this connection.
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/conn.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "tests/unit/proxy/fake_backend.h"
#include "tests/unit/proxy/fake_cluster.h"
#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_records.h"

namespace odp::fakeio {

inline constexpr const char* kUser = "app";
inline constexpr const char* kPassword = "secret";

// Who is waiting for an answer on a connection now.
struct Attribution {
  uint32_t client = 0;     // the client whose session sent a command on it and waits (0: nobody)
  Tag solo;                // that client's outstanding untagged command (invalid: none)
  bool replaying = false;  // odp's replay steps precede that client's command (pipelined): untagged ones are odp's
};

// What a fake server needs from the world around it.
class ServerWorld {
 public:
  virtual ~ServerWorld() = default;
  virtual Sim& sim() = 0;
  virtual FakeCluster& cluster() = 0;
  virtual ResponseRecords& records() = 0;
  virtual Attribution running_on(const std::string& host_port, uint32_t thread_id) = 0;
  // The session that holds the connection (between its statements too: tied, kept), 0: none.
  virtual uint32_t held_by(const std::string& host_port, uint32_t thread_id) = 0;
  // The client whose session opened the connection whose server end is `server_end_serial`.
  virtual uint32_t opener_of(uint64_t server_end_serial) const = 0;
  // Client `killer` waits for the answer to a KILL naming client `victim`.
  virtual bool killing(uint32_t killer, uint32_t victim) const = 0;
  // odp's limits.server_query_timeout_ms (0: none): past it odp says KILL QUERY itself.
  virtual uint64_t query_timeout_ms() const = 0;
};

struct ServerPlan {
  bool silent_greeting = false;    // never sends its handshake
  bool auth_switch = false;        // asks the proxy to switch to native password again
  int64_t kill_at_ms = -1;         // kills its own connection then (like wait_timeout): ERR 1927, close
  bool kill_after_infile = false;  // kills its connection right after asking for a LOCAL INFILE
};

class FakeServer final : public core::StreamHandler {
 public:
  FakeServer(ServerWorld& world, size_t server, FakeConn& conn, ServerPlan plan, uint32_t thread_id);
  void start();
  bool alive() const { return state_ != State::done; }
  uint32_t thread_id() const { return thread_id_; }
  // The server process died: the connection resets, the session (and its transaction) is gone.
  void die();
  // The server woke up from a hang: what arrived meanwhile is served now.
  void resume();
  // KILL [QUERY] of this connection, said on connection `by` of the same server.
  void kill(bool query_only, const FakeServer& by);

  void on_stream_data(std::span<const uint8_t> data) override;
  void on_stream_closed(int err) override;

 private:
  enum class State { greeting, switching, ready, infile, change_user_switch, done };
  struct Packet {
    std::vector<uint8_t> payload;
    uint8_t seq = 0;
    uint8_t last_seq = 0;
  };

  // --- protocol (fake_mysql.cpp) ---
  bool paused() const;
  void process();
  void handle(const Packet& p);
  void handle_login(std::span<const uint8_t> payload, uint8_t seq);
  void handle_command(std::span<const uint8_t> payload);
  void handle_change_user(std::span<const uint8_t> payload);
  void finish_change_user(std::string_view auth, uint8_t seq);
  void handle_prepare(std::string_view sql);
  void handle_execute(std::span<const uint8_t> payload);
  void handle_process_kill(std::span<const uint8_t> payload);
  Tag attribute(std::optional<Tag> tag, std::string_view what);
  static std::optional<Tag> scan_tag(std::span<const uint8_t> payload);
  void kill_now(Tag t);
  void check_kill_target(const FakeServer& by, bool query_only);
  void fail();
  void close_after_answer();
  void end_infile_with(const SqlError& e);

  // --- answers: framed, written once whole, filed under the command's tag ---
  void begin_answer(Tag tag, uint8_t first_seq = 1);
  void ensure_record();
  void put(const std::vector<uint8_t>& payload);
  void put_framed(const std::vector<uint8_t>& framed, uint8_t next_seq);
  void put_ok(protocol::OkPacket ok, const Changes& changes, uint8_t header = 0x00);
  void put_err(const SqlError& e);
  void end_answer(bool complete = true);
  uint16_t status() const;
  ResultInfo& info() { return info_; }

  // --- SQL (fake_server_query.cpp) ---
  void run_query(std::string_view sql);
  // Runs a parsed statement; `binary`: as a prepared statement's execute.
  void run(const Stmt& s, std::span<const FakeValue> params, bool binary);
  void run_select(const Stmt& s, std::span<const FakeValue> params, bool binary);
  void run_write(const Stmt& s, std::span<const FakeValue> params);
  void run_kill(const Stmt& s);
  void run_call(const Stmt& s);
  void run_transaction(const Stmt& s);
  void run_legacy(const Stmt& s);
  void start_sleep(uint64_t seconds, std::string column);
  void finish_sleep();
  void send_columns(const std::vector<std::string>& names, const std::vector<protocol::ColumnType>& types,
                    const std::vector<uint8_t>& charsets);
  void send_rows(const std::vector<std::vector<std::optional<std::string>>>& rows, bool binary);
  void send_eof_or_ok(uint16_t flags);
  void commit(Tag by);

  ServerWorld& world_;
  Sim& sim_;
  size_t server_;
  FakeConn& conn_;
  ServerPlan plan_;
  uint32_t thread_id_;
  BackendSession s_;
  protocol::PacketAssembler in_{64u << 20};
  std::deque<Packet> queue_;
  State state_ = State::greeting;
  bool greeted_ = false;
  bool peer_gone_ = false;  // EOF from odp: serve what came before it, then close
  std::array<uint8_t, 20> scramble_{};
  std::array<uint8_t, 20> handshake_scramble_{};
  uint32_t caps_ = 0;
  uint64_t infile_bytes_ = 0;
  uint8_t infile_seq_ = 1;     // of the last file packet seen
  bool kill_pending_ = false;  // killed while idle: the next command gets the ERR
  bool closing_ = false;       // the answer being written is the connection's last
  Tag change_user_tag_;

  // The statement in progress (a SLEEP waits; nothing else is read meanwhile).
  bool sleeping_ = false;
  bool sleep_due_ = false;  // its time came while the server hung
  bool sleep_forever_ = false;
  uint64_t sleep_generation_ = 0;
  std::string sleep_column_;
  Tag sleep_tag_;

  // The answer being built.
  Tag tag_;
  std::optional<size_t> record_;
  std::vector<uint8_t> out_;
  uint8_t seq_ = 1;
  ResultInfo info_;
  Tag infile_tag_;
  std::optional<size_t> infile_record_;
  size_t pending_apply_ = SIZE_MAX;  // the ledger entry whose answer is being written
};

}  // namespace odp::fakeio
