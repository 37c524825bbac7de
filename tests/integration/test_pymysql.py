#!/usr/bin/python3
"""Debian's python3-pymysql through odp: the same results as directly against s1."""
import contextlib
import sys
import time

import pymysql

import odplib as L

T = "py_t"


def both(fn):
    """Runs fn(conn, table) through odp and directly; compares what it returns."""
    out = {}
    for target in ("direct", "odp"):
        with contextlib.closing(L.connect(target)) as c:
            out[target] = fn(c, "%s_%s" % (T, fn.__name__))
    L.check_eq(out["odp"], out["direct"], fn.__name__)
    return out["odp"]


def queries(c, t):
    res = []
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % t)
        cur.execute("CREATE TABLE %s (id INT PRIMARY KEY, v VARCHAR(64), d DECIMAL(10,3), f DOUBLE, "
                    "dt DATETIME(6), b VARBINARY(64), n INT NULL)" % t)
        cur.execute("INSERT INTO %s VALUES (1,'a',1.5,2.25,'2024-01-02 03:04:05.678901',x'00ff',NULL),"
                    "(2,'b',-0.001,-1e-10,'1970-01-01 00:00:01',NULL,3)" % t)
        res.append(cur.rowcount)
        cur.execute("SELECT * FROM %s ORDER BY id" % t)
        res.append(cur.fetchall())
        res.append([d[:2] for d in cur.description])
        cur.execute("SELECT seq, seq * seq FROM seq_1_to_5000")
        res.append(cur.fetchall())
        cur.execute("SELECT %s, %s, %s", (1, "two", None))
        res.append(cur.fetchall())
        cur.execute("SHOW VARIABLES LIKE 'max_allowed_packet'")
        res.append(cur.fetchall())
        cur.execute("SELECT DATABASE(), @@autocommit")
        res.append(cur.fetchall())
        c.select_db("test")
        c.ping()
        cur.execute("DROP TABLE %s" % t)
    return res


def executemany(c, t):
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % t)
        cur.execute("CREATE TABLE %s (id INT PRIMARY KEY, s VARCHAR(40))" % t)
        n = cur.executemany("INSERT INTO %s (id, s) VALUES (%%s, %%s)" % t, [(i, "row %d" % i) for i in range(3000)])
        n2 = cur.executemany("UPDATE %s SET s = %%s WHERE id = %%s" % t, [("upd %d" % i, i) for i in range(0, 3000, 7)])
        cur.execute("SELECT COUNT(*), SUM(id), MD5(GROUP_CONCAT(s ORDER BY id)) FROM %s" % t)
        r = cur.fetchall()
        cur.execute("DROP TABLE %s" % t)
    return n, n2, r


def transactions(c, t):
    res = []
    c.autocommit(False)
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % t)
        cur.execute("CREATE TABLE %s (id INT PRIMARY KEY, v INT) ENGINE=InnoDB" % t)
        c.commit()
        cur.execute("INSERT INTO %s VALUES (1, 10), (2, 20)" % t)
        c.commit()
        cur.execute("UPDATE %s SET v = v + 1" % t)
        cur.execute("INSERT INTO %s VALUES (3, 30)" % t)
        cur.execute("SELECT * FROM %s ORDER BY id" % t)
        res.append(cur.fetchall())
        c.rollback()
        cur.execute("SELECT * FROM %s ORDER BY id" % t)
        res.append(cur.fetchall())
        cur.execute("SELECT @@in_transaction")
        res.append(cur.fetchall())
        cur.execute("START TRANSACTION")
        cur.execute("DELETE FROM %s WHERE id = 1" % t)
        cur.execute("SAVEPOINT sp1")
        cur.execute("DELETE FROM %s WHERE id = 2" % t)
        cur.execute("ROLLBACK TO SAVEPOINT sp1")
        c.commit()
        cur.execute("SELECT * FROM %s ORDER BY id" % t)
        res.append(cur.fetchall())
        cur.execute("DROP TABLE %s" % t)
    c.autocommit(True)
    return res


def large_in(c, t):
    with c.cursor() as cur:
        ids = list(range(0, 200000, 3))  # ~67k values, ~450 KB of SQL
        cur.execute("SELECT COUNT(*), SUM(seq) FROM seq_1_to_200000 WHERE seq IN (%s)" % ",".join(map(str, ids)))
        r1 = cur.fetchall()
        cur.execute("SELECT seq FROM seq_1_to_100 WHERE seq IN %s ORDER BY seq", (tuple(range(5, 50, 4)),))
        r2 = cur.fetchall()
    return r1, r2


def unicode(c, t):
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % t)
        cur.execute("CREATE TABLE %s (id INT PRIMARY KEY, s VARCHAR(100)) DEFAULT CHARSET=utf8mb4 "
                    "COLLATE=utf8mb4_unicode_ci" % t)
        texts = ["emoji \U0001F600\U0001F680\U0001F9D1\u200D\U0001F4BB", "中文字符", "Ελληνικά", "עברית",
                 "e\u0301 combining", "\u0000 nul inside"]
        cur.executemany("INSERT INTO %s VALUES (%%s, %%s)" % t, list(enumerate(texts)))
        cur.execute("SELECT id, s, CHAR_LENGTH(s), LENGTH(s), HEX(s) FROM %s ORDER BY id" % t)
        r = cur.fetchall()
        cur.execute("SELECT s FROM %s WHERE s LIKE %%s" % t, ("%\U0001F680%",))
        r2 = cur.fetchall()
        cur.execute("DROP TABLE %s" % t)
    L.check(r[0][1] == texts[0], "emoji did not round-trip: %r" % (r[0][1],))
    return r, r2


def warnings(c, t):
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % t)
        cur.execute("CREATE TABLE %s (id INT PRIMARY KEY, small TINYINT)" % t)
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("INSERT INTO %s VALUES (1, 1000), (2, -1000)" % t)
        w1 = c.warning_count() if hasattr(c, "warning_count") else None
        cur.execute("SHOW WARNINGS")
        w = cur.fetchall()
        cur.execute("SELECT 1/0, CAST('abc' AS INT)")
        r = cur.fetchall()
        cur.execute("SHOW WARNINGS")
        w2 = cur.fetchall()
        cur.execute("SELECT @@warning_count")
        w3 = cur.fetchall()
        cur.execute("SET SESSION sql_mode = DEFAULT")
        cur.execute("DROP TABLE %s" % t)
    L.check(len(w) == 2, "expected 2 warnings, got %r" % (w,))
    return w1, w, r, w2, w3


def errors(c, t):
    res = []
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS %s" % t)
        cur.execute("CREATE TABLE %s (id INT PRIMARY KEY)" % t)
        cur.execute("INSERT INTO %s VALUES (1)" % t)
        for sql in ("INSERT INTO %s VALUES (1)" % t, "SELECT * FROM no_such_table_py", "SELEC 1",
                    "SELECT no_such_column FROM %s" % t, "SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1644, MESSAGE_TEXT = 'custom'"):
            try:
                cur.execute(sql)
                res.append(("no error", sql))
            except pymysql.MySQLError as e:
                res.append((type(e).__name__, e.args[0], e.args[1]))
        cur.execute("SELECT COUNT(*) FROM %s" % t)  # the session still works after errors
        res.append(cur.fetchall())
        cur.execute("DROP TABLE %s" % t)
    L.check(res[0][1] == 1062 and res[0][0] == "IntegrityError", "duplicate key: %r" % (res[0],))
    return res


def unbuffered(c, t):
    with c.cursor(pymysql.cursors.SSCursor) as cur:
        cur.execute("SELECT seq, REPEAT('q', 1000) FROM seq_1_to_20000")
        n = 0
        total = 0
        for row in cur:
            n += 1
            total += row[0]
    with c.cursor() as cur:
        cur.execute("SELECT 'after unbuffered'")
        r = cur.fetchall()
    return n, total, r


def wait_timeout(c, t):
    # A session's wait_timeout closes it when idle, as the server would (through odp, the client
    # session: its server connections are pooled and would otherwise hide it).
    with c.cursor() as cur:
        cur.execute("SET SESSION wait_timeout = 1")
    time.sleep(2.5)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT 1")
        return "still open"
    except pymysql.err.OperationalError as e:
        return "closed", e.args[0] in (2006, 2013)


FUNCS = [queries, executemany, transactions, large_in, unicode, warnings, errors, unbuffered, wait_timeout]

if __name__ == "__main__":
    sys.exit(L.run_cases([(f.__name__, (lambda f=f: both(f))) for f in FUNCS]))
