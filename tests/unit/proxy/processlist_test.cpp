#include "proxy/processlist.h"

#include <doctest/doctest.h>

using odp::proxy::parse_show_processlist;
using odp::proxy::processlist_columns;
using odp::proxy::processlist_rows;
using odp::proxy::SessionActivity;

TEST_CASE("processlist: SHOW [FULL] PROCESSLIST is recognised, other statements are not") {
  CHECK(parse_show_processlist("SHOW PROCESSLIST") == false);
  CHECK(parse_show_processlist("show processlist;") == false);
  CHECK(parse_show_processlist("  /* c */ Show Full ProcessList ; -- x") == true);
  CHECK(parse_show_processlist("SHOW FULL PROCESSLIST /* marker */") == true);
  CHECK_FALSE(parse_show_processlist("SHOW PROCESSLISTS"));
  CHECK_FALSE(parse_show_processlist("SHOW FULL"));
  CHECK_FALSE(parse_show_processlist("SHOW PROCESSLIST; SELECT 1"));  // a multi-statement: the server's
  CHECK_FALSE(parse_show_processlist("SELECT * FROM information_schema.processlist"));
  CHECK_FALSE(parse_show_processlist("/*!50000 SHOW PROCESSLIST */"));  // executable comment: not ours
  CHECK_FALSE(parse_show_processlist("SHOW PROCESSLIST WHERE 1"));
  CHECK_FALSE(parse_show_processlist(""));
}

TEST_CASE("processlist: a viewer sees its own user's sessions by id, as a server shows them") {
  std::vector<SessionActivity> s(4);
  s[0] = {7, "app", "t1", "10.0.0.1:5000", "test", true, 1000, "SELECT SLEEP(10)"};
  s[1] = {3, "app", "t1", "10.0.0.2:5001", "", false, 4000, ""};
  s[2] = {5, "other", "t1", "10.0.0.3:5002", "test", true, 0, "SELECT 1"};
  s[3] = {9, "app", "t2", "10.0.0.4:5003", "", false, 0, ""};  // same user, another tenant
  const std::string long_sql(150, 'x');
  s.push_back({11, "app", "t1", "10.0.0.5:5004", "db2", true, 9000, long_sql});
  auto rows = processlist_rows(s, {"app", "t1"}, false, 9500);
  REQUIRE(rows.size() == 3);
  CHECK(processlist_columns().size() == rows[0].size());
  // by id: 3, 7, 11
  CHECK(rows[0][0] == "3");
  CHECK(rows[0][3] == std::nullopt);  // no database
  CHECK(rows[0][4] == "Sleep");
  CHECK(rows[0][5] == "5");           // idle since 4000 ms, now 9500 ms
  CHECK(rows[0][7] == std::nullopt);  // nothing running
  CHECK(rows[1][0] == "7");
  CHECK(rows[1][1] == "app");
  CHECK(rows[1][2] == "10.0.0.1:5000");
  CHECK(rows[1][3] == "test");
  CHECK(rows[1][4] == "Query");
  CHECK(rows[1][5] == "8");
  CHECK(rows[1][7] == "SELECT SLEEP(10)");
  CHECK(rows[2][7] == std::string(100, 'x'));  // without FULL: the first 100 characters
  CHECK(rows[2][5] == "0");                    // running for 0.5 s
  auto full = processlist_rows(s, {"app", "t1"}, true, 9500);
  CHECK(full[2][7] == long_sql);
  CHECK(processlist_rows(s, {"nobody", "t1"}, true, 0).empty());
  // root@proxysys sees everyone's, by id.
  auto all = processlist_rows(s, {"root", "proxysys", true}, false, 9500);
  REQUIRE(all.size() == 5);
  CHECK(all[0][0] == "3");
  CHECK(all[1][0] == "5");
  CHECK(all[1][1] == "other");
  CHECK(all[4][0] == "11");
}
