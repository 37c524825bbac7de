// See counting_allocator.h. The replacements forward to glibc's own allocator (__libc_malloc and
// friends), so memory from either side may be freed by the other.
#include "benchmarks/counting_allocator.h"

#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <new>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void __libc_free(void* p);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace odp::bench {
namespace {

// Plain thread-locals of this executable: reading them never allocates.
thread_local Region t_region = Region::other;
thread_local Counts t_counts[2];
thread_local bool t_tracing = false;
thread_local bool t_in_trace = false;
thread_local bool t_timing = false;
thread_local std::chrono::steady_clock::time_point t_since;
thread_local uint64_t t_proxy_ns = 0;
thread_local uint64_t t_stretches = 0;
double g_clock_ns = 0;

void trace_alloc(size_t size) {
  t_in_trace = true;
  char line[64];
  int n = std::snprintf(line, sizeof line, "--- proxy allocation of %zu bytes\n", size);
  ssize_t w = ::write(2, line, static_cast<size_t>(n));
  (void)w;
  void* frames[40];
  int depth = backtrace(frames, 40);
  backtrace_symbols_fd(frames + 2, depth - 2, 2);
  t_in_trace = false;
}

void note_alloc(size_t size) {
  Counts& c = t_counts[static_cast<int>(t_region)];
  ++c.allocs;
  c.bytes += size;
  if (t_tracing && t_region == Region::proxy && !t_in_trace) trace_alloc(size);
}

void note_free(void* p) {
  if (p != nullptr) ++t_counts[static_cast<int>(t_region)].frees;
}

}  // namespace

Region current_region() {
  return t_region;
}

void switch_region(Region to) {
  if (to == t_region) return;
  if (t_timing) {
    auto now = std::chrono::steady_clock::now();
    if (t_region == Region::proxy) {
      t_proxy_ns += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - t_since).count());
    }
    t_since = now;
    if (to == Region::proxy) ++t_stretches;
  }
  t_region = to;
}

double Window::proxy_ns_net() const {
  double ns = static_cast<double>(proxy_ns) - g_clock_ns * static_cast<double>(stretches);
  return ns > 0 ? ns : 0;
}

Window begin_window() {
  Window w{t_counts[1], t_counts[0], t_proxy_ns, t_stretches};
  t_timing = true;
  t_since = std::chrono::steady_clock::now();
  return w;
}

Window end_window(const Window& start) {
  t_timing = false;
  Window w;
  w.proxy = {t_counts[1].allocs - start.proxy.allocs, t_counts[1].frees - start.proxy.frees,
             t_counts[1].bytes - start.proxy.bytes};
  w.other = {t_counts[0].allocs - start.other.allocs, t_counts[0].frees - start.other.frees,
             t_counts[0].bytes - start.other.bytes};
  w.proxy_ns = t_proxy_ns - start.proxy_ns;
  w.stretches = t_stretches - start.stretches;
  return w;
}

double calibrate_clock() {
  // The fastest of several batches: on a busy machine a batch that was preempted is slower, never
  // faster, than the clock really is.
  constexpr int kBatches = 50;
  constexpr int kCalls = 10000;
  double best = 1e9;
  volatile int64_t sink = 0;
  for (int b = 0; b < kBatches; ++b) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) sink = sink + std::chrono::steady_clock::now().time_since_epoch().count();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(
        best, static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) / kCalls);
  }
  g_clock_ns = best;
  return g_clock_ns;
}

void set_tracing(bool on) {
  if (on) {
    // backtrace() loads its unwinder on first use: do that before anything is traced.
    void* frames[4];
    backtrace(frames, 4);
  }
  t_tracing = on;
}

}  // namespace odp::bench

namespace {

using odp::bench::note_alloc;
using odp::bench::note_free;

void* new_or_throw(size_t size) {
  note_alloc(size);
  void* p = __libc_malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* aligned_new_or_throw(size_t size, std::align_val_t al) {
  note_alloc(size);
  void* p = __libc_memalign(static_cast<size_t>(al), size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

extern "C" void* malloc(size_t size) noexcept {
  note_alloc(size);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t n, size_t size) noexcept {
  note_alloc(n * size);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, size_t size) noexcept {
  note_alloc(size);
  return __libc_realloc(p, size);
}
extern "C" void free(void* p) noexcept {
  note_free(p);
  __libc_free(p);
}

void* operator new(size_t size) {
  return new_or_throw(size);
}
void* operator new[](size_t size) {
  return new_or_throw(size);
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  note_alloc(size);
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  note_alloc(size);
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new(size_t size, std::align_val_t al) {
  return aligned_new_or_throw(size, al);
}
void* operator new[](size_t size, std::align_val_t al) {
  return aligned_new_or_throw(size, al);
}
void operator delete(void* p) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete(void* p, size_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p, size_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  note_free(p);
  __libc_free(p);
}
