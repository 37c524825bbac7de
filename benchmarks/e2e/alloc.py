"""The session's heap allocations and time per statement (part "alloc"): build/bench_session
(benchmarks/bench_session.cpp) drives the real ClientSession through the unit tests' fake IO world
with a counting allocator; see that file for exactly what is counted. Runs without servers."""

import json
import os
import subprocess

from benchcommon import BUILD, log

BINARY = "bench_session"
MIN_TIME = os.environ.get("BENCH_ALLOC_MIN_TIME", "0.5")


def part(md):
    path = os.path.join(BUILD, BINARY)
    md.append("### heap allocations per statement in the session code (`build/%s`, fake IO world)\n" % BINARY)
    if not os.access(path, os.X_OK):
        md.append("skipped: %s is not built (`ninja -C build %s`)\n" % (path, BINARY))
        return
    p = subprocess.run([path, "--benchmark_min_time=%s" % MIN_TIME, "--benchmark_format=json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    try:
        data = json.loads(p.stdout.decode())
    except ValueError:
        md.append("**failed** (exit %d): `%s`\n" % (p.returncode, p.stderr.decode()[-500:].replace("\n", " ")))
        return
    md.append("An iteration is one statement of one client session, after 2,000 statements of warm-up "
              "(TextSelect, PreparedExecute, TextSelectDeprecateEof), or one whole client connection — login, "
              "one text SELECT, COM_QUIT, session destroyed — after 200 of them (ConnectSelectQuit), through "
              "the real proxy code with the worker's pool (default config). allocs: calls of operator new / "
              "malloc / calloc / realloc made "
              "while the proxy's code runs (its callbacks and the worker loop's per-event work), never the fake "
              "client's, server's or network's; the TcpStream under the proxy is replaced by the fake and not "
              "counted. Time: the whole simulated round trip (fakes included; CPU time of the thread) and the proxy's "
              "share of it (wall time between region switches, inflated when the machine is busy; and that share "
              "of the wall time applied to the CPU time, an estimate that preemption does not inflate). Pool "
              "takes: statements that took their server connection from the pool, per statement (1: the pooled "
              "path of a real worker).\n")
    md.append("| case | iterations | allocs (all iterations) | allocs / iteration | frees / iteration "
              "| bytes / iteration | CPU ns / iteration (all) | proxy ns / iteration (wall; CPU estimate) "
              "| fake allocs / iteration | pool takes / iteration |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            md.append("| %s | **error**: %s | | | | | | | | |" % (b["name"], b.get("error_message", "?")))
            continue
        # Preemption stretches wall time, the proxy's share with the rest: its share of the wall
        # time applied to the thread's CPU time estimates the proxy's CPU time.
        est = b["proxy_ns"] * b["cpu_time"] / b["real_time"] if b["real_time"] else float("nan")
        md.append("| %s | %d | %d | %.4f | %.4f | %.2f | %.0f | %.0f; %.0f | %.1f | %.2f |" % (
            b["name"].replace("BM_Session", ""), b["iterations"], round(b["allocs"] * b["iterations"]), b["allocs"],
            b["frees"], b["alloc_bytes"], b["cpu_time"], b["proxy_ns"], est, b["fake_allocs"],
            b.get("pool_takes", -1)))
        log("alloc %s: %.2f allocs/stmt, %.0f bytes/stmt, %.0f ns/stmt, proxy %.0f ns/stmt" % (
            b["name"], b["allocs"], b["alloc_bytes"], b["cpu_time"], b["proxy_ns"]))
    md.append("\nWhere they come from: `build/%s --trace text|prepared|churn [N] 2>&1 | c++filt` prints the call "
              "stack of every allocation in N iterations after the warm-up.\n" % BINARY)

