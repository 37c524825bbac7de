#!/usr/bin/python3
"""Connection pooling: 1,000 concurrent sysbench clients (oltp_read_only, prepared statements on)
through odp on at most 100 server connections, with the same answers as the server gives directly.

The per-server limit is set live (`alter proxyconfig set pool.max_server_connections`) and put
back at the end. Server connections are counted on the servers themselves (processlist), sampled
during the run. Environment: ODP_IT_POOL_CLIENTS (default 1000), ODP_IT_POOL_TIME (default 10)."""
import contextlib
import os
import re
import subprocess
import sys
import threading
import time

import odplib as L

DB = "test_pool"
CLIENTS = int(os.environ.get("ODP_IT_POOL_CLIENTS", "1000"))
SECONDS = int(os.environ.get("ODP_IT_POOL_TIME", "10"))
MAX_SERVER_CONNECTIONS = 100


def admin(sql):
    with contextlib.closing(L.connect(user="root@proxysys", password="", database=None)) as c, c.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def workers():
    return int(dict(admin("show proxyinfo")).get("workers", "1"))


def server_connections():
    """Connections user `app` has open on all sandbox servers right now (what the servers see)."""
    total = 0
    for port in L.SERVER_PORTS:
        rows = L.query_all(None, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'", port=port)
        total += int(rows[0][0])
    return total - 1  # this query's own connection


def sysbench(cmd, extra=(), timeout=300):
    args = ["sysbench", "oltp_read_only", "--db-driver=mysql", "--mysql-host=127.0.0.1",
            "--mysql-port=%d" % L.ODP_PORT, "--mysql-user=app", "--mysql-password=app", "--mysql-db=" + DB,
            "--tables=1", "--table-size=10000", "--mysql-ssl=off"] + list(extra) + [cmd]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    L.check(p.returncode == 0, "sysbench %s failed (%d):\n%s" % (cmd, p.returncode, out[-3000:]))
    return out


def case_thousand_clients_on_few_server_connections():
    per_server = MAX_SERVER_CONNECTIONS // (len(L.SERVER_PORTS) * workers())
    old = admin("show proxyconfig like 'pool.max_server_connections'")[0][1]
    L.query_all("direct", "DROP DATABASE IF EXISTS %s" % DB)
    L.query_all("direct", "CREATE DATABASE %s" % DB)
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(server_connections())
            except Exception as e:  # noqa: BLE001 - a server busy for a moment is not a failure
                print("sample failed: %r" % e)
            time.sleep(0.2)
    try:
        sysbench("prepare")
        admin("alter proxyconfig set pool.max_server_connections = %d" % per_server)
        baseline = server_connections()
        t = threading.Thread(target=sample, daemon=True)
        t.start()
        out = sysbench("run", ["--threads=%d" % CLIENTS, "--time=%d" % SECONDS, "--report-interval=0",
                               "--db-ps-mode=auto"], timeout=SECONDS + 240)
        stop.set()
        t.join(5)
        print(out[out.find("SQL statistics"):])
        tx = re.search(r"transactions:\s+(\d+)", out)
        err = re.search(r"ignored errors:\s+(\d+)", out)
        rec = re.search(r"reconnects:\s+(\d+)", out)
        L.check(tx and int(tx.group(1)) > 0, "no transactions")
        L.check(err is not None and int(err.group(1)) == 0, "sysbench saw errors")
        L.check(rec and int(rec.group(1)) == 0, "sysbench reconnected")
        L.check(samples, "no processlist samples")
        peak = max(samples)
        print("server connections of user app: before the run %d, peak during it %d (limit %d per server per "
              "worker)" % (baseline, peak, per_server))
        L.check(peak <= MAX_SERVER_CONNECTIONS,
                "%d clients used %d server connections (more than %d)" % (CLIENTS, peak, MAX_SERVER_CONNECTIONS))
        L.check(L.metric("odp_pool_reuses_total") > 0, "the pool was not used")
        # The same statements give the same answers through odp as on the server directly.
        for sql in ("SELECT COUNT(*), SUM(k), MAX(c) FROM %s.sbtest1" % DB,
                    "SELECT id, k, c, pad FROM %s.sbtest1 WHERE id BETWEEN 100 AND 120 ORDER BY id" % DB,
                    "SELECT DISTINCT c FROM %s.sbtest1 WHERE id BETWEEN 5000 AND 5010 ORDER BY c" % DB):
            L.check_eq(L.query_all("odp", sql), L.query_all("direct", sql), sql)
    finally:
        stop.set()
        admin("alter proxyconfig set pool.max_server_connections = %s" % old)
        L.query_all("direct", "DROP DATABASE IF EXISTS %s" % DB)


if __name__ == "__main__":
    sys.exit(L.run_cases([("thousand_clients_on_few_server_connections",
                           case_thousand_clients_on_few_server_connections)]))
