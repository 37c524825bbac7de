#include "routing/bound_text.h"

#include <doctest/doctest.h>

using namespace odp::routing;

TEST_CASE("high bounds: one column, several, MAXVALUE, strings, bad text") {
  auto b = parse_high_bound("1000");
  REQUIRE(b);
  REQUIRE(b->size() == 1);
  CHECK((*b)[0].kind == BoundValue::Kind::integer);
  CHECK((*b)[0].integer == 1000);
  b = parse_high_bound(" (10, MAXVALUE) ");
  REQUIRE(b);
  REQUIRE(b->size() == 2);
  CHECK((*b)[0].integer == 10);
  CHECK((*b)[1].kind == BoundValue::Kind::maxvalue);
  b = parse_high_bound("maxvalue");
  REQUIRE(b);
  CHECK((*b)[0].kind == BoundValue::Kind::maxvalue);
  b = parse_high_bound("'it''s', -5");
  REQUIRE(b);
  REQUIRE(b->size() == 2);
  CHECK((*b)[0].kind == BoundValue::Kind::text);
  CHECK((*b)[0].text == "it's");
  CHECK((*b)[1].integer == -5);
  CHECK_FALSE(parse_high_bound(""));
  CHECK_FALSE(parse_high_bound("10,"));
  CHECK_FALSE(parse_high_bound("(10"));
  CHECK_FALSE(parse_high_bound("1.5"));
  CHECK_FALSE(parse_high_bound("'open"));
  CHECK_FALSE(parse_high_bound("(1) 2"));
  CHECK_FALSE(parse_high_bound("99999999999999999999"));
}

TEST_CASE("list values: one column, tuples, DEFAULT, width checks") {
  auto l = parse_list_values("1,2, 3", 1);
  REQUIRE(l);
  CHECK_FALSE(l->is_default);
  REQUIRE(l->tuples.size() == 3);
  CHECK(l->tuples[2][0].integer == 3);
  l = parse_list_values("default", 1);
  REQUIRE(l);
  CHECK(l->is_default);
  l = parse_list_values("(1,'a'),(2,'b')", 2);
  REQUIRE(l);
  REQUIRE(l->tuples.size() == 2);
  CHECK(l->tuples[1][0].integer == 2);
  CHECK(l->tuples[1][1].text == "b");
  CHECK_FALSE(parse_list_values("(1,'a'),(2)", 2));  // a tuple of the wrong width
  CHECK_FALSE(parse_list_values("1,2", 2));          // bare values need one column
  CHECK_FALSE(parse_list_values("(MAXVALUE)", 1));   // not a list value
  CHECK_FALSE(parse_list_values("1;2", 1));
  CHECK_FALSE(parse_list_values("", 1));
}
