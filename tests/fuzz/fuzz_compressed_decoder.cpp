// Feeds arbitrary bytes to the compressed-protocol decoder in pieces; output must not depend on the
// piece size, and encode -> decode must be the identity.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/compress.h"

using namespace odp::protocol;

namespace {
constexpr uint64_t kBound = 1 << 20;

bool run(std::span<const uint8_t> in, size_t step, std::vector<uint8_t>& plain) {
  CompressedDecoder d(kBound);
  for (size_t off = 0; off < in.size(); off += step) {
    auto r = d.feed(in.subspan(off, std::min(step, in.size() - off)), plain);
    if (!r) return false;
    FUZZ_CHECK(d.buffered_bytes() <= kBound + kCompressedHeaderBytes);
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
  // Renumbering the inner packets does not depend on the piece size either.
  if (ok_a) {
    PacketSeqRewriter whole, pieces;
    std::vector<uint8_t> x = a, y = a;
    whole.rewrite(x);
    for (size_t off = 0; off < y.size(); off += step) {
      pieces.rewrite(std::span<uint8_t>(y).subspan(off, std::min(step, y.size() - off)));
    }
    FUZZ_CHECK(x == y);
    FUZZ_CHECK(whole.at_boundary() == pieces.at_boundary());
  }
  // Round trip of the raw input as plain data.
  std::vector<uint8_t> frames, back;
  encode_compressed(data[0], in, frames, data[0] % 10);
  FUZZ_CHECK(run(frames, frames.size() ? frames.size() : 1, back));
  FUZZ_CHECK(back.size() == in.size() && std::equal(back.begin(), back.end(), in.begin()));
  return 0;
}
