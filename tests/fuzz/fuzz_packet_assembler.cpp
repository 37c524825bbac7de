// Feeds arbitrary bytes to the packet assembler in arbitrary pieces; it must never hold more than
// its bound and must report the same packets as a one-shot feed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/packet.h"

using namespace odp::protocol;

namespace {
constexpr uint64_t kBound = 1 << 16;

std::vector<std::vector<uint8_t>> run(std::span<const uint8_t> in, size_t step, bool& failed) {
  PacketAssembler a(kBound);
  std::vector<std::vector<uint8_t>> pkts;
  failed = false;
  size_t off = 0;
  while (off < in.size()) {
    const size_t n = std::min(step, in.size() - off);
    std::span<const uint8_t> chunk = in.subspan(off, n);
    while (!chunk.empty()) {
      auto used = a.feed(chunk);
      if (!used) {
        failed = true;
        return pkts;
      }
      FUZZ_CHECK(*used <= chunk.size());
      chunk = chunk.subspan(*used);
      if (a.has_packet()) {
        FUZZ_CHECK(a.payload().size() <= kBound);
        pkts.emplace_back(a.payload().begin(), a.payload().end());
        a.pop();
      } else {
        FUZZ_CHECK(chunk.empty());
      }
    }
    off += n;
  }
  return pkts;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t step = static_cast<size_t>(data[0] % 16) + 1;
  std::span<const uint8_t> in(data + 1, size - 1);
  bool failed_a = false, failed_b = false;
  auto a = run(in, in.size() ? in.size() : 1, failed_a);
  auto b = run(in, step, failed_b);
  FUZZ_CHECK(failed_a == failed_b);
  FUZZ_CHECK(a == b);
  // Re-framing what came out yields the same packets.
  if (!failed_a) {
    std::vector<uint8_t> again;
    for (const auto& p : a) encode_packet(0, p, again);
    bool failed_c = false;
    auto c = run(again, 1 << 20, failed_c);
    FUZZ_CHECK(!failed_c);
    FUZZ_CHECK(c == a);
  }
  return 0;
}
