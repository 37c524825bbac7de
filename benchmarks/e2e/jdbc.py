"""JDBC batch insert (part "jdbc"): MariaDB Connector/J inserts BENCH_JDBC_ROWS rows in one
executeBatch() (autocommit off, one commit), with useBulkStmts=false (one COM_STMT_EXECUTE per row,
pipelined) and true (MariaDB's bulk protocol), directly to s1 and through odp. The Java side is the
JDBC suite's harness (tests/integration/jdbc, `OdpJdbc bench`), run by tests/integration/test_jdbc.py
bench, which compiles it on first use. Skipped, with a line saying so, when there is no JDK or driver.
"""

import os
import re
import shutil
import subprocess
import sys

from benchcommon import BUILD, ROOT, SERVER_PORT, env_int, log, proc_cpu

ROWS = env_int("BENCH_JDBC_ROWS", 100000)
JAR = os.environ.get("ODP_JDBC_JAR", "/usr/share/java/mariadb-java-client.jar")
SCRIPT = os.path.join(ROOT, "tests", "integration", "test_jdbc.py")
LINE = re.compile(r"^bench jdbc_batch target=(\w+) useBulkStmts=(\w+) (.*)$")


def part(proxies, md):
    md.append("### JDBC batch insert of %d rows (MariaDB Connector/J, one executeBatch, one commit)\n" % ROWS)
    missing = [x for x in ("java", "javac") if not shutil.which(x)]
    if missing or not os.path.isfile(JAR) or not os.path.isfile(SCRIPT):
        why = ("no %s" % "/".join(missing)) if missing else ("no driver jar %s" % JAR if not os.path.isfile(JAR)
                                                             else "no %s" % SCRIPT)
        md.append("skipped: %s (install default-jdk-headless and libmariadb-java: scripts/setup)\n" % why)
        log("jdbc skipped: %s" % why)
        return
    if "odp" not in proxies:
        md.append("skipped: odp is not running\n")
        return
    odp = proxies["odp"]
    env = dict(os.environ, ODP_PORT=str(odp.port), ODP_DIRECT_PORT=str(SERVER_PORT), ODP_BUILD_DIR=BUILD,
               ODP_IT_RUN_TIMEOUT="900")
    before = proc_cpu(odp.pid)
    p = subprocess.run([sys.executable, SCRIPT, "bench", str(ROWS)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, timeout=1000)
    after = proc_cpu(odp.pid)
    out = p.stdout.decode("utf-8", "replace")
    rows = {}
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m:
            kv = dict(x.split("=", 1) for x in m.group(3).split() if "=" in x)
            rows[(m.group(1), m.group(2))] = kv
            log("jdbc %s useBulkStmts=%s %s" % (m.group(1), m.group(2), m.group(3)))
    if not rows:
        md.append("**failed** (exit %d): `%s`\n" % (p.returncode, out.strip()[-500:].replace("\n", " ")))
        return
    md.append("| useBulkStmts | direct | odp | odp / direct (time) | rows/s direct | rows/s odp | notes |")
    md.append("|---|---|---|---|---|---|---|")
    for bulk in ("false", "true"):
        d, o = rows.get(("direct", bulk), {}), rows.get(("odp", bulk), {})
        notes = "; ".join("%s: %s" % (t, kv.get("error") or "WRONG_ROW_COUNT=" + kv["WRONG_ROW_COUNT"])
                          for t, kv in (("direct", d), ("odp", o)) if "error" in kv or "WRONG_ROW_COUNT" in kv)
        dm, om = d.get("ms"), o.get("ms")
        ratio = "%.2f" % (int(om) / int(dm)) if dm and om and int(dm) > 0 else "–"
        md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            bulk, (dm + " ms") if dm else "–", (om + " ms") if om else "–", ratio, d.get("rows_per_s", "–"),
            o.get("rows_per_s", "–"), notes[:300]))
    md.append("\nodp's CPU over the four runs (two of them through odp): %.2f s user + %.2f s sys. Exit status %d.\n"
              % (after[0] - before[0], after[1] - before[1], p.returncode))
