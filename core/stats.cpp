#include "core/stats.h"

namespace odp::core {

void read_stats(const Stats& s, int64_t out[kStatCount]) {
  size_t i = 0;
#define ODP_STAT_READ(name, kind, help) out[i++] = s.name.load(std::memory_order_relaxed);
  ODP_STATS(ODP_STAT_READ)
#undef ODP_STAT_READ
}

StatsRegistry& StatsRegistry::instance() {
  static StatsRegistry registry;
  return registry;
}

std::vector<int64_t> StatsRegistry::totals() const {
  std::vector<int64_t> sum(kStatCount, 0);
  int64_t one[kStatCount];
  for (const Stats* s : blocks_) {
    read_stats(*s, one);
    for (size_t i = 0; i < kStatCount; ++i) sum[i] += one[i];
  }
  return sum;
}

}  // namespace odp::core
