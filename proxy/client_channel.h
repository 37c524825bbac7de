#pragma once
// The client's side of the wire below the MySQL packets: plain TCP, TLS (OpenSSL over memory
// BIOs, so the ring keeps doing all socket IO), and inside it the compressed protocol or OB 2.0
// framing. The session reads and writes plain MySQL packet bytes and never sees the layers; it
// says where requests end (request_read) and, for OB 2.0, where responses end (end_response).
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "core/byte_buffer.h"
#include "protocol/compress.h"
#include "protocol/ob20_stream.h"
#include "proxy/session_env.h"

namespace odp::proxy {

class ClientChannel {
 public:
  explicit ClientChannel(Conn* conn) : conn_(conn) {}
  ~ClientChannel();
  ClientChannel(const ClientChannel&) = delete;
  ClientChannel& operator=(const ClientChannel&) = delete;

  // True while bytes pass untouched: the session may then parse socket bytes in place.
  bool passthrough() const { return ssl_ == nullptr && !compressed_ && ob20_in_ == nullptr; }
  // Socket bytes in, plain MySQL bytes appended to `plain`, which holds what the session has not
  // read yet (the same buffer every call). False on a TLS or compression error (error() says
  // which). With compression on, every logical packet comes out numbered from 0 (see
  // protocol::PacketSeqRewriter): the session and the servers see a consistent plain stream
  // whatever inner ids the client used.
  bool decode(std::span<const uint8_t> raw, core::ByteBuffer& plain);
  // Plain MySQL bytes out.
  void write(std::span<const uint8_t> plain);

  // Subsequent socket bytes are TLS records (after the client's SSLRequest).
  bool start_tls(SSL_CTX* ctx);
  bool tls_active() const { return ssl_ != nullptr; }
  bool tls_handshake_done() const { return handshake_done_; }
  // Both directions use the compressed protocol from now on (after the login OK).
  void start_compression(uint64_t max_frame_bytes);
  bool compressed() const { return compressed_; }
  // Both directions are OB 2.0 frames from now on (after the login OK, when the client asked for
  // it): `connection_id` is odp's id for the session, which the client's frames must carry.
  void start_ob20(uint32_t connection_id, uint64_t max_frame_bytes, bool checksum);
  bool ob20() const { return ob20_in_ != nullptr; }
  // The response to the request read last is complete: OB 2.0 sends what it held, flagged as the
  // response's last frame. No-op otherwise.
  void end_response();
  // Nothing received is held below the plain stream (no partial TLS record or frame).
  bool holds_nothing() const {
    return tls_plain_.empty() && (decoder_ == nullptr || decoder_->buffered_bytes() == 0) &&
           (ob20_in_ == nullptr || ob20_in_->buffered_bytes() == 0);
  }
  // The session has read a whole request (a command, or the contents of a LOCAL INFILE), and
  // `bytes_after` bytes of what decode() produced follow it (pipelined input not read yet). The
  // response continues the client's compressed numbering, as a server's does: its first frame
  // is numbered one past the frame that carried the request's last byte (OB 2.0: and takes that
  // frame's request id). No-op without compression or OB 2.0.
  void request_read(size_t bytes_after);
  // OB 2.0: the trace records (TRACE_INFO, FULL_TRC) of the request request_read() last named,
  // to go on with it to the server (empty: none); taken once.
  std::vector<uint8_t> take_request_trace() { return std::move(request_trace_); }

  const std::string& error() const { return error_; }
  Conn* conn() { return conn_; }
  void detach() { conn_ = nullptr; }

 private:
  bool tls_decrypt(std::span<const uint8_t> raw, core::ByteBuffer& out);
  bool decompress(std::span<const uint8_t> in, core::ByteBuffer& plain);
  bool unwrap_ob20(std::span<const uint8_t> in, core::ByteBuffer& plain);
  // Below TLS: the compressed protocol, OB 2.0, or the bytes as they are.
  bool unwrap(std::span<const uint8_t> in, core::ByteBuffer& plain);
  // Frames whose bytes the session has read can no longer end a request it will report.
  void forget_read_frames(const core::ByteBuffer& plain);
  void note_frame(size_t plain_bytes, uint8_t seq, uint32_t request_id);
  void send_raw(std::span<const uint8_t> bytes);  // through TLS if active
  void drain_tls_output();
  bool fail(std::string why);

  Conn* conn_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  bool handshake_done_ = false;
  bool compressed_ = false;
  std::unique_ptr<protocol::CompressedDecoder> decoder_;
  protocol::PacketSeqRewriter inner_seq_;
  uint8_t out_comp_seq_ = 0;
  // Where each decoded frame's plain bytes end in the stream of plain bytes since compression
  // began, for the frames whose bytes the session may not have read yet: a request's last byte
  // names the frame the response's numbering continues from. Bounded: past kMaxTrackedFrames
  // unread frames the newest entry stands for all later frames.
  struct FrameEnd {
    uint64_t plain_end;
    uint8_t seq;
    uint32_t request_id;  // OB 2.0
  };
  static constexpr size_t kMaxTrackedFrames = 1024;
  std::deque<FrameEnd> frame_ends_;
  std::vector<protocol::CompressedFrame> frames_scratch_;
  uint64_t plain_total_ = 0;
  uint8_t last_in_comp_seq_ = 0;
  uint32_t last_in_request_id_ = 0;
  std::unique_ptr<protocol::Ob20RequestReader> ob20_in_;
  std::unique_ptr<protocol::Ob20ResponseFramer> ob20_out_;
  std::vector<protocol::Ob20RequestFrame> ob20_frames_scratch_;
  // Frames with trace records the session has not read yet, by where their bytes begin in the
  // plain stream (bounded like frame_ends_), and the records of the request last read.
  struct TracedFrame {
    uint64_t plain_start;
    std::vector<uint8_t> records;
  };
  std::deque<TracedFrame> traced_;
  std::vector<uint8_t> request_trace_;
  core::ByteBuffer tls_plain_;  // decrypted bytes waiting for decompression
  std::string error_;
};

// Builds the TLS context for clients from [tls]; returns an error line when files are unusable.
Result<SSL_CTX*, std::string> make_client_tls_context(const admin::TlsConfig& tls);

}  // namespace odp::proxy
