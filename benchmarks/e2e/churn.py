"""Connection churn (part "churn", issue 12): connect, log in, `SELECT 1`, close, with
build/odp_churn_client (benchmarks/churn_client.c, libmariadb): BENCH_CHURN_COUNT cycles one after
the other, and BENCH_CHURN_PARALLEL_COUNT cycles over BENCH_CHURN_PARALLEL threads; and with PyMySQL
(churn_pymysql.py, the client the issue was measured with, which also turns autocommit off at every
login), BENCH_CHURN_COUNT cycles one after the other; directly to s1, through odp and through
HAProxy in alternating rounds; libmariadb without TLS and with it. Each client also reports the
median of each phase of a cycle (log in, `SELECT 1`, close).

With TLS the client asks for it and refuses plain text (MYSQL_OPT_SSL_ENFORCE): direct and through
HAProxy (tcp mode passes the bytes through) it is the server's TLS; through odp it is odp's own
([tls] client_cert/client_key, the sandbox's certificate), and odp talks to the server in plain text.
A short probe first checks each path takes a TLS login; a path that does not is "n/a" with the
probe's error.
"""

import os
import re
import subprocess

from benchcommon import BUILD, HOST, SANDBOX, SERVER_PORT, env_int, log, med, proc_cpu

BINARY = os.path.join(BUILD, "odp_churn_client")
PYMYSQL_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "churn_pymysql.py")
COUNT = env_int("BENCH_CHURN_COUNT", 1000)
PARALLEL = env_int("BENCH_CHURN_PARALLEL", 32)
PARALLEL_COUNT = env_int("BENCH_CHURN_PARALLEL_COUNT", 3200)
CHURN_ROUNDS = env_int("BENCH_CHURN_ROUNDS", 2)
WITH_TLS = os.environ.get("BENCH_CHURN_TLS", "1") == "1"
# The client loads this CA instead of the system's trust store (which costs it ~20 ms a connection).
CA = os.path.join(SANDBOX, "tls", "ca.pem")
TARGET_VS_HAPROXY = 0.8
LINE = re.compile(r'(\w+)=("[^"]*"|\S+)')


def run(port, count, parallel, tls, proxy=None, client="libmariadb"):
    common = ["--host", HOST, "--port", str(port), "--user", "app", "--password", "app", "--db", "test",
              "--count", str(count)]
    if client == "pymysql":
        args = ["/usr/bin/python3", PYMYSQL_CLIENT] + common
    else:
        args = [BINARY] + common + ["--parallel", str(parallel)]
    if tls:
        args += ["--tls"] + (["--ca", CA] if os.path.isfile(CA) else [])
    before = proc_cpu(proxy.pid) if proxy else None
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    after = proc_cpu(proxy.pid) if proxy else None
    out = p.stdout.decode("utf-8", "replace").strip()
    last = out.splitlines()[-1] if out else ""
    r = {k: v.strip('"') for k, v in LINE.findall(last)}
    if "cycles" not in r:
        return {"cycles": 0, "errors": count, "first_error": out[-300:], "median_us": float("nan"),
                "p95_us": float("nan"), "cycles_per_s": float("nan")}
    for k in ("cycles", "errors"):
        r[k] = int(r[k])
    for k in ("median_us", "p95_us", "p99_us", "mean_us", "cycles_per_s", "wall_s", "login_median_us",
              "query_median_us", "close_median_us"):
        r[k] = float(r.get(k, "nan"))
    if proxy and r["cycles"]:
        r["cpu_us"] = ((after[0] - before[0]) + (after[1] - before[1])) / r["cycles"] * 1e6
    return r


def fmt(v, spec="%.0f"):
    return "–" if v is None or v != v else spec % v


def part(proxies, md):
    if not os.access(BINARY, os.X_OK):
        md.append("### connection churn\n\nskipped: %s is not built (`ninja -C build odp_churn_client`)\n" % BINARY)
        return
    paths = ["direct"] + [p for p in ("odp", "haproxy") if p in proxies]
    ports = {"direct": SERVER_PORT}
    ports.update({k: v.port for k, v in proxies.items()})
    kinds = [("sequential", COUNT, 1, "libmariadb"), ("%d parallel" % PARALLEL, PARALLEL_COUNT, PARALLEL, "libmariadb"),
             ("sequential, PyMySQL", COUNT, 1, "pymysql")]
    tls_modes = [False]
    na = {}
    if WITH_TLS:
        tls_modes.append(True)
        for path in paths:
            probe = run(ports[path], 3, 1, True)
            if probe["errors"] or not probe["cycles"]:
                na[path] = probe.get("first_error", "?")
                log("churn: no TLS through %s: %s" % (path, na[path]))
    res = {}
    for rnd in range(CHURN_ROUNDS):
        for tls in tls_modes:
            for kind, count, par, client in kinds:
                if tls and client != "libmariadb":
                    continue
                for path in paths:
                    if tls and path in na:
                        continue
                    r = run(ports[path], count, par, tls, proxies.get(path), client)
                    res.setdefault((tls, kind, path), []).append(r)
                    log("churn round %d %-4s %-12s %-8s %5d cycles %3d errors median %6.0f us p95 %6.0f us "
                        "%6.0f/s%s" % (rnd + 1, "tls" if tls else "tcp", kind, path, r["cycles"], r["errors"],
                                       r["median_us"], r["p95_us"], r["cycles_per_s"],
                                       (" first error: " + r["first_error"]) if r["errors"] else ""))
    write(md, res, paths, kinds, tls_modes, na)


def write(md, res, paths, kinds, tls_modes, na):
    md.append("### connection churn: connect + `SELECT 1` + close (%d rounds, medians; latency of one cycle)\n"
              % CHURN_ROUNDS)
    md.append("`build/odp_churn_client` (libmariadb): %d cycles one after the other, and %d cycles over %d "
              "threads; `benchmarks/e2e/churn_pymysql.py` (PyMySQL, which also sends `SET AUTOCOMMIT = 0` at "
              "every login): %d cycles one after the other. TLS: the client insists on TLS (loading the "
              "sandbox's CA, not the system trust store); direct and through HAProxy (tcp) that is the "
              "server's, through odp it is odp's own. Proxy CPU is per cycle (user + sys). Phases: medians of "
              "the log-in (connect to login OK; PyMySQL: also its autocommit SET), `SELECT 1` and close parts of "
              "a cycle.\n"
              % (COUNT, PARALLEL_COUNT, PARALLEL, COUNT))
    md.append("| TLS | pattern | path | cycles | median | p95 | cycles/s | odp / HAProxy (median; per round) "
              "| odp / direct (median) | phases: log in / SELECT 1 / close | proxy CPU / cycle | errors |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for tls in tls_modes:
        for kind, _, _, client in kinds:
            if tls and client != "libmariadb":
                continue
            for path in paths:
                if tls and path in na:
                    md.append("| on | %s | %s | n/a | | | | | | | | TLS login failed: `%s` |"
                              % (kind, path, na[path][:150]))
                    continue
                rs = res.get((tls, kind, path), [])
                if not rs:
                    continue
                vs_h = vs_d = "–"
                if path == "odp":
                    h, d = res.get((tls, kind, "haproxy")), res.get((tls, kind, "direct"))
                    if h:
                        per = [a["median_us"] / b["median_us"] for a, b in zip(rs, h) if b["median_us"]]
                        vs_h = "%s (%s)" % (fmt(med(per), "%.2f"), " ".join("%.2f" % x for x in per))
                    if d:
                        vs_d = fmt(med([a["median_us"] / b["median_us"] for a, b in zip(rs, d) if b["median_us"]]),
                                   "%.2f")
                errors = sum(r["errors"] for r in rs)
                first = next((r["first_error"] for r in rs if r["errors"]), "")
                phases = " / ".join(fmt(med([r.get(k, float("nan")) for r in rs])) for k in
                                    ("login_median_us", "query_median_us", "close_median_us")) + " µs"
                md.append("| %s | %s | %s | %d | %s µs | %s µs | %s | %s | %s | %s | %s | %d%s |" % (
                    "on" if tls else "off", kind, path, sum(r["cycles"] for r in rs),
                    fmt(med([r["median_us"] for r in rs])), fmt(med([r["p95_us"] for r in rs])),
                    fmt(med([r["cycles_per_s"] for r in rs])), vs_h, vs_d, phases,
                    fmt(med([r.get("cpu_us") for r in rs]), "%.0f µs") if path != "direct" else "–",
                    errors, (" (`%s`)" % first[:150]) if first else ""))
    md.append("")
    md.append("Targets (issue 12, without TLS): odp's cycle ≤ %.1f× HAProxy's and ≤ direct's, sequential and "
              "parallel (median latency).\n" % TARGET_VS_HAPROXY)
    md.append("| pattern | target | measured | verdict |")
    md.append("|---|---|---|---|")
    for kind, _, _, _ in kinds:
        o, h, d = res.get((False, kind, "odp")), res.get((False, kind, "haproxy")), res.get((False, kind, "direct"))
        if not o:
            continue
        if h:
            x = med([a["median_us"] / b["median_us"] for a, b in zip(o, h) if b["median_us"]])
            md.append("| %s | ≤ %.1f× HAProxy | %s× | %s |" % (kind, TARGET_VS_HAPROXY, fmt(x, "%.2f"),
                                                             "—" if x != x else ("**met**" if x <= TARGET_VS_HAPROXY
                                                                                 else "**missed**")))
        if d:
            x = med([a["median_us"] / b["median_us"] for a, b in zip(o, d) if b["median_us"]])
            md.append("| %s | ≤ direct | %s× | %s |" % (kind, fmt(x, "%.2f"),
                                                         "—" if x != x else ("**met**" if x <= 1.0 else "**missed**")))
    md.append("")
