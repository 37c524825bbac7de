// Session-state records over arbitrary bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "protocol/session_track.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto recs = decode_session_track(std::span<const uint8_t>(data, size));
  if (!recs) return 0;
  for (const auto& r : *recs) {
    FUZZ_CHECK(r.data.data() >= data && r.data.data() + r.data.size() <= data + size);
    FUZZ_CHECK(r.value.size() <= r.data.size());
  }
  return 0;
}
