#include "protocol/auth.h"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/assert.h"

namespace odp::protocol {
namespace {

template <size_t N>
std::array<uint8_t, N> digest(const EVP_MD* md, const void* data, size_t len) {
  std::array<uint8_t, N> out{};
  unsigned int out_len = 0;
  const int rc = EVP_Digest(data, len, out.data(), &out_len, md, nullptr);
  ODP_ASSERT(rc == 1 && out_len == N);
  return out;
}

// SHA1(scramble + stage2): the mask a native-password response is XORed with.
Sha1 native_mask(std::span<const uint8_t> scramble20, const Sha1& stage2) {
  std::array<uint8_t, kScrambleBytes + 20> buf{};
  std::copy(scramble20.begin(), scramble20.end(), buf.begin());
  std::copy(stage2.begin(), stage2.end(), buf.begin() + kScrambleBytes);
  return sha1(std::span<const uint8_t>(buf));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex(std::span<const uint8_t> data, const char* digits) {
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0F]);
  }
  return out;
}

}  // namespace

Sha1 sha1(std::span<const uint8_t> data) {
  return digest<20>(EVP_sha1(), data.data(), data.size());
}
Sha1 sha1(std::string_view data) {
  return digest<20>(EVP_sha1(), data.data(), data.size());
}
Sha256 sha256(std::span<const uint8_t> data) {
  return digest<32>(EVP_sha256(), data.data(), data.size());
}

std::array<uint8_t, 20> make_scramble() {
  // OpenSSL's generator checks for a fork (getpid) on every call: a login's 20 bytes come from a
  // per-thread batch instead, drawn a few hundred logins at a time. Each byte is used once.
  struct Batch {
    std::array<uint8_t, 4000> bytes{};
    size_t used = sizeof bytes;
  };
  thread_local Batch batch;
  std::array<uint8_t, 20> s{};
  if (batch.used + s.size() > batch.bytes.size()) {
    const int rc = RAND_bytes(batch.bytes.data(), static_cast<int>(batch.bytes.size()));
    ODP_ASSERT(rc == 1);
    batch.used = 0;
  }
  std::memcpy(s.data(), batch.bytes.data() + batch.used, s.size());
  std::memset(batch.bytes.data() + batch.used, 0, s.size());  // nothing handed out stays behind
  batch.used += s.size();
  for (auto& b : s) {
    b = static_cast<uint8_t>(b & 0x7F);
    if (b == 0 || b == '$') b = static_cast<uint8_t>(b + 1);
  }
  return s;
}

std::string native_password_response(const Sha1& stage1, std::span<const uint8_t> scramble20) {
  ODP_ASSERT(scramble20.size() == kScrambleBytes);
  const Sha1 mask = native_mask(scramble20, sha1(std::span<const uint8_t>(stage1)));
  std::string out(20, '\0');
  for (size_t i = 0; i < 20; ++i) out[i] = static_cast<char>(stage1[i] ^ mask[i]);
  return out;
}

std::string native_password_response_from_password(std::string_view password, std::span<const uint8_t> scramble20) {
  if (password.empty()) return {};
  return native_password_response(native_password_stage1(password), scramble20);
}

std::optional<Sha1> native_password_verify(std::string_view client_response, std::span<const uint8_t> scramble20,
                                           const Sha1& stage2) {
  if (client_response.size() != 20 || scramble20.size() != kScrambleBytes) return std::nullopt;
  const Sha1 mask = native_mask(scramble20, stage2);
  Sha1 stage1{};
  for (size_t i = 0; i < 20; ++i) stage1[i] = static_cast<uint8_t>(static_cast<uint8_t>(client_response[i]) ^ mask[i]);
  const Sha1 check = sha1(std::span<const uint8_t>(stage1));
  if (CRYPTO_memcmp(check.data(), stage2.data(), check.size()) != 0) return std::nullopt;
  return stage1;
}

bool native_password_is_empty(std::string_view client_response) {
  return client_response.empty();
}

Sha1 native_password_stage1(std::string_view password) {
  return sha1(password);
}
Sha1 native_password_stage2(std::string_view password) {
  const Sha1 s1 = sha1(password);
  return sha1(std::span<const uint8_t>(s1));
}

std::string ob_proxy_scramble(std::span<const uint8_t> proxy_scramble20, std::span<const uint8_t> server_scramble20) {
  ODP_ASSERT(proxy_scramble20.size() == kScrambleBytes && server_scramble20.size() == kScrambleBytes);
  std::string out(kScrambleBytes, '\0');
  for (size_t i = 0; i < kScrambleBytes; ++i) out[i] = static_cast<char>(proxy_scramble20[i] ^ server_scramble20[i]);
  return out;
}

std::optional<Sha1> parse_stage2_hex(std::string_view text) {
  if (!text.empty() && text.front() == '*') text.remove_prefix(1);
  if (text.size() != 40) return std::nullopt;
  Sha1 out{};
  for (size_t i = 0; i < 20; ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string to_hex(std::span<const uint8_t> data) {
  return hex(data, "0123456789abcdef");
}
std::string to_hex(std::string_view data) {
  return to_hex(as_bytes(data));
}
std::string stage2_to_mysql_hex(const Sha1& stage2) {
  return "*" + hex(std::span<const uint8_t>(stage2), "0123456789ABCDEF");
}

Result<AuthSwitchRequest, DecodeError> decode_auth_switch_request(std::span<const uint8_t> payload) {
  Reader r(payload);
  uint8_t header = 0;
  if (!r.u8(header) || header != 0xFE) return Err{DecodeError{"auth switch: header is not 0xFE"}};
  AuthSwitchRequest out;
  if (r.empty()) return out;  // pre-4.1 "use old password" request: no plugin named
  std::string_view name;
  if (!r.null_str(name)) return Err{DecodeError{"auth switch: plugin name not NUL-terminated"}};
  out.plugin_name.assign(name);
  out.plugin_data.assign(r.rest());
  return out;
}

void encode_auth_switch_request(const AuthSwitchRequest& req, std::vector<uint8_t>& payload) {
  put_u8(payload, 0xFE);
  put_null_str(payload, req.plugin_name);
  put_bytes(payload, req.plugin_data);
}

std::string_view auth_switch_scramble(const AuthSwitchRequest& req) {
  std::string_view d = req.plugin_data;
  if (!d.empty() && d.back() == '\0') d.remove_suffix(1);
  return d;
}

bool is_auth_switch_request(std::span<const uint8_t> payload) {
  return !payload.empty() && payload[0] == 0xFE;
}

Result<AuthMoreData, DecodeError> decode_auth_more_data(std::span<const uint8_t> payload) {
  Reader r(payload);
  uint8_t header = 0;
  if (!r.u8(header) || header != 0x01) return Err{DecodeError{"auth more data: header is not 0x01"}};
  return AuthMoreData{std::string(r.rest())};
}

void encode_auth_more_data(const AuthMoreData& m, std::vector<uint8_t>& payload) {
  put_u8(payload, 0x01);
  put_bytes(payload, m.data);
}

}  // namespace odp::protocol
