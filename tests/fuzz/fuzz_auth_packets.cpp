// Auth switch / more data decoders and the native-password verifier over arbitrary bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/auth.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> p(data, size);
  if (auto sw = decode_auth_switch_request(p)) {
    (void)auth_switch_scramble(*sw);
    if (!sw->plugin_name.empty() && sw->plugin_name.find('\0') == std::string::npos) {
      std::vector<uint8_t> out;
      encode_auth_switch_request(*sw, out);
      auto back = decode_auth_switch_request(out);
      FUZZ_CHECK(back.ok());
      FUZZ_CHECK(back->plugin_name == sw->plugin_name);
      FUZZ_CHECK(back->plugin_data == sw->plugin_data);
    }
  }
  (void)decode_auth_more_data(p);
  (void)parse_stage2_hex(std::string_view(reinterpret_cast<const char*>(data), size));
  if (size >= 40) {
    Sha1 stage2{};
    std::copy_n(data + 20, 20, stage2.begin());
    (void)native_password_verify(std::string_view(reinterpret_cast<const char*>(data + 40), size - 40), p.first(20),
                                 stage2);
  }
  return 0;
}
