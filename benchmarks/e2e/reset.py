"""What handing a pooled connection to another client costs (part "reset", issue 13).

odp resets a server connection (COM_RESET_CONNECTION) before another client may use it only when
the connection held state no replay can undo (a temporary table, a lock, a role, ...); a clean one
goes over with the replay of what differs. build/odp_reset_cost (benchmarks/reset_cost.c,
libmariadb) times, on one connection directly to s1: COM_PING (the bare round trip),
COM_RESET_CONNECTION on a clean connection and on one with a user variable, a session variable and a
temporary table, and COM_CHANGE_USER to the same account (the older way to clean a connection).
"""

import os
import re
import subprocess

from benchcommon import BUILD, HOST, SERVER_PORT, env_int, log

BINARY = os.path.join(BUILD, "odp_reset_cost")
COUNT = env_int("BENCH_RESET_COUNT", 2000)
LINE = re.compile(r"(\w+)=(\S+)")
LABELS = {"ping": "COM_PING (round trip)", "reset": "COM_RESET_CONNECTION, clean connection",
          "dirty_reset": "COM_RESET_CONNECTION after a user variable, sql_mode and a temporary table",
          "change_user": "COM_CHANGE_USER, same account"}


def part(proxies, md):
    del proxies  # the server's cost: measured directly
    md.append("### handing a connection to another client: the server's cost (%d of each, one connection "
              "to s1)\n" % COUNT)
    if not os.access(BINARY, os.X_OK):
        md.append("skipped: %s is not built (`ninja -C build odp_reset_cost`)\n" % BINARY)
        return
    p = subprocess.run([BINARY, "--host", HOST, "--port", str(SERVER_PORT), "--count", str(COUNT)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    rows = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        r = dict(LINE.findall(line))
        if "op" in r:
            rows[r["op"]] = r
        elif line.strip():
            log("reset: %s" % line)
    md.append("| operation | median | p95 | mean | errors |\n|---|---|---|---|---|")
    for op, label in LABELS.items():
        r = rows.get(op)
        if r is None:
            md.append("| %s | – | – | – | not measured |" % label)
            continue
        md.append("| %s | %s µs | %s µs | %s µs | %s |" % (label, r["median_us"], r["p95_us"], r["mean_us"],
                                                           r["errors"]))
    ping = float(rows.get("ping", {}).get("median_us", "nan"))
    reset = float(rows.get("dirty_reset", {}).get("median_us", "nan"))
    if ping == ping and reset == reset:
        md.append("\nA reset costs odp one extra round trip of about %.0f µs over a ping (median), paid only "
                  "when a session leaves state behind (`odp_pool_resets_total`); a clean hand-over costs "
                  "none.\n" % (reset - ping))
    else:
        md.append("")
