#!/usr/bin/python3
"""End-to-end benchmarks, side by side: direct to s1, through odp (workers = 1), through HAProxy
(mode tcp, nbthread 1). Follows shared BENCH-METHOD.md: alternating rounds, medians, ratios per round,
proxy CPU per query from /proc (user and system), added latency at 1 thread, a 1 GiB stream, idle
connections' RSS; multiplexing at 8/64/1,000 clients (mux.py), connection churn (churn.py), JDBC
batch inserts (jdbc.py) and the session's allocations per statement (alloc.py). Run it through
scripts/bench (which raises `ulimit -n` and brings servers up).

Environment (defaults in brackets):
  BENCH_ROUNDS [2]  BENCH_TIME [10] seconds per sysbench run  BENCH_THREADS [1,8,64]
  BENCH_TABLES [4]  BENCH_TABLE_SIZE [100000]  BENCH_IDLE_CONNS [10000]  BENCH_STREAM_ROUNDS [2]
  multiplex: BENCH_MUX_THREADS [8,64,1000]  BENCH_MUX_MODES [text,prepared]  BENCH_MUX_ROUNDS [BENCH_ROUNDS]
             BENCH_MUX_TIME [BENCH_TIME]  BENCH_MUX_DIRECT [0] (1: direct too)
  churn: BENCH_CHURN_COUNT [1000] sequential cycles  BENCH_CHURN_PARALLEL [32] threads
         BENCH_CHURN_PARALLEL_COUNT [3200] cycles over those threads  BENCH_CHURN_ROUNDS [2]  BENCH_CHURN_TLS [1]
  budget: BENCH_BUDGET_THREADS [8,64,1000]  BENCH_BUDGET_TIME [max(BENCH_TIME, 8)] seconds per run
  reset: BENCH_RESET_COUNT [2000] of each operation
  jdbc: BENCH_JDBC_ROWS [100000]      alloc: BENCH_ALLOC_MIN_TIME [0.5] seconds per case
  BENCH_SKIP  comma list of parts to skip: sysbench,syscalls,stream,idle,multiplex,budget,churn,reset,jdbc,alloc,micro
  ODP_BIN [build/odp]  ODP_SANDBOX_PORT_BASE [3400]  ODP_SANDBOX_DIR [build/sandbox] (TLS material)
"""

import argparse
import asyncio
import datetime
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mysqlwire as W  # noqa: E402
from benchcommon import (BUILD, HOST, ODP_BIN, OUT, ROOT, ROUNDS, SANDBOX, SECS, SERVER_PORT, SKIP,  # noqa: E402,F401
                         TABLE_SIZE, TABLES, OdpLog, env_list, log, med, prepare_tables, proc_cpu, rss_kib, sb_args)
import alloc  # noqa: E402
import churn  # noqa: E402
import cpu_budget  # noqa: E402
import jdbc  # noqa: E402
import mux  # noqa: E402
import reset  # noqa: E402

THREADS = [int(x) for x in env_list("BENCH_THREADS", "1,8,64")]
IDLE = int(os.environ.get("BENCH_IDLE_CONNS", "10000"))
STREAM_ROUNDS = int(os.environ.get("BENCH_STREAM_ROUNDS", "2"))
STREAM_SQL = "select repeat('x', 1048576) from seq_1_to_1024"
PATHS = ["direct", "odp", "haproxy"]
# odp's default limits.client_max_connections; the idle part raises it only when asked for more.
ODP_DEFAULT_MAX_CLIENTS = 10000


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, proc, deadline_s=20):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not listening after %ds" % (port, deadline_s))


# ------------------------------------------------------------------------------------------------
# the proxies

class Proxy:
    def __init__(self, name, port, proc, workdir, admin_port=None):
        self.name, self.port, self.proc, self.workdir = name, port, proc, workdir
        self.admin_port = admin_port
        self.log = OdpLog(os.path.join(workdir, "log")) if name == "odp" else None

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_odp():
    port, admin = free_port(), free_port()
    d = os.path.join(OUT, "odp")
    os.makedirs(os.path.join(d, "log"), exist_ok=True)
    for old in glob.glob(os.path.join(d, "log", "*")):
        os.remove(old)  # so that what the log holds afterwards is this run's
    cfg = os.path.join(d, "odp.toml")
    # odp's defaults everywhere (pool sizes included): only addresses, the cluster, one worker, the
    # log, TLS towards clients (the churn part's TLS rounds) and, when the idle part is asked for
    # more than odp's default 10,000 clients, that limit.
    limits = ""
    if "idle" not in SKIP and IDLE > ODP_DEFAULT_MAX_CLIENTS:
        limits = "\n[limits]\nclient_max_connections = %d\n" % (IDLE + 1000)
    tls = ""
    cert, key = os.path.join(SANDBOX, "tls", "server.pem"), os.path.join(SANDBOX, "tls", "server.key")
    if os.path.isfile(cert) and os.path.isfile(key):
        tls = '\n[tls]\nclient_cert = "%s"\nclient_key = "%s"\n' % (cert, key)
    with open(cfg, "w") as f:
        f.write("""# generated by scripts/bench
[listen]
address = "{h}:{p}"
admin_http = "{h}:{a}"
workers = 1
{limits}{tls}
[cluster.bench]
rootservice_list = ["{h}:{s}"]
server_mode = "mysql"
meta_user = "proxyro"
meta_password = "proxyro"
default_tenant = "t1"

[log]
level = "warn"
dir = "{d}/log"
""".format(h=HOST, p=port, a=admin, s=SERVER_PORT, d=d, limits=limits, tls=tls))
    err = open(os.path.join(d, "odp.stderr"), "wb")
    if not os.access(ODP_BIN, os.X_OK):
        raise RuntimeError("%s missing" % ODP_BIN)
    proc = subprocess.Popen([ODP_BIN, "--config", cfg], stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        wait_port(port, proc)
    except Exception:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    log("odp (workers = 1) on %d, pid %d%s" % (port, proc.pid, ", TLS on" if tls else ", no TLS material"))
    return Proxy("odp", port, proc, d, admin)


def start_haproxy():
    port = free_port()
    d = os.path.join(OUT, "haproxy")
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write("""# generated by scripts/bench: plain TCP forwarding, one thread
global
    nbthread 1
    maxconn 4000
    log stderr format short local0 err

defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h

listen mysql
    bind {h}:{p}
    server s1 {h}:{s}
""".format(h=HOST, p=port, s=SERVER_PORT))
    err = open(os.path.join(d, "haproxy.stderr"), "wb")
    proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        wait_port(port, proc)
    except Exception:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    log("haproxy (nbthread 1, mode tcp) on %d, pid %d" % (port, proc.pid))
    return Proxy("haproxy", port, proc, d)


# ------------------------------------------------------------------------------------------------
# sysbench oltp_point_select

def run_sysbench(port, threads, secs, proxy=None):
    before = proc_cpu(proxy.pid) if proxy else None
    p = subprocess.run(sb_args(port, ["--threads=%d" % threads, "--time=%d" % secs, "--percentile=95",
                                      "--report-interval=0", "run"]),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=secs + 120)
    after = proc_cpu(proxy.pid) if proxy else None
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError("sysbench failed on port %d:\n%s" % (port, out[-2000:]))

    def num(pattern):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else float("nan")
    queries = num(r"queries:\s+(\d+)")
    r = {"qps": num(r"queries:\s+\d+\s+\(([\d.]+) per sec"), "queries": queries,
         "p95_ms": num(r"95th percentile:\s+([\d.]+)"), "avg_ms": num(r"avg:\s+([\d.]+)"),
         "errors": num(r"ignored errors:\s+(\d+)")}
    if proxy:
        r["user_us_q"] = (after[0] - before[0]) / queries * 1e6
        r["sys_us_q"] = (after[1] - before[1]) / queries * 1e6
        r["ctx_q"] = (after[2] - before[2]) / queries
    return r


def sysbench_part(proxies, md):
    prepare_tables()
    ports = {"direct": SERVER_PORT}
    ports.update({k: v.port for k, v in proxies.items()})
    # warm-up: the buffer pool and each path's connections
    for path in PATHS:
        run_sysbench(ports[path], 8, 2, proxies.get(path))
    results = {}
    for t in THREADS:
        for rnd in range(ROUNDS):
            for path in PATHS:
                r = run_sysbench(ports[path], t, SECS, proxies.get(path))
                results.setdefault((t, path), []).append(r)
                log("threads %d round %d %-8s qps %8.0f p95 %.2f ms avg %.3f ms%s" % (
                    t, rnd + 1, path, r["qps"], r["p95_ms"], r["avg_ms"],
                    "  cpu/q %.1f us user + %.1f us sys, %.2f ctx/q" % (r["user_us_q"], r["sys_us_q"], r["ctx_q"])
                    if "user_us_q" in r else ""))
    md.append("### sysbench oltp_point_select (%d tables x %d rows, %d rounds x %d s, medians)\n"
              % (TABLES, TABLE_SIZE, ROUNDS, SECS))
    md.append("| threads | path | QPS | vs direct | odp / peer per round | p95 | avg latency | "
              "proxy CPU / query (user + sys) | ctx switches / query | errors |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    for t in THREADS:
        dq = med([r["qps"] for r in results[(t, "direct")]])
        for path in PATHS:
            rs = results[(t, path)]
            q = med([r["qps"] for r in rs])
            ratio = "–"
            if path == "odp" and "haproxy" in PATHS:
                ratio = " ".join("%.2f" % (a["qps"] / b["qps"]) for a, b in
                                 zip(results[(t, "odp")], results[(t, "haproxy")]))
            cpu = "–"
            ctx = "–"
            if path != "direct":
                u = med([r["user_us_q"] for r in rs])
                s = med([r["sys_us_q"] for r in rs])
                cpu = "%.1f µs (%.1f + %.1f)" % (u + s, u, s)
                ctx = "%.2f" % med([r["ctx_q"] for r in rs])
            md.append("| %d | %s | %.0f | %.2f | %s | %.2f ms | %.3f ms | %s | %s | %d |" % (
                t, path, q, q / dq if dq else float("nan"), ratio, med([r["p95_ms"] for r in rs]),
                med([r["avg_ms"] for r in rs]), cpu, ctx, sum(r["errors"] for r in rs)))
    if 1 in THREADS:
        d = med([r["avg_ms"] for r in results[(1, "direct")]])
        lines = []
        for path in PATHS[1:]:
            a = med([r["avg_ms"] for r in results[(1, path)]])
            p = med([r["p95_ms"] for r in results[(1, path)]]) - med([r["p95_ms"] for r in results[(1, "direct")]])
            lines.append("%s %+.0f µs (avg), %+.0f µs (p95)" % (path, (a - d) * 1000, p * 1000))
        md.append("\nAdded latency at 1 thread (median over rounds, vs direct): " + "; ".join(lines) + ".\n")
    return results


# ------------------------------------------------------------------------------------------------
# streaming

def cli_stream(port):
    cmd = ("mariadb --no-defaults --quick -N -B --skip-ssl -h%s -P%d -uapp -papp test -e \"%s\" | wc -c"
           % (HOST, port, STREAM_SQL))
    t0 = time.monotonic()
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], stdout=subprocess.PIPE, check=True,
                         timeout=900).stdout
    return int(out.split()[0]), time.monotonic() - t0


def raw_stream(port):
    c = W.Conn(HOST, port, "app", "app", "test")
    try:
        t0 = time.monotonic()
        rows, nbytes = c.stream_query(STREAM_SQL)
        return nbytes, time.monotonic() - t0
    finally:
        c.close()


def stream_part(proxies, md):
    ports = {"direct": SERVER_PORT}
    ports.update({k: v.port for k, v in proxies.items()})
    res = {}
    for kind, fn in (("raw reader", raw_stream), ("mariadb --quick (CLI)", cli_stream)):
        for rnd in range(STREAM_ROUNDS):
            for path in PATHS:
                pr = proxies.get(path)
                before = proc_cpu(pr.pid) if pr else None
                rss0 = rss_kib(pr.pid) if pr else 0
                nbytes, dt = fn(ports[path])
                cpu = None
                if pr:
                    after = proc_cpu(pr.pid)
                    cpu = (after[0] - before[0], after[1] - before[1])
                res.setdefault((kind, path), []).append((nbytes, dt, cpu, (rss_kib(pr.pid) - rss0) if pr else 0))
                log("stream %s round %d %-8s %d bytes %.2fs %.0f MB/s" % (kind, rnd + 1, path, nbytes, dt,
                                                                         nbytes / dt / 1e6))
    md.append("### 1 GiB result (`%s`), %d rounds, medians\n" % (STREAM_SQL, STREAM_ROUNDS))
    md.append("| reader | path | bytes | MB/s | vs direct | proxy CPU (user + sys) | bytes match direct |")
    md.append("|---|---|---|---|---|---|---|")
    for kind in ("raw reader", "mariadb --quick (CLI)"):
        dbytes = res[(kind, "direct")][0][0]
        drate = med([b / t for b, t, _, _ in res[(kind, "direct")]])
        for path in PATHS:
            rs = res[(kind, path)]
            rate = med([b / t for b, t, _, _ in rs])
            cpu = "–"
            if rs[0][2]:
                cpu = "%.2f s (%.2f + %.2f)" % (med([c[0] + c[1] for _, _, c, _ in rs]), med([c[0] for _, _, c, _ in rs]),
                                               med([c[1] for _, _, c, _ in rs]))
            md.append("| %s | %s | %d | %.0f | %.2f | %s | %s |" % (
                kind, path, rs[0][0], rate / 1e6, rate / drate, cpu,
                "yes" if all(b == dbytes for b, _, _, _ in rs) else "**NO**"))
    md.append("")


# ------------------------------------------------------------------------------------------------
# idle connections

async def _open_idle(port, n, concurrency=200):
    conns = []
    errors = []
    sem = asyncio.Semaphore(concurrency)

    async def one():
        async with sem:
            try:
                conns.append(await W.idle_login(HOST, port, "app", "app", "test"))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
    await asyncio.gather(*(one() for _ in range(n)))
    return conns, errors


def idle_part(proxies, md):
    if "odp" not in proxies:
        md.append("(odp did not start: no idle-connection measurement)\n")
        return
    odp = proxies["odp"]
    pid = odp.pid
    base = rss_kib(pid)

    async def main():
        t0 = time.monotonic()
        conns, errors = await _open_idle(odp.port, IDLE)
        dt = time.monotonic() - t0
        await asyncio.sleep(1.0)
        rss = rss_kib(pid)
        hwm = rss_kib(pid, "VmHWM")
        sample = conns[:: max(1, len(conns) // 100)]
        pings = await asyncio.gather(*(W.ping(r, w) for r, w in sample), return_exceptions=True)
        ok_pings = sum(1 for p in pings if p is True)
        for _, w in conns:
            w.close()
        return len(conns), errors, dt, rss, hwm, ok_pings, len(sample)
    n, errors, dt, rss, hwm, ok_pings, sampled = asyncio.run(main())
    per = (rss - base) / n if n else float("nan")
    log("idle: %d/%d connections logged in in %.1fs; odp RSS %d -> %d KiB (%.2f KiB per connection); "
        "%d/%d sampled pings ok; %d errors%s" % (n, IDLE, dt, base, rss, per, ok_pings, sampled, len(errors),
                                                  (" e.g. " + errors[0]) if errors else ""))
    md.append("### %d idle client connections through odp (logged in, then idle)\n" % IDLE)
    md.append("| connections logged in | time to open | odp VmRSS before | after | per connection | VmHWM | "
              "sampled pings ok | errors |")
    md.append("|---|---|---|---|---|---|---|---|")
    md.append("| %d / %d | %.1f s | %d KiB | %d KiB | %.2f KiB | %d KiB | %d / %d | %d%s |" % (
        n, IDLE, dt, base, rss, per, hwm, ok_pings, sampled, len(errors),
        (" (`%s`)" % errors[0][:80]) if errors else ""))
    md.append("")


# ------------------------------------------------------------------------------------------------
# syscalls per query (strace -c), short run at 8 threads

def syscall_part(proxies, md):
    if not shutil.which("strace"):
        md.append("(strace not installed: no syscall counts)\n")
        return
    md.append("### syscalls per query under `strace -c -f` (8 threads, 5 s; strace slows everything, "
              "only the counts per query mean something)\n")
    md.append("| path | syscalls / query | top syscalls (calls / query) |")
    md.append("|---|---|---|")
    for path in PATHS[1:]:
        pr = proxies[path]
        st = subprocess.Popen(["strace", "-c", "-f", "-q", "-p", str(pr.pid)], stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        r = run_sysbench(pr.port, 8, 5, pr)
        st.send_signal(signal.SIGINT)
        _, err = st.communicate(timeout=30)
        rows = []
        total = 0
        for line in err.decode().splitlines():
            f = line.split()
            if len(f) >= 5 and f[0][0].isdigit() and not line.strip().startswith("-"):
                calls = int(f[3])
                name = f[-1]
                if name == "total":
                    total = calls
                else:
                    rows.append((calls, name))
        rows.sort(reverse=True)
        q = r["queries"] or 1
        md.append("| %s | %.2f | %s |" % (path, total / q, ", ".join("%s %.2f" % (n, c / q) for c, n in rows[:6])))
    md.append("")


# ------------------------------------------------------------------------------------------------
# Google Benchmark binaries

def micro_part(md):
    # bench_session has a part of its own ("alloc").
    bins = sorted(b for b in glob.glob(os.path.join(BUILD, "**", "bench_*"), recursive=True)
                  if os.path.isfile(b) and os.access(b, os.X_OK) and os.path.basename(b) != alloc.BINARY)
    if not bins:
        md.append("(no `bench_*` micro benchmark binaries in %s)\n" % os.path.relpath(BUILD, ROOT))
        return
    md.append("### micro benchmarks (Google Benchmark)\n")
    for b in bins:
        log("micro benchmark %s" % os.path.relpath(b, ROOT))
        p = subprocess.run([b, "--benchmark_min_time=0.1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        md.append("`%s`\n```\n%s\n```" % (os.path.relpath(b, ROOT), p.stdout.decode("utf-8", "replace").strip()))
    md.append("")


# ------------------------------------------------------------------------------------------------

def report_odp_log(odp, part, md, keep=8):
    """What odp logged (warnings and errors) during a part, so that trouble shows in the results."""
    lines = odp.log.news()
    if not lines:
        return
    log("odp logged %d lines during %s, e.g. %s" % (len(lines), part, lines[0][:300]))
    md.append("odp logged %d warning/error lines during %s (all in `%s`); the first %d:\n\n```\n%s\n```\n" % (
        len(lines), part, os.path.relpath(odp.log.dir, ROOT), min(keep, len(lines)),
        "\n".join(x[:400] for x in lines[:keep])))


def write_results(md_text):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    begin, end = "<!-- bench-results:begin -->", "<!-- bench-results:end -->"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = begin + "\n" + md_text.strip() + "\n" + end
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n## Results\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
    log("results written to BENCHMARKS.md")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace the results section of BENCHMARKS.md")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    t0 = time.monotonic()
    md = []
    kernel = os.uname().release
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else "?"
    except OSError:
        pass
    ver = lambda cmd: subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode().splitlines()[0]  # noqa: E731
    # Every BENCH_* knob that was set, so the command can be run again as it was.
    knobs = " ".join("%s=%s" % (k, v) for k, v in sorted(os.environ.items())
                     if k.startswith("BENCH_") and k not in ("BENCH_ROUNDS", "BENCH_TIME", "BENCH_THREADS"))
    md.append("Run %s UTC with `scripts/bench` (BENCH_ROUNDS=%d BENCH_TIME=%d BENCH_THREADS=%s%s), `nproc` = %d, "
              "kernel %s, %s; %s; %s; %s; load average at start %.1f. Client, proxies and server share the "
              "same CPUs.\n" % (
                  datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), ROUNDS, SECS,
                  ",".join(map(str, THREADS)), (" " + knobs) if knobs else "", os.cpu_count(), kernel, cpu,
                  ver(["mariadbd", "--version"]).split(" for ")[0].replace("mariadbd  Ver ", "MariaDB "),
                  ver(["haproxy", "-v"]).split(" - ")[0], ver(["sysbench", "--version"]), os.getloadavg()[0]))
    proxies = {}
    try:
        try:
            proxies["odp"] = start_odp()
        except Exception as e:  # noqa: BLE001 - still measure direct and HAProxy
            log("odp did not start: %r (see %s)" % (e, os.path.join(OUT, "odp", "odp.stderr")))
            md.append("**odp did not start** (`%s`): only direct and HAProxy were measured.\n" % e)
        proxies["haproxy"] = start_haproxy()
        PATHS[:] = ["direct"] + [p for p in ("odp", "haproxy") if p in proxies]
        # idle last: it leaves odp with 10,000 sessions to tear down.
        parts = [("sysbench", sysbench_part), ("syscalls", syscall_part), ("multiplex", mux.part), ("budget", cpu_budget.part),
                 ("churn", churn.part), ("reset", reset.part), ("jdbc", jdbc.part), ("stream", stream_part), ("idle", idle_part)]
        for name, fn in parts:
            if name in SKIP:
                continue
            t = time.monotonic()
            try:
                fn(proxies, md)
            except Exception as e:  # noqa: BLE001 - report and go on with the other parts
                log("%s failed: %r" % (name, e))
                md.append("**%s failed:** `%s`\n" % (name, str(e).replace("\n", " ")[:500]))
            log("%s took %.0fs" % (name, time.monotonic() - t))
            if "odp" in proxies:
                report_odp_log(proxies["odp"], name, md)
            for p in proxies.values():
                if p.proc.poll() is not None:
                    md.append("**%s exited (status %s) during %s**\n" % (p.name, p.proc.returncode, name))
                    raise SystemExit("%s died during %s; see %s" % (p.name, name, p.workdir))
        if "odp" in proxies:
            md.append("odp VmHWM over the whole run: %d KiB.\n" % rss_kib(proxies["odp"].pid, "VmHWM"))
    finally:
        for p in proxies.values():
            p.stop()
    if "alloc" not in SKIP:
        t = time.monotonic()
        try:
            alloc.part(md)
        except Exception as e:  # noqa: BLE001
            log("alloc failed: %r" % e)
            md.append("**alloc failed:** `%s`\n" % str(e).replace("\n", " ")[:500])
        log("alloc took %.0fs" % (time.monotonic() - t))
    if "micro" not in SKIP:
        micro_part(md)
    md.append("Total bench time: %.0f s.\n" % (time.monotonic() - t0))
    text = "\n".join(md)
    print(text)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(text + "\n")
    if args.write:
        write_results(text)


if __name__ == "__main__":
    main()
