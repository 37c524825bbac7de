#!/usr/bin/python3
"""Two clusters behind one odp: a second, one-server sandbox cluster is started next to the shared
one, and a private odp serves both. Login names pick the cluster (`user@tenant#cluster`,
`cluster:tenant:user`); plain `user` gets the default cluster. Each statement must land on a
server of the cluster its session belongs to."""
import contextlib
import os
import subprocess
import sys

import pymysql

import odplib as L

SECOND_DIR = os.path.join(L.BUILD_DIR, "sandbox-second")
SECOND_BASE = int(os.environ.get("ODP_IT_SECOND_PORT_BASE", "3460"))
SECOND_PORT = SECOND_BASE + 1


def second_sandbox(verb):
    env = dict(os.environ, ODP_SANDBOX_DIR=SECOND_DIR, ODP_SANDBOX_PORT_BASE=str(SECOND_BASE),
               ODP_SANDBOX_SERVERS="1", ODP_SANDBOX_NO_ODP="1", ODP_SANDBOX_CLUSTER="second",
               ODP_BIN=L.ODP_BIN)
    p = subprocess.run([os.path.join(L.ROOT, "scripts", "sandbox"), verb], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    L.check(p.returncode == 0, "second sandbox %s failed:\n%s" % (verb, out[-3000:]))


def port_via(odp, user, sql="SELECT @@port"):
    with contextlib.closing(L.connect(port=odp.port, user=user, password="app", database="test")) as c:
        with c.cursor() as cur:
            cur.execute(sql)
            return int(cur.fetchone()[0])


def case_two_clusters_in_one_odp():
    second_sandbox("up")
    try:
        extra = {
            "cluster.second": {"rootservice_list": ["%s:%d" % (L.HOST, SECOND_PORT)], "server_mode": "mysql",
                               "meta_user": "proxyro", "meta_password": "proxyro", "default_tenant": "t1"},
        }
        with L.start_private_odp(extra) as odp:
            main_ports = set(L.SERVER_PORTS)
            L.check(port_via(odp, "app") in main_ports, "plain user: the default (first) cluster")
            L.check(port_via(odp, "app@t1#sandbox") in main_ports, "app@t1#sandbox")
            L.check_eq(port_via(odp, "app@t1#second"), SECOND_PORT, "app@t1#second")
            L.check_eq(port_via(odp, "second:t1:app"), SECOND_PORT, "second:t1:app")
            # Routed statements stay inside their cluster: the second cluster has its own tables.
            L.check_eq(port_via(odp, "app@t1#second", "SELECT @@port FROM test.orders WHERE id = 4 LIMIT 1"),
                       SECOND_PORT, "table statement in the second cluster")
            try:
                L.connect(port=odp.port, user="app@t1#nosuch", password="app").close()
                raise AssertionError("a login to an unknown cluster was accepted")
            except pymysql.err.OperationalError as e:
                L.check(e.args[0] == 1045, "unknown cluster refused with 1045, got %r" % (e.args,))
    finally:
        second_sandbox("down")


if __name__ == "__main__":
    sys.exit(L.run_cases([("two_clusters_in_one_odp", case_two_clusters_in_one_odp)]))
