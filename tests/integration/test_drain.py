#!/usr/bin/python3
"""SIGTERM drains a private odp (docs/OPERATIONS.md "Signals and reload"): the listeners close at
once (new connections are refused), statements in flight finish, a transaction runs to its COMMIT,
clients between statements get ERROR 1053 for their next command, a statement still running at
listen.drain_timeout_ms gets ERROR 1053 and is killed on its server, and odp exits 0 within the
timeout plus a little slack, under sysbench load too. The sandbox's own odp is not touched: each
case starts its own odp against the sandbox servers."""
import contextlib
import re
import signal
import socket
import subprocess
import threading
import time

import pymysql

import odplib as L

DRAIN_MS = 3000
SLACK_S = 1.5
MARK = "odp-drain-test"  # in the statements whose server threads must be gone after the drain


def drained_odp(workers=2):
    return L.PrivateOdp({"listen": {"drain_timeout_ms": DRAIN_MS}}, workers=workers)


def sigterm_and_wait(p):
    """SIGTERM; returns the seconds until the process exited (fails past the promise)."""
    t0 = time.monotonic()
    p.proc.send_signal(signal.SIGTERM)
    try:
        p.proc.wait(DRAIN_MS / 1000.0 + 10)
    except subprocess.TimeoutExpired:
        raise AssertionError("odp still runs %.1fs after SIGTERM:\n%s" % (time.monotonic() - t0, p.stderr_tail()))
    took = time.monotonic() - t0
    L.check_eq(p.proc.returncode, 0, "odp's exit status after the drain")
    L.check(took <= DRAIN_MS / 1000.0 + SLACK_S, "odp exited %.2fs after SIGTERM (drain_timeout_ms=%d)" % (took, DRAIN_MS))
    return took


def refused(port):
    try:
        with socket.create_connection((L.HOST, port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def left_on_servers(where_sql):
    """Server threads (any sandbox server) matching where_sql, as 'port: command info' lines."""
    rows = []
    for i, port in enumerate(L.SERVER_PORTS, 1):
        out = L.root_sql("SELECT ID, COMMAND, IFNULL(INFO, '') FROM information_schema.PROCESSLIST WHERE " + where_sql,
                         server=i)
        rows += ["%d: %s" % (port, line) for line in out.splitlines() if line.strip()]
    return rows


def statement(conn, sql, result, key):
    def run():
        t0 = time.monotonic()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                result[key] = ("rows", cur.fetchall())
        except pymysql.err.MySQLError as e:
            result[key] = ("error", e.args[0], str(e.args[1]) if len(e.args) > 1 else "")
        result[key + "_s"] = time.monotonic() - t0
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def case_clients_see_their_statements_end_and_clean_errors():
    with contextlib.closing(L.connect()) as setup, setup.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS drain_t (id INT PRIMARY KEY, v INT)")
        cur.execute("DELETE FROM drain_t")
    p = drained_odp()
    try:
        busy = L.connect(port=p.port)      # SELECT SLEEP(1) in flight at the signal: gets its row
        idle = L.connect(port=p.port)      # between statements: 1053 for its next statement
        txn = L.connect(port=p.port)       # inside a transaction: runs to its COMMIT, then 1053
        long = L.connect(port=p.port)      # outlasts the drain: 1053 at the deadline
        for c in (busy, idle, txn, long):
            with c.cursor() as cur:
                cur.execute("SELECT 1")
        with txn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO drain_t VALUES (1, 1)")
        result = {}
        threads = [statement(busy, "SELECT SLEEP(1), '%s-busy'" % MARK, result, "busy"),
                   statement(long, "SELECT SLEEP(30), '%s-long'" % MARK, result, "long")]
        time.sleep(0.3)
        t0 = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        L.wait_for(lambda: refused(p.port), 2, what="the listener to close after SIGTERM")
        # The transaction goes on to its end after the signal.
        with txn.cursor() as cur:
            cur.execute("INSERT INTO drain_t VALUES (2, 2)")
            cur.execute("COMMIT")
        for t in threads:
            t.join(DRAIN_MS / 1000.0 + 10)
        try:
            p.proc.wait(DRAIN_MS / 1000.0 + 10)
        except subprocess.TimeoutExpired:
            raise AssertionError("odp still runs after the drain:\n" + p.stderr_tail())
        took = time.monotonic() - t0
        print("  odp exited %.2fs after SIGTERM; busy=%r long=%r" % (took, result.get("busy"), result.get("long")))
        L.check_eq(p.proc.returncode, 0, "odp's exit status")
        L.check(took <= DRAIN_MS / 1000.0 + SLACK_S, "exit %.2fs after SIGTERM" % took)
        L.check_eq(result.get("busy"), ("rows", ((0, MARK + "-busy"),)), "the statement in flight at SIGTERM")
        L.check(result.get("long", ("?",))[:2] == ("error", 1053), "the statement past the deadline: %r" %
                (result.get("long"),))
        L.check("listen.drain_timeout_ms" in result["long"][2], "1053's message says why: %r" % (result["long"],))
        L.check(result.get("long_s", 0) >= DRAIN_MS / 1000.0 - 0.5, "1053 came at the deadline, not before")

        def next_statement(c):
            try:
                with c.cursor() as cur:
                    cur.execute("SELECT 1")
                return ("rows",)
            except pymysql.err.MySQLError as e:
                return ("error", e.args[0])
        L.check_eq(next_statement(idle), ("error", 1053), "an idle client's next statement")
        L.check_eq(next_statement(txn), ("error", 1053), "the next statement after the COMMIT")
        with contextlib.closing(L.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT id FROM drain_t ORDER BY id")
            L.check_eq(cur.fetchall(), ((1,), (2,)), "the transaction committed during the drain")
        # Nothing of the drained odp runs on a server (the SLEEP(30) was killed at the deadline).
        left = left_on_servers("INFO LIKE CONCAT('%%', 'odp-drain', '-test%%')")
        L.check(not left, "server threads of the drained odp still running:\n" + "\n".join(left))
        text = p.log_text()
        L.check("drain: killing the statement cut at the deadline" in text, "the deadline's KILL logged")
    finally:
        p.stop(check=False)
        with contextlib.closing(L.connect()) as c, c.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS drain_t")


def sysbench_under_sigterm(script):
    db = "test_drain"
    with contextlib.closing(L.connect()) as c, c.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS " + db)
        cur.execute("CREATE DATABASE " + db)
    p = drained_odp()
    run = None
    try:
        base = ["sysbench", script, "--db-driver=mysql", "--mysql-host=%s" % L.HOST,
                "--mysql-port=%d" % p.port, "--mysql-user=app", "--mysql-password=app", "--mysql-db=" + db,
                "--tables=1", "--table-size=2000", "--mysql-ssl=off"]
        L.check(subprocess.run(base + ["prepare"], stdout=subprocess.DEVNULL, timeout=120).returncode == 0,
                "sysbench prepare")
        # Without --mysql-ignore-errors: sysbench 1.0.20 stops at its first error and prints it
        # (with it, its reconnect after a refused connect crashes sysbench itself).
        run = subprocess.Popen(base + ["run", "--threads=16", "--time=30", "--report-interval=0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Beside the load, a statement that outlasts the drain: the exit waits for the deadline.
        long = L.connect(port=p.port)
        result = {}
        t = statement(long, "SELECT SLEEP(30), '%s-load'" % MARK, result, "long")
        time.sleep(3)
        L.check(run.poll() is None, "sysbench runs through the private odp")
        took = sigterm_and_wait(p)
        t.join(5)
        long.close()
        L.check(result.get("long", ("?",))[:2] == ("error", 1053), "the long statement under load: %r" %
                (result.get("long"),))
        L.check(refused(p.port), "connections are refused after the drain")
        try:
            out = run.communicate(timeout=30)[0].decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            run.kill()
            out = run.communicate()[0].decode("utf-8", "replace")
        errors = [l.strip() for l in out.splitlines() if re.search(r"error|FATAL|malformed|out of order", l, re.I)
                  and "ignored errors" not in l]
        codes = {}
        for l in errors:
            m = re.search(r"error (\d+)", l)
            code = int(m.group(1)) if m else None
            codes[code] = codes.get(code, 0) + 1
        queries = re.search(r"queries:\s+(\d+)", out)
        print("  %s: odp exited %.2fs after SIGTERM; sysbench queries: %s; error lines by code: %s" %
              (script, took, queries.group(1) if queries else "?", codes))
        for l in errors[:20]:
            print("    " + l)
        L.check(run.returncode is not None and run.returncode >= 0, "sysbench ended by signal %s" % run.returncode)
        L.check(errors, "sysbench saw the drain (an error line):\n" + out[-3000:])
        # What a drain may tell a client: 1053 (shutting down), and what a client library says of
        # a connection that closed or is refused (2013 lost, 2006 gone, 2003 cannot connect).
        # Never a malformed packet (2027) or packets out of order (1156, 2041?): a truncated answer.
        bad = [l for l in errors if re.search(r"malformed|out of order|error (2027|1156)\b", l, re.I)
               or (re.search(r"error (\d+)", l) and int(re.search(r"error (\d+)", l).group(1))
                   not in (1053, 2013, 2006, 2003, 2002))]
        L.check(not bad, "clients saw broken answers during the drain:\n" + "\n".join(bad[:20]))
        left = left_on_servers("DB = '%s' AND COMMAND = 'Query'" % db)
        left += left_on_servers("INFO LIKE CONCAT('%%', 'odp-drain', '-test%%')")
        L.check(not left, "server threads of the drained odp still running:\n" + "\n".join(left))
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        p.stop(check=False)
        with contextlib.closing(L.connect()) as c, c.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS " + db)


def case_sysbench_point_selects_under_sigterm():
    sysbench_under_sigterm("oltp_point_select")


def case_sysbench_read_only_transactions_under_sigterm():
    # BEGIN ... COMMIT: each transaction in flight at the signal runs to its COMMIT.
    sysbench_under_sigterm("oltp_read_only")


def case_libmariadb_reads_the_1053():
    # The mariadb CLI (libmariadb) idle at the signal: its next statement reports 1053, never a
    # malformed packet (2027) or packets out of order. A compressed client with no command sent
    # yet gets the close alone (its frame numbering is its own): a lost connection, or a TLS EOF.
    for extra, want in (([], "ERROR 1053 (08S01)"), (["--ssl"], "ERROR 1053 (08S01)"),
                        (["--compress"], "ERROR 20")):
        p = drained_odp(workers=1)
        try:
            cli = subprocess.Popen(["mariadb", "--no-defaults", "-h" + L.HOST, "-P%d" % p.port, "-uapp", "-papp",
                                    "test", "-N", "-B"] + extra,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            cli.stdin.write(b"SELECT 1;\n")
            cli.stdin.flush()
            time.sleep(0.5)
            sigterm_and_wait(p)
            cli.stdin.write(b"SELECT 2;\n")
            cli.stdin.flush()
            out = cli.communicate(timeout=10)[0].decode("utf-8", "replace")
            print("  mariadb %s: %s" % (" ".join(extra) or "(plain)", out.strip().splitlines()[-1]))
            L.check(want in out, "mariadb %s after the drain said:\n%s" % (extra, out))
            L.check(not re.search(r"malformed|out of order|2027", out, re.I), "a broken answer: " + out)
        finally:
            p.stop(check=False)


CASES = [
    ("clients_see_their_statements_end_and_clean_errors", case_clients_see_their_statements_end_and_clean_errors),
    ("libmariadb_reads_the_1053", case_libmariadb_reads_the_1053),
    ("sysbench_point_selects_under_sigterm", case_sysbench_point_selects_under_sigterm),
    ("sysbench_read_only_transactions_under_sigterm", case_sysbench_read_only_transactions_under_sigterm),
]

if __name__ == "__main__":
    raise SystemExit(L.run_cases(CASES))
