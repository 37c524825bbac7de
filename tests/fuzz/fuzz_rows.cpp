// Text and binary row decoders with column counts/types taken from the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/rows.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t ncols = data[0] % 16;
  if (size < 1 + ncols) return 0;
  std::vector<ParamType> types;
  for (size_t i = 0; i < ncols; ++i) {
    types.push_back(ParamType{static_cast<ColumnType>(data[1 + i]), (data[1 + i] & 1) != 0});
  }
  std::span<const uint8_t> p(data + 1 + ncols, size - 1 - ncols);
  if (auto row = decode_text_row(p, ncols)) {
    std::vector<uint8_t> out;
    encode_text_row(*row, out);
    auto back = decode_text_row(out, ncols);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(*back == *row);
  }
  if (auto row = decode_binary_row(p, types)) {
    std::vector<uint8_t> out;
    encode_binary_row(*row, out);
    auto back = decode_binary_row(out, types);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->size() == row->size());
  }
  return 0;
}
