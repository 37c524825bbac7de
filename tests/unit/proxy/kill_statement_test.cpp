#include "proxy/kill_statement.h"

#include <doctest/doctest.h>

using odp::proxy::format_kill_statement;
using odp::proxy::parse_kill_statement;
using odp::proxy::replace_connection_id;

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

TEST_CASE("CONNECTION_ID() answers odp's connection id, outside strings and comments") {
  CHECK(replace_connection_id("SELECT CONNECTION_ID()", 42) == "SELECT 42");
  CHECK(replace_connection_id("select connection_id ( ) AS id, 1", 7) == "select 7 AS id, 1");
  CHECK(replace_connection_id("KILL QUERY CONNECTION_ID(); SELECT Connection_Id()", 9) == "KILL QUERY 9; SELECT 9");
  CHECK_FALSE(replace_connection_id("SELECT 'CONNECTION_ID()'", 1));
  CHECK_FALSE(replace_connection_id("SELECT /* CONNECTION_ID() */ 1", 1));
  CHECK_FALSE(replace_connection_id("SELECT `CONNECTION_ID`() FROM t", 1));
  CHECK_FALSE(replace_connection_id("SELECT connection_id FROM t", 1));
  CHECK_FALSE(replace_connection_id("SELECT 1", 1));
}
