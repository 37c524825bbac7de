#include "proxy/client_channel.h"

#include <algorithm>
#include <vector>

#include <openssl/err.h>

#include "base/log.h"
#include "protocol/compress.h"

namespace odp::proxy {
namespace {

std::string ssl_error_string() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

ClientChannel::~ClientChannel() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
}

bool ClientChannel::fail(std::string why) {
  error_ = std::move(why);
  return false;
}

bool ClientChannel::start_tls(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) return fail("SSL_new: " + ssl_error_string());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_accept_state(ssl_);
  return true;
}

void ClientChannel::start_compression(uint64_t max_frame_bytes) {
  compressed_ = true;
  decoder_ = std::make_unique<protocol::CompressedDecoder>(max_frame_bytes);
}

void ClientChannel::start_ob20(uint32_t connection_id, uint64_t max_frame_bytes, bool checksum) {
  ob20_in_ = std::make_unique<protocol::Ob20RequestReader>(connection_id, max_frame_bytes);
  ob20_out_ = std::make_unique<protocol::Ob20ResponseFramer>(connection_id, checksum);
}

bool ClientChannel::unwrap(std::span<const uint8_t> in, core::ByteBuffer& plain) {
  if (compressed_) return decompress(in, plain);
  if (ob20_in_ != nullptr) return unwrap_ob20(in, plain);
  plain.append(in);
  return true;
}

bool ClientChannel::decode(std::span<const uint8_t> raw, core::ByteBuffer& plain) {
  if (ssl_ == nullptr) return unwrap(raw, plain);
  if (!compressed_ && ob20_in_ == nullptr) return tls_decrypt(raw, plain);
  if (!tls_decrypt(raw, tls_plain_)) return false;
  auto pending = tls_plain_.data();
  bool ok = unwrap(pending, plain);
  tls_plain_.clear();
  return ok;
}

bool ClientChannel::tls_decrypt(std::span<const uint8_t> raw, core::ByteBuffer& out) {
  if (!raw.empty() && BIO_write(rbio_, raw.data(), static_cast<int>(raw.size())) != static_cast<int>(raw.size())) {
    return fail("TLS: BIO_write failed");
  }
  if (!handshake_done_) {
    int rc = SSL_do_handshake(ssl_);
    drain_tls_output();
    if (rc != 1) {
      int e = SSL_get_error(ssl_, rc);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
      return fail("TLS handshake failed: " + ssl_error_string());
    }
    handshake_done_ = true;
  }
  uint8_t buf[16384];
  for (;;) {
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
    if (e == SSL_ERROR_ZERO_RETURN) break;  // close_notify: the socket EOF follows
    drain_tls_output();
    return fail("TLS read failed: " + ssl_error_string());
  }
  drain_tls_output();
  return true;
}

void ClientChannel::forget_read_frames(const core::ByteBuffer& plain) {
  // What precedes the session's first unread byte can no longer end a request it will report.
  const uint64_t unread = plain.size();
  const uint64_t read_up_to = plain_total_ > unread ? plain_total_ - unread : 0;
  while (!frame_ends_.empty() && frame_ends_.front().plain_end <= read_up_to) frame_ends_.pop_front();
}

void ClientChannel::note_frame(size_t plain_bytes, uint8_t seq, uint32_t request_id) {
  last_in_comp_seq_ = seq;
  last_in_request_id_ = request_id;
  if (plain_bytes == 0) return;  // an empty frame carries no request's last byte
  plain_total_ += plain_bytes;
  if (frame_ends_.size() < kMaxTrackedFrames)
    frame_ends_.push_back({plain_total_, seq, request_id});
  else
    frame_ends_.back() = {plain_total_, seq, request_id};
}

bool ClientChannel::unwrap_ob20(std::span<const uint8_t> in, core::ByteBuffer& plain) {
  forget_read_frames(plain);
  ob20_frames_scratch_.clear();
  auto r = ob20_in_->feed(in, plain.tail_vector(), ob20_frames_scratch_);
  if (!r) {
    // An answer (the session's error) goes to the refused frame's request, numbered on from it.
    ob20_out_->respond_to(ob20_in_->last_request_id(), static_cast<uint8_t>(ob20_in_->last_seq() + 1));
    return fail(std::string("OB 2.0 frame refused (") + r.error().what + ")");
  }
  for (auto& f : ob20_frames_scratch_) {
    if (!f.trace_info.empty() && traced_.size() < kMaxTrackedFrames)
      traced_.push_back({plain_total_, std::move(f.trace_info)});
    note_frame(f.mysql_bytes, f.seq, f.request_id);
  }
  return true;
}

bool ClientChannel::decompress(std::span<const uint8_t> in, core::ByteBuffer& plain) {
  forget_read_frames(plain);
  std::vector<uint8_t>& out = plain.tail_vector();
  const size_t at = out.size();
  frames_scratch_.clear();
  auto r = decoder_->feed(in, out, &frames_scratch_);
  if (!r) return fail(std::string("compressed protocol: ") + r.error().what);
  inner_seq_.rewrite(std::span<uint8_t>(out).subspan(at));
  for (const auto& f : frames_scratch_) note_frame(f.plain_bytes, f.seq, 0);
  return true;
}

void ClientChannel::request_read(size_t bytes_after) {
  if (!compressed_ && ob20_out_ == nullptr) return;
  // (More bytes follow than were decoded only when the buffer held bytes from before compression.)
  const uint64_t request_end = bytes_after < plain_total_ ? plain_total_ - bytes_after : 0;
  // The first frame whose bytes reach the request's end carried its last byte.
  auto f = std::lower_bound(frame_ends_.begin(), frame_ends_.end(), request_end,
                            [](const FrameEnd& e, uint64_t end) { return e.plain_end < end; });
  const uint8_t next = static_cast<uint8_t>((f != frame_ends_.end() ? f->seq : last_in_comp_seq_) + 1);
  if (ob20_out_ != nullptr) {
    ob20_out_->respond_to(f != frame_ends_.end() ? f->request_id : last_in_request_id_, next);
    // The request's trace records are those of the traced frame that began in it (frames before
    // it belonged to requests already read).
    request_trace_.clear();
    while (!traced_.empty() && traced_.front().plain_start < request_end) {
      request_trace_ = std::move(traced_.front().records);
      traced_.pop_front();
    }
    return;
  }
  out_comp_seq_ = next;
}

void ClientChannel::end_response() {
  if (ob20_out_ == nullptr || conn_ == nullptr) return;
  std::vector<uint8_t> frames;
  ob20_out_->end_response(frames);
  if (!frames.empty()) send_raw(frames);
}

void ClientChannel::write(std::span<const uint8_t> plain) {
  if (conn_ == nullptr || plain.empty()) return;
  if (ob20_out_ != nullptr) {
    std::vector<uint8_t> frames;
    ob20_out_->write(plain, frames);
    if (!frames.empty()) send_raw(frames);
    return;
  }
  if (!compressed_) {
    send_raw(plain);
    return;
  }
  std::vector<uint8_t> frames;
  out_comp_seq_ = protocol::encode_compressed(out_comp_seq_, plain, frames);
  send_raw(frames);
}

void ClientChannel::send_raw(std::span<const uint8_t> bytes) {
  if (ssl_ == nullptr) {
    conn_->write(bytes);
    return;
  }
  size_t off = 0;
  while (off < bytes.size()) {
    int n = SSL_write(ssl_, bytes.data() + off, static_cast<int>(std::min<size_t>(bytes.size() - off, 1 << 20)));
    if (n <= 0) {
      LOG_WARN("TLS write failed: %s", ssl_error_string().c_str());
      break;
    }
    off += static_cast<size_t>(n);
    drain_tls_output();
  }
  drain_tls_output();
}

void ClientChannel::drain_tls_output() {
  if (wbio_ == nullptr || conn_ == nullptr) return;
  uint8_t buf[16384];
  for (;;) {
    int n = BIO_read(wbio_, buf, sizeof buf);
    if (n <= 0) break;
    conn_->write({buf, static_cast<size_t>(n)});
  }
}

Result<SSL_CTX*, std::string> make_client_tls_context(const admin::TlsConfig& tls) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Err("tls: SSL_CTX_new: " + ssl_error_string());
  int min_version = TLS1_2_VERSION;
  if (tls.min_version == "TLSv1.3")
    min_version = TLS1_3_VERSION;
  else if (tls.min_version == "TLSv1.1")
    min_version = TLS1_1_VERSION;
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // MySQL clients do not resume TLS sessions: the two TLS 1.3 session tickets OpenSSL would
  // create and send after every handshake are work and bytes no client uses.
  SSL_CTX_set_num_tickets(ctx, 0);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.client_cert.c_str()) != 1) {
    SSL_CTX_free(ctx);
    return Err("tls.client_cert " + tls.client_cert + ": " + ssl_error_string());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.client_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    SSL_CTX_free(ctx);
    return Err("tls.client_key " + tls.client_key + ": " + ssl_error_string());
  }
  if (!tls.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca.c_str(), nullptr) != 1) {
      SSL_CTX_free(ctx);
      return Err("tls.client_ca " + tls.client_ca + ": " + ssl_error_string());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

}  // namespace odp::proxy
