#pragma once
// Broken invariants abort loudly, in release builds too (the checks are cheap).
#include <cstdio>
#include <cstdlib>

#define ODP_ASSERT(cond)                                                                       \
  do {                                                                                         \
    if (__builtin_expect(!(cond), 0)) {                                                        \
      std::fprintf(stderr, "odp: assertion failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
