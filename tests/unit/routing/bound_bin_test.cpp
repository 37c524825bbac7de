// high_bound_val_bin (bound_bin.h): the byte vectors derived from OceanBase's serialisation rules
// (../shared research notes: obproxy v4.3.1 ob_rowkey.cpp / ob_object.cpp, oblib serialization.h),
// round trips through an encoder written here from the same rules, and hostile input.
#include "routing/bound_bin.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/unit/routing/bound_values.h"

using odp::routing::BoundTuple;
using odp::routing::BoundValue;
using odp::routing::decode_high_bound_bin;
using namespace odp::routing::test;

namespace {

std::string hex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size();) {
    if (h[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The encoder, from the rules: an Int (type 5) for integers, a utf8mb4_general_ci Varchar for text,
// Extend -2 for MAXVALUE.
std::string encode(const BoundTuple& t) {
  std::string out;
  varint(out, t.size());
  for (const BoundValue& v : t) {
    switch (v.kind) {
      case BoundValue::Kind::integer:
        out += std::string("\x05\x05\x3F\xFF", 4);
        varint(out, static_cast<uint64_t>(v.integer));
        break;
      case BoundValue::Kind::text:
        out += std::string("\x16\x02\x2D\xFF", 4);
        varint(out, v.text.size());
        out += v.text;
        out.push_back('\0');
        break;
      case BoundValue::Kind::maxvalue:
        out += std::string("\x19\x07\x00\xFF", 4);
        varint(out, static_cast<uint64_t>(int64_t{-2}));
        break;
    }
  }
  return out;
}

bool same(const BoundTuple& a, const BoundTuple& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].integer != b[i].integer || a[i].text != b[i].text) return false;
  return true;
}

}  // namespace

TEST_CASE("high_bound_val_bin: the derived vectors") {
  auto one = [](std::string_view h) { return decode_high_bound_bin(hex(h)); };
  auto v = one("01 05053FFF 64");  // int 100
  REQUIRE(v);
  CHECK(same(*v, {bint(100)}));
  CHECK(same(*one("01 05053FFF AC02"), {bint(300)}));
  CHECK(same(*one("01 05053FFF FFFFFFFFFFFFFFFFFF01"), {bint(-1)}));  // no zigzag: 10 bytes
  CHECK(same(*one("02 16022DFF 0361626300 05053FFF 05"), {btext("abc"), bint(5)}));
  CHECK(same(*one("01 190700FF FEFFFFFFFFFFFFFFFF01"), {bmax()}));
  CHECK(same(*one("01 190700FF 02"), {bmax()}));            // ObActionFlag::OP_MAX_OBJ
  CHECK(same(*one("01 04053FFF FFFFFFFF0F"), {bint(-1)}));  // Int32 -1: five bytes
  CHECK(same(*one("01 01053FFF FF"), {bint(-1)}));          // TinyInt: one raw byte
  CHECK(same(*one("01 06053FFF FF"), {bint(255)}));         // UTinyInt
  CHECK(same(*one("01 0A053FFF FFFFFFFFFFFFFFFF7F"), {bint(INT64_MAX)}));
  CHECK(same(*one("02 190700FF FEFFFFFFFFFFFFFFFF01 190700FF FEFFFFFFFFFFFFFFFF01"), {bmax(), bmax()}));
  CHECK(same(*one("01 17022EFF 0000"), {btext("")}));  // Char '' (utf8mb4_bin): an empty value
}

TEST_CASE("high_bound_val_bin: what odp cannot place is refused, never guessed") {
  for (const char* h : {
           "",                                    // nothing
           "00",                                  // no objects
           "01",                                  // an object missing
           "01 05053F",                           // a cut meta
           "01 05053FFF",                         // no value
           "01 05053FFF 80",                      // a cut varint
           "01 05053FFF 64 00",                   // trailing bytes
           "02 05053FFF 64",                      // one object of two
           "01 190700FF FDFFFFFFFFFFFFFFFF01",    // MINVALUE: no upper bound
           "01 130533FF B18F01",                  // Date: not compared by odp
           "01 00000000",                         // NULL
           "01 16022DFF 03616263",                // a string without its NUL
           "01 16022DFF 0361626301",              // ... or with another byte there
           "01 16022DFF 05616263",                // longer than the input
           "01 04053FFF FFFFFFFF1F",              // an Int32 varint past 32 bits
           "01 05053FFF FFFFFFFFFFFFFFFFFF03",    // an Int varint past 64 bits
           "01 05053FFF FFFFFFFFFFFFFFFFFFFF01",  // eleven bytes
           "01 0A053FFF FFFFFFFFFFFFFFFFFF01",    // UInt64 past INT64_MAX
           "8101",                                // 129 objects: more than a rowkey holds
       }) {
    CAPTURE(std::string(h));
    CHECK_FALSE(decode_high_bound_bin(hex(h)));
  }
}

TEST_CASE("high_bound_val_bin: random tuples round trip; random bytes never crash") {
  std::mt19937_64 rng(20261205);
  for (int n = 0; n < 5000; ++n) {
    BoundTuple t(1 + rng() % 4);
    for (BoundValue& v : t) {
      switch (rng() % 3) {
        case 0:
          v = bint(static_cast<int64_t>(rng()) >> (rng() % 64));
          break;
        case 1: {
          std::string s(rng() % 300, 'x');
          for (char& c : s) c = static_cast<char>(rng());
          v = btext(s);
          break;
        }
        default:
          v = bmax();
      }
    }
    std::string bytes = encode(t);
    auto back = decode_high_bound_bin(bytes);
    REQUIRE(back);
    CHECK(same(*back, t));
    // Every cut is refused.
    CHECK_FALSE(decode_high_bound_bin(std::string_view(bytes).substr(0, rng() % bytes.size())));
  }
  for (int n = 0; n < 20000; ++n) {
    std::string junk(rng() % 40, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    (void)decode_high_bound_bin(junk);
  }
}
