#include "proxy/autocommit_set.h"

#include <optional>
#include <string_view>

#include <doctest/doctest.h>

using odp::proxy::parse_autocommit_set;

TEST_CASE("a lone SET of the session's autocommit to a literal is recognised with its value") {
  struct Case {
    std::string_view sql;
    bool value;
    bool bare = false;
  };
  for (const Case& c : {
           Case{"SET autocommit = 0", false},
           Case{"SET AUTOCOMMIT=1", true},
           Case{"set autocommit=0;", false},
           Case{"  SET autocommit = 1 ;  ", true},
           Case{"SET SESSION autocommit = OFF", false},
           Case{"SET LOCAL autocommit = ON", true},
           Case{"SET @@autocommit = false", false, true},
           Case{"SET @@session.autocommit = TRUE", true},
           Case{"SET @@LOCAL.autocommit := 0", false},
           Case{"SET autocommit = 'on'", true},
           Case{"SET autocommit = 'OFF'", false},
           Case{"/* PyMySQL */ SET AUTOCOMMIT = 0", false},
           Case{"SET autocommit = 0 -- turn it off", false},
           Case{"/*!40101 SET autocommit = 0 */", false},
       }) {
    CAPTURE(c.sql);
    std::optional<odp::proxy::AutocommitSet> v = parse_autocommit_set(c.sql);
    REQUIRE(v.has_value());
    CHECK(v->on == c.value);
    CHECK(v->bare_system_variable == c.bare);
  }
}

TEST_CASE("every other form is left to a server") {
  for (std::string_view sql : {
           "SET GLOBAL autocommit = 0",          // not the session's
           "SET @@global.autocommit = 0",        // not the session's
           "SET autocommit = DEFAULT",           // the server's default may not be ON
           "SET autocommit = 2",                 // a server refuses it
           "SET autocommit = '1'",               // refused by MariaDB as a string
           "SET autocommit = 00",                // not a form odp vouches for
           "SET autocommit = @x",                // an expression
           "SET autocommit = 0 + 1",             // an expression
           "SET autocommit = 0, sql_mode = ''",  // more than autocommit
           "SET sql_mode = '', autocommit = 0",  // more than autocommit
           "SET autocommit = 0; SELECT 1",       // a multi-statement
           "SET autocommit = 0;;",               // an empty statement after it
           "SET autocommit",                     // no value
           "SET autocommit 0",                   // no operator
           "SET @autocommit = 0",                // a user variable
           "SET SESSION @@autocommit = 0",       // not MySQL
           "SET `autocommit` = 0",               // quoted name: left to a server
           "SET autocommit = 'O\\FF'",           // escapes
           "SELECT autocommit = 0",              // not a SET
           "SET STATEMENT autocommit = 0 FOR SELECT 1",
           "",
           "SET",
       }) {
    CAPTURE(sql);
    CHECK_FALSE(parse_autocommit_set(sql).has_value());
  }
}
