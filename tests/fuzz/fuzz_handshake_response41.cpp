// Decodes arbitrary bytes as a HandshakeResponse41 and an SSLRequest; what decodes must round-trip.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)is_ssl_request({data, size});
  (void)decode_ssl_request_caps({data, size});
  auto r = decode_handshake_response41({data, size});
  if (!r) return 0;
  // Fields with embedded NULs cannot be written as C strings: skip those inputs.
  const bool nul_safe = r->username.find('\0') == std::string::npos && r->database.find('\0') == std::string::npos &&
                        r->auth_plugin_name.find('\0') == std::string::npos &&
                        ((r->capabilities & (cap::SECURE_CONNECTION | cap::PLUGIN_AUTH_LENENC_DATA)) ||
                         r->auth_response.find('\0') == std::string::npos);
  if (!nul_safe) return 0;
  std::vector<uint8_t> out;
  encode_handshake_response41(*r, out);
  auto back = decode_handshake_response41(out);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->username == r->username);
  FUZZ_CHECK(back->auth_response == r->auth_response);
  FUZZ_CHECK(back->attributes == r->attributes);
  return 0;
}
