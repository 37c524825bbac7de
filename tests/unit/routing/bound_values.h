#pragma once
// BoundValue builders for the routing tests.
#include <cstdint>
#include <string>

#include "routing/topology.h"

namespace odp::routing::test {

inline BoundValue bint(int64_t v) {
  BoundValue b;
  b.integer = v;
  return b;
}
inline BoundValue btext(std::string t) {
  BoundValue b;
  b.kind = BoundValue::Kind::text;
  b.text = std::move(t);
  return b;
}
inline BoundValue bmax() {
  BoundValue b;
  b.kind = BoundValue::Kind::maxvalue;
  return b;
}

}  // namespace odp::routing::test
