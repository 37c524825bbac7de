// RANGE bounds and LIST values come from the cluster's metadata as text, RANGE bounds also as
// OceanBase's serialised rowkey (high_bound_val_bin): any input must decode to well-formed tuples or
// be refused, never crash or give tuples of the wrong width.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "routing/bound_bin.h"
#include "routing/bound_text.h"

using namespace odp::routing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t columns = data[0] % 4;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto high = parse_high_bound(text);
  if (high) FUZZ_CHECK(!high->empty());
  auto list = parse_list_values(text, columns);
  if (list && !list->is_default) {
    FUZZ_CHECK(!list->tuples.empty());
    for (const auto& t : list->tuples) {
      FUZZ_CHECK(t.size() == columns);
      for (const auto& v : t) FUZZ_CHECK(v.kind != BoundValue::Kind::maxvalue);
    }
  }
  auto bin = decode_high_bound_bin(text);
  if (bin) FUZZ_CHECK(!bin->empty() && bin->size() <= 128);
  return 0;
}
