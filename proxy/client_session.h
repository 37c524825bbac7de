#pragma once
// One client connection: the proxy's own handshake and login (TLS, auth switch, credential
// check against the stored SHA1(SHA1(password))), the login to the server, then the command
// loop that forwards each command and streams its response back, watching packet boundaries
// only as far as needed to know where a response ends.
//
// States (phase_): greeting -> [tls] -> auth (-> auth_switch) -> lookup -> server_login -> ready
//                  ready -> command (-> upload for LOCAL INFILE / streamed requests) -> ready
//                  any -> closing
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/byte_buffer.h"
#include "core/tcp_stream.h"
#include "core/timer_wheel.h"
#include "protocol/handshake.h"
#include "protocol/response_tracker.h"
#include "proxy/client_channel.h"
#include "proxy/kill_statement.h"
#include "proxy/login_name.h"
#include "proxy/packet_scanner.h"
#include "proxy/server_conn.h"
#include "proxy/session_env.h"

namespace odp::proxy {

class ClientSession final : public core::StreamHandler, public ServerConn::Owner {
 public:
  enum class Phase { greeting, auth_switch, lookup, server_login, ready, command, upload, change_user, closing };

  ClientSession(SessionEnv& env, Conn* client, uint32_t connection_id, std::string peer);
  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void start();
  // Drain: close now if idle, else after the command in flight.
  void begin_drain();
  // Closes both sides at once (kill proxysession, shutdown).
  void terminate(const char* why);

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

  // ServerConn::Owner
  void on_server_ready(std::span<const uint8_t> ok_payload) override;
  void on_server_login_failed(const protocol::ErrPacket& err) override;
  void on_server_data(std::span<const uint8_t> data) override;
  void on_server_closed(int err) override;
  void on_server_writable() override;

 private:
  // Login phase (client_session_login.cpp).
  void send_greeting();
  bool handle_login_packet(std::span<const uint8_t> payload, uint8_t seq);
  bool handle_handshake_response(std::span<const uint8_t> payload, uint8_t seq);
  void request_native_password();
  void verify_credentials(const std::string& auth_response);
  void on_credential(Result<UserCredential, std::string> result);
  void connect_server();
  void finish_login(std::span<const uint8_t> ok_payload);
  void handle_internal_command(std::span<const uint8_t> payload);
  uint32_t advertised_capabilities() const;

  // Command phase (client_session_command.cpp).
  void process_client_input();
  // Returns bytes consumed from `in`; sets *stop when the session must wait for something.
  size_t consume_client(std::span<const uint8_t> in, bool& stop);
  size_t start_command(std::span<const uint8_t> in, bool& stop);
  size_t stream_request(std::span<const uint8_t> in, bool& stop);
  void handle_small_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload);
  void forward_command(std::span<const uint8_t> packet, protocol::Command cmd);
  void response_done();
  void forward_kill(const KillStatement& kill, bool as_com_process_kill);
  void begin_change_user(std::span<const uint8_t> payload);
  void send_change_user_to_server();
  void handle_change_user_reply(std::span<const uint8_t> data);

  // Shared helpers.
  void send_to_client(std::span<const uint8_t> bytes);
  void forward_to_client(std::span<const uint8_t> bytes);
  void send_err(uint8_t seq, uint16_t code, const std::string& message, const char* sql_state = "HY000");
  void fail_protocol(const char* what, bool count_client = true);
  void close_session(bool flush_client);
  void arm_timer(uint64_t delay_ms);
  void update_backpressure();
  static void on_timer(core::Timer& t);

  struct ResponseConsumer;
  struct RequestConsumer;

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
  std::unique_ptr<ServerConn> server_;
  core::ByteBuffer in_;  // client plain bytes not yet consumed
  PacketScanner response_scanner_;
  PacketScanner request_scanner_;
  protocol::ResponseTracker tracker_;
  uint64_t request_bytes_ = 0;     // logical size of a streamed request so far
  bool response_started_ = false;  // some response bytes already went to the client
  bool upload_is_infile_ = false;  // the upload is LOCAL INFILE data (ends with an empty packet)
  bool server_paused_ = false;
  bool client_paused_ = false;
  bool admin_ = false;                                              // root@proxysys: internal commands only, no server
  bool published_ = false;                                          // listed in the env's session directory (for KILL)
  bool changing_user_ = false;                                      // a COM_CHANGE_USER is being verified and replayed
  std::string change_user_attrs_;                                   // its connect attributes, passed through raw
  protocol::PacketAssembler change_user_in_{kMaxLoginPacketBytes};  // the server's reply, bounded
};

}  // namespace odp::proxy
