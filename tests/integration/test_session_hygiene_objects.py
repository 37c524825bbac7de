#!/usr/bin/python3
"""Session hygiene, server-side objects: locks (FLUSH TABLES WITH READ LOCK, BACKUP STAGE, GET_LOCK,
LOCK TABLES), a temporary table made by a procedure, prepared statements (parameter types, metadata,
sql_mode at prepare time, cursors, long statements, KILL QUERY), connection attributes, CONNECTION_ID()
MariaDB's extended column metadata, and locks a client leaves behind when it disconnects (case 20): what one client holds is never handed to another client
through a pooled server connection, and each client sees what it would see on a server directly; in
the text protocol and in the binary protocol. See test_session_hygiene.py for how a sub-check runs
(directly, then through a private odp whose pool hands A's connection to B) and hygienelib.py.

usage: test_session_hygiene_objects.py C_CLIENT CASE [PROTOCOL [SUBCHECK...]]
  CASE 3, 7, 8, 9, 15, 16, 17, 20; PROTOCOL text or binary (cases 8 and 15: binary only).
Needs the sandbox servers to run with performance_schema = ON (case 9; scripts/sandbox sets it).
Setup creates what the cases use (tables and procedures hygNN*) and grants app SELECT on
performance_schema for case 9; all of it goes again at the end.
"""

import sys
import time

import odplib as L
from hygienelib import (ORDERS, VARIANTS, MechanicsError, handover, main, on_every_server, pool_for, tag, uniq,
                        wait_gone)

# ------------------------------------------------------------------------------------------------
# the cases: each returns {subcheck: (scenario(run), pool_max)} or that with (setup, cleanup), each
# a list of SQL for the first server or a function


# (user, statements that take the lock, what A's first statement answers, statement that frees it).
# MariaDB 10.11 has no LOCK INSTANCE FOR BACKUP (MySQL 8): a syntax error directly and through odp.
LOCKS = {
    "ftwrl": ("root", ["FLUSH TABLES WITH READ LOCK"], "^ok", "UNLOCK TABLES"),
    "lock_instance": ("root", ["LOCK INSTANCE FOR BACKUP"], "ERROR 1064", "UNLOCK INSTANCE"),
    "backup_start": ("root", ["BACKUP STAGE START"], "^ok", "BACKUP STAGE END"),
    "backup_block_commit": ("root", ["BACKUP STAGE START", "BACKUP STAGE BLOCK_COMMIT"], "^ok", "BACKUP STAGE END"),
    "get_lock": ("app", ["SELECT GET_LOCK('{t}', 0)"], "row: 1", "SELECT RELEASE_LOCK('{t}')"),
    "lock_tables": ("app", ["LOCK TABLES {t} WRITE"], "ok", "UNLOCK TABLES"),
}


def case3(protocol):
    t = tag(3, protocol) + "_lock"
    subs = {}

    def scenario(kind, variant):
        user, lock, lock_expect, unlock = LOCKS[kind]
        password = "" if user == "root" else "app"

        def b_check(r, expect_write):
            if kind == "get_lock":
                r.q("B", "SELECT IS_FREE_LOCK('%s'), GET_LOCK('%s', 0), RELEASE_LOCK('%s')" % (t, t, t),
                    expect=expect_write)
            else:
                r.q("B", "SET SESSION lock_wait_timeout = 1", expect="^ok")
                r.q("B", "INSERT INTO %s VALUES (1)" % t, expect=expect_write)

        def run(r):
            r.connect("A", user=user, password=password)
            wa = r.where("A")
            for i, stmt in enumerate(lock):
                r.q("A", stmt.format(t=t), expect=lock_expect if i == 0 else "^ok")
            before = handover(r, variant)
            r.connect("B", user=user, password=password)
            held = variant == "idle" and kind != "lock_instance"
            if kind == "get_lock":
                b_check(r, "row: 0 0 0" if held else "row: 1 1 1")
            else:
                blocked = held and kind != "backup_start"
                b_check(r, "ERROR 1205" if blocked else "^ok affected=1")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", unlock.format(t=t))
                wait_gone(r, "A")
                b_check(r, "row: 1 1 1" if kind == "get_lock" else "^ok affected=1")
        return run

    for kind in LOCKS:
        for v in VARIANTS:
            subs["%s/%s" % (kind, v)] = (scenario(kind, v), pool_for(v))
    setup = ["DROP TABLE IF EXISTS %s" % t, "CREATE TABLE %s (id INT)" % t]
    return subs, setup, ["DROP TABLE IF EXISTS %s" % t]


def case7(protocol):
    p, tt = tag(7, protocol) + "_p", tag(7, protocol) + "_tt"

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "CALL %s()" % p, expect="^ok")
            r.q("A", "SELECT x FROM %s" % tt, expect="row: 7")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", "SELECT x FROM %s" % tt, expect="ERROR 1146")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "SELECT x FROM %s" % tt, expect="row: 7")
                r.q("A", "DROP TEMPORARY TABLE %s" % tt, expect="^ok")
        return run

    subs = {v: (scenario(v), pool_for(v)) for v in VARIANTS}
    setup = ["DROP PROCEDURE IF EXISTS %s" % p,
             "CREATE PROCEDURE %s() BEGIN CREATE TEMPORARY TABLE %s (x INT); INSERT INTO %s VALUES (7); END"
             % (p, tt, tt)]
    return subs, setup, ["DROP PROCEDURE IF EXISTS %s" % p]


def case8(protocol):
    if protocol != "binary":
        return {}

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", ".ps s SELECT ?", expect="prepared params=1")
            r.q("A", ".exec s i:5", expect="type=3.*\nrow: 5", label="A executes SELECT ? with INT 5 (types sent)")
            before = handover(r, variant)
            r.connect("B")
            r.q("B", ".ps s SELECT ?", expect="prepared params=1")
            r.q("B", ".exec s s:abc", expect="type=254.*\nrow: abc", label="B executes SELECT ? with 'abc' (types sent)")
            r.q("B", ".reexec s xyz", expect="type=254.*\nrow: xyz", label="B executes again with 'xyz' (no types)")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", ".reexec s 6", expect="type=3.*\nrow: 6", label="A executes again with 6 (no types)")
                r.q("B", ".reexec s uvw", expect="type=254.*\nrow: uvw", label="B executes again with 'uvw' (no types)")
                r.q("A", ".exec s i:9", expect="type=3.*\nrow: 9", label="A executes with INT 9 (types sent)")
                r.q("B", ".reexec s rst", expect="type=254.*\nrow: rst", label="B executes again with 'rst' (no types)")
                r.q("A", ".reexec s 10", expect="type=3.*\nrow: 10", label="A executes again with 10 (no types)")
            r.q("B", ".exec s i:7", expect="type=3.*\nrow: 7", label="B executes with INT 7 (types sent)")
            r.q("B", ".reexec s 8", expect="type=3.*\nrow: 8", label="B executes again with 8 (no types)")
        return run
    return {v: (scenario(v), pool_for(v)) for v in VARIANTS}


def case9(protocol):
    # odp shares a server connection only between clients that present the same connect attributes
    # (process and thread ids aside), so the server always shows the attributes of the client whose
    # statement runs: B with other attributes never runs on A's connection; B with the same ones
    # may, and then sees nothing of A (no per-client attribute such as a connection id).
    def attrs_of(r, name, expect):
        r.q(name, "SELECT ATTR_VALUE FROM performance_schema.session_connect_attrs WHERE ATTR_NAME = 'who' AND "
                  "PROCESSLIST_ID = (SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%%hyg-attr-%s%%')"
            % uniq(), expect="row: " + expect, label="connect attribute 'who' of the server thread %s runs on" % name)
        if r.via_odp:
            got = r.first_row(r.clients[name].run(
                ".text SELECT COUNT(*) FROM performance_schema.session_connect_attrs WHERE ATTR_NAME LIKE "
                "'\\_odp%%' AND PROCESSLIST_ID = (SELECT ID FROM information_schema.PROCESSLIST WHERE "
                "INFO LIKE '%%hyg-attr-%s%%')" % uniq()))
            if not got or got[0] != "0":
                r.failures.append("%s ran on a server connection presenting per-client _odp attributes (%s)" %
                                  (name, got[0] if got else None))

    def scenario(variant, same):
        def run(r):
            r.connect("A", attrs={"who": "A"})
            wa = r.where("A")
            attrs_of(r, "A", "A")
            before = handover(r, variant)
            who_b = "A" if same else "B"
            r.connect("B", attrs={"who": who_b})
            attrs_of(r, "B", who_b)
            if same:
                r.proof(wa, r.where("B"), variant == "disconnect", before)
            elif r.via_odp and wa is not None and wa == r.where("B"):
                r.failures.append("B (other attributes) ran on A's server connection %s" % (wa,))
            if variant == "idle":
                attrs_of(r, "A", "A")
        return run

    hosts = ("%", "localhost", "127.0.0.1")

    def setup():
        if L.root_sql("SELECT @@performance_schema").strip() != "1":
            raise MechanicsError("performance_schema is OFF on the sandbox servers (started before scripts/sandbox "
                                 "turned it on): scripts/sandbox down; scripts/sandbox up")
        on_every_server("; ".join("GRANT SELECT ON performance_schema.* TO 'app'@'%s'" % h for h in hosts))

    def cleanup():
        on_every_server("; ".join("REVOKE SELECT ON performance_schema.* FROM 'app'@'%s'" % h for h in hosts))
    return ({"%s/%s" % (v, "same" if same else "other"): (scenario(v, same), pool_for(v))
             for v in VARIANTS for same in (True, False)}, setup, cleanup)


def case15(protocol):
    if protocol != "binary":
        return {}
    t, p = tag(15, protocol) + "_t1", tag(15, protocol) + "_cursor"

    def stale_metadata(r):
        r.connect("A")
        r.q("A", "DROP TABLE IF EXISTS %s" % t)
        r.q("A", "CREATE TABLE %s (a INT)" % t, expect="^ok")
        r.q("A", "SELECT * FROM %s" % t, expect="columns 1:")
        r.q("A", "DROP TABLE %s" % t, expect="^ok")
        r.q("A", "CREATE TABLE %s (x INT, y INT)" % t, expect="^ok")
        r.q("A", "SELECT * FROM %s" % t, expect="columns 2:")
        r.q("A", "DROP TABLE %s" % t)

    def sql_mode_at_prepare(r):
        r.connect("A")
        r.q("A", "SET sql_mode = 'HIGH_NOT_PRECEDENCE'", expect="^ok")
        r.q("A", "SELECT NOT 1 BETWEEN 2 AND 3", expect="row: 0")
        r.q("A", "SET sql_mode = DEFAULT", expect="^ok")
        r.q("A", "SELECT NOT 1 BETWEEN 2 AND 3", expect="row: 1")

    def cursor_procedure(r):
        r.connect("A")
        r.q("A", "CALL %s()" % p, expect="row: 5")
        r.q("A", "SELECT 1", expect="row: 1")

    def long_statement(r):
        r.connect("A")
        for size in (63000, 66500):
            head = "SELECT %d AS n /* " % size
            r.q("A", head + "x" * (size - len(head) - 3) + " */", expect="row: %d" % size,
                label="a %d-byte statement padded with a comment" % size)
            ids = ", ".join(str(i) for i in range(100000, 100000 + size))
            head = "SELECT COUNT(*) FROM test.orders WHERE id IN (%d, " % ORDERS[0]
            body = ids[:size - len(head) - 1]
            body = body[:body.rindex(",")]
            r.q("A", head + body + ")", expect="row: 1", label="a %d-byte statement with a long IN list" % size)
            r.q("A", "SELECT 2", expect="row: 2")

    def kill_query(r):
        r.connect("T")
        r.connect("K")
        marker = uniq()
        r.send("T", "SELECT SLEEP(30) AS slept /* hyg-sleep-%s */" % marker)
        L.wait_for(lambda: any(_running(port, marker) for port in L.SERVER_PORTS), 10,
                   what="T's SELECT SLEEP(30) to run")
        t0 = time.monotonic()
        r.q("K", "KILL QUERY {{T_id}}", expect="^ok", label="KILL QUERY <T's connection id> (prepared)")
        got = r.collect("T", "T's SELECT SLEEP(30) after KILL QUERY", 12, expect="row: 1|ERROR 1317")
        if r.via_odp and "BLOCKED" not in got and time.monotonic() - t0 > 10:
            r.failures.append("the killed statement took %.1fs" % (time.monotonic() - t0))
        r.q("T", "SELECT 7", expect="row: 7")

    subs = {"a_stale_metadata": (stale_metadata, 1), "b_sql_mode_at_prepare": (sql_mode_at_prepare, 1),
            "c_cursor_procedure": (cursor_procedure, 1), "d_long_statement": (long_statement, 1),
            "e_kill_query": (kill_query, 4)}  # T's statement holds a connection while K's KILL runs
    setup = ["DROP PROCEDURE IF EXISTS %s" % p,
             "CREATE PROCEDURE %s() BEGIN DECLARE c CURSOR FOR SELECT 1; OPEN c; CLOSE c; SELECT 5; END" % p]
    return subs, setup, ["DROP PROCEDURE IF EXISTS %s" % p, "DROP TABLE IF EXISTS %s" % t]


def _running(port, marker):
    rows = L.query_all(None, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
                             "'%%hyg-sleep-%s%%' AND INFO NOT LIKE '%%PROCESSLIST%%'" % marker, port=port)
    return rows[0][0] > 0


def case16(protocol):
    t, v = tag(16, protocol) + "_t", tag(16, protocol) + "_v"

    def scenario(variant):
        def run(r):
            r.connect("A")
            wa = r.where("A")
            r.q("A", "SELECT CONNECTION_ID()", mask=True, expect=r"CONNECTION_ID\(\)\(type=3,")
            r.q("A", "SELECT CONNECTION_ID() = {{A_id}} AS mine", expect="row: 1", label="CONNECTION_ID() = A's handshake id")
            r.q("A", "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE id = CONNECTION_ID()", expect="row: 1")
            r.q("A", "CREATE TABLE %s AS SELECT CONCAT(CONNECTION_ID()) AS c1" % t, expect="^ok")
            r.q("A", "SHOW CREATE TABLE %s" % t, expect=r"`c1` varchar\(10\)")
            r.q("A", "CREATE VIEW %s AS SELECT CONNECTION_ID() AS c" % v, expect="^ok")
            r.q("A", "SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'test' AND "
                     "TABLE_NAME = '%s'" % v, expect="connection_id()")
            before = handover(r, variant)
            r.connect("B")
            # A view evaluates CONNECTION_ID() on the server: through a pooling proxy that is the
            # server thread's id, not the handshake's (odp rewrites only the client's own text). What
            # must hold: the view is not frozen to its creator's id.
            r.q("B", "SELECT c <> {{A_id}} AS not_creators FROM %s" % v, expect="row: 1",
                label="B selects the view: not A's id")
            r.proof(wa, r.where("B"), variant == "disconnect", before)
            if variant == "idle":
                r.q("A", "SELECT c <> {{B_id}} AS not_bs FROM %s" % v, expect="row: 1", label="A selects the view: not B's id")
            r.q("B", "DROP VIEW %s" % v)
            r.q("B", "DROP TABLE %s" % t)
        return run

    subs = {v_: (scenario(v_), pool_for(v_)) for v_ in VARIANTS}
    drop = ["DROP VIEW IF EXISTS %s" % v, "DROP TABLE IF EXISTS %s" % t]
    return subs, drop, drop


def case17(protocol):
    t = tag(17, protocol) + "_ext"

    def run(r):
        r.connect("A")
        wa = r.where("A")
        r.q("A", "SELECT j, a, u FROM %s" % t, expect="format=json.*xtype=inet6.*xtype=uuid")
        before = handover(r, "disconnect")
        r.connect("B")
        r.q("B", "SELECT j, a, u FROM %s" % t, expect="format=json.*xtype=inet6.*xtype=uuid")
        r.proof(wa, r.where("B"), True, before)

    setup = ["DROP TABLE IF EXISTS %s" % t, "CREATE TABLE %s (j JSON, a INET6, u UUID)" % t,
             "INSERT INTO %s VALUES ('{\"k\": 1}', '::1', '6ccd780c-baba-1026-9564-5b8c656024db')" % t]
    return {"json_inet6_uuid": (run, 1)}, setup, ["DROP TABLE IF EXISTS %s" % t]


def case20(protocol):
    # A client that leaves holding a lock frees it at once, as its own disconnect frees it on a
    # server: a pooled connection parked with A's transaction or lock would keep B waiting. B ties
    # itself to a connection of its own first (a transaction), so A's statements run on another.
    t = tag(20, protocol)
    holds = {
        "row_lock_in_transaction": (["BEGIN", "UPDATE %s SET v = v + 1 WHERE id = 1" % t],
                                    ["SET SESSION innodb_lock_wait_timeout = 3",
                                     "UPDATE %s SET v = v + 10 WHERE id = 1" % t], "^ok"),
        "get_lock": (["SELECT GET_LOCK('%s', 0)" % t], ["SELECT GET_LOCK('%s', 3)" % t], "row: 1"),
    }

    def scenario(take, ask, answer):
        def run(r):
            r.connect("B")
            r.q("B", "BEGIN", expect="^ok")
            r.q("B", "SELECT COUNT(*) FROM %s" % t, expect="row: 1")
            r.connect("A")
            for sql in take:
                r.q("A", sql, expect="^ok|row: 1")
            r.disconnect("A")
            time.sleep(0.3)
            for sql in ask:
                r.q("B", sql, expect=answer)
            r.q("B", "ROLLBACK", expect="^ok")
            r.q("B", "SELECT RELEASE_LOCK('%s')" % t, expect=r"row: (1|\\N)")
        return run

    subs = {name: (scenario(*h), 2) for name, h in holds.items()}
    setup = ["DROP TABLE IF EXISTS %s" % t, "CREATE TABLE %s (id INT PRIMARY KEY, v INT)" % t,
             "INSERT INTO %s VALUES (1, 0)" % t]
    return subs, setup, ["DROP TABLE IF EXISTS %s" % t]


CASES = {3: case3, 7: case7, 8: case8, 9: case9, 15: case15, 16: case16, 17: case17, 20: case20}

if __name__ == "__main__":
    sys.exit(main(CASES, __doc__, sys.argv))
