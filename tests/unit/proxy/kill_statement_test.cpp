#include "proxy/kill_statement.h"

#include <doctest/doctest.h>

using odp::proxy::format_kill_statement;
using odp::proxy::parse_kill_statement;

TEST_CASE("KILL statements naming a connection id are recognised") {
  auto k = parse_kill_statement("KILL 42");
  REQUIRE(k);
  CHECK(k->id == 42);
  CHECK_FALSE(k->query_only);
  k = parse_kill_statement("  kill query 7 ;  ");
  REQUIRE(k);
  CHECK(k->query_only);
  CHECK(k->id == 7);
  k = parse_kill_statement("/* from a tool */ KILL HARD CONNECTION 9");
  REQUIRE(k);
  CHECK(k->modifier == "HARD");
  CHECK(format_kill_statement(*k, 1234) == "KILL HARD CONNECTION 1234");
  CHECK(format_kill_statement(*parse_kill_statement("kill query 1"), 5) == "KILL QUERY 5");
}

TEST_CASE("other statements are left alone") {
  CHECK_FALSE(parse_kill_statement("SELECT 1"));
  CHECK_FALSE(parse_kill_statement("KILL USER app"));
  CHECK_FALSE(parse_kill_statement("KILL QUERY ID 5"));
  CHECK_FALSE(parse_kill_statement("KILLX 5"));
  CHECK_FALSE(parse_kill_statement("KILL 5; SELECT 1"));
  CHECK_FALSE(parse_kill_statement("KILL"));
  CHECK_FALSE(parse_kill_statement("KILL 99999999999999999999999"));
  CHECK_FALSE(parse_kill_statement("/*! KILL 5 */"));
  CHECK_FALSE(parse_kill_statement(""));
}
