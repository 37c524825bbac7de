#pragma once
// A counting allocator for benchmarks that need to know who allocates: every operator new (all
// forms) and malloc/calloc/realloc of the binary that links counting_allocator.cpp is counted, in
// one of two regions a thread is in: "proxy" (the code under test) or "other" (everything else:
// fakes, harness, the benchmark library). Regions nest with In; a Window reads the counters and the
// time spent in the proxy region between two points. Single-threaded use: the counters and the
// region are per thread.
#include <cstdint>

namespace odp::bench {

enum class Region : uint8_t { other, proxy };

struct Counts {
  uint64_t allocs = 0;  // operator new + malloc + calloc + realloc calls
  uint64_t frees = 0;   // operator delete + free of non-null pointers
  uint64_t bytes = 0;   // bytes asked for
};

Region current_region();
void switch_region(Region to);

// Runs the rest of the scope in one region, then returns to the one it came from.
class In {
 public:
  explicit In(Region r) : saved_(current_region()) { switch_region(r); }
  ~In() { switch_region(saved_); }
  In(const In&) = delete;
  In& operator=(const In&) = delete;

 private:
  Region saved_;
};

// What happened between begin_window() and end_window(): allocations per region, and the time
// spent in the proxy region (steady_clock read at every switch while a window is open).
struct Window {
  Counts proxy, other;
  uint64_t proxy_ns = 0;
  uint64_t stretches = 0;  // entries into the proxy region
  // proxy_ns less the clock's own cost: each stretch is timed between two steady_clock::now()
  // calls and carries about one call's cost (calibrate_clock()).
  double proxy_ns_net() const;
};
Window begin_window();
Window end_window(const Window& start);

// Measures the cost of one steady_clock::now() (call once at start); returns it in ns.
double calibrate_clock();

// While on, every allocation in the proxy region prints its size and call stack to stderr.
void set_tracing(bool on);

}  // namespace odp::bench
