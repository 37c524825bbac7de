// OK / ERR / EOF / PREPARE_OK / column definition decoders over arbitrary bytes, with round trips.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/prepare_ok.h"
#include "protocol/result_packets.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the capabilities; the rest is the payload.
  const uint8_t sel = data[0];
  std::span<const uint8_t> p(data + 1, size - 1);
  uint32_t caps = 0;
  if (sel & 1) caps |= cap::PROTOCOL_41;
  if (sel & 2) caps |= cap::TRANSACTIONS;
  if (sel & 4) caps |= cap::SESSION_TRACK;
  if (sel & 8) caps |= cap::DEPRECATE_EOF;

  (void)is_ok(p);
  (void)is_err(p);
  (void)is_eof_packet(p, caps);
  (void)is_ok_terminator(p);
  if (auto ok = decode_ok(p, caps)) {
    std::vector<uint8_t> out;
    encode_ok(*ok, caps, out, p[0]);
    auto back = decode_ok(out, caps);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->affected_rows == ok->affected_rows);
    FUZZ_CHECK(back->last_insert_id == ok->last_insert_id);
    FUZZ_CHECK(back->status_flags == ok->status_flags);
    FUZZ_CHECK(back->info == ok->info);
    FUZZ_CHECK(back->session_state == ok->session_state);
  }
  if (auto err = decode_err(p)) {
    std::vector<uint8_t> out;
    encode_err(*err, out);
    auto back = decode_err(out);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->code == err->code);
    FUZZ_CHECK(back->message == err->message);
  }
  if (auto eof = decode_eof(p)) {
    std::vector<uint8_t> out;
    encode_eof(*eof, out);
    FUZZ_CHECK(decode_eof(out).ok());
  }
  (void)decode_prepare_ok(p);
  if (auto col = decode_column_definition41(p)) {
    std::vector<uint8_t> out;
    encode_column_definition41(*col, out);
    auto back = decode_column_definition41(out);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->name == col->name);
    FUZZ_CHECK(back->type == col->type);
  }
  return 0;
}
