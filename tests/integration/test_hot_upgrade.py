#!/usr/bin/python3
"""Hot upgrade (SIGUSR2) of a private odp: the new process takes the listening sockets, so clients
connecting all the time see no refused connection and no error; a client connected before keeps
its session: idle sessions move to the new process (phase 2), a busy one or one in a transaction
at its next quiet point; a broken config leaves the old process serving."""
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import odplib as L

# This test becomes the subreaper: the new odp (a child of the old one) is reparented to it when
# the old one exits, so it can be waited for and never outlives the test.
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def log_text(p):
    return p.log_text()


def set_workers(p, n):
    """Rewrites listen.workers in the private odp's config (read by the next upgraded process)."""
    with open(p.config) as f:
        text = f.read()
    text, count = re.subn(r"(?m)^workers = \d+$", "workers = %d" % n, text)
    L.check_eq(count, 1, "workers lines in the config")
    with open(p.config, "w") as f:
        f.write(text)


def socket_inodes(pid):
    out = set()
    for name in os.listdir("/proc/%d/fd" % pid):
        with contextlib.suppress(OSError):
            m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%d/fd/%s" % (pid, name)))
            if m:
                out.add(m.group(1))
    return out


def listening_inodes():
    out = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(path) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A":
                    out.add(cols[9])
    return out


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            os.waitpid(pid, os.WNOHANG)
            return False
        return True
    except (FileNotFoundError, ProcessLookupError, ChildProcessError):
        return False


def reap(pid):
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def new_pid_after(p, nth):
    """The pid of the nth process started by an upgrade (from the old process's log)."""
    def found():
        pids = re.findall(r"upgrade: started \S+ as pid (\d+)", log_text(p))
        return int(pids[nth - 1]) if len(pids) >= nth else None
    return L.wait_for(found, 10, what="upgrade %d to start" % nth)


def served_by_new(p, nth):
    """Waits until an old process logged that the nth new one serves; returns its pid."""
    def found():
        pids = re.findall(r"upgrade: pid (\d+) serves", log_text(p))
        return int(pids[nth - 1]) if len(pids) >= nth else None
    return L.wait_for(found, 30, what="new process %d to serve" % nth)


def stop_pid(pid, timeout=15):
    if not pid_alive(pid):
        reap(pid)
        return
    os.kill(pid, signal.SIGTERM)
    L.wait_for(lambda: not pid_alive(pid), timeout, what="pid %d to exit" % pid)
    reap(pid)


# Server-side prepared statements over pymysql's connection (it has no API for them): a raw
# COM_STMT_PREPARE and COM_STMT_EXECUTE of a statement without parameters and one string column.
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17


def stmt_prepare(conn, sql):
    conn._execute_command(COM_STMT_PREPARE, sql)
    data = conn._read_packet().get_all_data()
    L.check_eq(data[0], 0, "COM_STMT_PREPARE answer: %r" % data)
    stmt_id, ncols, nparams = struct.unpack("<IHH", data[1:9])
    for n in (nparams, ncols):
        for _ in range(n):
            conn._read_packet()
        if n:
            conn._read_packet()  # EOF
    return stmt_id


def stmt_execute_one_string(conn, stmt_id):
    """Executes; returns the first row's only column (a string), or raises on ERR."""
    conn._execute_command(COM_STMT_EXECUTE, struct.pack("<IBI", stmt_id, 0, 1))
    first = conn._read_packet()  # raises pymysql's error on ERR
    ncols = first.read_length_encoded_integer()
    L.check_eq(ncols, 1, "columns")
    conn._read_packet()  # column definition
    conn._read_packet()  # EOF
    rows = []
    while True:
        pkt = conn._read_packet()
        data = pkt.get_all_data()
        if data[0] == 0xFE and len(data) < 9:
            break
        # 0x00, a null bitmap of (1 + 7 + 2) // 8 = 1 byte, then the length-encoded string.
        n = data[2]
        rows.append(data[3:3 + n].decode())
    L.check_eq(len(rows), 1, "rows")
    return rows[0]


class Clients:
    """N threads that connect, query and disconnect in a loop; every failure is recorded."""

    def __init__(self, port, n=4):
        self.port = port
        self.stop = threading.Event()
        self.errors = []
        self.ok = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, i):
        while not self.stop.is_set():
            try:
                c = L.connect(port=self.port, connect_timeout=5, read_timeout=10)
                try:
                    with c.cursor() as cur:
                        cur.execute("SELECT %s + 1", (i,))
                        L.check_eq(cur.fetchall(), ((i + 1,),), "answer")
                finally:
                    c.close()
                with self.lock:
                    self.ok += 1
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.errors.append(repr(e))
                time.sleep(0.01)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(20)
        return self.ok, self.errors


def case_upgrade_under_load():
    p = L.start_private_odp({"listen": {"drain_timeout_ms": 60000}}, workers=2)
    new_pids = []
    try:
        # A session opened before the upgrade, with state of its own.
        held = p.connect()
        with held.cursor() as cur:
            cur.execute("SET @v = 42")
            cur.execute("SELECT CONNECTION_ID()")
            held_id = cur.fetchall()[0][0]
        clients = Clients(p.port)
        time.sleep(1.0)
        os.kill(p.pid, signal.SIGUSR2)
        new1 = served_by_new(p, 1)
        new_pids.append(new1)
        L.check_eq(new1, new_pid_after(p, 1), "the pid started is the one serving")
        time.sleep(1.5)
        # The held session still works, moved to the new process, with its state.
        with held.cursor() as cur:
            cur.execute("SELECT @v, CONNECTION_ID()")
            L.check_eq(cur.fetchall(), ((42, held_id),), "held session after the upgrade")
        # /healthz answers 200 from the new process on the inherited admin socket.
        L.check_eq(L.http_get(p.admin_port, "/healthz")[0], 200, "/healthz after the upgrade")
        held.close()
        L.wait_for(lambda: p.proc.poll() is not None, 15, what="the old process to exit once its session ended")
        L.check_eq(p.proc.returncode, 0, "old process exit status")
        L.check(pid_alive(new1), "the new process serves")
        # A second upgrade, from the upgraded process (its log is the same file), to a process with
        # fewer workers than inherited sockets: one worker accepts on both.
        set_workers(p, 1)
        time.sleep(1.0)
        os.kill(new1, signal.SIGUSR2)
        new2 = served_by_new(p, 2)
        new_pids.append(new2)
        L.wait_for(lambda: not pid_alive(new1), 15, what="the first new process to exit (no session left)")
        reap(new1)
        time.sleep(1.0)
        ok, errors = clients.finish()
        L.check(not errors, "clients saw %d errors during two upgrades (of %d ok): %s" % (len(errors), ok, errors[:5]))
        L.check(ok > 50, "clients made progress (%d)" % ok)
        print("upgrade_under_load: %d connections served, 0 errors; pids %d -> %d -> %d" % (ok, p.pid, new1, new2))
        L.check(pid_alive(new2), "the second new process serves")
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 40 + 2")
            L.check_eq(cur.fetchall(), ((42,),), "after two upgrades")
    finally:
        for pid in new_pids:
            stop_pid(pid)
        p.stop(check=False)


def case_bad_config_keeps_old():
    p = L.start_private_odp(workers=1)
    try:
        good = open(p.config).read()
        with open(p.config, "w") as f:
            f.write(good + "\n[listen]\nthis is not toml\n")
        os.kill(p.pid, signal.SIGUSR2)
        L.wait_for(lambda: re.search(r"upgrade: the new process \(pid \d+\) exited with status 1 before it served",
                                     log_text(p)), 20, what="the failed upgrade to be logged")
        text = log_text(p)
        L.check("upgrade refused: the config has errors" in text, "the new process says why:\n" + text[-2000:])
        L.check(p.alive(), "the old process keeps serving")
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 1")
            L.check_eq(cur.fetchall(), ((1,),), "after a failed upgrade")
        L.check_eq(L.http_get(p.admin_port, "/healthz")[0], 200, "/healthz after a failed upgrade")
        # Fixed config: the upgrade now succeeds.
        with open(p.config, "w") as f:
            f.write(good)
        os.kill(p.pid, signal.SIGUSR2)
        new = served_by_new(p, 1)  # the first one that served
        L.wait_for(lambda: p.proc.poll() is not None, 15, what="the old process to exit")
        L.check_eq(p.proc.returncode, 0, "old process exit status")
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 2")
            L.check_eq(cur.fetchall(), ((2,),), "after the upgrade")
        stop_pid(new)
    finally:
        p.stop(check=False)


def case_drain_timeout_closes_held():
    p = L.start_private_odp({"listen": {"drain_timeout_ms": 2000}}, workers=1)
    new = None
    try:
        held = p.connect()
        with held.cursor() as cur:  # a transaction: the session cannot move, the old process serves it
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            cur.execute("SELECT 1")
        os.kill(p.pid, signal.SIGUSR2)
        new = served_by_new(p, 1)
        t0 = time.monotonic()
        L.wait_for(lambda: p.proc.poll() is not None, 10, what="the old process to exit at drain_timeout_ms")
        took = time.monotonic() - t0
        L.check(took < 6, "old process exited %.1fs after the handover (drain_timeout_ms=2000)" % took)
        L.check_eq(p.proc.returncode, 0, "old process exit status")
        L.check("closing them (their clients reconnect to the new process)" in log_text(p), "drain timeout logged")
        with contextlib.suppress(Exception):
            held.close()
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 3")
            L.check_eq(cur.fetchall(), ((3,),), "new process after the drain timeout")
    finally:
        if new:
            stop_pid(new)
        p.stop(check=False)


def case_admin_command():
    p = L.start_private_odp(workers=1)
    new = None
    try:
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 1")  # the old process has server and metadata connections by now
        old_sockets = socket_inodes(p.pid)
        with contextlib.closing(p.connect(user="root@proxysys", password="", database=None)) as a, a.cursor() as cur:
            # More workers than inherited sockets: the new process adds sockets to the group.
            set_workers(p, 3)
            cur.execute("alter proxy upgrade")
        new = served_by_new(p, 1)
        # The new process holds no socket of the old one but the listening ones (libmariadb's
        # connections are not close-on-exec: they must not leak into the new process).
        leaked = (socket_inodes(new) & old_sockets) - listening_inodes()
        L.check(not leaked, "sockets of the old process leaked into the new one: %s" % sorted(leaked))
        L.check(len(socket_inodes(new) & old_sockets) == 2, "the SQL and admin listening sockets are shared")
        L.wait_for(lambda: p.proc.poll() is not None, 15, what="the old process to exit")
        L.check_eq(p.proc.returncode, 0, "old process exit status")
        L.check(pid_alive(new), "the new process serves")
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 4")
            L.check_eq(cur.fetchall(), ((4,),), "after alter proxy upgrade")
        L.check("1 inherited sockets" in log_text(p), "the new process used the inherited socket")
        # Every worker's socket accepts: many connections in a row all succeed.
        for i in range(30):
            with contextlib.closing(p.connect()) as c, c.cursor() as cur:
                cur.execute("SELECT %s", (i,))
                L.check_eq(cur.fetchall(), ((i,),), "connection %d after the upgrade" % i)
    finally:
        if new:
            stop_pid(new)
        p.stop(check=False)


def case_sigterm_drain():
    """The SIGTERM drain the upgrade reuses: a statement in flight finishes, an idle client is
    closed, new connects are refused, odp exits 0."""
    p = L.start_private_odp({"listen": {"drain_timeout_ms": 10000}}, workers=2)
    try:
        idle = p.connect()
        busy = p.connect()
        result = {}

        def run():
            with busy.cursor() as cur:
                cur.execute("SELECT SLEEP(1.5), 7")
                result["rows"] = cur.fetchall()
        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.3)
        p.proc.send_signal(signal.SIGTERM)
        t.join(10)
        L.check_eq(result.get("rows"), ((0, 7),), "statement in flight during the drain")
        L.wait_for(lambda: p.proc.poll() is not None, 10, what="odp to exit after the drain")
        L.check_eq(p.proc.returncode, 0, "exit status after SIGTERM")
        with contextlib.suppress(Exception):
            idle.close()
        with contextlib.suppress(Exception):
            busy.close()
    finally:
        p.stop(check=False)


def case_systemd_notify():
    """With NOTIFY_SOCKET (as under systemd): the new process says MAINPID=<itself> and READY=1,
    the old one says MAINPID=<new> and never STOPPING=1 (that would stop the service)."""
    d = tempfile.mkdtemp(prefix="odp-notify-")
    path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        p = L.start_private_odp(workers=1)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    new = None
    messages = []

    def drain():
        while True:
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                return
    try:
        drain()
        L.check(any("READY=1" in m for m in messages), "READY=1 at start-up: %s" % messages)
        messages.clear()
        os.kill(p.pid, signal.SIGUSR2)
        new = served_by_new(p, 1)
        L.wait_for(lambda: p.proc.poll() is not None, 15, what="the old process to exit")
        drain()
        L.check(any(m.startswith("MAINPID=%d\nREADY=1" % new) for m in messages),
                "the new process reports MAINPID and READY=1: %s" % messages)
        L.check("MAINPID=%d" % new in messages, "the old process hands MAINPID over: %s" % messages)
        L.check(not any("STOPPING=1" in m for m in messages), "no STOPPING=1 on an upgrade: %s" % messages)
    finally:
        if new:
            stop_pid(new)
        p.stop(check=False)
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(d)


def case_replaced_binary():
    """The file at odp's path is what an upgrade starts, even after a package manager replaced
    it (rename over it); a replacement that fails leaves the old process serving."""
    d = tempfile.mkdtemp(prefix="odp-bin-")
    exe = os.path.join(d, "odp")
    shutil.copy(L.ODP_BIN, exe)
    p = L.start_private_odp(workers=1, binary=exe)
    new = None

    def replace(text):
        tmp = exe + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o755)
        os.rename(tmp, exe)
    try:
        replace("#!/bin/sh\necho 'broken odp build' >&2\nexit 3\n")
        os.kill(p.pid, signal.SIGUSR2)
        L.wait_for(lambda: "exited with status 3 before it served" in log_text(p), 20, what="the failure logged")
        L.check("broken odp build" in log_text(p), "the replacement's own words on stderr")
        L.check(p.alive(), "the old process keeps serving")
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 5")
            L.check_eq(cur.fetchall(), ((5,),), "after a failed replacement")
        replace("#!/bin/sh\necho 'the replaced odp starts' >&2\nexec %s \"$@\"\n" % L.ODP_BIN)
        os.kill(p.pid, signal.SIGUSR2)
        new = served_by_new(p, 1)
        L.check("the replaced odp starts" in log_text(p), "the file now at the path was started")
        L.wait_for(lambda: p.proc.poll() is not None, 15, what="the old process to exit")
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 6")
            L.check_eq(cur.fetchall(), ((6,),), "after the upgrade to the replaced file")
    finally:
        if new:
            stop_pid(new)
        p.stop(check=False)
        shutil.rmtree(d, ignore_errors=True)


def moved_ids(p):
    return [int(x) for x in re.findall(r"handover: session conn_id=(\d+) \S+ user=\S+ moved to the new", log_text(p))]


def case_idle_sessions_move():
    """Phase 2: an idle session moves to the new process with its id, variables, sql_mode,
    database and prepared statement; one inside a transaction moves only after COMMIT; the old
    process exits as soon as none is left (not at drain_timeout_ms)."""
    p = L.start_private_odp({"listen": {"drain_timeout_ms": 60000}}, workers=2)
    new = None
    try:
        idle = p.connect(database=None)
        with idle.cursor() as cur:
            cur.execute("SET @v = 1")
            cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES'")
            cur.execute("USE test")
            cur.execute("SELECT CONNECTION_ID()")
            idle_id = cur.fetchall()[0][0]
        stmt = stmt_prepare(idle, "SELECT CONCAT('ps:', DATABASE(), ':', @@session.sql_mode)")
        L.check_eq(stmt_execute_one_string(idle, stmt), "ps:test:ANSI_QUOTES", "statement before the upgrade")
        tx = p.connect()
        with tx.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            tx_id = cur.fetchall()[0][0]
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            cur.execute("SELECT 1")
        busy = p.connect()
        with busy.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            busy_id = cur.fetchall()[0][0]
        result = {}

        def run():
            with busy.cursor() as cur:
                cur.execute("SELECT SLEEP(1.5), 8")
                result["rows"] = cur.fetchall()
        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGUSR2)
        new = served_by_new(p, 1)
        L.wait_for(lambda: idle_id in moved_ids(p), 10, what="the idle session to move")
        # A statement in flight finishes on the old process; the session moves after it.
        t.join(10)
        L.check_eq(result.get("rows"), ((0, 8),), "statement in flight during the move")
        L.wait_for(lambda: busy_id in moved_ids(p), 5, what="the busy session to move after its statement")
        with busy.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            L.check_eq(cur.fetchall(), ((busy_id,),), "busy session after the move")
        busy.close()
        time.sleep(1.0)
        L.check(tx_id not in moved_ids(p), "a session in a transaction must not move")
        L.check(p.proc.poll() is None, "the old process serves the transaction")
        with idle.cursor() as cur:
            cur.execute("SELECT @v, @@session.sql_mode, DATABASE(), CONNECTION_ID()")
            L.check_eq(cur.fetchall(), ((1, "ANSI_QUOTES", "test", idle_id),), "moved session's state")
        L.check_eq(stmt_execute_one_string(idle, stmt), "ps:test:ANSI_QUOTES", "statement after the move")
        with tx.cursor() as cur:
            cur.execute("SELECT 2")
            L.check_eq(cur.fetchall(), ((2,),), "in the transaction, on the old process")
        tx.commit()
        t0 = time.monotonic()
        L.wait_for(lambda: p.proc.poll() is not None, 10, what="the old process to exit once every session moved")
        took = time.monotonic() - t0
        L.check(took < 5, "old process exited %.1fs after the COMMIT" % took)
        L.check_eq(p.proc.returncode, 0, "old process exit status")
        L.check(tx_id in moved_ids(p), "the transaction's session moved after COMMIT")
        with tx.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            L.check_eq(cur.fetchall(), ((tx_id,),), "transaction's session after the move")
        # A new session gets an id of its own; KILL by a moved session's id reaches it.
        with contextlib.closing(p.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            fresh = cur.fetchall()[0][0]
            L.check(fresh not in (idle_id, tx_id), "a new id after the move")
            cur.execute("KILL %d" % tx_id)
        try:
            with tx.cursor() as cur:
                cur.execute("SELECT 3")
            L.check(False, "the killed session still answers")
        except Exception:  # noqa: BLE001
            pass
        with idle.cursor() as cur:
            cur.execute("SELECT @v")
            L.check_eq(cur.fetchall(), ((1,),), "the other moved session lives on")
        idle.close()
        with contextlib.suppress(Exception):
            tx.close()
        print("idle_sessions_move: sessions %d and %d moved to pid %d" % (idle_id, tx_id, new))
    finally:
        if new:
            stop_pid(new)
        p.stop(check=False)


@contextlib.contextmanager
def cli_session_across_upgrade(link_options):
    """A private odp (one worker) and a mariadb CLI connected to it with `link_options`, fed
    statements on stdin; yields (odp, cli, holder) where holder["new"] is for the pid of the
    process the upgrade starts. Kills the CLI and both processes at the end."""
    p = L.start_private_odp({"listen": {"drain_timeout_ms": 60000}}, workers=1)
    holder = {"new": None}
    cli = subprocess.Popen(["mariadb", "--no-defaults", "-h", L.HOST, "-P", str(p.port), "-u" + L.USER,
                            "-p" + L.PASSWORD] + link_options + ["--unbuffered", "-N", "-B", L.DB],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield p, cli, holder
    finally:
        with contextlib.suppress(Exception):
            cli.kill()
            cli.wait(5)
        if holder["new"]:
            stop_pid(holder["new"])
        p.stop(check=False)


def cli_ask(cli, sql):
    """Sends `sql` (one line) to the CLI and returns the words of its first output line."""
    cli.stdin.write(sql.encode() + b"\n")
    cli.stdin.flush()
    return cli.stdout.readline().split()


def case_compressed_session_moves():
    """A client of the compressed protocol (the mariadb CLI with --compress) moves too (without TLS:
    a TLS session does not move)."""
    with cli_session_across_upgrade(["--compress", "--skip-ssl"]) as (p, cli, holder):
        cid = int(cli_ask(cli, "SET @c = 5; SELECT CONNECTION_ID();")[0])
        os.kill(p.pid, signal.SIGUSR2)
        holder["new"] = served_by_new(p, 1)
        L.wait_for(lambda: cid in moved_ids(p), 10, what="the compressed session to move")
        L.wait_for(lambda: p.proc.poll() is not None, 10, what="the old process to exit")
        L.check_eq(cli_ask(cli, "SELECT @c, CONNECTION_ID(), REPEAT('x', 3000) = REPEAT('x', 3000);"),
                   [b"5", str(cid).encode(), b"1"], "compressed session after the move")
        out, err = cli.communicate(b"", timeout=10)
        L.check_eq(cli.returncode, 0, "mariadb CLI exit: %r" % err)
        L.check(re.search(r"adopted session conn_id=%d .* compressed" % cid, log_text(p)), "adopted as compressed")


def case_tls_session_stays():
    """A TLS session does not move (its TLS state cannot leave the process): the old process serves
    it until it ends, then exits."""
    with cli_session_across_upgrade(["--ssl", "--disable-ssl-verify-server-cert"]) as (p, cli, holder):
        cid = int(cli_ask(cli, "SET @t = 7; SELECT CONNECTION_ID();")[0])
        os.kill(p.pid, signal.SIGUSR2)
        holder["new"] = served_by_new(p, 1)
        time.sleep(1.0)
        L.check(cid not in moved_ids(p), "a TLS session must not move")
        L.check(p.proc.poll() is None, "the old process serves the TLS session")
        L.check_eq(cli_ask(cli, "SELECT @t, CONNECTION_ID();"), [b"7", str(cid).encode()],
                   "TLS session on the old process")
        out, err = cli.communicate(b"", timeout=10)
        L.check_eq(cli.returncode, 0, "mariadb CLI exit: %r" % err)
        L.wait_for(lambda: p.proc.poll() is not None, 10, what="the old process to exit once the TLS session ended")


def case_sysbench_two_upgrades():
    """sysbench oltp_read_write (prepared statements) through odp upgraded twice: every session
    moves at a quiet point (between transactions), no error, no reconnect, each old process gone
    within seconds of its signal."""
    db = "test_hot_upgrade"
    p = L.start_private_odp({"listen": {"drain_timeout_ms": 60000}}, workers=2)
    pids = []
    try:
        L.query_all("direct", "DROP DATABASE IF EXISTS %s" % db)
        L.query_all("direct", "CREATE DATABASE %s" % db)
        base = ["sysbench", "oltp_read_write", "--db-driver=mysql", "--mysql-host=127.0.0.1",
                "--mysql-port=%d" % p.port, "--mysql-user=" + L.USER, "--mysql-password=" + L.PASSWORD,
                "--mysql-db=" + db, "--tables=2", "--table-size=2000", "--mysql-ssl=off"]
        prep = subprocess.run(base + ["prepare"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        L.check_eq(prep.returncode, 0, "sysbench prepare: %s" % prep.stdout.decode()[-2000:])
        run = subprocess.Popen(base + ["--threads=8", "--time=14", "--db-ps-mode=auto", "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        old = p.pid
        for nth in (1, 2):
            time.sleep(4)
            t0 = time.monotonic()
            os.kill(old, signal.SIGUSR2)
            new = served_by_new(p, nth)
            pids.append(new)
            L.wait_for(lambda: not pid_alive(old), 10, what="old process %d to exit" % nth)
            print("sysbench_two_upgrades: pid %d gone %.2fs after SIGUSR2" % (old, time.monotonic() - t0))
            reap(old)
            old = new
        out = run.communicate(timeout=60)[0].decode("utf-8", "replace")
        L.check_eq(run.returncode, 0, "sysbench run:\n%s" % out[-3000:])
        L.check("FATAL" not in out, "sysbench errors:\n%s" % out[-3000:])
        L.check(re.search(r"reconnects:\s+0 ", out), "sysbench reconnected:\n%s" % out[-3000:])
        L.check(len(moved_ids(p)) >= 16, "every sysbench session moved twice (%d moves)" % len(moved_ids(p)))
        L.query_all("direct", "DROP DATABASE IF EXISTS %s" % db)
    finally:
        for pid in pids:
            stop_pid(pid)
        p.stop(check=False)


CASES = [
    ("idle_sessions_move", case_idle_sessions_move),
    ("compressed_session_moves", case_compressed_session_moves),
    ("tls_session_stays", case_tls_session_stays),
    ("sysbench_two_upgrades", case_sysbench_two_upgrades),
    ("upgrade_under_load", case_upgrade_under_load),
    ("bad_config_keeps_old", case_bad_config_keeps_old),
    ("drain_timeout_closes_held", case_drain_timeout_closes_held),
    ("admin_command", case_admin_command),
    ("sigterm_drain", case_sigterm_drain),
    ("systemd_notify", case_systemd_notify),
    ("replaced_binary", case_replaced_binary),
]

if __name__ == "__main__":
    raise SystemExit(L.run_cases(CASES))
