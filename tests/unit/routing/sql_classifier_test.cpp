#include "routing/sql_classifier.h"

#include <random>
#include <string>

#include <doctest/doctest.h>

using namespace odp::routing;

namespace {
ClassifiedSql& classify(std::string_view sql) {
  static ClassifiedSql c;
  classify_sql(sql, c);
  return c;
}

std::string table(const ClassifiedSql& c, size_t i) {
  const auto& t = c.tables[i];
  return t.database.empty() ? std::string(t.table) : std::string(t.database) + "." + std::string(t.table);
}

// "col=v1,v2" for condition i (integers as numbers, strings quoted, ? as ?N).
std::string cond(const ClassifiedSql& c, size_t i) {
  const auto& k = c.conditions[i];
  std::string s = k.column.empty() ? "#" + std::to_string(k.column_index) : std::string(k.column);
  s += "=";
  for (uint16_t j = 0; j < k.value_count; ++j) {
    const SqlValue& v = c.values[k.first_value + j];
    if (j > 0) s += ",";
    switch (v.kind) {
      case SqlValue::Kind::integer:
        s += std::to_string(v.integer);
        break;
      case SqlValue::Kind::string:
        s += "'" + std::string(v.text) + "'";
        break;
      case SqlValue::Kind::placeholder:
        s += "?" + std::to_string(v.placeholder);
        break;
      case SqlValue::Kind::null:
        s += "NULL";
        break;
      case SqlValue::Kind::decimal:
        s += "d" + std::string(v.text);
        break;
      default:
        s += "x";
        break;
    }
  }
  return s;
}
}  // namespace

TEST_CASE("classifier: statement types") {
  struct Case {
    const char* sql;
    StmtType type;
  } cases[] = {
      {"SELECT 1", StmtType::select},
      {"  /* c */ select 1", StmtType::select},
      {"(SELECT 1) UNION (SELECT 2)", StmtType::select},
      {"WITH x AS (SELECT 1) SELECT * FROM x", StmtType::select},
      {"insert into t values (1)", StmtType::insert},
      {"REPLACE t VALUES (1)", StmtType::replace},
      {"UPDATE t SET a=1", StmtType::update},
      {"DELETE FROM t", StmtType::delete_},
      {"SET NAMES utf8mb4", StmtType::set},
      {"BEGIN", StmtType::begin},
      {"START TRANSACTION READ ONLY", StmtType::begin},
      {"COMMIT WORK", StmtType::commit},
      {"ROLLBACK", StmtType::rollback},
      {"ROLLBACK TO SAVEPOINT a", StmtType::savepoint},
      {"SAVEPOINT a", StmtType::savepoint},
      {"RELEASE SAVEPOINT a", StmtType::savepoint},
      {"USE `test`", StmtType::use},
      {"SHOW TABLES", StmtType::show},
      {"EXPLAIN SELECT 1", StmtType::explain},
      {"DESC t", StmtType::explain},
      {"CALL p(1)", StmtType::call},
      {"CREATE TABLE t (a int)", StmtType::ddl},
      {"DROP PREPARE s", StmtType::deallocate},
      {"LOCK TABLES t READ", StmtType::lock_tables},
      {"UNLOCK TABLES", StmtType::unlock_tables},
      {"PREPARE s FROM 'SELECT 1'", StmtType::prepare},
      {"EXECUTE s", StmtType::execute},
      {"DO 1", StmtType::do_},
      {"LOAD DATA LOCAL INFILE 'f' INTO TABLE t", StmtType::load_data},
      {"HANDLER t OPEN", StmtType::handler},
      {"XA START 'x'", StmtType::xa},
      {"KILL 5", StmtType::kill},
      {"", StmtType::other},
      {"garbage here", StmtType::other},
  };
  for (const auto& c : cases) {
    CAPTURE(c.sql);
    CHECK(classify(c.sql).type == c.type);
  }
  CHECK(classify("START TRANSACTION READ ONLY").read_only_transaction);
  CHECK(classify("START TRANSACTION WITH CONSISTENT SNAPSHOT").with_consistent_snapshot);
  CHECK(classify("BEGIN").begins_transaction);
  CHECK(classify("XA START 'x'").begins_transaction);
  CHECK(classify("USE `my db`").use_database == "my db");
}

TEST_CASE("classifier: tables") {
  auto& c = classify("SELECT a.x, b.y FROM db1.t1 AS a JOIN `t2` b ON a.id = b.id LEFT JOIN t3 USING (id), t4 WHERE 1");
  REQUIRE(c.table_count == 4);
  CHECK(table(c, 0) == "db1.t1");
  CHECK(table(c, 1) == "t2");
  CHECK(table(c, 2) == "t3");
  CHECK(table(c, 3) == "t4");
  auto& d = classify("SELECT * FROM (SELECT 1) x, t5 FORCE INDEX (pk) WHERE id = 3");
  CHECK(d.has_subquery);
  REQUIRE(d.table_count == 1);
  CHECK(table(d, 0) == "t5");
  CHECK(classify("INSERT INTO `db`.`t` (a) VALUES (1)").table_count == 1);
  CHECK(table(classify("INSERT INTO `db`.`t` (a) VALUES (1)"), 0) == "db.t");
  CHECK(table(classify("UPDATE LOW_PRIORITY t SET a = 1 WHERE id = 2"), 0) == "t");
  CHECK(table(classify("DELETE FROM test.orders WHERE id = 9"), 0) == "test.orders");
  auto& m = classify("DELETE t1, t2 FROM t1 JOIN t2 ON t1.a = t2.a WHERE t1.id = 1");
  CHECK(m.table_count == 4);
  CHECK(table(classify("CREATE TEMPORARY TABLE IF NOT EXISTS tmp (a int)"), 0) == "tmp");
  CHECK(classify("CREATE TEMPORARY TABLE tmp (a int)").creates_temporary_table);
  CHECK(classify("DROP TEMPORARY TABLE tmp").drops_temporary_table);
  CHECK(table(classify("TRUNCATE TABLE x.y"), 0) == "x.y");
  CHECK(table(classify("LOCK TABLES a READ, b WRITE"), 1) == "b");
  CHECK(table(classify("LOAD DATA LOCAL INFILE 'f' INTO TABLE db.t"), 0) == "db.t");
  CHECK(classify("SELECT 1").table_count == 0);
}

TEST_CASE("classifier: key values in WHERE") {
  auto& c = classify("SELECT c FROM sbtest1 WHERE id=4711");
  REQUIRE(c.condition_count == 1);
  CHECK(cond(c, 0) == "id=4711");
  auto& d = classify("select * from t where t.a = -5 and 'x' = b and c in (1, 2, 3) and d = ? and e > 5 and f = 1.5");
  REQUIRE(d.condition_count == 5);
  CHECK(cond(d, 0) == "a=-5");
  CHECK(cond(d, 1) == "b='x'");
  CHECK(cond(d, 2) == "c=1,2,3");
  CHECK(cond(d, 3) == "d=?0");
  CHECK(cond(d, 4) == "f=d1.5");
  // An OR anywhere at the top level drops every key.
  CHECK(classify("SELECT * FROM t WHERE a = 1 OR a = 2").condition_count == 0);
  CHECK(classify("SELECT * FROM t WHERE a = 1 AND (b = 2 OR c = 3)").condition_count == 1);
  CHECK(classify("SELECT * FROM t WHERE a = 1 + 1").condition_count == 0);
  CHECK(classify("SELECT * FROM t WHERE a BETWEEN 1 AND 5 AND b = 7").condition_count == 1);
  CHECK(cond(classify("SELECT * FROM t WHERE a BETWEEN 1 AND 5 AND b = 7"), 0) == "b=7");
  CHECK(classify("SELECT * FROM t WHERE a = 9223372036854775808").values[0].kind == SqlValue::Kind::decimal);
  CHECK(cond(classify("SELECT * FROM t WHERE name = _utf8mb4'x' LIMIT 1"), 0) == "name='x'");
  CHECK(cond(classify("UPDATE t SET k = k + 1 WHERE id = 5"), 0) == "id=5");
  CHECK(cond(classify("DELETE FROM t WHERE id IN (?, ?)"), 0) == "id=?0,?1");
  CHECK(classify("SELECT * FROM t WHERE id = 1 FOR UPDATE").for_update);
  CHECK(classify("SELECT * FROM t WHERE id = 1 LOCK IN SHARE MODE").for_update);
  CHECK_FALSE(classify("SELECT * FROM t WHERE id = 1").for_update);
  auto& e = classify("SELECT * FROM t WHERE s = 'it''s' AND u = 'a\\'b'");
  REQUIRE(e.condition_count == 2);
  CHECK(e.values[0].has_escapes);
}

TEST_CASE("classifier: several key columns: AND chains and row comparisons") {
  auto& c = classify("SELECT * FROM devices WHERE vendor = 'acme' AND x > 1 AND serial = ?");
  REQUIRE(c.condition_count == 2);
  CHECK(cond(c, 0) == "vendor='acme'");
  CHECK(cond(c, 1) == "serial=?0");
  auto& d = classify("SELECT * FROM devices WHERE (vendor, d.serial) = ('acme', 42) AND note = 'n'");
  REQUIRE(d.condition_count == 3);
  CHECK(cond(d, 0) == "vendor='acme'");
  CHECK(cond(d, 1) == "serial=42");
  CHECK(cond(d, 2) == "note='n'");
  CHECK(cond(classify("DELETE FROM t WHERE (a) = (?) "), 0) == "a=?0");
  // Other groups stay opaque, and what follows them is still read.
  CHECK(classify("SELECT * FROM t WHERE (a, b) = (1, 2) OR c = 3").condition_count == 0);
  CHECK(classify("SELECT * FROM t WHERE (a, b) = (1, 2 + 1)").condition_count == 0);
  CHECK(classify("SELECT * FROM t WHERE (a, b) = (1)").condition_count == 0);
  CHECK(classify("SELECT * FROM t WHERE (a, b) = (1, 2, 3)").condition_count == 0);
  CHECK(classify("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4)) AND c = 5").condition_count == 1);
  CHECK(cond(classify("SELECT * FROM t WHERE (a = 1 OR b = 2) AND c = 5"), 0) == "c=5");
  CHECK(cond(classify("SELECT * FROM t WHERE ((a, b)) = ((1, 2)) AND c = 5"), 0) == "c=5");
  CHECK(cond(classify("SELECT * FROM t WHERE (a, f(b)) = (1, 2) AND c = 5"), 0) == "c=5");
  CHECK(cond(classify("SELECT * FROM t WHERE (a, b) = (1, (2)) AND c = 5"), 0) == "c=5");
  CHECK(classify("SELECT * FROM t WHERE (a, b) = (1, 2) + 0").condition_count == 0);
  // Several key columns in INSERT rows, with and without a column list.
  auto& e = classify("INSERT INTO devices (note, serial, vendor) VALUES ('n', 1, 'a'), ('m', 2, 'b')");
  REQUIRE(e.condition_count == 3);
  CHECK(cond(e, 1) == "serial=1,2");
  CHECK(cond(e, 2) == "vendor='a','b'");
}

TEST_CASE("classifier: INSERT rows") {
  auto& c = classify("INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 2, 'abc', 'def'), (4, 5, 'g', NOW())");
  REQUIRE(c.condition_count == 4);
  CHECK(c.insert_rows == 2);
  CHECK(cond(c, 0) == "id=1,4");
  CHECK(cond(c, 3) == "pad='def',x");
  auto& d = classify("INSERT INTO t VALUES (7, 'x')");
  REQUIRE(d.condition_count == 2);
  CHECK(cond(d, 0) == "#0=7");
  auto& e = classify("INSERT INTO t SET id = 3, name = 'n'");
  REQUIRE(e.condition_count == 2);
  CHECK(cond(e, 0) == "id=3");
  CHECK(classify("INSERT INTO t SELECT * FROM u").condition_count == 0);
  CHECK(classify("INSERT INTO t (a) VALUES (?), (?)").placeholder_count == 2);
  CHECK(cond(classify("INSERT INTO t (a) VALUES (?), (?)"), 0) == "a=?0,?1");
  CHECK(cond(classify("INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2"), 0) == "a=1");
}

TEST_CASE("classifier: hints and session facts") {
  auto& h = classify("SELECT /*+ READ_CONSISTENCY(WEAK) QUERY_TIMEOUT(100) */ * FROM t");
  CHECK(h.read_consistency == Consistency::weak);
  CHECK(h.query_timeout_us == 100);
  CHECK(classify("SELECT /*+ ODP_ROUTE_TO('1.2.3.4:5') */ 1").target_server == "1.2.3.4:5");
  CHECK(classify("SELECT /*+read_consistency(strong)*/ 1").read_consistency == Consistency::strong);
  CHECK(classify("SELECT FOUND_ROWS()").uses_found_rows);
  CHECK(classify("SELECT SQL_CALC_FOUND_ROWS * FROM t").uses_found_rows);
  CHECK(classify("SELECT LAST_INSERT_ID()").uses_last_insert_id);
  CHECK(classify("SELECT CONNECTION_ID()").uses_connection_id);
  CHECK(classify("SELECT GET_LOCK('a', 1)").uses_lock_function);
  CHECK(classify("SET @a = 1").assigns_user_variables);
  CHECK(classify("SELECT @a := 1").assigns_user_variables);
  CHECK(classify("SELECT 1 INTO @a").assigns_user_variables);
  CHECK(classify("SELECT 1, 2 INTO @a, @b FROM t").assigns_user_variables);
  CHECK(classify("SELECT @a").uses_user_variables);
  CHECK_FALSE(classify("SELECT @a").assigns_user_variables);
  CHECK_FALSE(classify("SELECT @@version").uses_user_variables);
  CHECK(classify("SET sql_mode = ''").sets_session_variables);
  CHECK(classify("SET @@session.sql_mode = ''").sets_session_variables);
  CHECK_FALSE(classify("SET GLOBAL sql_mode = ''").sets_session_variables);
  CHECK_FALSE(classify("SET @@global.sql_mode = ''").sets_session_variables);
  CHECK(classify("SET NAMES utf8").sets_session_variables);
  auto& a = classify("SET autocommit = 0");
  CHECK(a.sets_autocommit);
  CHECK_FALSE(a.autocommit_value);
  CHECK(classify("SET @@session.autocommit = ON").autocommit_value);
  CHECK_FALSE(classify("SET SESSION autocommit = OFF").autocommit_value);
  CHECK(classify("SHOW WARNINGS").show_warnings);
  CHECK(classify("SHOW COUNT(*) WARNINGS").show_warnings);
  CHECK(classify("SELECT 1; SELECT 2").multi_statement);
  CHECK_FALSE(classify("SELECT 1;").multi_statement);
  CHECK_FALSE(classify("SELECT ';'").multi_statement);
  CHECK(classify("SELECT ? , ?").placeholder_count == 2);
  CHECK(classify("/*!40101 SELECT */ 1").type == StmtType::select);
}

TEST_CASE("classifier: adversarial input stays within bounds") {
  CHECK(classify("SELECT 'unterminated").type == StmtType::select);
  CHECK(classify("SELECT /* unterminated").type == StmtType::select);
  CHECK(classify("SELECT * FROM `unterminated").table_count <= ClassifiedSql::kMaxTables);
  std::string in = "SELECT * FROM t WHERE id IN (";
  for (int i = 0; i < 1000; ++i) in += std::to_string(i) + ",";
  in += "1)";
  auto& big = classify(in);
  CHECK(big.values_truncated);
  CHECK(big.value_count <= ClassifiedSql::kMaxValues);
  std::string nested = "SELECT * FROM t WHERE " + std::string(5000, '(') + "1" + std::string(5000, ')');
  CHECK(classify(nested).type == StmtType::select);
  std::string rows = "INSERT INTO t (a, b) VALUES ";
  for (int i = 0; i < 500; ++i) rows += "(1, 2),";
  rows += "(1, 2)";
  CHECK(classify(rows).values_truncated);
  std::string nul("SELECT \0 FROM t WHERE id = 1", 28);
  CHECK(classify(nul).type == StmtType::select);

  std::mt19937_64 rng(42);
  const char* soup[] = {"SELECT", "FROM", "WHERE", "(",  ")",  ",",      "=",    "IN",     "AND", "OR", "'s'", "`q`",
                        "?",      "1",    "-",     "@a", ":=", "INSERT", "INTO", "VALUES", ";",   "/*", "*/",  "--",
                        "\n",     "t",    ".",     "\\", "\"", "'",      "`",    "#",      "/*+", "x'", "0x"};
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i) {
      if (rng() % 5 == 0) {
        s.push_back(static_cast<char>(rng() % 256));
      } else {
        s += soup[rng() % (sizeof soup / sizeof soup[0])];
        s += ' ';
      }
    }
    auto& r = classify(s);
    CHECK(r.table_count <= ClassifiedSql::kMaxTables);
    CHECK(r.condition_count <= ClassifiedSql::kMaxConditions);
    CHECK(r.value_count <= ClassifiedSql::kMaxValues);
    for (uint8_t i = 0; i < r.table_count; ++i) {
      const char* b = s.data();
      const char* e = s.data() + s.size();
      CHECK((r.tables[i].table.empty() || (r.tables[i].table.data() >= b && r.tables[i].table.data() <= e)));
    }
  }
}
