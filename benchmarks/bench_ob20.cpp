// Micro benchmarks of what OceanBase mode adds to the data path (issue 9's cost targets): OB 2.0
// framing with both checksums, per point-select exchange (<= 150 ns) and per MiB (>= 4 GB/s).
// Towards servers: odp frames the request (Ob20RequestFramer) and checks and unwraps the response
// (Ob20ResponseReader). Towards OceanBase drivers: odp checks and unwraps the request
// (Ob20RequestReader) and frames the response (Ob20ResponseFramer). The peer's side of each
// exchange is prepared outside the timed loop. Run by scripts/bench; not part of the tests.
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "protocol/constants.h"
#include "protocol/crc.h"
#include "protocol/ob20_stream.h"
#include "protocol/packet.h"
#include "protocol/resultset_writer.h"

using namespace odp;
using namespace odp::protocol;

namespace {

constexpr uint32_t kConnId = 3221487619u;
constexpr uint32_t kRequestId = 77;
constexpr uint64_t kMaxFrame = 64ull << 20;
constexpr uint32_t kCaps = cap::PROTOCOL_41 | cap::DEPRECATE_EOF;

std::vector<uint8_t> point_select_request() {
  const std::string sql = "SELECT c FROM sbtest1 WHERE id=4711";
  std::vector<uint8_t> payload{0x03};
  payload.insert(payload.end(), sql.begin(), sql.end());
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  return framed;
}

std::vector<uint8_t> point_select_response() {
  std::vector<uint8_t> out;
  encode_text_resultset({"c"}, {{std::string(120, 'x')}}, kCaps, 1, out);
  return out;
}

// `rows` rows of 1 KiB: a result of about rows KiB.
std::vector<uint8_t> large_response(size_t rows) {
  std::vector<std::vector<std::optional<std::string>>> r(rows, {std::string(1000, 'y')});
  std::vector<uint8_t> out;
  encode_text_resultset({"c"}, r, kCaps, 1, out);
  return out;
}

// What a server sends: `mysql` framed as the answer to request `id` whose last request frame was
// numbered `seq`.
std::vector<uint8_t> response_frames(const std::vector<uint8_t>& mysql, uint32_t id, uint8_t seq) {
  Ob20ResponseFramer framer(kConnId, true);
  framer.respond_to(id, static_cast<uint8_t>(seq + 1));
  std::vector<uint8_t> out;
  framer.write(mysql, out);
  framer.end_response(out);
  return out;
}

std::vector<uint8_t> request_frames(const std::vector<uint8_t>& mysql) {
  Ob20RequestFramer framer(kConnId, kRequestId, true);
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> out;
  framer.wrap(mysql, out, expect);
  return out;
}

// odp towards a server: a point select framed out and `answer` (its response's frames) checked and
// unwrapped; the bytes counted are `counted`'s.
void server_exchange(benchmark::State& state, const std::vector<uint8_t>& answer, size_t counted) {
  const auto request = point_select_request();
  std::deque<Ob20PendingRequest> expect;
  std::vector<uint8_t> wire, mysql;
  wire.reserve(256);
  mysql.reserve(answer.size());
  for (auto _ : state) {
    Ob20RequestFramer framer(kConnId, kRequestId, true);
    Ob20ResponseReader reader(kConnId, kMaxFrame);
    wire.clear();
    mysql.clear();
    framer.wrap(request, wire, expect);
    auto used = reader.feed(answer, expect, mysql);
    if (!used || !expect.empty()) {
      state.SkipWithError("the answer was refused");
      break;
    }
    benchmark::DoNotOptimize(wire.data());
    benchmark::DoNotOptimize(mysql.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * counted));
}

void BM_Ob20ServerPointSelectExchange(benchmark::State& state) {
  const auto answer = response_frames(point_select_response(), kRequestId, 0);
  server_exchange(state, answer, point_select_request().size() + answer.size());
}
BENCHMARK(BM_Ob20ServerPointSelectExchange);

// A 1 MiB result (in the 64 KiB frames odp's own framer uses; a server's larger frames cost less
// per byte).
void BM_Ob20ServerResultPerMiB(benchmark::State& state) {
  const auto answer = response_frames(large_response(1024), kRequestId, 0);
  server_exchange(state, answer, answer.size());
}
BENCHMARK(BM_Ob20ServerResultPerMiB);

// odp towards an OceanBase driver: the request checked and unwrapped, the answer framed.
void BM_Ob20ClientPointSelectExchange(benchmark::State& state) {
  const auto request = request_frames(point_select_request());
  const auto answer = point_select_response();
  std::vector<uint8_t> wire, mysql;
  std::vector<Ob20RequestFrame> frames;
  wire.reserve(256);
  mysql.reserve(256);
  frames.reserve(4);
  // Both live as long as the session (the framer keeps its buffer).
  Ob20RequestReader reader(kConnId, kMaxFrame);
  Ob20ResponseFramer framer(kConnId, true);
  for (auto _ : state) {
    wire.clear();
    mysql.clear();
    frames.clear();
    auto used = reader.feed(request, mysql, frames);
    if (!used || frames.empty()) {
      state.SkipWithError("the request was refused");
      break;
    }
    framer.respond_to(frames.back().request_id, static_cast<uint8_t>(frames.back().seq + 1));
    framer.write(answer, wire);
    framer.end_response(wire);
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (request.size() + answer.size())));
}
BENCHMARK(BM_Ob20ClientPointSelectExchange);

// odp towards an OceanBase driver: a 1 MiB result framed.
void BM_Ob20ClientResultPerMiB(benchmark::State& state) {
  const auto answer = large_response(1024);
  std::vector<uint8_t> wire;
  wire.reserve(answer.size() + 4096);
  for (auto _ : state) {
    Ob20ResponseFramer framer(kConnId, true);
    framer.respond_to(kRequestId, 0);
    wire.clear();
    framer.write(answer, wire);
    framer.end_response(wire);
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * answer.size()));
}
BENCHMARK(BM_Ob20ClientResultPerMiB);

// The payload checksum alone, per MiB: the instruction path odp uses, and the table fallback.
void BM_Crc32cPerMiB(benchmark::State& state) {
  std::vector<uint8_t> data(1 << 20, 0x5A);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_update(0, data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32cPerMiB);

void BM_Crc32cPortablePerMiB(benchmark::State& state) {
  std::vector<uint8_t> data(1 << 20, 0x5A);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_update_portable(0, data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32cPortablePerMiB);

}  // namespace
