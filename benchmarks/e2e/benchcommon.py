"""What every part of the end-to-end benchmarks shares: where things are, the knobs, reading a
process's CPU time from /proc, and sysbench's tables. Imported by bench.py and its sections."""

import glob
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HOST = "127.0.0.1"
BUILD = os.environ.get("ODP_BUILD_DIR", os.path.join(ROOT, "build"))
ODP_BIN = os.environ.get("ODP_BIN", os.path.join(BUILD, "odp"))
SANDBOX = os.environ.get("ODP_SANDBOX_DIR", os.path.join(BUILD, "sandbox"))
OUT = os.path.join(BUILD, "bench")
SERVER_PORT = int(os.environ.get("ODP_SANDBOX_PORT_BASE", "3400")) + 1
TICK = os.sysconf("SC_CLK_TCK")
DB = "test_bench"


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def env_list(name, default):
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


ROUNDS = env_int("BENCH_ROUNDS", 2)
SECS = env_int("BENCH_TIME", 10)
TABLES = env_int("BENCH_TABLES", 4)
TABLE_SIZE = env_int("BENCH_TABLE_SIZE", 100000)
SKIP = set(env_list("BENCH_SKIP", ""))


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def proc_cpu(pid):
    """(user_s, sys_s, context switches) of a process and all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        d = f.read()
    fields = d[d.rindex(")") + 2:].split()
    ctx = 0
    for st in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(st) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        ctx += int(line.split()[1])
        except OSError:
            pass
    return int(fields[11]) / TICK, int(fields[12]) / TICK, ctx


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def med(xs):
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else float("nan")


def sb_args(port, extra):
    return ["sysbench", "oltp_point_select", "--db-driver=mysql", "--mysql-host=" + HOST,
            "--mysql-port=%d" % port, "--mysql-user=app", "--mysql-password=app", "--mysql-db=" + DB,
            "--mysql-ssl=off", "--tables=%d" % TABLES, "--table-size=%d" % TABLE_SIZE] + extra


_tables_ready = False


def prepare_tables():
    """Creates the sysbench tables on s1 unless they are there (once per run)."""
    global _tables_ready
    if _tables_ready:
        return
    q = ("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='%s' AND table_name LIKE 'sbtest%%' "
         "AND table_rows > %d" % (DB, TABLE_SIZE * 0.8))
    have = subprocess.run(["mariadb", "--no-defaults", "-h", HOST, "-P%d" % SERVER_PORT, "-uapp", "-papp", "-N",
                           "-B", "-e", "CREATE DATABASE IF NOT EXISTS %s; %s" % (DB, q)],
                          stdout=subprocess.PIPE, check=True).stdout.decode().split()
    ok = have and int(have[-1]) >= TABLES
    if ok:
        # table_rows is an estimate: check the real count of the last table
        cnt = subprocess.run(["mariadb", "--no-defaults", "-h", HOST, "-P%d" % SERVER_PORT, "-uapp", "-papp", "-N",
                              "-B", "-e", "SELECT COUNT(*) FROM %s.sbtest%d" % (DB, TABLES)],
                             stdout=subprocess.PIPE).stdout.decode().split()
        ok = cnt and int(cnt[0]) == TABLE_SIZE
    if ok:
        log("sysbench tables present (%d x %d rows in %s)" % (TABLES, TABLE_SIZE, DB))
    else:
        log("preparing sysbench tables: %d x %d rows (directly on s1)" % (TABLES, TABLE_SIZE))
        subprocess.run(sb_args(SERVER_PORT, ["cleanup"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(sb_args(SERVER_PORT, ["--threads=%d" % TABLES, "prepare"]), check=True,
                       stdout=subprocess.DEVNULL)
    _tables_ready = True


class OdpLog:
    """New lines in odp's log files since the last call (the bench's odp logs at level warn, so
    every line is a warning or an error)."""

    def __init__(self, log_dir):
        self.dir = log_dir
        self.offsets = {}

    def news(self):
        lines = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*"))) + [os.path.join(self.dir, "..", "odp.stderr")]:
            try:
                with open(path, "rb") as f:
                    f.seek(self.offsets.get(path, 0))
                    data = f.read()
                    self.offsets[path] = f.tell()
            except OSError:
                continue
            lines += [x for x in data.decode("utf-8", "replace").splitlines() if x.strip()]
        return lines
