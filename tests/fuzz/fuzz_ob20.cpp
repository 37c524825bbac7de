// OB 2.0 frames and extra info over arbitrary bytes, fed in pieces; output must not depend on the
// piece size, and what one frame decodes to must survive re-encoding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/ob20.h"

using namespace odp::protocol;

namespace {
bool run(std::span<const uint8_t> in, size_t step, std::vector<uint8_t>& out) {
  Ob20FrameSplitter d(1 << 20);
  auto take = [&](const Ob20Frame& f) -> const char* {
    out.insert(out.end(), f.mysql_bytes.begin(), f.mysql_bytes.end());
    return nullptr;
  };
  for (size_t off = 0; off < in.size(); off += step) {
    if (!d.feed(in.subspan(off, std::min(step, in.size() - off)), take)) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t step = static_cast<size_t>(data[0] % 32) + 1;
  std::span<const uint8_t> in(data + 1, size - 1);
  std::vector<uint8_t> a, b;
  const bool ok_a = run(in, in.size() ? in.size() : 1, a);
  const bool ok_b = run(in, step, b);
  FUZZ_CHECK(ok_a == ok_b);
  if (ok_a) FUZZ_CHECK(a == b);
  (void)decode_ob20_extra_info(in);
  if (auto f = decode_ob20_frame(in)) {
    (void)decode_ob20_extra_info(f->extra_info);
    std::vector<uint8_t> again;
    Ob20Header h = f->header;
    h.flags &= ~ob20flag::EXTRA_INFO;
    if (f->header.flags & ob20flag::EXTRA_INFO) h.flags |= ob20flag::EXTRA_INFO;
    encode_ob20_frame(h, f->extra_info, f->mysql_bytes, true, again);
    auto back = decode_ob20_frame(again);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->header.payload_len == f->header.payload_len);
    FUZZ_CHECK(
        std::equal(back->mysql_bytes.begin(), back->mysql_bytes.end(), f->mysql_bytes.begin(), f->mysql_bytes.end()));
  }
  return 0;
}
