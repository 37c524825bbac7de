"""JDBC batch insert (part "jdbc"): MariaDB Connector/J inserts BENCH_JDBC_ROWS rows in one
executeBatch() (autocommit off, one commit), with useBulkStmts=false (one COM_STMT_EXECUTE per row,
pipelined) and true (MariaDB's bulk protocol), directly to s1 and through odp. The Java side is the
JDBC suite's harness (tests/integration/jdbc, `OdpJdbc bench`), run by tests/integration/test_jdbc.py
bench, which compiles it on first use. Skipped, with a line saying so, when there is no JDK or driver.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

import mysqlwire as W
from benchcommon import BUILD, HOST, ROOT, SERVER_PORT, env_int, log, proc_cpu

ROWS = env_int("BENCH_JDBC_ROWS", 100000)
JAR = os.environ.get("ODP_JDBC_JAR", "/usr/share/java/mariadb-java-client.jar")
SCRIPT = os.path.join(ROOT, "tests", "integration", "test_jdbc.py")
LINE = re.compile(r"^bench jdbc_batch target=(\w+) useBulkStmts=(\w+) (.*)$")
PIPELINE_STATEMENTS = 5000
MARIADB_CLIENT_STMT_BULK_OPERATIONS = 1 << 2  # MariaDB's extended capabilities (greeting bytes 19-22 of the filler)


def bulk_capability(port):
    """True when the greeting offers MariaDB's bulk protocol (what useBulkStmts needs), None if unreadable."""
    try:
        with socket.create_connection((HOST, port), timeout=5) as s:
            hdr = s.recv(4)
            n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
            p = b""
            while len(p) < n:
                chunk = s.recv(n - len(p))
                if not chunk:
                    return None
                p += chunk
        i = p.index(b"\0", 1) + 1 + 4 + 8 + 1
        caps = struct.unpack("<H", p[i:i + 2])[0] | struct.unpack("<H", p[i + 5:i + 7])[0] << 16
        ext = struct.unpack("<I", p[i + 14:i + 18])[0]
        # CLIENT_MYSQL (bit 0) set: a MySQL server, no MariaDB extended capabilities.
        return not (caps & 1) and bool(ext & MARIADB_CLIENT_STMT_BULK_OPERATIONS)
    except (OSError, ValueError, struct.error, IndexError):
        return None


def pipelined_us(port, pipelined):
    """µs per `DO 1` when the client sends them all before reading (as Connector/J sends a batch's
    executes), or one after the other's answer."""
    c = W.Conn(HOST, port, "app", "app", "test")
    try:
        t0 = time.monotonic()
        if pipelined:
            c.sock.sendall(b"".join(W.frame(0, b"\x03DO 1") for _ in range(PIPELINE_STATEMENTS)))
            for _ in range(PIPELINE_STATEMENTS):
                c.read_packet()
        else:
            for _ in range(PIPELINE_STATEMENTS):
                c.sock.sendall(W.frame(0, b"\x03DO 1"))
                c.read_packet()
        return (time.monotonic() - t0) / PIPELINE_STATEMENTS * 1e6
    finally:
        c.close()


def explain(odp, md):
    """Two facts that bound a batch through a proxy: whether the bulk protocol is offered, and
    whether pipelined commands overlap."""
    caps = {name: bulk_capability(port) for name, port in (("direct", SERVER_PORT), ("odp", odp.port))}
    word = {True: "yes", False: "no", None: "?"}
    md.append("Bulk protocol offered in the greeting (MARIADB_CLIENT_STMT_BULK_OPERATIONS; without it "
              "Connector/J sends `useBulkStmts=true` batches as single executes): direct %s, odp %s.\n"
              % (word[caps["direct"]], word[caps["odp"]]))
    rows = []
    for name, port in (("direct", SERVER_PORT), ("odp", odp.port)):
        try:
            rows.append((name, pipelined_us(port, True), pipelined_us(port, False)))
        except Exception as e:  # noqa: BLE001
            rows.append((name, float("nan"), float("nan")))
            log("jdbc: pipelining probe on %s failed: %r" % (name, e))
    md.append("Pipelining, %d × `DO 1` on one connection, sent all at once vs each after the previous answer "
              "(a proxy that overlaps pipelined commands keeps the first well below the second):\n"
              % PIPELINE_STATEMENTS)
    md.append("| path | pipelined | one by one | pipelined / one by one |")
    md.append("|---|---|---|---|")
    for name, a, b in rows:
        md.append("| %s | %.1f µs | %.1f µs | %.2f |" % (name, a, b, a / b if b == b and b else float("nan")))
        log("jdbc: %s pipelined %.1f us/stmt, one by one %.1f us/stmt" % (name, a, b))
    md.append("")


def part(proxies, md):
    md.append("### JDBC batch insert of %d rows (MariaDB Connector/J, one executeBatch, one commit)\n" % ROWS)
    missing = [x for x in ("java", "javac") if not shutil.which(x)]
    if missing or not os.path.isfile(JAR) or not os.path.isfile(SCRIPT):
        why = ("no %s" % "/".join(missing)) if missing else ("no driver jar %s" % JAR if not os.path.isfile(JAR)
                                                             else "no %s" % SCRIPT)
        md.append("skipped: %s (install default-jdk-headless and libmariadb-java: scripts/setup)\n" % why)
        log("jdbc skipped: %s" % why)
        return
    if "odp" not in proxies:
        md.append("skipped: odp is not running\n")
        return
    odp = proxies["odp"]
    env = dict(os.environ, ODP_PORT=str(odp.port), ODP_DIRECT_PORT=str(SERVER_PORT), ODP_BUILD_DIR=BUILD,
               ODP_IT_RUN_TIMEOUT="900")
    before = proc_cpu(odp.pid)
    p = subprocess.run([sys.executable, SCRIPT, "bench", str(ROWS)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, timeout=1000)
    after = proc_cpu(odp.pid)
    out = p.stdout.decode("utf-8", "replace")
    rows = {}
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m:
            kv = dict(x.split("=", 1) for x in m.group(3).split() if "=" in x)
            rows[(m.group(1), m.group(2))] = kv
            log("jdbc %s useBulkStmts=%s %s" % (m.group(1), m.group(2), m.group(3)))
    if not rows:
        md.append("**failed** (exit %d): `%s`\n" % (p.returncode, out.strip()[-500:].replace("\n", " ")))
        return
    md.append("| useBulkStmts | direct | odp | odp / direct (time) | rows/s direct | rows/s odp | notes |")
    md.append("|---|---|---|---|---|---|---|")
    for bulk in ("false", "true"):
        d, o = rows.get(("direct", bulk), {}), rows.get(("odp", bulk), {})
        notes = "; ".join("%s: %s" % (t, kv.get("error") or "WRONG_ROW_COUNT=" + kv["WRONG_ROW_COUNT"])
                          for t, kv in (("direct", d), ("odp", o)) if "error" in kv or "WRONG_ROW_COUNT" in kv)
        dm, om = d.get("ms"), o.get("ms")
        ratio = "%.2f" % (int(om) / int(dm)) if dm and om and int(dm) > 0 else "–"
        md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            bulk, (dm + " ms") if dm else "–", (om + " ms") if om else "–", ratio, d.get("rows_per_s", "–"),
            o.get("rows_per_s", "–"), notes[:300]))
    md.append("\nodp's CPU over the four runs (two of them through odp): %.2f s user + %.2f s sys. Exit status %d.\n"
              % (after[0] - before[0], after[1] - before[1], p.returncode))
    explain(odp, md)
