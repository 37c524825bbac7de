#pragma once
// Helpers shared by the fake server and the fake client (fake_mysql.cpp, fake_client.cpp).
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/packet.h"
#include "tests/unit/proxy/fake_io.h"

namespace odp::fakeio::detail {

inline std::array<uint8_t, 20> sim_scramble(Rng& rng) {
  std::array<uint8_t, 20> s{};
  for (auto& b : s) {
    b = static_cast<uint8_t>(1 + rng.below(126));
    if (b == '$') b = '%';
  }
  return s;
}

inline std::vector<uint8_t> framed_packet(uint8_t seq, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out;
  protocol::encode_packet(seq, payload, out);
  return out;
}

inline std::vector<uint8_t> text(std::string_view s) {
  return {s.begin(), s.end()};
}

// Feeds `data` to an assembler and calls fn(payload, first_seq, last_seq) per logical packet;
// false on a framing error. fn returns false to stop.
template <typename Fn>
bool assemble(protocol::PacketAssembler& in, std::span<const uint8_t> data, Fn&& fn) {
  size_t off = 0;
  for (;;) {
    if (in.has_packet()) {
      std::vector<uint8_t> payload(in.payload().begin(), in.payload().end());
      uint8_t seq = in.seq();
      uint8_t last = in.last_seq();
      in.pop();
      if (!fn(std::span<const uint8_t>(payload), seq, last)) return true;
      continue;
    }
    if (off >= data.size()) return true;
    auto r = in.feed(data.subspan(off));
    if (!r) return false;
    off += r.value();
    if (r.value() == 0 && !in.has_packet()) return true;
  }
}

}  // namespace odp::fakeio::detail
