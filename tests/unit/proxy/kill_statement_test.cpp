#include "proxy/kill_statement.h"

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "proxy/connection_id_rewrite.h"
#include "routing/sql_lexer.h"

using odp::proxy::find_kills;
using odp::proxy::format_kill_statement;
using odp::proxy::parse_kill_statement;
using odp::proxy::rewrite_connection_id;

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

TEST_CASE("KILLs inside a multi-statement are found at each statement's start") {
  auto k = find_kills("kill 34; select sleep(0.05)");
  CHECK(k.multi);
  CHECK(k.leading);
  CHECK_FALSE(k.later);
  CHECK(k.first_end == 7);
  CHECK(parse_kill_statement(std::string_view("kill 34; select sleep(0.05)").substr(0, k.first_end))->id == 34);
  k = find_kills("SELECT 1; /* c */ KILL QUERY 5");
  CHECK(k.multi);
  CHECK_FALSE(k.leading);
  CHECK(k.later);
  k = find_kills("SELECT 'kill 5; x'; SELECT `kill`");  // in strings and names: no KILL
  CHECK(k.multi);
  CHECK_FALSE(k.leading);
  CHECK_FALSE(k.later);
  k = find_kills("KILL 5;;  ");  // one statement, however many `;`
  CHECK_FALSE(k.multi);
  CHECK(k.leading);
  k = find_kills("SELECT (1;KILL 2)");  // inside parentheses: not a statement start
  CHECK_FALSE(k.later);
  k = find_kills("select 1;;kill 3");
  CHECK(k.multi);
  CHECK(k.later);
  CHECK(k.first_end == 8);
}

namespace {

// What a call becomes; `#` stands for it in the expectations below.
const std::string kCall = "IF(1, CAST(42 AS UNSIGNED), CONNECTION_ID())";

std::string expand(std::string_view expected) {
  std::string s;
  for (char c : expected) {
    if (c == '#') {
      s += kCall;
    } else {
      s += c;
    }
  }
  return s;
}

// The rewritten text, or "-" when the function leaves the text alone.
std::string rw(std::string_view sql) {
  auto r = rewrite_connection_id(sql, 42);
  return r ? *r : "-";
}

}  // namespace

TEST_CASE("CONNECTION_ID() calls become odp's id with the function's type and name") {
  CHECK(rw("SELECT CONNECTION_ID()") == expand("SELECT # AS `CONNECTION_ID()`"));
  CHECK(rw("select connection_id ( ) AS id, 1") == expand("select # AS id, 1"));
  CHECK(rw("SELECT Connection_Id(/* none */)") == expand("SELECT # AS `Connection_Id(/* none */)`"));
  CHECK(rw("SELECT * FROM t WHERE owner = CONNECTION_ID()") == expand("SELECT * FROM t WHERE owner = #"));
  CHECK(rw("UPDATE t SET owner = CONNECTION_ID() WHERE id = 1") == expand("UPDATE t SET owner = # WHERE id = 1"));
  CHECK(rw("INSERT INTO t VALUES (CONNECTION_ID(), 'CONNECTION_ID()')") ==
        expand("INSERT INTO t VALUES (#, 'CONNECTION_ID()')"));
  CHECK(rw("SET @me = CONNECTION_ID()") == expand("SET @me = #"));
  // MariaDB calls the function for a backquoted name too (it answered its thread id).
  CHECK(rw("SELECT `CONNECTION_ID`() FROM t") == expand("SELECT # AS ```CONNECTION_ID``()` FROM t"));
  // Ids up to 2^32-1 keep the type: CAST(4294967295 AS UNSIGNED) is INT UNSIGNED(10) as well.
  CHECK(rewrite_connection_id("DO CONNECTION_ID()", 4294967295u) ==
        "DO IF(1, CAST(4294967295 AS UNSIGNED), CONNECTION_ID())");
}

TEST_CASE("CONNECTION_ID() is left alone outside real calls") {
  CHECK(rw("SELECT 'CONNECTION_ID()'") == "-");
  CHECK(rw("SELECT \"CONNECTION_ID()\", 'it''s CONNECTION_ID()'") == "-");
  CHECK(rw("SELECT /* CONNECTION_ID() */ 1") == "-");
  CHECK(rw("SELECT 1 -- CONNECTION_ID()\n") == "-");
  CHECK(rw("SELECT 1 # CONNECTION_ID()") == "-");
  CHECK(rw("SELECT `CONNECTION_ID()` FROM t") == "-");
  CHECK(rw("SELECT connection_id FROM t") == "-");
  CHECK(rw("SELECT CONNECTION_IDS()") == "-");
  CHECK(rw("SELECT CONNECTION_ID(1)") == "-");
  CHECK(rw("SELECT CONNECTION_ID") == "-");
  CHECK(rw("SELECT CONNECTION_ID(") == "-");
  CHECK(rw("SELECT app.CONNECTION_ID()") == "-");  // a stored function of database `app`
  CHECK(rw("SELECT @CONNECTION_ID, @@CONNECTION_ID") == "-");
  CHECK(rw("SELECT 1") == "-");
  CHECK(rw("") == "-");
}

TEST_CASE("KILL CONNECTION_ID() gets the plain number, so it parses as a KILL of odp's id") {
  CHECK(rw("KILL CONNECTION_ID()") == "KILL 42");
  CHECK(rw("kill query connection_id()") == "kill query 42");
  CHECK(rw("KILL HARD CONNECTION CONNECTION_ID ( )") == "KILL HARD CONNECTION 42");
  auto k = parse_kill_statement(rw("KILL QUERY CONNECTION_ID()"));
  REQUIRE(k);
  CHECK(k->query_only);
  CHECK(k->id == 42);
  CHECK(rw("KILL QUERY CONNECTION_ID(); SELECT Connection_Id()") ==
        expand("KILL QUERY 42; SELECT # AS `Connection_Id()`"));
}

TEST_CASE("an unaliased select item keeps the name the server gives it: its text from first to last token") {
  CHECK(rw("SELECT    CONNECTION_ID()   FROM dual") == expand("SELECT    # AS `CONNECTION_ID()`   FROM dual"));
  CHECK(rw("SELECT CONNECTION_ID()\t+\t1, 2") == expand("SELECT #\t+\t1 AS `CONNECTION_ID()\t+\t1`, 2"));
  CHECK(rw("SELECT CONNECTION_ID() /* c */ + 1") == expand("SELECT # /* c */ + 1 AS `CONNECTION_ID() /* c */ + 1`"));
  CHECK(rw("SELECT /* lead */ CONNECTION_ID() + 1 /* trail */ , 2") ==
        expand("SELECT /* lead */ # + 1 AS `CONNECTION_ID() + 1` /* trail */ , 2"));
  CHECK(rw("SELECT 1 + -- c\nCONNECTION_ID()") == expand("SELECT 1 + -- c\n# AS `1 + -- c\nCONNECTION_ID()`"));
  CHECK(rw("SELECT CONNECTION_ID()\n+\n1;") == expand("SELECT #\n+\n1 AS `CONNECTION_ID()\n+\n1`;"));
  CHECK(rw("SELECT CONCAT('x', CONNECTION_ID())") == expand("SELECT CONCAT('x', #) AS `CONCAT('x', CONNECTION_ID())`"));
  CHECK(rw("SELECT CONCAT('a`b', CONNECTION_ID())") ==
        expand("SELECT CONCAT('a`b', #) AS `CONCAT('a``b', CONNECTION_ID())`"));
  CHECK(rw("SELECT (CONNECTION_ID()), - CONNECTION_ID()") ==
        expand("SELECT (#) AS `(CONNECTION_ID())`, - # AS `- CONNECTION_ID()`"));
  CHECK(rw("SELECT a, CONNECTION_ID(), b FROM t") == expand("SELECT a, # AS `CONNECTION_ID()`, b FROM t"));
  CHECK(rw("SELECT CONNECTION_ID(),CONNECTION_ID()") == expand("SELECT # AS `CONNECTION_ID()`,# AS `CONNECTION_ID()`"));
  // SELECT options are not part of the name.
  CHECK(rw("SELECT DISTINCT SQL_NO_CACHE CONNECTION_ID()") ==
        expand("SELECT DISTINCT SQL_NO_CACHE # AS `CONNECTION_ID()`"));
  CHECK(rw("SELECT DISTINCT(CONNECTION_ID())") == expand("SELECT DISTINCT(#) AS `(CONNECTION_ID())`"));
  CHECK(rw("SELECT /*+ NO_ICP(t) */ CONNECTION_ID()") == expand("SELECT /*+ NO_ICP(t) */ # AS `CONNECTION_ID()`"));
  // Operands at the end are no aliases.
  CHECK(rw("SELECT CONNECTION_ID() = owner FROM t") == expand("SELECT # = owner AS `CONNECTION_ID() = owner` FROM t"));
  CHECK(rw("SELECT CONNECTION_ID() = t.owner FROM t") ==
        expand("SELECT # = t.owner AS `CONNECTION_ID() = t.owner` FROM t"));
  CHECK(rw("SELECT CONNECTION_ID() IS NOT NULL") == expand("SELECT # IS NOT NULL AS `CONNECTION_ID() IS NOT NULL`"));
  CHECK(rw("SELECT CONNECTION_ID() DIV n FROM t") == expand("SELECT # DIV n AS `CONNECTION_ID() DIV n` FROM t"));
  CHECK(rw("SELECT CONCAT(CONNECTION_ID()) COLLATE utf8mb4_bin") ==
        expand("SELECT CONCAT(#) COLLATE utf8mb4_bin AS `CONCAT(CONNECTION_ID()) COLLATE utf8mb4_bin`"));
  CHECK(rw("SELECT CASE WHEN 1 THEN CONNECTION_ID() END") ==
        expand("SELECT CASE WHEN 1 THEN # END AS `CASE WHEN 1 THEN CONNECTION_ID() END`"));
  CHECK(rw("SELECT CONNECTION_ID() + @a, @b := CONNECTION_ID()") ==
        expand("SELECT # + @a AS `CONNECTION_ID() + @a`, @b := # AS `@b := CONNECTION_ID()`"));
  CHECK(rw("SELECT CONNECTION_ID() + ?") == expand("SELECT # + ? AS `CONNECTION_ID() + ?`"));
  CHECK(rw("SELECT CONCAT(CONNECTION_ID(), 'a' 'b')") ==
        expand("SELECT CONCAT(#, 'a' 'b') AS `CONCAT(CONNECTION_ID(), 'a' 'b')`"));
  CHECK(rw("SELECT 'x' = CONNECTION_ID() = _utf8mb4'y'") ==
        expand("SELECT 'x' = # = _utf8mb4'y' AS `'x' = CONNECTION_ID() = _utf8mb4'y'`"));
}

TEST_CASE("select items with an alias keep it") {
  CHECK(rw("SELECT CONNECTION_ID() AS id") == expand("SELECT # AS id"));
  CHECK(rw("SELECT CONNECTION_ID() id, CONNECTION_ID() 'b', CONNECTION_ID() \"c\", CONNECTION_ID() `d e`") ==
        expand("SELECT # id, # 'b', # \"c\", # `d e`"));
  CHECK(rw("SELECT CONNECTION_ID() + 1 AS `x` INTO @v") == expand("SELECT # + 1 AS `x` INTO @v"));
  CHECK(rw("SELECT CONNECTION_ID() DIV 2 half") == expand("SELECT # DIV 2 half"));
  CHECK(rw("SELECT CASE WHEN 1 THEN CONNECTION_ID() END e") == expand("SELECT CASE WHEN 1 THEN # END e"));
  CHECK(rw("SELECT CAST(CONNECTION_ID() AS CHAR)") ==
        expand("SELECT CAST(# AS CHAR) AS `CAST(CONNECTION_ID() AS CHAR)`"));
}

TEST_CASE("every select list is named: derived tables, CTEs, subqueries, unions, CREATE TABLE ... SELECT") {
  CHECK(rw("SELECT * FROM (SELECT CONNECTION_ID() + 1) d") ==
        expand("SELECT * FROM (SELECT # + 1 AS `CONNECTION_ID() + 1`) d"));
  CHECK(rw("WITH c AS (SELECT CONNECTION_ID()) SELECT * FROM c") ==
        expand("WITH c AS (SELECT # AS `CONNECTION_ID()`) SELECT * FROM c"));
  CHECK(rw("SELECT (SELECT CONNECTION_ID()) , 1") ==
        expand("SELECT (SELECT # AS `CONNECTION_ID()`) AS `(SELECT CONNECTION_ID())` , 1"));
  CHECK(rw("(SELECT CONNECTION_ID())") == expand("(SELECT # AS `CONNECTION_ID()`)"));
  CHECK(rw("SELECT CONNECTION_ID() UNION ALL SELECT CONNECTION_ID() FROM t ORDER BY 1") ==
        expand("SELECT # AS `CONNECTION_ID()` UNION ALL SELECT # AS `CONNECTION_ID()` FROM t ORDER BY 1"));
  CHECK(rw("SELECT a FROM t WHERE a IN (SELECT CONNECTION_ID()) LIMIT 1") ==
        expand("SELECT a FROM t WHERE a IN (SELECT # AS `CONNECTION_ID()`) LIMIT 1"));
  CHECK(rw("INSERT INTO t (a) SELECT CONNECTION_ID() ON DUPLICATE KEY UPDATE a = CONNECTION_ID()") ==
        expand("INSERT INTO t (a) SELECT # AS `CONNECTION_ID()` ON DUPLICATE KEY UPDATE a = #"));
  CHECK(rw("CREATE TABLE t1 AS SELECT CONCAT(CONNECTION_ID()) AS c1") ==
        expand("CREATE TABLE t1 AS SELECT CONCAT(#) AS c1"));
  CHECK(rw("CREATE TEMPORARY TABLE t1 SELECT CONNECTION_ID()") ==
        expand("CREATE TEMPORARY TABLE t1 SELECT # AS `CONNECTION_ID()`"));
  CHECK(rw("CREATE TABLE t1 (SELECT CONNECTION_ID())") == expand("CREATE TABLE t1 (SELECT # AS `CONNECTION_ID()`)"));
  CHECK(rw("SELECT CONNECTION_ID() FROM t FOR UPDATE") == expand("SELECT # AS `CONNECTION_ID()` FROM t FOR UPDATE"));
  CHECK(rw("SELECT CONNECTION_ID() WHERE 1 GROUP BY 1 HAVING 1") ==
        expand("SELECT # AS `CONNECTION_ID()` WHERE 1 GROUP BY 1 HAVING 1"));
}

TEST_CASE("executable comments run, and their markers are not part of the name") {
  CHECK(rw("SELECT /*!CONNECTION_ID() + 1*/") == expand("SELECT /*!# + 1 AS `CONNECTION_ID() + 1`*/"));
  CHECK(rw("SELECT /*!100000 CONNECTION_ID() */ + 1") == expand("SELECT /*!100000 # */ + 1 AS `CONNECTION_ID()  + 1`"));
  CHECK(rw("SELECT 1 + /*!50000 CONNECTION_ID() */ + 2") ==
        expand("SELECT 1 + /*!50000 # */ + 2 AS `1 +  CONNECTION_ID()  + 2`"));
  CHECK(rw("/*!50000 SELECT CONNECTION_ID() */") == expand("/*!50000 SELECT # AS `CONNECTION_ID()` */"));
}

TEST_CASE("statements that store SQL keep CONNECTION_ID(): it runs when the view or routine does") {
  CHECK(rw("CREATE VIEW v AS SELECT CONNECTION_ID()") == "-");
  CHECK(rw("CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`app`@`%` SQL SECURITY INVOKER VIEW v AS "
           "SELECT CONNECTION_ID()") == "-");
  CHECK(rw("CREATE DEFINER = CURRENT_USER() VIEW v AS SELECT CONNECTION_ID()") == "-");
  CHECK(rw("/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50001 VIEW v AS SELECT CONNECTION_ID() */") == "-");
  CHECK(rw("ALTER VIEW v AS SELECT CONNECTION_ID()") == "-");
  CHECK(rw("CREATE PROCEDURE p() BEGIN SELECT CONNECTION_ID(); SELECT CONNECTION_ID(); END") == "-");
  CHECK(rw("CREATE FUNCTION f() RETURNS INT RETURN CONNECTION_ID()") == "-");
  CHECK(rw("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.owner = CONNECTION_ID()") == "-");
  CHECK(rw("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO INSERT INTO t VALUES (CONNECTION_ID())") == "-");
  CHECK(rw("ALTER EVENT e DO BEGIN INSERT INTO t VALUES (CONNECTION_ID()); END") == "-");
  CHECK(rw("PREPARE s FROM 'SELECT CONNECTION_ID()'") == "-");
  // Column defaults and generated columns are stored expressions too.
  CHECK(rw("CREATE TABLE t (a INT UNSIGNED DEFAULT CONNECTION_ID(), b INT AS (a + CONNECTION_ID()))") == "-");
  CHECK(rw("CREATE OR REPLACE TEMPORARY TABLE IF NOT EXISTS db.t (a INT DEFAULT CONNECTION_ID()) IGNORE SELECT 1") ==
        "-");
  CHECK(rw("ALTER TABLE t ADD COLUMN c INT DEFAULT CONNECTION_ID()") == "-");
  CHECK(rw("CREATE TABLE t (a INT DEFAULT CONNECTION_ID()) AS SELECT CONNECTION_ID() AS b") ==
        expand("CREATE TABLE t (a INT DEFAULT CONNECTION_ID()) AS SELECT # AS b"));
  // A view, ALTER or PREPARE ends at `;`; a routine's body may hold `;`, so the rest is left alone.
  CHECK(rw("CREATE VIEW v AS SELECT CONNECTION_ID(); SELECT CONNECTION_ID()") ==
        expand("CREATE VIEW v AS SELECT CONNECTION_ID(); SELECT # AS `CONNECTION_ID()`"));
  CHECK(rw("SELECT CONNECTION_ID(); CREATE PROCEDURE p() SELECT CONNECTION_ID(); SELECT CONNECTION_ID()") ==
        expand("SELECT # AS `CONNECTION_ID()`; CREATE PROCEDURE p() SELECT CONNECTION_ID(); SELECT CONNECTION_ID()"));
  // Other CREATE statements run now.
  CHECK(rw("CREATE USER u; SELECT CONNECTION_ID()") == expand("CREATE USER u; SELECT # AS `CONNECTION_ID()`"));
}

TEST_CASE("malformed text is rewritten without breaking what is there") {
  CHECK(rw("SELECT (CONNECTION_ID()") == expand("SELECT (#"));  // the item never ends
  CHECK(rw("SELECT CONNECTION_ID())) , x") == expand("SELECT #)) AS `CONNECTION_ID()))` , x"));
  CHECK(rw("SELECT CONNECTION_ID() AS") == expand("SELECT # AS"));
  CHECK(rw("SELECT CONNECTION_ID() 'unterminated") == expand("SELECT # 'unterminated"));
  const std::string nul(1, '\0');
  CHECK(rw("SELECT CONCAT('" + nul + "', CONNECTION_ID())") ==
        expand("SELECT CONCAT('" + nul + "', #)"));  // no NUL in names
  std::string deep = "SELECT " + std::string(100, '(') + "CONNECTION_ID()" + std::string(100, ')');
  std::string want = "SELECT " + std::string(100, '(') + kCall + std::string(100, ')') + " AS `" + deep.substr(7) + "`";
  CHECK(rw(deep) == want);
}

namespace {

using odp::routing::sql::Lexer;
using odp::routing::sql::Tok;

struct Tk {
  Tok kind;
  std::string text;
  bool operator==(const Tk&) const = default;
};

std::vector<Tk> lex_all(std::string_view s) {
  std::vector<Tk> v;
  Lexer l(s);
  for (auto t = l.next(); t.kind != Tok::end; t = l.next()) v.push_back({t.kind, std::string(t.text)});
  return v;
}

bool is_call(const std::vector<Tk>& a, size_t k) {
  if (k + 2 >= a.size() || a[k + 1].text != "(" || a[k + 2].text != ")") return false;
  if (a[k].kind != Tok::word && a[k].kind != Tok::quoted_ident) return false;
  std::string up;
  for (char c : a[k].text) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return up == "CONNECTION_ID";
}

// The output's tokens are the input's, each call replaced by the expression (or in a KILL by the
// number), plus `AS `name`` pairs; the names inserted are appended to `labels`.
bool only_allowed_edits(std::string_view in, std::string_view out, uint32_t id, std::vector<std::string>& labels) {
  const std::vector<Tk> a = lex_all(in), b = lex_all(out);
  const std::string num = std::to_string(id);
  const std::vector<Tk> expr = lex_all("IF(1, CAST(" + num + " AS UNSIGNED), CONNECTION_ID())");
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i, ++j;
    } else if (is_call(a, i) && j + expr.size() <= b.size() &&
               std::equal(expr.begin(), expr.end(), b.begin() + static_cast<std::ptrdiff_t>(j))) {
      i += 3, j += expr.size();
    } else if (is_call(a, i) && j < b.size() && b[j] == Tk{Tok::integer, num}) {
      i += 3, ++j;
    } else if (j + 1 < b.size() && b[j].kind == Tok::word && b[j].text == "AS" && b[j + 1].kind == Tok::quoted_ident) {
      std::string label;
      for (size_t k = 0; k < b[j + 1].text.size(); ++k) {
        label += b[j + 1].text[k];
        if (b[j + 1].text[k] == '`') ++k;  // doubled
      }
      labels.push_back(label);
      j += 2;
    } else {
      return false;
    }
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> v;
  for (size_t bar = s.find('|'); bar != std::string_view::npos; bar = s.find('|')) {
    v.push_back(s.substr(0, bar));
    s.remove_prefix(bar + 1);
  }
  v.push_back(s);
  return v;
}

}  // namespace

TEST_CASE("connection id rewriting over random token soup: no crash, and only the allowed edits") {
  // Words, punctuation, quotes (some unterminated), comments and executable-comment markers.
  const std::vector<std::string_view> vocab = split(
      "SELECT|CONNECTION_ID|connection_id|`CONNECTION_ID`|()|(|)|( )|,|,|AS|x|`a``b`|'s'|'it''s'|"
      "\"d\"|'|`|\"|1|2.5|+|-|=|:=|;|.|*|t|FROM|WHERE|INTO|UNION|CASE|WHEN|THEN|END|IS|NULL|"
      "DISTINCT|DIV|COLLATE|_utf8mb4|DATE|@v|@@x|?|/* c */|/*!50000|*/|/*+ h */|-- c\n|# c\n|\\|"
      "CREATE|TABLE|VIEW|PROCEDURE|ALTER|EVENT|PREPARE|KILL|QUERY|WITH|VALUES|DEFAULT|INT|LIMIT|"
      "ON|FOR|UPDATE|IN|EXISTS");
  const std::vector<std::string_view> separators = {" ", " ", "", "\n", "\t"};
  std::mt19937 rng(20240611);
  size_t rewritten = 0, labelled = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string sql = rng() % 2 == 0 ? "SELECT " : "";  // select lists are where names are made
    size_t n = 1 + rng() % 40;
    for (size_t k = 0; k < n; ++k) {
      // Calls are frequent, so most rounds have something to rewrite.
      sql += rng() % 6 == 0 ? std::string_view("CONNECTION_ID()") : vocab[rng() % vocab.size()];
      sql += separators[rng() % separators.size()];
    }
    if (rng() % 50 == 0) sql += std::string(1, '\0');
    uint32_t id = rng() % 3 == 0 ? 4294967295u : static_cast<uint32_t>(rng() % 100000);
    auto out = rewrite_connection_id(sql, id);
    if (!out) continue;
    ++rewritten;
    INFO("sql: ", sql);
    INFO("out: ", *out);
    std::vector<std::string> labels;
    REQUIRE(only_allowed_edits(sql, *out, id, labels));
    // A name is the item's text, which lies in the statement unless executable-comment markers
    // were taken out of it.
    if (sql.find("/*!") == std::string::npos && sql.find("*/") == std::string::npos) {
      for (const std::string& label : labels) CHECK(sql.find(label) != std::string::npos);
    }
    labelled += labels.size();
  }
  CHECK(rewritten > 5000);
  CHECK(labelled > 1000);
}
