#pragma once
// bench_session's scripted MySQL peers (the unit tests' fake_* peers grew into a whole-proxy
// simulation whose oracle keeps every answer; these stay minimal): a fake server that speaks the real protocol
// (handshake, mysql_native_password against stage2("secret"), result sets, multi-results, ERR,
// LOCAL INFILE, big split rows, prepared statements) and a fake client driver that logs in
// through the proxy, runs a script of commands and checks every response byte for byte against
// what the fake server sent (the proxy must forward responses verbatim).
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/conn.h"
#include "protocol/compress.h"
#include "protocol/packet.h"
#include "tests/unit/proxy/fake_io.h"

namespace odp::benchfake {

using fakeio::FakeConn;
using fakeio::LinkParams;
using fakeio::Rng;
using fakeio::Sim;

inline constexpr const char* kUser = "app";
inline constexpr const char* kPassword = "secret";

// What the fake server sent one client's session after login, in order, with the offsets at
// which each complete response ended.
struct Transcript {
  std::vector<uint8_t> sent;
  std::vector<size_t> boundaries{0};
  uint64_t responses = 0;      // complete responses
  bool infile_wanted = false;  // the last thing sent is a LOCAL INFILE request
  bool server_logged_in = false;
  // The client's commands not yet seen by its server, in order (command byte, and the SQL of a
  // query): a command the server gets that is not the next of these is odp's own (a state replay,
  // a statement prepared again on another connection), and its answer is not the client's.
  std::deque<std::vector<uint8_t>> pending;
  // Where statement ids of PREPARE_OK packets are in `sent`: the client gets odp's ids there.
  std::vector<size_t> statement_ids;
};

struct ServerPlan {
  bool silent_greeting = false;  // never sends its handshake
  bool auth_switch = false;      // asks the proxy to switch to native password again
  int64_t kill_at_ms = -1;       // sends an unsolicited ERR (like wait_timeout) and closes
};

class FakeServer final : public core::StreamHandler {
 public:
  FakeServer(Sim& sim, FakeConn& conn, ServerPlan plan, uint32_t thread_id,
             std::function<Transcript*(uint32_t)> find_transcript);
  void start();
  void set_transcript(Transcript* t) { transcript_ = t; }

  void on_stream_data(std::span<const uint8_t> data) override;
  void on_stream_closed(int err) override;

 private:
  void handle(std::span<const uint8_t> payload, uint8_t seq, uint8_t last_seq);
  void handle_login(std::span<const uint8_t> payload, uint8_t seq);
  void handle_command(std::span<const uint8_t> payload);
  void handle_query(std::string_view sql);
  void send(const std::vector<uint8_t>& framed, bool complete);
  // The command is the client's next own one (not one odp sent on its own behalf).
  bool from_client(std::span<const uint8_t> payload);
  void handle_change_user(std::span<const uint8_t> payload);
  void finish_change_user(std::string_view auth, uint8_t seq);
  void fail();
  void kill_now();
  static bool odp_internal(std::string_view sql);
  void send_resultset(size_t rows, size_t cols, uint16_t flags, uint8_t& seq, std::vector<uint8_t>& out,
                      size_t big_bytes = 0);

  Sim& sim_;
  FakeConn& conn_;
  ServerPlan plan_;
  uint32_t thread_id_;
  std::function<Transcript*(uint32_t)> find_transcript_;
  Transcript* transcript_ = nullptr;
  protocol::PacketAssembler in_{64u << 20};
  std::array<uint8_t, 20> scramble_{};
  enum class State { greeting, switching, ready, infile, change_user_switch, done } state_ = State::greeting;
  std::array<uint8_t, 20> handshake_scramble_{};
  uint32_t caps_ = 0;
  uint32_t next_stmt_id_ = 1;
  bool busy_ = false;          // a command is waiting for its response
  bool kill_pending_ = false;  // killed while idle: the next command gets the ERR
  uint64_t infile_bytes_ = 0;
  bool recording_ = true;  // the command being answered is the client's
  bool prepare_ok_pending_ = false;
};

enum class StepKind {
  select,
  big_select,
  ok,
  err,
  multi,
  infile,
  big_insert,
  ping,
  init_db,
  prepare,
  execute,
  stmt_close,
  sleep,
  change_user
};

struct ClientPlan {
  std::string user = kUser;
  std::string password = kPassword;
  bool other_plugin = false;  // starts with caching_sha2_password: the proxy switches it
  bool compress = false;
  bool deprecate_eof = false;
  std::string database;
  bool stall_login = false;  // never answers the greeting
  bool quit_at_end = true;
  uint64_t vanish_after_bytes = UINT64_MAX;  // aborts after this many response bytes
  std::vector<StepKind> script;
  std::vector<uint32_t> rows;  // per select step
  bool pipeline = false;       // sends simple commands without waiting for the previous response
  // Compressed: numbers inner packets as Connector/J does (a command's first chunk 1, its further
  // chunks counting by 2, file contents from 7); servers must still see 0, 1, 2, ...
  bool loose_inner_seq = false;
};

class FakeClient final : public core::StreamHandler {
 public:
  enum class State { greeting, auth, running, waiting, quitting, idle, closed };
  FakeClient(Sim& sim, FakeConn& conn, ClientPlan plan, Transcript& transcript);
  void start() { conn_.start_reading(); }

  void on_stream_data(std::span<const uint8_t> data) override;
  void on_stream_closed(int err) override;

  State state() const { return state_; }
  bool logged_in() const { return logged_in_; }
  uint16_t login_error() const { return login_error_; }
  size_t steps_done() const { return step_; }
  const std::vector<uint8_t>& received() const { return got_; }
  bool vanished() const { return vanished_; }
  int closed_err() const { return closed_err_; }
  // Empty when what arrived is consistent with what the server sent (see the .cpp).
  std::string check_received(bool allow_truncation) const;
  // Empty unless a compressed frame was numbered other than a strict client (libmysqlclient)
  // expects: one past the last frame it sent, then consecutively.
  const std::string& frame_seq_error() const { return frame_seq_error_; }

 private:
  void on_login_packet(std::span<const uint8_t> payload, uint8_t seq);
  void on_plain(std::span<const uint8_t> plain);
  void progress();
  void next_step();
  void send_command(const std::vector<uint8_t>& payload);
  void send_packets(const std::vector<uint8_t>& framed);
  void close_now(bool flush);

  Sim& sim_;
  FakeConn& conn_;
  ClientPlan plan_;
  Transcript& t_;
  State state_ = State::greeting;
  protocol::PacketAssembler login_in_{1u << 20};
  std::unique_ptr<protocol::CompressedDecoder> decoder_;
  bool asked_compression_ = false;
  bool compressed_ = false;
  bool logged_in_ = false;
  bool vanished_ = false;
  uint16_t login_error_ = 0;
  int closed_err_ = -1;
  uint8_t comp_seq_ = 0;
  uint8_t expect_comp_seq_ = 0;  // of the next frame from the proxy
  std::string frame_seq_error_;
  size_t step_ = 0;
  uint64_t expect_responses_ = 0;
  uint32_t stmt_id_ = 0;
  size_t last_id_offset_ = 0;
  std::array<uint8_t, 20> proxy_scramble_{};
  std::vector<uint8_t> got_;
};

}  // namespace odp::benchfake
