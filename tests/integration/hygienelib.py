"""The machinery of test_session_hygiene.py: clients that stay connected and take turns, and a
scenario run twice, directly against one server (the reference) and through a private odp, whose
observations must be equal.

A scenario is a function of a Run. It connects named clients (each a c_client in script mode, or
pymysql), runs statements on them in order, and every answer becomes an observation: the
statement's text and what the client printed (columns with their types, rows, OK, ERROR). The
reference run connects every client to the first sandbox server directly, so "A" and "B" are two
real sessions; the odp run connects them to a private odp with one worker and at most
`pool_max` server connections per server, so B gets the connection A used whenever odp put it
back in the pool. Observations that must differ between the runs (ids, ports) are not compared:
probes (`where`, `port_of`) and masked values serve as the proof of sharing and routing instead.

Through odp a scenario also proves that the case tested something: `proof()` compares the server
thread B ran on with A's (and the pool's reuse counter); if B did not get A's connection while it
stayed open and idle in the pool, the case fails as proving nothing.

Mechanics check: with ODP_TEST_NO_METRICS=1 and ODP_PORT set to a sandbox server's port, the
"odp" run goes to that server directly (no private odp, no proofs), so every case must pass;
a failure through odp is then odp's.
"""

import os
import re
import select
import subprocess
import time
import uuid

import pymysql

import odplib as L

STEP_TIMEOUT_S = float(os.environ.get("ODP_HYGIENE_STEP_TIMEOUT", "15"))
MECHANICS = L.NO_METRICS and L.ODP_PORT in L.SERVER_PORTS
_DONE = re.compile(rb"(?:^|\n)\.done\n")


class MechanicsError(AssertionError):
    """The reference run did not behave as the case expects: the test itself is wrong."""


def short(sql, n=90):
    sql = " ".join(sql.split())
    return sql if len(sql) <= n else sql[:n - 20] + "..." + sql[-15:] + " (%d bytes)" % len(sql)


class CClient:
    """odp_it_c_client in script mode: one session, one command a line, answers end with .done."""

    def __init__(self, binary, port, protocol, user, password, db, attrs=None, charset=None):
        env = dict(os.environ)
        env.pop("C_CLIENT_ATTRS", None)
        if attrs:
            env["C_CLIENT_ATTRS"] = ",".join("%s=%s" % kv for kv in attrs.items())
        if charset:
            env["C_CLIENT_CHARSET"] = charset
        self.proc = subprocess.Popen([binary, L.HOST, str(port), user, password, db or "", "script",
                                      "--" + protocol], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        self.buf = b""
        self.pending = 1  # the login's answer
        self.dead = None
        self.thread_id = None
        first = self.answer(STEP_TIMEOUT_S)
        if first is None:
            self.kill()
            self.dead = "login: no answer within %ds" % STEP_TIMEOUT_S
            self.login_answer = "BLOCKED: " + self.dead
            return
        m = re.match(r"connected thread_id=(\d+)", first)
        if m:
            self.thread_id = int(m.group(1))
            self.login_answer = "connected"
        else:
            self.login_answer = first
            self.dead = "login failed: " + first
            self.kill()

    def send(self, line):
        if self.dead:
            return False
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            self.dead = "client gone: %r" % e
            return False
        self.pending += 1
        return True

    def answer(self, timeout):
        """The oldest answer not read yet, or None if it did not come within timeout (seconds)."""
        end = time.monotonic() + timeout
        while True:
            m = _DONE.search(self.buf)
            if m:
                text = self.buf[:m.start()].decode("utf-8", "replace")
                self.buf = self.buf[m.end():]
                self.pending -= 1
                return text
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                try:
                    rc = self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    rc = "?"
                text = self.buf.decode("utf-8", "replace") + "\nCLIENT EXITED (status %s)" % rc
                self.buf = b""
                self.pending = 0
                self.dead = "client exited (status %s)" % rc
                return text.strip()
            self.buf += chunk

    def run(self, line, timeout=STEP_TIMEOUT_S):
        if self.dead:
            return "NOT CONNECTED (%s)" % self.dead
        if self.pending:
            raise MechanicsError("a statement's answer was not collected before the next one")
        if not self.send(line):
            return "NOT CONNECTED (%s)" % self.dead
        text = self.answer(timeout)
        if text is None:
            self.kill()
            self.dead = "killed after a statement hung"
            return "BLOCKED: no answer within %gs" % timeout
        return text

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        """COM_QUIT and exit; an answer still outstanding (a statement that hangs) kills it."""
        if not self.dead and not self.pending and self.send(".quit"):
            self.answer(5)
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self.dead = self.dead or "disconnected"


class PyClient:
    """python3-pymysql (text protocol), printing what it got in the same form as CClient."""

    def __init__(self, port, user, password, db, charset="utf8mb4"):
        self.dead = None
        self.pending = 0
        self.thread_id = None
        try:
            self.conn = pymysql.connect(host=L.HOST, port=port, user=user, password=password, database=db,
                                        charset=charset, autocommit=True, connect_timeout=10,
                                        read_timeout=int(STEP_TIMEOUT_S))
            self.thread_id = self.conn.thread_id()
            self.login_answer = "connected"
        except pymysql.err.MySQLError as e:
            self.dead = "login failed: %r" % (e.args,)
            self.login_answer = "ERROR %s" % (e.args,)

    def run(self, line, timeout=STEP_TIMEOUT_S):
        if self.dead:
            return "NOT CONNECTED (%s)" % self.dead
        if line.startswith(".text "):
            line = line[6:]
        out = []
        try:
            with self.conn.cursor() as cur:
                cur.execute(line)
                while True:
                    if cur.description:
                        out.append("columns %d: %s" % (len(cur.description), " ".join(
                            "%s(type=%d)" % (d[0], d[1]) for d in cur.description)))
                        rows = cur.fetchall()
                        for row in rows:
                            out.append("row: " + " ".join("\\N" if v is None else str(v) for v in row))
                        out.append("rows %d" % len(rows))
                    else:
                        out.append("ok affected=%d insert_id=%d" % (cur.rowcount, cur.lastrowid or 0))
                    if not cur.nextset():
                        break
        except pymysql.err.MySQLError as e:
            code = e.args[0] if e.args else "?"
            out.append("ERROR %s %s" % (code, e.args[1] if len(e.args) > 1 else ""))
            if isinstance(e, (pymysql.err.InterfaceError,)) or code in (2006, 2013, 2014):
                self.dead = "connection lost: %r" % (e.args,)
        return "\n".join(out)

    def close(self):
        if not self.dead:
            try:
                self.conn.close()
            except pymysql.err.MySQLError:
                pass
        self.dead = self.dead or "disconnected"


class Run:
    """One run of a scenario against one target: "direct" (the reference), "odp", or "server"
    (the mechanics check: ODP_PORT is a server)."""

    def __init__(self, unit, target, port, protocol, binary, odp=None):
        self.unit = unit
        self.target = target
        self.port = port
        self.protocol = protocol  # text | binary | pymysql
        self.binary = binary
        self.odp = odp
        self.clients = {}
        self.obs = []
        self.vars = {}
        self.notes = []
        self.failures = []  # what only odp can get wrong (no reference to compare with)

    @property
    def via_odp(self):
        return self.target == "odp"

    def fill(self, sql):
        return re.sub(r"\{\{(\w+)\}\}", lambda m: str(self.vars[m.group(1)]), sql)

    def connect(self, name, user=L.USER, password=L.PASSWORD, db=L.DB, protocol=None, attrs=None, charset=None):
        protocol = protocol or self.protocol
        if protocol == "pymysql":
            c = PyClient(self.port, user, password, db, charset or "utf8mb4")
        else:
            c = CClient(self.binary, self.port, "prepared" if protocol == "binary" else "text", user, password, db,
                        attrs, charset)
        self.clients[name] = c
        self.vars[name + "_id"] = c.thread_id
        self.obs.append(("%s: login as %s" % (name, user), c.login_answer))
        return c

    def q(self, name, sql, expect=None, timeout=STEP_TIMEOUT_S, mask=False, observe=True, label=None):
        """Runs sql on client `name`; the answer is an observation. `expect`: a regular expression
        the reference run's answer must match (checks the case itself). `mask`: row values are not
        compared (ids that differ by nature), only the rest (column names and types)."""
        text = self.fill(sql)
        c = self.clients.get(name)
        got = c.run(text, timeout) if c is not None else "NOT CONNECTED"
        if mask:
            got = re.sub(r"^row:.*$", "row: (masked)", got, flags=re.M)
        if observe:
            self.obs.append(("%s: %s" % (name, label or short(sql)), got))
        if expect is not None and self.target == "direct" and not re.search(expect, got):
            raise MechanicsError("%s: directly, %s: %s answered %r; the case expects /%s/" %
                                 (self.unit, name, short(text), got[:500], expect))
        return got

    def send(self, name, sql):
        """Sends without waiting for the answer (collect() reads it)."""
        c = self.clients[name]
        if not c.send(self.fill(sql)):
            self.obs.append(("%s: send %s" % (name, short(sql)), "NOT CONNECTED (%s)" % c.dead))

    def collect(self, name, label, timeout, expect=None):
        c = self.clients[name]
        got = c.answer(timeout) if c.pending else "NOT CONNECTED (%s)" % c.dead
        if got is None:
            c.kill()
            c.dead = "killed after a statement hung"
            got = "BLOCKED: no answer within %gs" % timeout
        self.obs.append(("%s: %s" % (name, label), got))
        if expect is not None and self.target == "direct" and not re.search(expect, got):
            raise MechanicsError("%s: directly, %s: %s answered %r; the case expects /%s/" %
                                 (self.unit, name, label, got[:500], expect))
        return got

    def disconnect(self, name):
        c = self.clients.pop(name, None)
        if c is not None:
            c.close()

    def close_all(self):
        for name in list(self.clients):
            self.disconnect(name)

    @staticmethod
    def first_row(text):
        for line in text.splitlines():
            if line.startswith("row: "):
                return line[5:].split(" ")
        return None

    def where(self, name):
        """(server port, server thread id) of the connection this client's next statement runs on."""
        tag = "hyg-whoami-" + uuid.uuid4().hex
        c = self.clients.get(name)
        if c is None:
            return None
        row = self.first_row(c.run(".text SELECT @@port, ID FROM information_schema.PROCESSLIST "
                                   "WHERE INFO LIKE '%%%s%%'" % tag))
        return (int(row[0]), int(row[1])) if row and len(row) == 2 and row[1] != "\\N" else None

    def port_of(self, name, table, key):
        """The server a statement on table `table` with id = key runs on for this client."""
        c = self.clients.get(name)
        row = self.first_row(c.run(".text SELECT @@port FROM test.%s WHERE id = %d" % (table, key))) if c else None
        return int(row[0]) if row else None

    def reuses(self):
        if not self.via_odp:
            return 0
        return self.odp.metrics().get("odp_pool_reuses_total", 0)

    def proof(self, a, b, a_left, reuses_before):
        """Through odp: records whether B ran on A's server connection (a, b from where()). When it
        did not although A's connection is still open (and A left, so nothing may hold it), the
        case proved nothing: fail."""
        if not self.via_odp:
            return
        shared = a is not None and a == b
        reused = self.reuses() - reuses_before
        self.notes.append("B %s A's server connection %s (pool reuses +%d)" %
                          ("shared" if shared else "did not share", a, reused))
        if shared and reused <= 0:
            raise MechanicsError("%s: B ran on A's server connection %s but odp_pool_reuses_total did not grow" %
                                 (self.unit, a))
        if not shared and a is not None and a_left and server_thread_alive(*a):
            raise MechanicsError("%s: A left, its server connection %s stayed open, yet B ran on %s: the pool "
                                 "did not hand it over, so the case proves nothing" % (self.unit, a, b))

    def routes(self, ports, what):
        """Through odp: the statements of `what` reached more than one server (else they prove nothing)."""
        if not self.via_odp:
            return
        seen = sorted(p for p in set(ports) if p)
        self.notes.append("%s ran on %s" % (what, seen))
        # None seen: the statements failed, which the comparison reports.
        if len(seen) == 1:
            raise MechanicsError("%s: %s reached only %s through odp" % (self.unit, what, seen))


def server_thread_alive(port, thread_id):
    index = L.SERVER_PORTS.index(port) + 1
    out = L.root_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d" % thread_id, index)
    return out.strip() == "1"


def odp_log_lines(odp, pattern=r" (WARN|ERROR) ", limit=12):
    out = []
    logdir = os.path.join(odp.dir, "log")
    try:
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), "rb") as f:
                for line in f.read().decode("utf-8", "replace").splitlines():
                    if re.search(pattern, line):
                        out.append(line)
    except OSError:
        pass
    return out[-limit:]


class Outcome:
    def __init__(self, unit):
        self.unit = unit
        self.diffs = []
        self.notes = []
        self.odp_log = []

    @property
    def passed(self):
        return not self.diffs


def _differing_lines(want, got, limit=400):
    """The lines of two answers that differ (the whole answers when their shapes differ)."""
    wl, gl = want.splitlines(), got.splitlines()
    if len(wl) == len(gl):
        pairs = [(a, b) for a, b in zip(wl, gl) if a != b]
        wl, gl = [a for a, _ in pairs], [b for _, b in pairs]
    return " | ".join(wl)[:limit], " | ".join(gl)[:limit]


def compare(unit, protocol, binary, scenario, pool_max=1, pool_extra=None):
    """Runs `scenario` directly, then through a private odp (or ODP_PORT in the mechanics check)
    whose [pool] has max_server_connections = pool_max and `pool_extra`; returns an Outcome
    listing the observations that differ."""
    out = Outcome(unit)
    direct = Run(unit, "direct", L.DIRECT_PORT, protocol, binary)
    try:
        scenario(direct)
    finally:
        direct.close_all()
    if MECHANICS:
        other = Run(unit, "server", L.ODP_PORT, protocol, binary)
        try:
            scenario(other)
        finally:
            other.close_all()
    else:
        odp = L.start_private_odp({"pool": dict({"max_server_connections": pool_max}, **(pool_extra or {}))},
                                  workers=1)
        try:
            other = Run(unit, "odp", odp.port, protocol, binary, odp)
            try:
                scenario(other)
            finally:
                other.close_all()
            out.notes = other.notes
            if not odp.alive():
                out.notes.append("the private odp exited (status %s)" % odp.proc.returncode)
            out.odp_log = odp_log_lines(odp)
        finally:
            odp.stop(check=False)
    for i, ((label, want), (_, got)) in enumerate(zip(direct.obs, other.obs)):
        if want != got:
            w, g = _differing_lines(want, got)
            out.diffs.append("step %d %s:\n      direct: %s\n      odp:    %s" % (i + 1, label, w, g))
    if len(direct.obs) != len(other.obs):
        out.diffs.append("direct made %d observations, odp %d" % (len(direct.obs), len(other.obs)))
    out.diffs += other.failures
    return out


# ------------------------------------------------------------------------------------------------
# what the cases share

ORDERS = (3, 4, 5)        # one id per partition of test.orders (HASH(id) 3): leaders s1, s2, s3
EVENTS = (10, 1500, 5000)  # one id per partition of test.events (RANGE(id)): leaders s2, s3, s1
VARIANTS = ("disconnect", "idle")


def pool_for(variant):
    return 1 if variant == "disconnect" else 2


def tag(case, protocol):
    """Object names of one case and protocol (text and binary units may run side by side)."""
    return "hyg%02d%s" % (case, protocol[0])


def direct_sql(sql, user=L.USER, password=L.PASSWORD):
    """SQL on the first server directly (replicated to the others like any test data)."""
    with L.connect("direct", user=user, password=password) as c, c.cursor() as cur:
        for stmt in sql if isinstance(sql, (list, tuple)) else [sql]:
            cur.execute(stmt)
        return cur.fetchall()


def on_every_server(sql):
    """SQL as root on every server, not replicated (sql_log_bin = 0)."""
    for i in range(1, len(L.SERVER_PORTS) + 1):
        L.root_sql("SET sql_log_bin = 0; " + sql, i)


def wait_gone(r, name):
    """After `name` disconnected: directly, until its server thread is gone (the server released
    what it held); through odp, until odp counts only the clients still connected."""
    c = r.clients.get(name)
    r.disconnect(name)
    if c is None:
        return
    if r.via_odp:
        want = sum(1 for x in r.clients.values() if not x.dead)
        L.wait_for(lambda: r.odp.metrics().get("odp_client_connections", 0) <= want, 10,
                   what="odp to close %s's session" % name)
    elif c.thread_id:
        L.wait_for(lambda: _thread_gone(r.port, c.thread_id), 10, what="%s's server thread to end" % name)


def _thread_gone(port, thread_id):
    rows = L.query_all(None, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d" % thread_id,
                       port=port)
    return rows[0][0] == 0


def handover(r, variant):
    """A's turn ends: it leaves (and the target noticed) or stays connected and idle. Returns the
    pool's reuse counter before B logs in."""
    if variant == "disconnect":
        wait_gone(r, "A")
    return r.reuses()


def everywhere(r, name, select_list, expect=None):
    """SELECT <select_list>, id for one row of every partition of test.orders and test.events;
    through odp they must reach more than one server."""
    for attempt in (1, 2):
        ports = []
        # A second attempt's answers replace the first's: both targets then make as many observations.
        del r.obs[len(r.obs) - (len(ORDERS) + len(EVENTS)) * (attempt - 1):]
        for table, ids in (("orders", ORDERS), ("events", EVENTS)):
            for k in ids:
                r.q(name, "SELECT %s, id FROM test.%s WHERE id = %d" % (select_list, table, k), expect=expect)
                ports.append(r.port_of(name, table, k))
        try:
            r.routes(ports, "%s's statements on test.orders/test.events" % name)
            return
        except MechanicsError:
            # Every partition on one server proves nothing: once, another test may have been moving
            # leaders or loading the servers; look again after the metadata refresh.
            if attempt == 2:
                raise
            time.sleep(2)


def uniq():
    return uuid.uuid4().hex[:12]


# ------------------------------------------------------------------------------------------------
# the runner: `python3 FILE C_CLIENT CASE [PROTOCOL [SUBCHECK...]]`

def _do(step):
    if step is None:
        return
    if callable(step):
        step()
    else:
        direct_sql(step)


def main(cases, doc, argv):
    if len(argv) < 3:
        print(doc)
        return 2
    case = int(argv[2].lstrip("case"))
    protocol = argv[3] if len(argv) > 3 else "text"
    only = argv[4:]
    if case not in cases:
        print("no case %d here; have %s" % (case, sorted(cases)))
        return 2
    made = cases[case](protocol)
    subs, setup, cleanup = made if isinstance(made, tuple) else (made, None, None)
    if not subs:
        print("case %d has no %s sub-checks" % (case, protocol))
        return 2
    passed = failed = 0
    try:
        _do(setup)
        for name, (scenario, pool, *pool_extra) in subs.items():
            if only and name not in only:
                continue
            unit = "case %d [%s] %s" % (case, protocol, name)
            t0 = time.monotonic()
            try:
                out = compare(unit, protocol, argv[1], scenario, pool_max=pool,
                              pool_extra=pool_extra[0] if pool_extra else None)
            except MechanicsError as e:
                failed += 1
                print("--- FAIL %s: the test itself: %s" % (unit, e), flush=True)
                continue
            except Exception as e:  # noqa: BLE001 - e.g. a wait_for deadline: this sub-check fails, others run
                failed += 1
                print("--- FAIL %s: %s: %s" % (unit, type(e).__name__, e), flush=True)
                continue
            notes = "; ".join(out.notes)
            if out.passed:
                passed += 1
                print("--- PASS %s (%.1fs)%s" % (unit, time.monotonic() - t0, ": " + notes if notes else ""),
                      flush=True)
            else:
                failed += 1
                print("--- FAIL %s (%.1fs): direct and odp differ (%s)" % (unit, time.monotonic() - t0, notes or
                                                                         "no odp notes"), flush=True)
                for d in out.diffs[:6]:
                    print("    " + d)
                if len(out.diffs) > 6:
                    print("    ... and %d more differences" % (len(out.diffs) - 6))
                for line in out.odp_log:
                    print("    odp log: " + line)
    finally:
        try:
            _do(cleanup)
        except Exception as e:  # noqa: BLE001 - say so, do not hide the sub-checks' verdicts
            failed += 1
            print("--- FAIL cleanup of case %d [%s]: %s: %s" % (case, protocol, type(e).__name__, e))
    print("%d passed, %d failed%s" % (passed, failed, " (mechanics check: ODP_PORT is a server)" if MECHANICS else ""))
    return 0 if failed == 0 and passed > 0 else 1
