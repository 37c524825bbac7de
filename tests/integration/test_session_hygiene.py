#!/usr/bin/python3
"""Session hygiene, session state: what one client sets in its session (timestamp, insert_id, role,
one-shot isolation level, sql_log_bin, pseudo_thread_id, RAND seeds, names and charsets, sql_mode and
optimizer_switch, user variables, database, also for a client that names no database) never shows
through a pooled server connection to
another client, a new client sees the server's current defaults, and a client keeps its own state
wherever its statements run; in the text protocol and in the binary protocol (prepared statements).
test_session_hygiene_objects.py has the server-side objects (locks, temporary tables, prepared
statements, connection attributes and ids).

Every sub-check runs a scenario twice (hygienelib.compare): directly, each client its own session on
the first sandbox server (the reference), then through a private odp with one worker and
pool.max_server_connections = 1 (A disconnects before B logs in) or 2 (A stays connected and idle:
a session that odp rightly keeps tied to its connection does not make B wait) per server. Either way
B gets A's server connection whenever odp put it back in the pool, and the scenario proves it (the
server thread B ran on, odp_pool_reuses_total). A sub-check fails when anything a client saw through
odp differs from what it saw directly.

usage: test_session_hygiene.py C_CLIENT CASE [PROTOCOL [SUBCHECK...]]
  CASE 1, 2, 4, 5, 6, 10, 11, 12, 13, 14, 18, 19; PROTOCOL text (c_client script --text), binary
  (c_client script --prepared), pymysql (case 10 only); SUBCHECK as printed (e.g. latin1/idle).
Setup creates what the cases use (tables hygNN*, roles hyg_role_*, databases test_hyg_*) and drops it
at the end; global variables are restored.
"""

import sys
import time

import odplib as L
from hygienelib import (ORDERS, VARIANTS, direct_sql, everywhere, handover, main, on_every_server, pool_for, tag, uniq,
                        wait_gone)

# ------------------------------------------------------------------------------------------------
# the cases: each returns {subcheck: (scenario(run), pool_max)} or that with (setup, cleanup), each
# a list of SQL for the first server or a function


def case1(protocol):
    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET timestamp = 1000000000", expect="^ok")
            r.q("A", "SELECT NOW(), UNIX_TIMESTAMP()", expect="row: 2001-09-09 .* 1000000000")
            everywhere(r, "A", "UNIX_TIMESTAMP(), YEAR(NOW())", expect="row: 1000000000 2001 ")
            before = handover(r, variant)
            for i in range(20):
                r.connect("B")
                r.q("B", "SELECT NOW() > '2020-01-01', UNIX_TIMESTAMP() > 1600000000", expect="row: 1 1",
                    label="(fresh client %d) SELECT NOW() > '2020-01-01', UNIX_TIMESTAMP() > 1600000000" % (i + 1))
                if i == 0:
                    r.proof(wa, r.where("B"), variant == "disconnect", before)
                r.disconnect("B")
            if variant == "idle":
                r.q("A", "SELECT NOW(), UNIX_TIMESTAMP()", expect="row: 2001-09-09 .* 1000000000")
                everywhere(r, "A", "UNIX_TIMESTAMP(), YEAR(NOW())", expect="row: 1000000000 2001 ")
        return run
    return {v: (scenario(v), pool_for(v)) for v in VARIANTS}


def case2(protocol):
    t = tag(2, protocol) + "_ai"

    def scenario(variant):
        def run(r):
            r.connect("A")
            r.q("A", "DROP TABLE IF EXISTS %s" % t)
            r.q("A", "CREATE TABLE %s (id INT AUTO_INCREMENT PRIMARY KEY, who VARCHAR(8))" % t, expect="^ok")
            wa = r.where("A")
            r.q("A", "SET insert_id = 4242", expect="^ok")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "INSERT INTO %s (who) VALUES ('B')" % t, expect="insert_id=1 ")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "INSERT INTO %s (who) VALUES ('A')" % t, expect="insert_id=4242 ")
            r.q("B", "SELECT id, who FROM %s ORDER BY id" % t)
            r.q("B", "DROP TABLE %s" % t)
        return run
    return {v: (scenario(v), pool_for(v)) for v in VARIANTS}, None, ["DROP TABLE IF EXISTS %s" % t]


def case4(protocol):
    role = "hyg_role_" + protocol

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET ROLE %s" % role, expect="^ok")
            r.q("A", "SELECT CURRENT_ROLE()", expect="row: " + role)
            everywhere(r, "A", "CURRENT_ROLE()", expect="row: " + role)
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "SELECT CURRENT_ROLE()", expect=r"row: \\N")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "SELECT CURRENT_ROLE()", expect="row: " + role)
                everywhere(r, "A", "CURRENT_ROLE()", expect="row: " + role)
        return run

    def setup_roles():
        grants = "; ".join("GRANT %s TO 'app'@'%s'" % (role, h) for h in ("%", "localhost", "127.0.0.1"))
        on_every_server("CREATE ROLE IF NOT EXISTS %s; GRANT SELECT ON test.* TO %s; %s" % (role, role, grants))

    subs = {v: (scenario(v), pool_for(v)) for v in VARIANTS}
    return subs, setup_roles, lambda: on_every_server("DROP ROLE IF EXISTS %s" % role)


def case5(protocol):
    t = tag(5, protocol) + "_iso"

    def isolation(r, name, expect):
        probe = uniq()
        r.q(name, "START TRANSACTION")
        r.q(name, "UPDATE %s SET v = v + 1 WHERE id = 1" % t, expect="^ok affected=1")
        # InnoDB refreshes what INNODB_TRX shows only when it was not read for 0.1 s, so it may show
        # an older transaction or none: only a row whose trx_query is this very statement is fresh.
        # Poll slower than the refresh interval.
        sql = ("SELECT trx_isolation_level FROM information_schema.INNODB_TRX WHERE trx_query LIKE "
               "'%%hyg-iso-%s%%'" % probe)
        end = time.monotonic() + 5
        while "row: " not in r.q(name, sql, observe=False) and time.monotonic() < end:
            time.sleep(0.2)
        r.q(name, sql, expect="row: " + expect, label="%s's transaction isolation (INNODB_TRX)" % name)
        r.q(name, "COMMIT")

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", expect="^ok")
            before = handover(r, variant)
            r.connect("B")
            isolation(r, "B", "REPEATABLE READ")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                isolation(r, "A", "SERIALIZABLE")
                isolation(r, "A", "REPEATABLE READ")  # one transaction only
        return run

    subs = {v: (scenario(v), pool_for(v)) for v in VARIANTS}
    setup = ["DROP TABLE IF EXISTS %s" % t, "CREATE TABLE %s (id INT PRIMARY KEY, v INT) ENGINE=InnoDB" % t,
             "INSERT INTO %s VALUES (1, 0)" % t]
    return subs, setup, ["DROP TABLE IF EXISTS %s" % t]


def case6(protocol):
    first_rand = L.root_sql("SET rand_seed1 = 1, rand_seed2 = 2; SELECT ROUND(RAND(), 12)").strip()

    def scenario(kind, variant):
        def a_check(r):
            if kind == "sql_log_bin":
                everywhere(r, "A", "@@sql_log_bin", expect="row: 0 ")
            elif kind == "pseudo_thread_id":
                everywhere(r, "A", "@@pseudo_thread_id", expect="row: 424242 ")

        def run(r):
            r.connect("A", user="root", password="")
            wa = r.where("A")
            if kind == "sql_log_bin":
                r.q("A", "SET sql_log_bin = 0", expect="^ok")
            elif kind == "pseudo_thread_id":
                r.q("A", "SET pseudo_thread_id = 424242", expect="^ok")
            else:
                r.q("A", "SET rand_seed1 = 1, rand_seed2 = 2", expect="^ok")
                r.q("A", "SELECT ROUND(RAND(), 12) = %s, id FROM test.orders WHERE id = %d" % (first_rand, ORDERS[1]),
                    expect="row: 1 ")
                r.q("A", "SET rand_seed1 = 1, rand_seed2 = 2", expect="^ok")
            a_check(r)
            before = handover(r, variant)
            r.connect("B", user="root", password="")
            if kind == "sql_log_bin":
                r.q("B", "SELECT @@sql_log_bin", expect="row: 1")
            elif kind == "pseudo_thread_id":
                r.q("B", "SELECT @@pseudo_thread_id = (SELECT ID FROM information_schema.PROCESSLIST WHERE INFO "
                         "LIKE '%%hyg-ptid-%s%%') AS own" % uniq(), expect="row: 1",
                    label="B's pseudo_thread_id is its own")
            else:
                r.q("B", "SELECT ROUND(RAND(), 12) = %s" % first_rand, expect="row: 0",
                    label="B's first RAND() is not the one A's seeds give")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                if kind == "rand_seed":
                    r.q("A", "SELECT ROUND(RAND(), 12) = %s" % first_rand, expect="row: 1",
                        label="A's next RAND() is the one its seeds give")
                a_check(r)
        return run

    return {"%s/%s" % (k, v): (scenario(k, v), pool_for(v))
            for k in ("sql_log_bin", "pseudo_thread_id", "rand_seed") for v in VARIANTS}


def case10(protocol):
    names = "SELECT @@character_set_client, @@character_set_results, @@collation_connection"

    def scenario(charset, variant):
        # Both log in with the same charset (else their pool keys differ). With latin1, B's own
        # charset is not the server's default (utf8mb4): putting the defaults back is not enough.
        text = "\u00e9\u4e2d" if charset == "utf8mb4" else "\u00e9"
        mine = "utf8mb4 utf8mb4 utf8mb4_general_ci C3A9E4B8AD " if charset == "utf8mb4" else "latin1 latin1 latin1_swe"

        def run(r):
            r.connect("A", charset=charset)
            wa = r.where("A")
            r.q("A", "SET NAMES cp932", expect="^ok")
            r.q("A", names, expect="row: cp932 cp932 cp932_japanese_ci")
            before = handover(r, variant)
            r.connect("B", charset=charset)
            r.q("B", names + ", HEX('%s'), '%s'" % (text, text), expect="row: " + mine)
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", names, expect="row: cp932 cp932 cp932_japanese_ci")
                everywhere(r, "A", "@@character_set_client, @@collation_connection", expect="row: cp932 cp932_jap")
        return run
    return {"%s/%s" % (cs, v): (scenario(cs, v), pool_for(v)) for cs in ("utf8mb4", "latin1") for v in VARIANTS}


def case11(protocol):
    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET @@sql_mode = ''", expect="^ok")
            r.q("A", "SET @@optimizer_switch = 'index_merge=off'", expect="^ok")
            everywhere(r, "A", "@@sql_mode = '', @@optimizer_switch LIKE 'index_merge=off,%'", expect="row: 1 1 ")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "SELECT @@sql_mode = @@GLOBAL.sql_mode, @@optimizer_switch = @@GLOBAL.optimizer_switch, "
                     "@@sql_mode", expect="row: 1 1 ")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                everywhere(r, "A", "@@sql_mode = '', @@optimizer_switch LIKE 'index_merge=off,%'", expect="row: 1 1 ")
        return run

    def autocommit(variant):
        # odp answers a lone SET autocommit itself and carries the value with A's next statement:
        # B, on the connection A left, must have its own autocommit (on) and no transaction open.
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET autocommit = 0", expect="^ok")
            r.q("A", "SELECT @@autocommit, @@in_transaction", expect="row: 0 0\n")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "SELECT @@autocommit, @@in_transaction", expect="row: 1 0\n")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "SELECT @@autocommit", expect="row: 0")
                r.q("A", "SET @@session.autocommit = ON", expect="^ok")
                r.q("A", "SELECT @@autocommit", expect="row: 1")
        return run
    subs = {v: (scenario(v), pool_for(v)) for v in VARIANTS}
    subs.update({"autocommit/" + v: (autocommit(v), pool_for(v)) for v in VARIANTS})
    return subs


ADMIN_USER, ADMIN_PASSWORD = "hyg_admin", "hyg_admin"


def case12(protocol):
    """Global values: a pooled connection's are of its login (or last reset). A new session takes
    one at most pool.global_variables_max_age_ms older than its login without a reset, so a SET
    GLOBAL straight on a server reaches new sessions within that time, and one through odp at once."""
    saved = {}

    def scenario(set_global):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SELECT @@SESSION.sql_mode = @@GLOBAL.sql_mode", expect="row: 1")
            wait_gone(r, "A")
            before = r.reuses()
            try:
                set_global(r)
                r.connect("B")
                r.q("B", "SELECT @@SESSION.sql_mode, @@GLOBAL.sql_mode", expect="row: ANSI_QUOTES ANSI_QUOTES")
                r.proof(wa, r.where("B"), True, before)
            finally:
                restore_modes()
        return run

    def straight_on_server(r):
        on_every_server("SET GLOBAL sql_mode = 'ANSI_QUOTES'")
        time.sleep(0.5)  # past the private odp's max age (300 ms)

    def through_odp(r):
        # The max age is ten minutes here: only odp's count of the SET GLOBALs it saw resets A's
        # connection before B, who logged in after the SET GLOBAL, uses it.
        r.connect("X", user=ADMIN_USER, password=ADMIN_PASSWORD)
        r.q("X", "SET GLOBAL sql_mode = 'ANSI_QUOTES'", expect="^ok")
        wait_gone(r, "X")

    def setup():
        for i in range(1, len(L.SERVER_PORTS) + 1):
            saved[i] = L.root_sql("SELECT @@GLOBAL.sql_mode", i).strip()
        on_every_server("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'; GRANT SUPER ON *.* TO '%s'@'%%'; GRANT SELECT ON test.* TO '%s'@'%%'"
                        % (ADMIN_USER, ADMIN_PASSWORD, ADMIN_USER, ADMIN_USER))

    def restore_modes():
        for i, mode in saved.items():
            L.root_sql("SET GLOBAL sql_mode = '%s'" % mode, i)

    def cleanup():
        restore_modes()
        on_every_server("DROP USER IF EXISTS '%s'@'%%'" % ADMIN_USER)
    subs = {"new_client_sees_new_global": (scenario(straight_on_server), 1, {"global_variables_max_age_ms": 300})}
    if not L.OCEANBASE:
        # (In oceanbase mode B's first statement runs on the connection of B's own login, and the
        # server's global-variables version, not odp's count, says what a connection has.)
        subs["set_global_through_odp_counts_at_once"] = (scenario(through_odp), 2,
                                                          {"global_variables_max_age_ms": 600000})
    return subs, setup, cleanup


def case13(protocol):
    ta, tb = tag(13, protocol) + "_a", tag(13, protocol) + "_b"

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET @hyg_a = 1", expect="^ok")
            r.q("A", "SET @hyg_a = NULL", expect="^ok")
            r.q("A", "SELECT @hyg_a AS c", expect=r"type=8,.*\nrow: \\N")
            for k in ORDERS:
                r.q("A", "SELECT @hyg_a AS c, id FROM test.orders WHERE id = %d" % k, expect=r"c\(type=8,")
            r.q("A", "CREATE TABLE %s AS SELECT @hyg_a AS c" % ta, expect="^ok")
            r.q("A", "SHOW CREATE TABLE %s" % ta, expect="`c` bigint")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "SELECT @hyg_a IS NULL", expect="row: 1")
            r.q("B", "CREATE TABLE %s AS SELECT @hyg_a AS c" % tb, expect="^ok")
            r.q("B", "SHOW CREATE TABLE %s" % tb, expect="`c` longblob")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "SELECT @hyg_a AS c", expect=r"type=8,.*\nrow: \\N")
            r.q("B", "DROP TABLE %s, %s" % (ta, tb))
        return run

    subs = {v: (scenario(v), pool_for(v)) for v in VARIANTS}
    drop = ["DROP TABLE IF EXISTS %s, %s" % (ta, tb)]
    return subs, drop, drop


def case14(protocol):
    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SET @hyg_t = REPEAT('x', 2000000)", expect="^ok")
            r.q("A", "SELECT LENGTH(@hyg_t)", expect="row: 2000000")
            everywhere(r, "A", "LENGTH(@hyg_t)", expect="row: 2000000 ")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "SELECT @hyg_t IS NULL", expect="row: 1")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "SELECT LENGTH(@hyg_t)", expect="row: 2000000")
        return run
    return {v: (scenario(v), pool_for(v)) for v in VARIANTS}


def case18(protocol):
    db = "test_hyg_" + protocol  # app may use test_%
    state = "@@sql_mode, @@time_zone, @@autocommit, @hyg_u, DATABASE()"
    want = "row: ANSI_QUOTES,NO_ENGINE_SUBSTITUTION \\+05:00 1 A-value %s " % db

    def run(r):
        r.connect("A")
        for sql in ("SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'", "SET time_zone = '+05:00'",
                    "SET autocommit = 0", "SET autocommit = 1", "SET @hyg_u = 'A-value'", "USE " + db):
            r.q("A", sql, expect="ok")
        everywhere(r, "A", state, expect=want)
        # B, meanwhile, sets its own values of the same things on the same connections.
        r.connect("B")
        for sql in ("SET SESSION sql_mode = 'NO_ZERO_DATE'", "SET time_zone = '-03:00'", "SET @hyg_u = 'B-value'"):
            r.q("B", sql, expect="ok")
        everywhere(r, "B", state, expect="row: NO_ZERO_DATE -03:00 1 B-value test ")
        everywhere(r, "A", state, expect=want)

    return ({"own_state_everywhere": (run, 2)}, ["CREATE DATABASE IF NOT EXISTS %s" % db],
            ["DROP DATABASE IF EXISTS %s" % db])


def case19(protocol):
    db = "test_hyg19_" + protocol  # app may use test_%
    t = tag(19, protocol)

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "USE %s" % db, expect="^ok")
            r.q("A", "SELECT DATABASE(), COUNT(*) FROM %s" % t, expect="row: %s 1" % db)
            before = handover(r, variant)
            clears = r.odp.metrics().get("odp_pool_database_clears_total", 0) if r.via_odp else 0
            # B names no database: A's database must not show through the connection A left.
            r.connect("B", db=None)
            r.q("B", "SELECT DATABASE()", expect=r"row: \\N")
            r.q("B", "SELECT COUNT(*) FROM %s" % t, expect="ERROR 1046 ")
            wb = r.where("B")
            r.proof(wa, wb, variant == "disconnect", before)
            if r.via_odp:
                cleared = r.odp.metrics().get("odp_pool_database_clears_total", 0) - clears
                r.notes.append("connections taken out of a database +%d" % cleared)
                if wb == wa and cleared <= 0:
                    r.failures.append("B ran on A's connection but odp_pool_database_clears_total did not grow")
            r.q("B", "SELECT @@time_zone = @@GLOBAL.time_zone", expect="row: 1")
            # Later, B selects a database of its own; A still has its own.
            r.q("B", "USE test", expect="^ok")
            r.q("B", "SELECT DATABASE(), COUNT(*) >= 0 FROM items", expect="row: test 1")
            if variant == "idle":
                r.q("A", "SELECT DATABASE(), COUNT(*) FROM %s" % t, expect="row: %s 1" % db)
        return run

    def setup():
        direct_sql(["CREATE DATABASE IF NOT EXISTS %s" % db, "DROP TABLE IF EXISTS %s.%s" % (db, t),
                    "CREATE TABLE %s.%s (id INT PRIMARY KEY)" % (db, t), "INSERT INTO %s.%s VALUES (1)" % (db, t)])
        for i in range(1, len(L.SERVER_PORTS) + 1):  # B's statements may run on any server
            L.wait_for(lambda i=i: L.root_sql("SELECT COUNT(*) FROM %s.%s" % (db, t), i).strip() == "1", 10,
                       what="%s.%s on server %d (replication)" % (db, t, i))

    subs = {v: (scenario(v), pool_for(v)) for v in VARIANTS}
    return subs, setup, ["DROP DATABASE IF EXISTS %s" % db]


CASES = {1: case1, 2: case2, 4: case4, 5: case5, 6: case6, 10: case10, 11: case11, 12: case12, 13: case13,
         14: case14, 18: case18, 19: case19}

if __name__ == "__main__":
    sys.exit(main(CASES, __doc__, sys.argv))
