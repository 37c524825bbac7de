#pragma once
// The client's side of the wire below the MySQL packets: plain TCP, TLS (OpenSSL over memory
// BIOs, so the ring keeps doing all socket IO), and the compressed protocol inside it. The
// session reads and writes plain MySQL packet bytes and never sees the layers.
#include <memory>
#include <span>
#include <string>

#include <openssl/ssl.h>

#include "core/byte_buffer.h"
#include "protocol/compress.h"
#include "proxy/session_env.h"

namespace odp::proxy {

class ClientChannel {
 public:
  explicit ClientChannel(Conn* conn) : conn_(conn) {}
  ~ClientChannel();
  ClientChannel(const ClientChannel&) = delete;
  ClientChannel& operator=(const ClientChannel&) = delete;

  // True while bytes pass untouched: the session may then parse socket bytes in place.
  bool passthrough() const { return ssl_ == nullptr && !compressed_; }
  // Socket bytes in, plain MySQL bytes appended to `plain`. False on a TLS or compression error
  // (error() says which).
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
  // A new client command began: our next compressed frame continues the client's numbering.
  void sync_compressed_seq() { out_comp_seq_ = next_in_comp_seq_; }

  const std::string& error() const { return error_; }
  Conn* conn() { return conn_; }
  void detach() { conn_ = nullptr; }

 private:
  bool tls_decrypt(std::span<const uint8_t> raw, core::ByteBuffer& out);
  bool decompress(std::span<const uint8_t> in, core::ByteBuffer& plain);
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
  uint8_t out_comp_seq_ = 0;
  uint8_t next_in_comp_seq_ = 0;
  core::ByteBuffer tls_plain_;  // decrypted bytes waiting for decompression
  std::string error_;
};

// Builds the TLS context for clients from [tls]; returns an error line when files are unusable.
Result<SSL_CTX*, std::string> make_client_tls_context(const admin::TlsConfig& tls);

}  // namespace odp::proxy
