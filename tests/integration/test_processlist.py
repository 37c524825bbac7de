#!/usr/bin/python3
"""SHOW [FULL] PROCESSLIST through odp lists odp's client sessions with the ids KILL takes (as a
server lists its threads): a client that finds its own row and hands the id to KILL ends its own
session, never another client's. Each case also runs directly against s1 as the reference.
(Drivers' own suites do exactly this: PyMySQL's test_issue_36.)"""
import contextlib
import random
import sys
import threading
import time

import pymysql

import odplib as L


def connect(target, **kw):
    # Text columns as bytes: a server's own list holds other clients' statements in any encoding.
    return L.connect(target, use_unicode=False, **kw)


def text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def own_row_then_kill(target):
    """Finds the victim's own row by its statement, checks the id, KILLs it from another session."""
    victim = connect(target)
    killer = connect(target)
    marker = "processlist-victim-%d-%s" % (random.randrange(1 << 30), "p" * 120)
    sql = "SHOW PROCESSLIST /* %s */" % marker
    try:
        with victim.cursor() as cur:
            cur.execute(sql)
            cols = [d[0] for d in cur.description]
            rows = [tuple(map(text, r)) for r in cur.fetchall()]
            cur.execute("SHOW FULL " + sql[len("SHOW "):])
            full = [tuple(map(text, r)) for r in cur.fetchall() if r[7] and marker.encode() in r[7]]
        L.check_eq(cols[:8], ["Id", "User", "Host", "db", "Command", "Time", "State", "Info"], target + ": columns")
        # Without FULL, Info is the statement's first 100 characters.
        mine = [r for r in rows if r[7] == sql[:100]]
        L.check_eq(len(mine), 1, target + ": rows showing this statement")
        row = mine[0]
        L.check(isinstance(row[0], int), "%s: the id is an integer column: %r" % (target, row[0]))
        L.check_eq(row[0], victim.thread_id(), target + ": the row's id is the connection's id")
        L.check_eq(row[1], L.USER.split("@")[0], target + ": user")
        L.check_eq(row[3], L.DB, target + ": db")
        L.check_eq(row[4], "Query", target + ": command of the running session")
        L.check_eq([(r[0], r[7]) for r in full], [(row[0], "SHOW FULL " + sql[len("SHOW "):])],
                   target + ": the whole statement with FULL")
        with victim.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            L.check_eq(cur.fetchone()[0], row[0], target + ": CONNECTION_ID() is the listed id")
        def victim_as_killer_sees_it():
            with killer.cursor() as cur:
                cur.execute("SHOW FULL PROCESSLIST")
                return [(r[4], r[7]) for r in (tuple(map(text, r)) for r in cur.fetchall()) if r[0] == row[0]]
        # A server marks its thread idle just after it sent the answer, so the killer may catch the
        # victim's row as Query for a moment: wait (bounded) for Sleep, then check the row.
        L.wait_for(lambda: victim_as_killer_sees_it() == [("Sleep", None)], 5,
                   what=target + ": the idle victim to show as Sleep")
        L.check_eq(victim_as_killer_sees_it(), [("Sleep", None)], target + ": the idle victim as another sees it")
        killer.kill(row[0])
        with victim.cursor() as cur:
            try:
                cur.execute("SELECT 1")
                raise AssertionError("%s: the killed session still answers" % target)
            except pymysql.err.OperationalError as e:
                print("  %s: killed session -> %r" % (target, e.args[:1]))

        def gone():
            with killer.cursor() as cur:
                cur.execute("SHOW PROCESSLIST")
                return all(r[0] != row[0] for r in cur.fetchall())
        L.wait_for(gone, 10, what="%s: the killed session to leave the list" % target)
        with killer.cursor() as cur:
            cur.execute("SELECT 1")
            L.check_eq(cur.fetchall(), ((1,),), target + ": the killer still serves")
    finally:
        for c in (victim, killer):
            with contextlib.suppress(Exception):
                c.close()


def case_own_row_then_kill():
    for target in ("direct", "odp"):
        own_row_then_kill(target)


def case_a_running_statement_shows_with_its_time():
    # A statement that runs shows as Query with its text and a growing Time, from another session.
    for target in ("direct", "odp"):
        sleeper = connect(target)
        watcher = connect(target)
        sql = "SELECT SLEEP(3) /* processlist-sleeper */"
        runner = threading.Thread(target=lambda: sleeper.cursor().execute(sql), daemon=True)
        try:
            runner.start()
            deadline = time.monotonic() + 10
            seen = None
            while time.monotonic() < deadline:
                with watcher.cursor() as cur:
                    cur.execute("SHOW FULL PROCESSLIST")
                    seen = [tuple(map(text, r)) for r in cur.fetchall() if r[0] == sleeper.thread_id()]
                if seen and seen[0][4] == "Query" and seen[0][5] >= 1:
                    break
                time.sleep(0.2)
            L.check(seen and seen[0][4] == "Query" and seen[0][7] == sql and seen[0][5] >= 1,
                    "%s: the running statement as listed: %r" % (target, seen))
        finally:
            runner.join(10)
            for c in (sleeper, watcher):
                with contextlib.suppress(Exception):
                    c.close()


def case_other_users_sessions_are_not_listed():
    # odp lists a user's own sessions only (as a server does for a user without PROCESS).
    other = connect("odp", user="app2", password="app2")
    try:
        with contextlib.closing(connect("odp")) as c, c.cursor() as cur:
            cur.execute("SHOW PROCESSLIST")
            rows = [tuple(map(text, r)) for r in cur.fetchall()]
        L.check(all(r[1] == L.USER for r in rows), "only %s's sessions: %r" % (L.USER, rows))
        L.check(all(r[0] != other.thread_id() for r in rows), "app2's session is not listed: %r" % (rows,))
        with other.cursor() as cur:
            cur.execute("SHOW PROCESSLIST")
            L.check_eq([r[0] for r in cur.fetchall()], [other.thread_id()], "app2 sees itself only")
    finally:
        other.close()


def case_proxysys_lists_every_users_sessions():
    # root@proxysys sees every user's sessions, busy or idle, with the ids its `kill` takes.
    app, app2 = connect("odp"), connect("odp", user="app2", password="app2")
    sleeper = connect("odp")
    sql = "SELECT SLEEP(2) /* proxysys-sees-this */"
    runner = threading.Thread(target=lambda: sleeper.cursor().execute(sql), daemon=True)
    try:
        runner.start()
        with contextlib.closing(connect("odp", user="root@proxysys", password="", database=None)) as adm:
            def rows():
                with adm.cursor() as cur:
                    cur.execute("SHOW FULL PROCESSLIST")
                    return {r[0]: tuple(map(text, r)) for r in cur.fetchall()}
            listed = L.wait_for(lambda: (lambda r: r if r.get(sleeper.thread_id(), ())[4:5] == ("Query",) else None)(rows()),
                                5, what="the sleeper to show as Query")
            L.check_eq(listed[app.thread_id()][1], L.USER.split("@")[0], "app's session, as app")
            L.check_eq(listed[app.thread_id()][4], "Sleep", "app's idle session")
            L.check_eq(listed[app2.thread_id()][1], "app2", "app2's session too")
            L.check_eq(listed[sleeper.thread_id()][7], sql, "the running statement, whole")
            with adm.cursor() as cur:
                cur.execute("KILL %d" % app2.thread_id())
            L.wait_for(lambda: app2.thread_id() not in rows(), 5, what="the killed session to leave the list")
        L.check(not alive(app2), "app2's session was killed")
        L.check(alive(app), "app's session lives")
    finally:
        runner.join(10)
        for c in (app, app2, sleeper):
            with contextlib.suppress(Exception):
                c.close()


def case_a_server_thread_id_killed_through_odp_finds_nobody():
    # Someone reads a thread id from the server's own list (information_schema.PROCESSLIST) and
    # KILLs it through odp: odp reads its ids only, and they never look like a server's (they start
    # at 1000000001), so the KILL finds nobody instead of ending some other client of odp's.
    victim, killer = connect("odp"), connect("odp")
    try:
        marker = "server-thread-of-victim-%d" % random.randrange(1 << 30)
        with victim.cursor() as cur:
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%%%s%%' "
                        "AND INFO LIKE 'SELECT ID%%'" % marker)
            server_ids = [r[0] for r in cur.fetchall()]
        L.check_eq(len(server_ids), 1, "the victim's server thread, as the server lists it")
        L.check(victim.thread_id() > 1000000000 and killer.thread_id() > 1000000000,
                "odp's ids stand apart from a server's: %d, %d" % (victim.thread_id(), killer.thread_id()))
        with killer.cursor() as cur:
            try:
                cur.execute("KILL %d" % server_ids[0])
                raise AssertionError("a KILL of server thread %d through odp found a session" % server_ids[0])
            except pymysql.err.OperationalError as e:
                L.check_eq(e.args, (1094, "Unknown thread id: %d" % server_ids[0]), "KILL of a server's id")
        L.check(alive(victim), "the victim lives")
        L.check(alive(killer), "the killer lives")
    finally:
        for c in (victim, killer):
            with contextlib.suppress(Exception):
                c.close()


def multi(target):
    return connect(target, client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)


def alive(conn):
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchall() == ((1,),)
    except pymysql.err.MySQLError:
        return False


def case_kill_first_in_a_multi_statement():
    # Drivers' own suites do this (node mysql2's test-pool-disconnect: `kill ?; select sleep(0.05)`).
    # Sent to a server as text, odp's id would name some server thread: another client's, or none.
    for target in ("direct", "odp"):
        victim, bystander, killer = connect(target), connect(target), multi(target)
        try:
            with killer.cursor() as cur:
                cur.execute("KILL %d; SELECT 7 AS after_the_kill" % victim.thread_id())
                L.check_eq(cur.fetchall(), (), target + ": the KILL's own result (an OK)")
                L.check(cur.nextset(), target + ": a second result follows the KILL")
                L.check_eq(cur.fetchall(), ((7,),), target + ": the statement after the KILL ran")
                L.check_eq(cur.nextset(), None, target + ": two results")
            L.wait_for(lambda: not alive(victim), 5, what=target + ": the victim to be killed")
            L.check(alive(bystander), target + ": the bystander lives")
            L.check(alive(killer), target + ": the killer lives")
            # A KILL of an id nobody has: the server's error, and nothing after it runs.
            with killer.cursor() as cur:
                try:
                    cur.execute("KILL 4000000000; SELECT 8")
                    raise AssertionError(target + ": a KILL of nobody succeeded")
                except pymysql.err.OperationalError as e:
                    L.check_eq(e.args, (1094, "Unknown thread id: 4000000000"), target + ": KILL of nobody")
            L.check(alive(killer), target + ": the killer lives after its failed KILL")
        finally:
            for c in (victim, bystander, killer):
                with contextlib.suppress(Exception):
                    c.close()


def case_kill_after_the_first_statement_is_refused_whole():
    # odp would have to split the text to run the KILL in its place: it refuses the whole text
    # before any of it runs (directly the server would run both; odp differs, by design and loudly).
    victim, killer = connect("odp"), multi("odp")
    try:
        with killer.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS kill_multi_probe (a INT)")
            try:
                cur.execute("INSERT INTO kill_multi_probe VALUES (1); KILL %d" % victim.thread_id())
                raise AssertionError("odp ran a multi-statement with a KILL after its first statement")
            except pymysql.err.MySQLError as e:
                L.check_eq(e.args[0], 1235, "the error code: %r" % (e.args,))
                L.check("KILL" in e.args[1], "the message names KILL: %r" % (e.args,))
            cur.execute("SELECT COUNT(*) FROM kill_multi_probe")
            L.check_eq(cur.fetchall(), ((0,),), "nothing of the refused text ran")
        L.check(alive(victim), "the victim lives")
        L.check(alive(killer), "the killer still serves")
    finally:
        for c in (victim, killer):
            with contextlib.suppress(Exception):
                c.close()


if __name__ == "__main__":
    sys.exit(L.run_cases([
        ("own_row_then_kill", case_own_row_then_kill),
        ("a_running_statement_shows_with_its_time", case_a_running_statement_shows_with_its_time),
        ("other_users_sessions_are_not_listed", case_other_users_sessions_are_not_listed),
        ("proxysys_lists_every_users_sessions", case_proxysys_lists_every_users_sessions),
        ("a_server_thread_id_killed_through_odp_finds_nobody", case_a_server_thread_id_killed_through_odp_finds_nobody),
        ("kill_first_in_a_multi_statement", case_kill_first_in_a_multi_statement),
        ("kill_after_the_first_statement_is_refused_whole", case_kill_after_the_first_statement_is_refused_whole),
    ], sys.argv[1:]))
