"""Where the machine's CPU goes (part "budget"): the profile behind the multiplexing targets.

On these machines the client (sysbench), the server (s1's mariadbd) and the proxy share 2 vCPUs, so
a proxy's QPS is bounded by what everyone spends per query: QPS <= CPUs / (client + server + proxy
+ the kernel's softirq work, per query). For sysbench oltp_point_select (text) at each thread count,
through odp (default config) and HAProxy in turn, this part reads in the steady state (sysbench's
second 1-s report to the one before its last):
- CPU per query of each process (user + system, all threads, /proc/PID/stat) and of the whole
  machine (/proc/stat: everything but idle and iowait), and the idle share;
- with `perf` present, a sampled profile of the proxy process (cpu-clock, `perf record -p`): the
  share of its samples in the kernel, in its own binary and in libraries, and its top kernel and
  user symbols.
The ratio odp / HAProxy of QPS then reads against what each proxy costs next to what the client and
server cost, which no proxy can change.
"""

import os
import re
import shutil
import subprocess
import time

from benchcommon import HOST, OUT, SANDBOX, SECS, env_int, env_list, log, prepare_tables, proc_cpu, sb_args

THREADS = [int(x) for x in env_list("BENCH_BUDGET_THREADS", "8,64,1000")]
BUDGET_SECS = env_int("BENCH_BUDGET_TIME", max(SECS, 8))
REPORT = re.compile(r"^\[ *(\d+)s \] thds: (\d+) tps: ([\d.]+) qps: ([\d.]+)")
TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """(busy_s, idle_s) of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / TICK, idle / TICK


def server_pid():
    try:
        with open(os.path.join(SANDBOX, "s1", "mysqld.pid")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def snapshot(pids):
    snap = {"machine": machine_cpu()}
    for name, pid in pids.items():
        try:
            u, s, _ = proc_cpu(pid)
            snap[name] = (u, s)
        except OSError:
            snap[name] = None
    return snap


def perf_summary(data):
    """Shares of the proxy's samples: kernel / own binary / libraries, and the top symbols."""
    def report(*args):
        p = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        rows = []
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            m = re.match(r"^\s+([\d.]+)%\s+(.*\S)\s*$", line)
            if m:
                rows.append((float(m.group(1)), re.sub(r"\s+", " ", m.group(2))))
        return rows
    dsos = report("--sort", "dso")
    syms = report("--sort", "dso,sym")
    kernel = sum(p for p, d in dsos if d.startswith("[kernel"))
    libs = [(p, d) for p, d in dsos if not d.startswith("[kernel")]
    top_k = [(p, s.split("] ", 1)[-1]) for p, s in syms if s.startswith("[kernel")][:4]
    top_u = [(p, s.split("] ", 1)[-1][:60]) for p, s in syms if not s.startswith("[kernel")][:5]
    return {"kernel": kernel, "libs": libs[:4], "top_k": top_k, "top_u": top_u}


def run_one(port, threads, proxy, pids):
    args = sb_args(port, ["--threads=%d" % threads, "--time=%d" % BUDGET_SECS, "--db-ps-mode=disable",
                          "--report-interval=1", "run"])
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # sysbench's own pid is known only now
    all_pids = dict(pids, client=p.pid)
    reports = []
    perf = None
    data = os.path.join(OUT, "budget-%s-%d.perf" % (proxy.name, threads))
    for raw in p.stdout:
        m = REPORT.match(raw.decode("utf-8", "replace"))
        if not m:
            continue
        reports.append((float(m.group(4)), snapshot(all_pids)))
        if len(reports) == 2 and shutil.which("perf") and BUDGET_SECS >= 5:
            perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-p", str(proxy.pid),
                                     "-o", data, "--", "sleep", str(max(1, BUDGET_SECS - 4))],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p.wait()
    if perf:
        perf.wait()
    if len(reports) < 4:
        return None
    first, last = reports[1][1], reports[-2][1]
    queries = sum(q for q, _ in reports[2:-1])
    secs = len(reports) - 3
    r = {"qps": queries / secs if secs else 0, "per_query": {}}
    for name in all_pids:
        if first.get(name) and last.get(name):
            r["per_query"][name] = ((last[name][0] - first[name][0]) / queries * 1e6,
                                    (last[name][1] - first[name][1]) / queries * 1e6)
    busy = last["machine"][0] - first["machine"][0]
    idle = last["machine"][1] - first["machine"][1]
    r["machine_us"] = busy / queries * 1e6
    r["idle_share"] = idle / (busy + idle) if busy + idle > 0 else 0
    if perf and perf.returncode == 0 and os.path.exists(data):
        r["perf"] = perf_summary(data)
    return r


def part(proxies, md):
    prepare_tables()
    spid = server_pid()
    names = [n for n in ("odp", "haproxy") if n in proxies]
    results = {}
    for t in THREADS:
        for name in names:
            pr = proxies[name]
            pids = {"proxy": pr.pid}
            if spid:
                pids["server"] = spid
            r = run_one(pr.port, t, pr, pids)
            results[(t, name)] = r
            if r:
                log("budget %4d threads %-8s qps %8.0f machine %.1f us/q idle %.0f%%" % (
                    t, name, r["qps"], r["machine_us"], 100 * r["idle_share"]))
    write(md, results, names)


def us(pair):
    return "%.1f (%.1f + %.1f)" % (pair[0] + pair[1], pair[0], pair[1]) if pair else "–"


def write(md, results, names):
    md.append("### where the CPU goes: sysbench oltp_point_select (text), %s client threads, %d s each\n"
              % (", ".join(str(t) for t in THREADS), BUDGET_SECS))
    md.append("CPU per query in µs, total (user + system), steady state; `machine` is all CPU time of the box "
              "except idle (softirq and the kernel's network work included), so machine − client − server − "
              "proxy is what runs elsewhere (mostly softirq). QPS ≤ 2 CPUs / machine µs per query while idle is "
              "near 0.\n")
    md.append("| threads | proxy | QPS | machine / query | client (sysbench) | server (s1) | proxy | idle |")
    md.append("|---|---|---|---|---|---|---|---|")
    for (t, name), r in sorted(results.items()):
        if not r:
            md.append("| %d | %s | failed | | | | | |" % (t, name))
            continue
        pq = r["per_query"]
        md.append("| %d | %s | %.0f | %.1f | %s | %s | %s | %.0f%% |" % (
            t, name, r["qps"], r["machine_us"], us(pq.get("client")), us(pq.get("server")), us(pq.get("proxy")),
            100 * r["idle_share"]))
    md.append("")
    profiled = [(k, r) for k, r in sorted(results.items()) if r and r.get("perf")]
    if profiled:
        md.append("The proxy's own samples (`perf record -e cpu-clock -p`, steady state): share in the kernel, "
                  "in each user-space object, and the top symbols. On these paravirtualised machines "
                  "`pvm_irq_enable` is the hypervisor's cost of re-enabling interrupts, mostly inside the wake-up "
                  "of the peer a send makes readable (`sock_def_readable`); a sample right after a system call's "
                  "return lands in the library that made it (liburing's `io_uring_enter`), so part of a proxy's "
                  "'user' share is the kernel's.\n")
        md.append("| threads | proxy | kernel | user-space objects | top kernel symbols | top user symbols |")
        md.append("|---|---|---|---|---|---|")
        for (t, name), r in profiled:
            pf = r["perf"]
            md.append("| %d | %s | %.0f%% | %s | %s | %s |" % (
                t, name, pf["kernel"], ", ".join("%s %.1f%%" % (d, p) for p, d in pf["libs"]),
                ", ".join("%s %.1f%%" % (s, p) for p, s in pf["top_k"]),
                ", ".join("`%s` %.1f%%" % (s, p) for p, s in pf["top_u"])))
        md.append("")
    elif results:
        md.append("(`perf` not found or not permitted: no profile of the proxy.)\n")
