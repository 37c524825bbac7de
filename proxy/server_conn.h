#pragma once
// One connection to a backend server: TCP connect, the server's handshake, login with the
// client's derived SHA1(password) (mysql_native_password, answering auth switches itself), then
// a plain byte pipe for its owner. It never sees the client's password.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_buffer.h"
#include "core/tcp_stream.h"
#include "protocol/handshake.h"
#include "protocol/ob20_stream.h"
#include "protocol/ob_login.h"
#include "protocol/packet.h"
#include "protocol/result_packets.h"
#include "proxy/internal_query.h"
#include "proxy/prepared_statements.h"
#include "proxy/server_directory.h"
#include "proxy/session_env.h"

namespace odp::proxy {

// Login-phase packets (handshakes, auth switches, COM_CHANGE_USER replies) are small; a longer one
// is garbage or an attack, from either side.
inline constexpr size_t kMaxLoginPacketBytes = 64 * 1024;

// Sent on every server connection after login (and again after COM_CHANGE_USER reset it): odp
// learns session-state changes from the OK packets it makes the server send.
inline constexpr const char* kSessionTrackingSetup =
    "SET @@SESSION.session_track_system_variables = '*', @@SESSION.session_track_schema = ON, "
    "@@SESSION.session_track_state_change = ON";

// server_mode "oceanbase" (the proxy login, ../shared/OB-VECTORS.md section 3): what the server
// needs besides the user to check the client itself and to know it talks to a proxy.
struct ObProxyLogin {
  protocol::ForwardedToken token;  // the client's token and the scramble odp gave it
  uint64_t capabilities = 0;       // __proxy_capability_flag: what odp asks for
  bool checksum = true;            // OB 2.0 checksums computed (protocol.checksum)
  std::string cluster_name;
  std::string client_peer;  // "ip:port" of the client
  int64_t client_connect_time_us = 0;
};

struct ServerLogin {
  std::string host_port;
  ServerId server = kNoServer;  // host_port interned (pool accounting)
  uint32_t opener = 0;          // the client session that opened it (later ones may share it)
  std::string user;
  std::optional<std::array<uint8_t, 20>> stage1;  // nullopt: the account has no password
  std::optional<ObProxyLogin> ob;                 // set: the proxy login (stage1 unused)
  std::string database;
  uint32_t client_capabilities = 0;  // what the client asked of us
  uint32_t mariadb_ext_capabilities = 0;
  uint8_t charset = 45;
  uint32_t max_packet_size = 0;
  std::vector<std::pair<std::string, std::string>> attributes;
  // Counted against the pool's cap (pool.max_server_connections). A KILL's side connection is
  // not: it must never wait for the connection it is about to stop, and it lives for one KILL.
  bool pooled = true;
};

class ServerConn final : public core::StreamHandler {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Login succeeded; ok_payload is the server's OK packet payload (forwarded to the client).
    virtual void on_server_ready(ServerConn& conn, std::span<const uint8_t> ok_payload) = 0;
    // Login failed: err is the server's ERR, or one made by the proxy (connect refused, timeout...).
    virtual void on_server_login_failed(ServerConn& conn, const protocol::ErrPacket& err) = 0;
    virtual void on_server_data(ServerConn& conn, std::span<const uint8_t> data) = 0;
    virtual void on_server_closed(ServerConn& conn, int err) = 0;
    virtual void on_server_writable(ServerConn& conn) = 0;
    // Splice (core::Conn::request_splice): the owner answers with conn().splice_to(); an owner
    // that never splices resumes reads.
    virtual void on_server_splice_ready(ServerConn& conn) { conn.conn().splice_to(conn.conn(), 0); }
    virtual void on_server_spliced(ServerConn& /*conn*/, uint64_t /*bytes*/) {}
  };

  // setup: logged in; odp turns session tracking on before the connection is handed over.
  enum class State { idle, connecting, greeting, authenticating, setup, ready, closed };

  ServerConn(SessionEnv& env, Owner& owner);
  ~ServerConn() override;
  ServerConn(const ServerConn&) = delete;
  ServerConn& operator=(const ServerConn&) = delete;

  void login(ServerLogin login);
  const ServerLogin& login_info() const { return login_; }
  // Hands the connection to another owner (a session, or the pool while it is idle).
  void set_owner(Owner& owner) { owner_ = &owner; }
  State state() const { return state_; }
  // Capabilities agreed with the server (valid once ready).
  uint32_t capabilities() const { return capabilities_; }
  uint32_t mariadb_capabilities() const { return mariadb_capabilities_; }
  uint32_t thread_id() const { return thread_id_; }
  const std::array<uint8_t, 20>& scramble() const { return scramble_; }
  const std::string& host_port() const { return login_.host_port; }
  // The server reports session-state changes (system variables, schema) in its OK packets, which
  // is how odp keeps the client's state in step across servers.
  bool tracks_session_state() const { return tracks_session_state_; }
  ServerId server() const { return login_.server; }
  // Unit tests of the pool: a connection that is ready without a socket (the pool never does IO
  // on an idle connection but to close it).
  void force_ready_for_test(ServerId server) {
    login_.server = server;
    state_ = State::ready;
  }
  // Statements prepared on this connection (by text and session context, whoever prepared them).
  ServerStatements& statements() { return statements_; }

  // Sends MySQL bytes (any piece of the command stream): as they are, or in OB 2.0 frames.
  void write(std::span<const uint8_t> bytes);
  // OB 2.0 frames carry the traffic after login (the server granted OB_PROTOCOL_V2): the bytes on
  // the socket are not the MySQL stream, so nothing may splice them.
  bool ob20() const { return ob20_out_.has_value(); }
  // The server asked for a LOCAL INFILE: what the client sends next continues that request.
  void continue_ob20_request() {
    if (ob20_out_)
      ob20_out_->continue_request(ob20_in_->last_request_id(), static_cast<uint8_t>(ob20_in_->last_seq() + 1));
  }
  // The capabilities the OBServer granted (its login OK's ob_capability_flag; 0 for MySQL servers).
  uint64_t ob_capabilities() const { return ob_capabilities_; }
  // The OceanBase tenant's global-variables version at this connection's login (0: unknown).
  int64_t global_vars_version() const { return global_vars_version_; }
  // Session sync (PROXY_SESSION_SYNC granted, over OB 2.0): records the server sent since the last
  // call, and records for the server with the next request.
  bool syncs_session_info() const {
    return ob20_out_.has_value() && (ob_capabilities_ & protocol::obcap::PROXY_SESSION_SYNC) != 0;
  }
  void take_session_info(std::vector<protocol::ObSessionRecord>& out) {
    out.clear();
    if (ob20_in_) ob20_in_->take_session_info(out);
  }
  void send_session_info(std::span<const protocol::ObSessionRecord> records) {
    if (!syncs_session_info() || records.empty()) return;
    std::vector<uint8_t> extra;
    protocol::encode_session_info(records, extra);
    ob20_out_->attach_extra_info(extra);
  }
  // The session that staged records for its next request gave the connection back without one:
  // they were that session's, and must not go with another's request.
  void forget_staged_extra_info() {
    if (ob20_out_) ob20_out_->forget_extra_info();
  }
  // An OB 2.0 driver's trace records (TRACE_INFO, FULL_TRC) go on with its request.
  void send_trace_info(std::span<const uint8_t> records) {
    if (ob20_out_ && !records.empty()) ob20_out_->attach_extra_info(records);
  }
  // Why the connection broke the protocol, when it did (the owner heard on_server_closed(EBADMSG)).
  const std::string& protocol_failure() const { return protocol_failure_; }
  Conn& conn() { return *conn_; }
  // Backpressure from the client side: stop / resume reading the server (idempotent).
  void pause_reading() {
    if (!paused_ && conn_ != nullptr) {
      paused_ = true;
      conn_->stop_reading();
    }
  }
  void resume_reading() {
    if (paused_ && conn_ != nullptr) {
      paused_ = false;
      conn_->start_reading();
    }
  }
  // Closes the connection; the owner hears nothing more.
  void close(bool flush);
  // Says COM_QUIT (the server frees the session at once) and closes after it went out.
  void quit();
  // odp's own statements (session-state replay, a login on a pooled connection) are answered in
  // milliseconds by a healthy server: without a first byte within `within_ms` the server counts
  // as hung and the owner hears on_server_closed(ETIMEDOUT). (The login itself is bounded by
  // limits.server_connect_timeout_ms from TCP connect to the setup's answer.)
  void expect_reply(uint64_t within_ms);

  // Answers an auth switch (0xFE) sent mid-session, e.g. in reply to COM_CHANGE_USER.
  std::optional<std::string> answer_auth_switch(std::span<const uint8_t> payload,
                                                const std::optional<std::array<uint8_t, 20>>& stage1) const;

  // core::StreamHandler
  void on_stream_data(std::span<const uint8_t> data) override;
  void on_stream_closed(int err) override;
  void on_stream_connected(int err) override;
  void on_stream_writable() override;
  void on_stream_splice_ready() override;
  void on_stream_spliced(uint64_t bytes) override;

 private:
  void fail_login(uint16_t code, const std::string& message);
  void handle_login_packet(std::span<const uint8_t> payload, uint8_t seq);
  void send_handshake_response(const protocol::HandshakeV10& hs);
  // server_mode "oceanbase": the client's token and the attributes of obproxy's login.
  void add_ob_proxy_login(const protocol::HandshakeV10& hs, protocol::HandshakeResponse41& r);
  void send_packet(uint8_t seq, std::span<const uint8_t> payload);
  void start_setup(std::span<const uint8_t> login_ok);
  void on_setup_data(std::span<const uint8_t> data);
  void become_ready();
  // The login OK of an OBServer: what it granted, and OB 2.0 from now on when it granted it.
  void accept_ob_capabilities(std::span<const uint8_t> login_ok);
  // Unwraps OB 2.0 frames into ob20_plain_; false: the connection broke the protocol (closed).
  bool unwrap_ob20(std::span<const uint8_t> data);
  void on_plain_data(std::span<const uint8_t> data);
  static void on_timer(core::Timer& t);

  SessionEnv& env_;
  Owner* owner_;
  Conn* conn_ = nullptr;
  State state_ = State::idle;
  ServerLogin login_;
  uint32_t capabilities_ = 0;
  uint32_t mariadb_capabilities_ = 0;
  uint32_t thread_id_ = 0;
  std::array<uint8_t, 20> scramble_{};
  protocol::PacketAssembler login_in_{kMaxLoginPacketBytes};  // login-phase packets, bounded
  InternalQuery setup_;
  std::vector<uint8_t> login_ok_;  // the server's login OK, handed to the owner after the setup
  bool tracks_session_state_ = false;
  bool counted_ = false;  // reported to env_.server_connection_opened
  bool paused_ = false;
  ServerStatements statements_;
  uint64_t ob_capabilities_ = 0;
  int64_t global_vars_version_ = 0;
  std::optional<protocol::Ob20RequestFramer> ob20_out_;
  std::optional<protocol::Ob20ResponseReader> ob20_in_;
  std::deque<protocol::Ob20PendingRequest> ob20_expect_;
  std::vector<uint8_t> ob20_scratch_;  // frames on their way out / MySQL bytes on their way in
  std::string protocol_failure_;
  core::Timer timer_;  // the login deadline, then expect_reply()'s
};

// The capabilities odp offers clients and uses with servers, before intersecting with a peer's.
uint32_t proxy_capabilities();

}  // namespace odp::proxy
