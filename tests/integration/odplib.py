"""Helpers for odp's integration tests (run with Debian's /usr/bin/python3 and python3-pymysql).

Every test compares what a client sees through odp with what it sees talking to the first sandbox
server directly. Environment (all optional):
  ODP_PORT           odp's SQL port (default 2883)
  ODP_ADMIN_PORT     odp's admin HTTP port (default 2884)
  ODP_DIRECT_PORT    the server odp routes to (default ODP_SANDBOX_PORT_BASE + 1 = 3401)
  ODP_BUILD_DIR      build directory (default <repo>/build; ctest sets it to its own)
  ODP_SANDBOX_DIR    sandbox state (default $ODP_BUILD_DIR/sandbox)
  ODP_BIN            odp binary for private instances (default $ODP_BUILD_DIR/odp)
  ODP_SANDBOX_OCEANBASE=1  the sandbox runs in its oceanbase flavour (scripts/sandbox)
  ODP_TEST_NO_METRICS=1  skip /metrics assertions (only to check a test's mechanics by pointing
                     ODP_PORT at a server directly; never in CI)
"""

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import pymysql

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
BUILD_DIR = os.environ.get("ODP_BUILD_DIR", os.path.join(ROOT, "build"))
SANDBOX_DIR = os.environ.get("ODP_SANDBOX_DIR", os.path.join(BUILD_DIR, "sandbox"))
PORT_BASE = int(os.environ.get("ODP_SANDBOX_PORT_BASE", "3400"))
ODP_PORT = int(os.environ.get("ODP_PORT", "2883"))
ADMIN_PORT = int(os.environ.get("ODP_ADMIN_PORT", "2884"))
DIRECT_PORT = int(os.environ.get("ODP_DIRECT_PORT", str(PORT_BASE + 1)))
SERVER_PORTS = [PORT_BASE + i for i in (1, 2, 3)]
# The oceanbase flavour of the sandbox (ODP_SANDBOX_OCEANBASE=1): OBServer-side endpoints front the
# servers this far above their ports, and the metadata names the endpoints.
OCEANBASE = os.environ.get("ODP_SANDBOX_OCEANBASE") == "1"
SQL_PORT_SHIFT = 50 if OCEANBASE else 0
ODP_BIN = os.environ.get("ODP_BIN", os.path.join(BUILD_DIR, "odp"))
NO_METRICS = os.environ.get("ODP_TEST_NO_METRICS") == "1"
USER = "app"
PASSWORD = "app"
DB = "test"


def port_of(target):
    if target == "odp":
        return ODP_PORT
    if target == "direct":
        return DIRECT_PORT
    return int(target)


def connect(target="odp", port=None, user=USER, password=PASSWORD, database=DB, **kw):
    """pymysql connection through odp ("odp"), to s1 ("direct"), or to an explicit port."""
    kw.setdefault("connect_timeout", 10)
    kw.setdefault("read_timeout", 120)
    kw.setdefault("write_timeout", 120)
    kw.setdefault("charset", "utf8mb4")
    kw.setdefault("autocommit", True)
    return pymysql.connect(host=HOST, port=port or port_of(target), user=user, password=password,
                           database=database, **kw)


def query_all(target, sql, args=None, port=None):
    with contextlib.closing(connect(target, port=port)) as c, c.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def mariadb_cli(target, args, input_bytes=None, port=None, timeout=90, database=DB, user=USER,
                password=PASSWORD):
    """Runs the mariadb CLI in batch mode; returns CompletedProcess with bytes output."""
    cmd = ["mariadb", "--no-defaults", "-h", HOST, "-P", str(port or port_of(target)),
           "-u" + user, "--password=" + password, "--connect-timeout=10"]
    cmd += list(args)
    if database:
        cmd.append(database)
    return subprocess.run(cmd, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def root_sql(sql, server=1):
    """Runs SQL as root on a sandbox server over its unix socket (setup only)."""
    sock = os.path.join(SANDBOX_DIR, "s%d" % server, "mysqld.sock")
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", "--socket=" + sock, "-N", "-B", "-e", sql],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    if OCEANBASE and re.search(r"\bSET\b.*(\bGLOBAL\b|@@GLOBAL\.)", sql, re.IGNORECASE | re.DOTALL):
        bump_global_vars_version()
    return out


def bump_global_vars_version():
    """The oceanbase flavour: a global variable changed behind the endpoints' back (straight on a
    server), so the tenant's global-variables version they report moves on, as OceanBase's does on
    any SET GLOBAL."""
    from ob_endpoint import global_vars_version  # the endpoints' own keeper of it
    global_vars_version(os.path.join(SANDBOX_DIR, "global_vars_version"), bump=True)


def wait_for(cond, deadline_s=10.0, interval_s=0.05, what="condition"):
    """Polls cond() until it returns a truthy value (returned) or the deadline passes (raises)."""
    end = time.monotonic() + deadline_s
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - the condition may fail while things come up
            last_exc = e
        if time.monotonic() >= end:
            raise AssertionError("timed out after %.1fs waiting for %s%s" %
                                 (deadline_s, what, " (last error: %r)" % last_exc if last_exc else ""))
        time.sleep(interval_s)


# ------------------------------------------------------------------------------------------------
# metrics

def http_get(port, path, timeout=5):
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def read_metrics(admin_port=None):
    """GET /metrics; returns {name: value} with labelled series summed."""
    status, body = http_get(admin_port or ADMIN_PORT, "/metrics")
    if status != 200:
        raise AssertionError("/metrics answered HTTP %d" % status)
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out


def metric(name, admin_port=None):
    """One odp_ metric by its core/stats.h name (prefix added)."""
    full = name if name.startswith("odp_") else "odp_" + name
    m = read_metrics(admin_port)
    if full not in m:
        raise AssertionError("metric %s missing from /metrics" % full)
    return m[full]


class CounterWatch:
    """Remembers counters before an action; expect_increase() waits until they grew."""

    def __init__(self, names, admin_port=None):
        self.names = [names] if isinstance(names, str) else list(names)
        self.admin_port = admin_port
        self.before = None if NO_METRICS else self._sum()

    def _sum(self):
        m = read_metrics(self.admin_port)
        total = 0.0
        for n in self.names:
            full = "odp_" + n
            if full not in m:
                raise AssertionError("metric %s missing from /metrics" % full)
            total += m[full]
        return total

    def delta(self):
        """How much the counters grew since the watch began."""
        return self._sum() - self.before

    def expect_increase(self, deadline_s=10.0):
        if NO_METRICS:
            print("  (metrics check skipped: ODP_TEST_NO_METRICS=1)")
            return
        wait_for(lambda: self._sum() > self.before, deadline_s,
                 what="counter %s to grow past %g" % ("+".join(self.names), self.before))


# ------------------------------------------------------------------------------------------------
# processes

def odp_pid():
    path = os.environ.get("ODP_PID_FILE", os.path.join(SANDBOX_DIR, "odp.pid"))
    with open(path) as f:
        return int(f.read().strip())


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (field, pid))


def cpu_ticks(pid):
    """(utime, stime) in clock ticks from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]), int(fields[12])


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound then released)."""
    return free_port()


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml(sections):
    lines = []
    for sec, kv in sections.items():
        lines.append("[%s]" % sec)
        for k, v in kv.items():
            lines.append("%s = %s" % (k, _toml_value(v)))
        lines.append("")
    return "\n".join(lines)


class PrivateOdp:
    """An odp started by a test with its own config and free ports; use as a context manager."""

    def __init__(self, extra_toml=None, workers=1, ready_timeout=20.0, expect_ready=True, binary=None):
        self.dir = tempfile.mkdtemp(prefix="odp-it-", dir=os.environ.get("ODP_TEST_TMP"))
        self.port = free_port()
        self.admin_port = free_port()
        self.binary = binary or ODP_BIN
        tls_dir = os.path.join(SANDBOX_DIR, "tls")
        sections = {
            "listen": {"address": "%s:%d" % (HOST, self.port),
                       "admin_http": "%s:%d" % (HOST, self.admin_port), "workers": workers},
            # In the sandbox's oceanbase flavour: server_mode "oceanbase" in front of the endpoints.
            "cluster.sandbox": {"rootservice_list": ["%s:%d" % (HOST, p + SQL_PORT_SHIFT) for p in SERVER_PORTS],
                                "server_mode": "oceanbase" if OCEANBASE else "mysql",
                                "meta_user": "proxyro@sys" if OCEANBASE else "proxyro", "meta_password": "proxyro",
                                "default_tenant": "t1"},
            "tls": {"client_cert": os.path.join(tls_dir, "server.pem"),
                    "client_key": os.path.join(tls_dir, "server.key")},
            "log": {"level": "info", "dir": os.path.join(self.dir, "log")},
        }
        for sec, kv in (extra_toml or {}).items():
            sections.setdefault(sec, {}).update(kv)
        os.makedirs(os.path.join(self.dir, "log"), exist_ok=True)
        self.config = os.path.join(self.dir, "odp.toml")
        with open(self.config, "w") as f:
            f.write(_toml(sections))
        if not os.access(self.binary, os.X_OK):
            raise AssertionError("odp binary %s missing (build it first)" % self.binary)
        self.stderr_path = os.path.join(self.dir, "odp.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([self.binary, "--config", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr)
        self.pid = self.proc.pid
        try:
            wait_for(self._listening, ready_timeout, what="private odp to listen on %d" % self.port)
        except AssertionError:
            tail = self.stderr_tail()
            self.stop(check=False)
            raise AssertionError("private odp did not come up; stderr:\n" + tail)

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("private odp exited with %s:\n%s" % (self.proc.returncode, self.stderr_tail()))
        try:
            with socket.create_connection((HOST, self.admin_port), timeout=1):
                pass
            with socket.create_connection((HOST, self.port), timeout=1):
                pass
            return True
        except OSError:
            return False

    def stderr_tail(self, n=40):
        try:
            with open(self.stderr_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            out = lines[-n:]
            logdir = os.path.join(self.dir, "log")
            for name in sorted(os.listdir(logdir)):
                with open(os.path.join(logdir, name), "rb") as f:
                    out += ["--- " + name] + f.read().decode("utf-8", "replace").splitlines()[-n:]
            return "\n".join(out)
        except OSError:
            return "(no output)"

    def log_text(self):
        """Everything odp logged: log.dir's files, then its stderr."""
        out = ""
        logdir = os.path.join(self.dir, "log")
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), "rb") as f:
                out += f.read().decode("utf-8", "replace")
        with open(self.stderr_path, "rb") as f:
            out += f.read().decode("utf-8", "replace")
        return out

    def alive(self):
        return self.proc.poll() is None

    def metrics(self):
        return read_metrics(self.admin_port)

    def counter(self, names):
        return CounterWatch(names, self.admin_port)

    def connect(self, **kw):
        return connect(port=self.port, **kw)

    def stop(self, timeout=10.0, check=True):
        """SIGTERM (odp drains and exits 0 per the contract); SIGKILL past the timeout.
        With check: fails on a non-zero exit or a sanitizer report in odp's output."""
        problem = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                problem = "private odp ignored SIGTERM for %.0fs (killed)" % timeout
        elif check:
            problem = "private odp exited early with status %s" % self.proc.returncode
        self._stderr.close()
        if problem is None and check and self.proc.returncode != 0:
            problem = "private odp exited with status %s after SIGTERM" % self.proc.returncode
        tail = self.stderr_tail()
        if check and re.search(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:", tail):
            problem = "sanitizer report in private odp's output"
        if os.environ.get("ODP_TEST_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        if problem:
            raise AssertionError(problem + ":\n" + tail)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        # A failure inside the block wins; otherwise check how odp stopped.
        self.stop(check=exc_type is None)


def start_private_odp(extra_toml=None, **kw):
    return PrivateOdp(extra_toml, **kw)


# ------------------------------------------------------------------------------------------------
# raw MySQL protocol bits for the bad-input tests

def read_packet(sock, timeout=5.0):
    """Reads one MySQL packet; returns (seq, payload) or None on clean EOF / reset."""
    sock.settimeout(timeout)
    hdr = _read_exact(sock, 4)
    if hdr is None:
        return None
    length = hdr[0] | hdr[1] << 8 | hdr[2] << 16
    payload = _read_exact(sock, length)
    if payload is None:
        return None
    return hdr[3], payload


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def parse_err(payload):
    """(code, message) for an ERR packet payload, else None."""
    if not payload or payload[0] != 0xFF:
        return None
    code = struct.unpack("<H", payload[1:3])[0]
    msg = payload[3:]
    if msg[:1] == b"#":
        msg = msg[6:]
    return code, msg.decode("utf-8", "replace")


def expect_err_or_close(sock, timeout=10.0, allow_codes=None):
    """Reads until an ERR packet or the peer closes. Returns ('err', code, msg) or ('close',).
    Raises if the connection stays open past the timeout."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("connection neither answered with ERR nor closed within %.1fs" % timeout)
        try:
            p = read_packet(sock, left)
        except socket.timeout:
            raise AssertionError("connection neither answered with ERR nor closed within %.1fs" % timeout)
        if p is None:
            return ("close",)
        e = parse_err(p[1])
        if e:
            if allow_codes and e[0] not in allow_codes:
                raise AssertionError("unexpected ERR %d %s (wanted %s)" % (e[0], e[1], allow_codes))
            return ("err",) + e


def raw_connect(port=None, timeout=5.0):
    s = socket.create_connection((HOST, port or ODP_PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


# ------------------------------------------------------------------------------------------------
# a tiny runner: each test file holds cases; the summary line is "N passed, N failed".

def run_cases(cases, argv=None):
    argv = sys.argv[1:] if argv is None else argv
    selected = [(n, f) for n, f in cases if not argv or n in argv]
    if argv and not selected:
        print("no case named %s; have: %s" % (argv, ", ".join(n for n, _ in cases)))
        return 2
    passed = failed = 0
    for name, fn in selected:
        t0 = time.monotonic()
        print("=== %s" % name, flush=True)
        try:
            fn()
            passed += 1
            print("--- PASS %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)
        except Exception:  # noqa: BLE001
            failed += 1
            traceback.print_exc()
            print("--- FAIL %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def check_eq(a, b, what="values"):
    if a != b:
        ra, rb = repr(a), repr(b)
        raise AssertionError("%s differ:\n  odp:    %s\n  direct: %s" % (what, ra[:2000], rb[:2000]))


def odp_still_serves():
    """A normal client still works through the shared odp."""
    rows = query_all("odp", "SELECT 40 + 2")
    check_eq(rows, ((42,),), "SELECT 40+2 after bad input")
