// Decodes arbitrary bytes as a server HandshakeV10; whatever decodes must re-encode and decode to
// the same fields.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/handshake.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto hs = decode_handshake_v10({data, size});
  if (!hs) return 0;
  if (hs->server_version.find('\0') != std::string::npos || hs->auth_plugin_name.find('\0') != std::string::npos) {
    return 0;
  }
  std::vector<uint8_t> out;
  encode_handshake_v10(*hs, out);
  auto back = decode_handshake_v10(out);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->server_version == hs->server_version);
  FUZZ_CHECK(back->connection_id == hs->connection_id);
  FUZZ_CHECK(back->scramble == hs->scramble);
  FUZZ_CHECK(back->capabilities == hs->capabilities);
  FUZZ_CHECK(back->status_flags == hs->status_flags);
  FUZZ_CHECK(back->auth_plugin_name == hs->auth_plugin_name);
  return 0;
}
