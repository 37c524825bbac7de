"""Multiplexing (part "multiplex"): sysbench oltp_point_select at 8, 64 and 1,000 client threads,
text (--db-ps-mode=disable) and prepared (--db-ps-mode=auto), through odp with its default config
and through HAProxy (tcp, nbthread 1), alternating rounds. Per run: QPS, p95, the proxy's user and
system CPU per query and context switches per query, and the server connections the proxy holds.

CPU per query is taken in the steady state: /proc/PID/stat is read when sysbench prints its first
1-second report (all threads connected and running) and at the one before its last (the last can
come while its threads log out), and divided by the queries those reports count; the whole-run
figure (which adds every thread's login and logout) is kept as well. Server connections are
counted at every report: the proxy's own established TCP connections to the server's port (its
/proc/PID/fd sockets matched in /proc/net/tcp: what `ss -tnp` shows for its pid; for odp this
includes its one meta-account connection, user proxyro), and, as a cross-check on the server, the
`app` threads in s1's PROCESSLIST (which also counts connections another proxy still keeps idle).
"""

import http.client
import os
import re
import subprocess
import time

from benchcommon import (HOST, SECS, ROUNDS, SERVER_PORT, env_int, env_list, log, med, prepare_tables, proc_cpu,
                         sb_args)

THREADS = [int(x) for x in env_list("BENCH_MUX_THREADS", "8,64,1000")]
MODES = env_list("BENCH_MUX_MODES", "text,prepared")
MUX_ROUNDS = env_int("BENCH_MUX_ROUNDS", ROUNDS)
MUX_SECS = env_int("BENCH_MUX_TIME", SECS)
WITH_DIRECT = os.environ.get("BENCH_MUX_DIRECT", "0") == "1"
PS_MODE = {"text": "disable", "prepared": "auto"}
REPORT = re.compile(r"^\[ *(\d+)s \] thds: (\d+) tps: ([\d.]+) qps: ([\d.]+).*?lat \(ms,95%\): ([\d.]+)")

# Targets of the issue, printed beside the numbers.
TARGET_QPS_1000 = 1.5
TARGET_QPS_SMALL = 1.2
TARGET_SERVER_CONNS = 64
TARGET_USER_US = 1.5
TARGET_USER_FLAT = 0.25


def proxy_server_conns(pid):
    """Established TCP connections of process `pid` to the server's port."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return None
    port_hex = ":%04X" % SERVER_PORT
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[2].endswith(port_hex) and fields[3] == "01" and fields[9] in inodes:
                n += 1
    return n


class ServerCount:
    """`app` threads on s1, from a connection of its own (not counted)."""

    def __init__(self):
        self.conn = None
        try:
            import pymysql
            self.conn = pymysql.connect(host=HOST, port=SERVER_PORT, user="app", password="app", autocommit=True,
                                        connect_timeout=5, read_timeout=10)
        except Exception as e:  # noqa: BLE001 - the /proc count still works
            log("multiplex: no PROCESSLIST cross-check (%r)" % e)

    def count(self):
        if self.conn is None:
            return None
        try:
            with self.conn.cursor() as c:
                c.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER='app' "
                          "AND ID <> CONNECTION_ID()")
                return int(c.fetchone()[0])
        except Exception:  # noqa: BLE001
            return None

    def close(self):
        if self.conn is not None:
            self.conn.close()


def odp_metric(admin_port, name):
    try:
        c = http.client.HTTPConnection(HOST, admin_port, timeout=5)
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
        c.close()
    except OSError:
        return None
    m = re.search(r"^odp_%s(?:\{[^}]*\})? ([\d.e+]+)$" % name, body, re.M)
    return float(m.group(1)) if m else None


def run_one(port, threads, mode, proxy, counter):
    """One sysbench run with 1-second reports; the proxy sampled at every report."""
    args = sb_args(port, ["--threads=%d" % threads, "--time=%d" % MUX_SECS, "--percentile=95",
                          "--db-ps-mode=%s" % PS_MODE[mode], "--report-interval=1", "run"])
    before = proc_cpu(proxy.pid) if proxy else None
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []
    reports = []  # (second, qps, cpu snapshot, proxy's server conns, server-side count)
    deadline = time.monotonic() + MUX_SECS + 180
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace")
        out.append(line)
        m = REPORT.match(line)
        if m:
            snap = proc_cpu(proxy.pid) if proxy else None
            conns = proxy_server_conns(proxy.pid) if proxy else None
            reports.append((int(m.group(1)), float(m.group(4)), snap, conns, counter.count()))
        if time.monotonic() > deadline:
            p.kill()
            break
    p.wait()
    after = proc_cpu(proxy.pid) if proxy else None
    text = "".join(out)

    def num(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else float("nan")
    r = {"qps": num(r"queries:\s+\d+\s+\(([\d.]+) per sec"), "queries": num(r"queries:\s+(\d+)"),
         "p95_ms": num(r"95th percentile:\s+([\d.]+)"), "avg_ms": num(r"avg:\s+([\d.]+)"),
         "errors": num(r"ignored errors:\s+(\d+)"), "reconnects": num(r"reconnects:\s+(\d+)"),
         "failed": None}
    if p.returncode != 0 or r["qps"] != r["qps"]:
        fatal = [x.strip() for x in out if "FATAL" in x or "error" in x.lower()]
        r["failed"] = "sysbench exit %s: %s" % (p.returncode, " | ".join(fatal[:3]) or text[-300:].strip())
    if proxy and r["queries"] == r["queries"] and r["queries"] > 0:
        r["user_all_us"] = (after[0] - before[0]) / r["queries"] * 1e6
        r["sys_all_us"] = (after[1] - before[1]) / r["queries"] * 1e6
    if proxy and len(reports) >= 3:
        # From the first report (every thread connected) to the one before the last (sysbench's
        # last report can come after its threads began to log out).
        first, last = reports[0], reports[-2]
        q = sum(x[1] for x in reports[1:-1]) * 1.0  # 1-second intervals
        if q > 0:
            r["user_us"] = (last[2][0] - first[2][0]) / q * 1e6
            r["sys_us"] = (last[2][1] - first[2][1]) / q * 1e6
            r["ctx_q"] = (last[2][2] - first[2][2]) / q
    conns = [x[3] for x in reports if x[3] is not None]
    seen = [x[4] for x in reports if x[4] is not None]
    r["conns_max"] = max(conns) if conns else None
    # sysbench's last report may come after its threads began to disconnect: the one before it is
    # the end of the run with every client still there.
    r["conns_last"] = conns[-2] if len(conns) >= 2 else (conns[-1] if conns else None)
    r["server_max"] = max(seen) if seen else None
    if proxy and proxy.name == "odp" and proxy.admin_port:
        r["odp_gauge"] = odp_metric(proxy.admin_port, "server_connections")
    return r


def fmt(v, spec="%.1f"):
    return "–" if v is None or v != v else spec % v


def part(proxies, md):
    prepare_tables()
    paths = (["direct"] if WITH_DIRECT else []) + [p for p in ("odp", "haproxy") if p in proxies]
    ports = {"direct": SERVER_PORT}
    ports.update({k: v.port for k, v in proxies.items()})
    counter = ServerCount()
    results = {}
    try:
        for path in paths:  # warm-up: each path's connections and the buffer pool
            run_short = sb_args(ports[path], ["--threads=8", "--time=2", "run"])
            subprocess.run(run_short, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        for t in THREADS:
            for mode in MODES:
                for rnd in range(MUX_ROUNDS):
                    for path in paths:
                        r = run_one(ports[path], t, mode, proxies.get(path), counter)
                        results.setdefault((t, mode, path), []).append(r)
                        log("multiplex %4d threads %-8s round %d %-8s qps %8.0f p95 %7.2f ms cpu/q %s+%s us "
                            "ctx/q %s server conns %s (max %s; s1 sees %s; odp's gauge after %s)%s" % (
                                t, mode, rnd + 1, path, r["qps"], r["p95_ms"], fmt(r.get("user_us"), "%.2f"),
                                fmt(r.get("sys_us"), "%.2f"), fmt(r.get("ctx_q"), "%.2f"), r["conns_last"],
                                r["conns_max"], r["server_max"], r.get("odp_gauge", "–"),
                                (" FAILED " + r["failed"]) if r["failed"] else ""))
    finally:
        counter.close()
    write(md, results, paths)
    return results


def write(md, results, paths):
    md.append("### multiplexing: sysbench oltp_point_select at %s client threads, text and prepared "
              "(%d rounds x %d s, medians; odp with its default config)\n"
              % (", ".join(str(t) for t in THREADS), MUX_ROUNDS, MUX_SECS))
    md.append("CPU per query in the steady state (between sysbench's first and next-to-last 1-s report; "
              "in brackets over the whole run, logins and logouts of every thread included). Server connections: the "
              "proxy's established connections to s1 (its sockets in /proc, as `ss -tnp` shows them; odp's "
              "include its one meta-account connection), at the end (the report before sysbench's last) / "
              "highest sample; s1 sees: `app` threads in s1's PROCESSLIST at the highest sample "
              "(includes connections the other proxy still keeps idle).\n")
    md.append("| threads | mode | path | QPS | odp / HAProxy per round | p95 | user CPU / query | sys CPU / query "
              "| ctx switches / query | server conns (last / max) | s1 sees | errors |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in THREADS:
        for mode in MODES:
            for path in paths:
                rs = results.get((t, mode, path), [])
                if not rs:
                    continue
                ratio = "–"
                if path == "odp" and (t, mode, "haproxy") in results:
                    ratio = " ".join("%.2f" % (a["qps"] / b["qps"]) if b["qps"] else "–"
                                     for a, b in zip(rs, results[(t, mode, "haproxy")]))
                cpu_u = cpu_s = ctx = "–"
                if path != "direct":
                    cpu_u = "%s µs (%s)" % (fmt(med([r.get("user_us") for r in rs]), "%.2f"),
                                            fmt(med([r.get("user_all_us") for r in rs]), "%.2f"))
                    cpu_s = "%s µs (%s)" % (fmt(med([r.get("sys_us") for r in rs]), "%.1f"),
                                            fmt(med([r.get("sys_all_us") for r in rs]), "%.1f"))
                    ctx = fmt(med([r.get("ctx_q") for r in rs]), "%.2f")
                conns = "–"
                if path != "direct":
                    conns = "%s / %s" % (fmt(med([r["conns_last"] for r in rs]), "%.0f"),
                                         fmt(max([r["conns_max"] or 0 for r in rs]), "%d"))
                failed = [r["failed"] for r in rs if r["failed"]]
                errs = "%d" % sum(r["errors"] for r in rs if r["errors"] == r["errors"])
                if failed:
                    errs += " **%d run(s) failed**: `%s`" % (len(failed), failed[0][:200])
                md.append("| %d | %s | %s | %s | %s | %s ms | %s | %s | %s | %s | %s | %s |" % (
                    t, mode, path, fmt(med([r["qps"] for r in rs]), "%.0f"), ratio,
                    fmt(med([r["p95_ms"] for r in rs]), "%.2f"), cpu_u, cpu_s, ctx, conns,
                    fmt(max([r["server_max"] or 0 for r in rs]), "%d"), errs))
    md.append("")
    targets(md, results)


def verdict(ok):
    return "—" if ok is None else ("**met**" if ok else "**missed**")


def targets(md, results):
    """The issue's targets, each marked met or missed from the medians above."""
    if not any(p == "odp" for (_, _, p) in results) or not any(p == "haproxy" for (_, _, p) in results):
        md.append("(targets need both odp and HAProxy)\n")
        return
    md.append("Targets (issue): at 1,000 clients odp ≥ %.1f× HAProxy's QPS with p95 no worse and ≤ %d server "
              "connections; at 8 and 64 clients ≥ %.1f×; odp user CPU per query flat within %d%% from 8 to "
              "1,000 clients and ≤ %.1f µs (steady state).\n" % (TARGET_QPS_1000, TARGET_SERVER_CONNS,
                                                                   TARGET_QPS_SMALL, TARGET_USER_FLAT * 100,
                                                                   TARGET_USER_US))
    md.append("| mode | target | measured | verdict |")
    md.append("|---|---|---|---|")
    for mode in MODES:
        for t in THREADS:
            o, h = results.get((t, mode, "odp")), results.get((t, mode, "haproxy"))
            if not o or not h:
                continue
            ratios = [a["qps"] / b["qps"] for a, b in zip(o, h) if b["qps"] and a["qps"] == a["qps"]]
            ratio = med(ratios)
            need = TARGET_QPS_1000 if t >= 1000 else TARGET_QPS_SMALL
            md.append("| %s | %d clients: QPS ≥ %.1f× HAProxy | %s× (rounds %s) | %s |" % (
                mode, t, need, fmt(ratio, "%.2f"), " ".join("%.2f" % x for x in ratios),
                verdict(None if ratio != ratio else ratio >= need)))
            if t >= 1000:
                po, ph = med([r["p95_ms"] for r in o]), med([r["p95_ms"] for r in h])
                md.append("| %s | %d clients: p95 ≤ HAProxy's | %s ms vs %s ms | %s |" % (
                    mode, t, fmt(po, "%.2f"), fmt(ph, "%.2f"), verdict(None if po != po or ph != ph else po <= ph)))
                cmax = max([r["conns_max"] for r in o if r["conns_max"] is not None] or [None], key=lambda x: x or 0)
                md.append("| %s | %d clients: ≤ %d server connections | %s (highest sample) | %s |" % (
                    mode, t, TARGET_SERVER_CONNS, fmt(cmax, "%d"),
                    verdict(None if cmax is None else cmax <= TARGET_SERVER_CONNS)))
        users = [(t, med([r.get("user_us") for r in results.get((t, mode, "odp"), [])])) for t in THREADS]
        users = [(t, u) for t, u in users if u == u]
        if users:
            lo, hi = min(u for _, u in users), max(u for _, u in users)
            spread = (hi - lo) / lo if lo > 0 else float("inf")
            md.append("| %s | user CPU / query flat within %d%% over %s clients | %s (spread %.0f%%) | %s |" % (
                mode, TARGET_USER_FLAT * 100, ", ".join(str(t) for t, _ in users),
                ", ".join("%.2f µs" % u for _, u in users), spread * 100, verdict(spread <= TARGET_USER_FLAT)))
            md.append("| %s | user CPU / query ≤ %.1f µs | highest %.2f µs | %s |" % (
                mode, TARGET_USER_US, hi, verdict(hi <= TARGET_USER_US)))
    md.append("")
