// Micro benchmarks of the per-packet work on odp's data path: walking a server response with
// PacketScanner + ResponseTracker (what every forwarded result costs in user space), and the
// login codecs. Run by scripts/bench; not part of the tests.
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/response_tracker.h"
#include "protocol/resultset_writer.h"
#include "proxy/packet_scanner.h"

using namespace odp;

namespace {

struct Walk {
  protocol::ResponseTracker& tracker;
  bool done = false;
  size_t capture_bytes(uint8_t first, uint32_t len, bool continuation) const {
    return continuation ? 0 : tracker.capture_bytes(first, len);
  }
  bool on_packet(const proxy::ScannedPacket& p) {
    if (p.continuation) return false;
    done = tracker.on_packet(p.head, p.payload_len) != protocol::ResponseTracker::Step::more;
    return done;
  }
};

std::vector<uint8_t> point_select_response(uint32_t caps) {
  std::vector<uint8_t> out;
  protocol::encode_text_resultset({"c"}, {{std::string(120, 'x')}}, caps, 1, out);
  return out;
}

void BM_TrackPointSelectResponse(benchmark::State& state) {
  const uint32_t caps = protocol::cap::PROTOCOL_41 | protocol::cap::DEPRECATE_EOF;
  auto bytes = point_select_response(caps);
  protocol::ResponseTracker tracker;
  proxy::PacketScanner scanner;
  for (auto _ : state) {
    tracker.begin(protocol::Command::query, caps);
    Walk walk{tracker};
    size_t used = scanner.scan(std::span<const uint8_t>(bytes), walk);
    benchmark::DoNotOptimize(used);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_TrackPointSelectResponse);

void BM_TrackLargeResult(benchmark::State& state) {
  // 1,000 rows of 1 KiB: the cost per streamed byte.
  const uint32_t caps = protocol::cap::PROTOCOL_41 | protocol::cap::DEPRECATE_EOF;
  std::vector<std::vector<std::optional<std::string>>> rows(1000, {std::string(1024, 'y')});
  std::vector<uint8_t> bytes;
  protocol::encode_text_resultset({"c"}, rows, caps, 1, bytes);
  protocol::ResponseTracker tracker;
  proxy::PacketScanner scanner;
  for (auto _ : state) {
    tracker.begin(protocol::Command::query, caps);
    Walk walk{tracker};
    // Feed it as 64 KiB receive buffers arrive.
    for (size_t at = 0; at < bytes.size(); at += 65536) {
      size_t n = std::min<size_t>(65536, bytes.size() - at);
      benchmark::DoNotOptimize(scanner.scan(std::span<const uint8_t>(bytes.data() + at, n), walk));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_TrackLargeResult);

void BM_NativePasswordVerify(benchmark::State& state) {
  auto scramble = protocol::make_scramble();
  auto stage2 = protocol::native_password_stage2("app");
  std::string response = protocol::native_password_response_from_password("app", scramble);
  for (auto _ : state) {
    auto stage1 = protocol::native_password_verify(response, scramble, stage2);
    benchmark::DoNotOptimize(stage1);
  }
}
BENCHMARK(BM_NativePasswordVerify);

void BM_DecodeHandshakeResponse(benchmark::State& state) {
  protocol::HandshakeResponse41 r;
  r.capabilities = protocol::cap::PROTOCOL_41 | protocol::cap::SECURE_CONNECTION | protocol::cap::PLUGIN_AUTH |
                   protocol::cap::CONNECT_WITH_DB | protocol::cap::CONNECT_ATTRS;
  r.username = "app@t1#sandbox";
  r.auth_response = std::string(20, 'a');
  r.database = "test";
  r.auth_plugin_name = "mysql_native_password";
  r.attributes = {{"_client_name", "libmariadb"}, {"_client_version", "3.3.8"}, {"_os", "Linux"}};
  std::vector<uint8_t> payload;
  protocol::encode_handshake_response41(r, payload);
  for (auto _ : state) {
    auto d = protocol::decode_handshake_response41(payload);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_DecodeHandshakeResponse);

}  // namespace
