#!/usr/bin/python3
"""odp in server_mode "oceanbase" in front of OBServer-side endpoints (the sandbox's oceanbase
flavour: scripts/sandbox up --oceanbase, ODP_SANDBOX_OCEANBASE=1).

The endpoints (tests/integration/ob_endpoint.py) do what ../../../shared/OB-VECTORS.md says an
OBServer does, independently of odp's codecs: the proxy login (__proxy_scramble), OB 2.0 with
both checksums after it, ob_capability_flag in the login OK. They log every login's attributes.
"""

import contextlib
import glob
import json
import os
import sys
import threading
import time

import pymysql

import odplib as L
from odplib import check, check_eq, connect, metric, run_cases

OB_PROTOCOL_V2 = 1 << 8
PROXY_SESSION_SYNC = 1 << 13
PROXY_NEW_EXTRA_INFO = 1 << 15


def endpoint_logins():
    """Every login the endpoints logged, as (the log line, its fields)."""
    out = []
    for path in sorted(glob.glob(os.path.join(L.SANDBOX_DIR, "log", "endpoint*.log"))):
        with open(path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                if line.startswith("login "):
                    out.append((line, json.loads(line[len("login "):])))
    return out


def proxy_logins_since(seen):
    return [x for line, x in endpoint_logins() if line not in seen and x["proxy"]]


def admin_rows(sql):
    with contextlib.closing(connect(user="root@proxysys", password="", database=None)) as c, c.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def wait_not_avoided(port, deadline_s=30):
    """Until odp no longer avoids the endpoint on `port` (a failure avoids a server for a while)."""
    def free():
        return all(not (row[0].endswith(":%d" % port) and int(row[2]) > 0)
                   for row in admin_rows("show proxycongestion"))
    L.wait_for(free, deadline_s, what="odp to stop avoiding port %d" % port)


def wait_routed_to_leader(table, key):
    """Until odp has the table's locations (its first statement loads them in the background)."""
    def loaded():
        rows = dict(admin_rows("explain route INSERT INTO test.%s (id) VALUES (%d)" % (table, key)))
        return rows.get("reason") == "leader of partition"
    L.wait_for(loaded, 10, what="the locations of test.%s" % table)


def case_proxy_login_forwards_the_token():
    before = {line for line, _ in endpoint_logins()}
    c = pymysql.connections.Connection(host=L.HOST, port=L.ODP_PORT, user="app", password="app", database="test",
                                       defer_connect=True)
    c._connect_attrs["__ob_client_name"] = "OceanBase Connector/J"
    c._connect_attrs["__ob_client_version"] = "2.4.9"
    c._connect_attrs["program_name"] = "not passed on"
    c.connect()
    with contextlib.closing(c), c.cursor() as cur:
        cur.execute("SELECT USER(), DATABASE()")
        user, db = cur.fetchone()
    check_eq(db, "test", "database")
    check(user.startswith("app@"), "logged in as app: %r" % user)
    logins = L.wait_for(lambda: proxy_logins_since(before), 5, what="a proxy login at an endpoint")
    a = {k: bytes.fromhex(v) for k, v in logins[-1]["attrs"].items()}
    check_eq(logins[-1]["user"], "app@t1", "user@tenant sent to the server")
    check_eq(a.get("__mysql_client_type"), b"__ob_proxy", "__mysql_client_type")
    check_eq(len(a.get("__proxy_scramble", b"")), 20, "__proxy_scramble length (raw bytes)")
    check_eq(int(a["__proxy_capability_flag"]), OB_PROTOCOL_V2 | PROXY_SESSION_SYNC | PROXY_NEW_EXTRA_INFO,
             "__proxy_capability_flag")
    check_eq(int(a["__connection_id"]), logins[-1]["sessid"], "__connection_id = the server's session id")
    check_eq(a.get("__global_vars_version"), b"0", "__global_vars_version on a first login")
    check_eq(a.get("__client_ip"), b"127.0.0.1", "__client_ip")
    check(int(a["__proxy_connection_id"]) > 0, "__proxy_connection_id")
    check(len(a.get("__proxy_version", b"")) > 0, "__proxy_version")
    check_eq(a.get("__ob_client_name"), b"OceanBase Connector/J", "__ob_client_* passed through")
    check_eq(a.get("__ob_client_version"), b"2.4.9", "__ob_client_version passed through")
    check("program_name" not in a, "other client attributes stay with the client")
    order = [k for k in logins[-1]["attrs"]]
    check_eq(order[:3], ["__mysql_client_type", "__connection_id", "__proxy_connection_id"], "obproxy's order")


def case_no_password_or_hash_in_odp():
    # odp never reads mysql.user in this mode: the servers check every login.
    for name in ("odp_credential_cache_hits_total", "odp_credential_cache_misses_total"):
        check_eq(metric(name), 0, name)


def case_wrong_password_is_the_servers_1045():
    before = metric("odp_client_auth_failures_total")
    try:
        connect(password="wrong").close()
        raise AssertionError("a wrong password was let in")
    except pymysql.err.OperationalError as e:
        check_eq(e.args[0], 1045, "error code")
        check("Access denied for user 'app'" in e.args[1], "the server's words: %r" % e.args[1])
    L.wait_for(lambda: metric("odp_client_auth_failures_total") > before, 5, what="auth failure counted")


def case_ob20_carries_the_traffic():
    before = metric("odp_server_ob20_connections_total")
    errors = metric("odp_server_ob20_errors_total")
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SELECT seq, REPEAT('x', 3000) FROM seq_1_to_3000")  # several frames
        rows = cur.fetchall()
        cur.execute("SELECT CONNECTION_ID()")
    check_eq(len(rows), 3000, "rows")
    check_eq(sum(r[0] for r in rows), 3000 * 3001 // 2, "row contents")
    check(metric("odp_server_ob20_connections_total") > before or before > 0, "OB 2.0 granted and used")
    check_eq(metric("odp_server_ob20_errors_total"), errors, "no frame refused")


def case_prepared_and_local_infile_in_ob20():
    # The C client's own suite (prepared statements, LOCAL INFILE, change user...) is compared with
    # the server directly by test_c_client.py; here: a server-side prepared statement through pymysql
    # is not available, so a LOCAL INFILE round trip (the file continues the OB 2.0 request).
    with contextlib.closing(connect(local_infile=True)) as c, c.cursor() as cur:
        path = os.path.join(L.SANDBOX_DIR, "ob_infile.csv")
        with open(path, "w") as f:
            f.write("".join("%d,infile\n" % (8000000000 + i * 3) for i in range(50)))
        cur.execute("CREATE TABLE IF NOT EXISTS test.ob_infile (id BIGINT PRIMARY KEY, s VARCHAR(16))")
        cur.execute("DELETE FROM test.ob_infile")
        cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE test.ob_infile FIELDS TERMINATED BY ','", (path,))
        cur.execute("SELECT COUNT(*), SUM(id) FROM test.ob_infile")
        n, total = cur.fetchone()
        cur.execute("DROP TABLE test.ob_infile")
    check_eq((n, int(total)), (50, sum(8000000000 + i * 3 for i in range(50))), "rows loaded")


def case_writes_reach_leaders_through_endpoints():
    keys = range(8100000000, 8100000030)
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM test.orders")  # the table's entry is loaded
        wait_routed_to_leader("orders", keys[0])
        for key in keys:
            cur.execute("DELETE FROM test.orders WHERE id = %s", (key,))  # an earlier run's leftovers
    for port in L.SERVER_PORTS:
        wait_not_avoided(port + L.SQL_PORT_SHIFT)  # or a strong read could meet a lagging follower
    before = metric("odp_route_not_master_total")
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        try:
            for key in keys:
                cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (%s, 'ob', 1)", (key,))
                # A strong read by key goes to the partition's leader, which has the row.
                cur.execute("SELECT COUNT(*) FROM test.orders WHERE id = %s", (key,))
                check_eq(cur.fetchone()[0], 1, "row %d read back" % key)
        finally:
            for key in keys:
                cur.execute("DELETE FROM test.orders WHERE id = %s", (key,))
    check_eq(metric("odp_route_not_master_total"), before, "4038 answers")


def endpoint_lines(prefix):
    """{endpoint log: [parsed lines with this prefix, in order]}."""
    out = {}
    for path in sorted(glob.glob(os.path.join(L.SANDBOX_DIR, "log", "endpoint*.log"))):
        with open(path, "rb") as f:
            out[path] = [json.loads(line[len(prefix):]) for line in f.read().decode("utf-8", "replace").splitlines()
                         if line.startswith(prefix)]
    return out


def endpoint_lines_since(prefix, before):
    return [x for path, lines in endpoint_lines(prefix).items() for x in lines[len(before.get(path, [])):]]


def private_ob_odp(**protocol):
    """An odp of its own (PrivateOdp: server_mode "oceanbase" in front of the endpoints in this flavour)."""
    return L.PrivateOdp(extra_toml={"protocol": protocol} if protocol else None)


def case_checksums_can_be_turned_off():
    before = endpoint_lines("ob20 ")
    with private_ob_odp(checksum=False) as odp:
        with contextlib.closing(odp.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT seq FROM seq_1_to_1000")
            check_eq(len(cur.fetchall()), 1000, "rows")
        check(odp.metrics()["odp_server_ob20_connections_total"] > 0, "still OB 2.0")
    sessions = endpoint_lines_since("ob20 ", before)
    check(sessions and all(s["checksums"] is False for s in sessions), "no checksums sent: %r" % sessions)
    # The shared odp computes them (protocol.checksum defaults to true).
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SELECT 1")
    check(any(s["checksums"] for lines in endpoint_lines("ob20 ").values() for s in lines), "checksums by default")


def case_plain_mysql_when_ob20_is_off():
    with private_ob_odp(ob20_to_server=False) as odp:
        with contextlib.closing(odp.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT seq FROM seq_1_to_1000")
            check_eq(len(cur.fetchall()), 1000, "rows")
        check(odp.metrics()["odp_server_connects_total"] > 0, "logged in")
        check_eq(odp.metrics()["odp_server_ob20_connections_total"], 0, "OB 2.0 connections")


def change_user(conn, user, password, database):
    """COM_CHANGE_USER with pymysql's scramble (pymysql has no API for it); the reply's first byte."""
    from pymysql.connections import _auth
    token = _auth.scramble_native_password(password.encode(), conn.salt)
    payload = (b"\x11" + user.encode() + b"\0" + bytes([len(token)]) + token + database.encode() + b"\0" +
               (45).to_bytes(2, "little") + b"mysql_native_password\0")
    conn._next_seq_id = 0
    conn.write_packet(payload)
    pkt = conn._read_packet()
    return pkt.get_all_data()


def case_change_user_logs_in_again():
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SET @mine = 7")
        reply = change_user(c, "app2", "app2", "test")
        check_eq(reply[:1], b"\x00", "OK to COM_CHANGE_USER")
        cur.execute("SELECT SUBSTRING_INDEX(USER(), '@', 1), @mine")
        check_eq(cur.fetchone(), ("app2", None), "the new user, a fresh session")
    with contextlib.closing(connect()) as c:
        try:
            reply = change_user(c, "app2", "wrong", "test")
            check_eq(reply[:1], b"\xff", "a wrong password is refused")
        except pymysql.err.OperationalError as e:
            check_eq(e.args[0], 1045, "error code")


def refuse(server_index, code):
    path = os.path.join(L.SANDBOX_DIR, "endpoint%d.refuse" % server_index)
    if code:
        with open(path, "w") as f:
            f.write(str(code))
    elif os.path.exists(path):
        os.unlink(path)


def case_refusals_before_running_are_retried_elsewhere():
    # s1 leads the tenant's primary zone: statements without a table go there first.
    for code in (8002, 8001, 5150):
        wait_not_avoided(L.SERVER_PORTS[0] + L.SQL_PORT_SHIFT)
        before = metric("odp_route_server_refusals_total")
        try:
            refuse(1, code)
            with contextlib.closing(connect()) as c, c.cursor() as cur:
                cur.execute("SELECT @@port, 77")
                port, v = cur.fetchone()
            check_eq(v, 77, "answer")
            check(port != L.SERVER_PORTS[0], "ran on another server than the refusing one (%s)" % port)
        finally:
            refuse(1, 0)
        check(metric("odp_route_server_refusals_total") > before, "refusal %d counted" % code)


def case_a_write_waits_for_its_leader_to_stop_refusing():
    # 8001: the leader is starting; 5727: it asks for a reroute (the route is refreshed and the
    # statement sent again). Either way the write runs there once the refusals stop.
    for code in (8001, 5727):
        a_write_waits_for_its_leader(code)


def a_write_waits_for_its_leader(code):
    key = 8200000001  # orders is HASH(id) over 3 partitions
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM test.orders")  # the table's entry is loaded
        cur.execute("DELETE FROM test.orders WHERE id = %d" % key)
        # The leader of the key's partition, from the metadata (which names its endpoint).
        with contextlib.closing(connect("direct", user="proxyro", password="proxyro", database="oceanbase")) as m, \
                m.cursor() as mcur:
            mcur.execute("SELECT s.sql_port FROM __all_virtual_proxy_schema s JOIN __all_virtual_proxy_partition p "
                         "ON p.table_id = s.table_id AND p.tablet_id = s.tablet_id WHERE s.table_name = 'orders' AND "
                         "p.part_id = %s AND s.role = 1", (key % 3,))
            leader = mcur.fetchone()[0] - L.SQL_PORT_SHIFT
        index = L.SERVER_PORTS.index(leader) + 1
        wait_routed_to_leader("orders", key)
        wait_not_avoided(leader + L.SQL_PORT_SHIFT)
        refuse(index, code)
        timer = threading.Timer(1.5, refuse, (index, 0))
        timer.start()
        try:
            t0 = time.monotonic()
            cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (%d, 'ob', 1)" % key)
            waited = time.monotonic() - t0
        finally:
            timer.join()
            refuse(index, 0)
        # It ran on the leader (elsewhere the sandbox answers 4038): the leader has the row.
        with contextlib.closing(connect(port=leader)) as d, d.cursor() as dcur:
            dcur.execute("SELECT COUNT(*) FROM test.orders WHERE id = %d" % key)
            check_eq(dcur.fetchone()[0], 1, "the row, on its leader")
        cur.execute("DELETE FROM test.orders WHERE id = %d" % key)
    check(waited >= 1.0, "the write waited for the leader through %d (%.2fs)" % (code, waited))


def case_partition_miss_is_counted_and_not_session_state():
    # An OBServer tracks ob_proxy_partition_hit = false when a statement's partition was not local
    # there: odp counts it and re-reads the table's locations. The variable is the server's
    # feedback, not the client's state: replayed on the session's other connections, a server
    # would refuse it (1193 unknown variable here). The client's own state still follows it.
    before = metric("odp_route_partition_misses_total")
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SET @mine = 5, SESSION sql_mode = 'ANSI_QUOTES'")
        # (OKs carry session state; a result set ends in one only for clients with DEPRECATE_EOF)
        cur.execute("DELETE /*ob_endpoint:partition_miss*/ FROM test.orders WHERE id = -3")
        cur.execute("UPDATE test.orders SET amount = amount WHERE id = 4 /*ob_endpoint:partition_miss*/")
        ports = set()
        for key in (3, 4, 5):  # orders' three partitions, led by three servers
            cur.execute("SELECT @@port, @mine, @@sql_mode, COUNT(*) FROM test.orders WHERE id = %d" % key)
            port, mine, mode, _ = cur.fetchone()
            check_eq(int(mine), 5, "the session's user variable on %s" % port)
            check("ANSI_QUOTES" in mode, "the session's sql_mode on %s: %r" % (port, mode))
            ports.add(port)
        check(len(ports) > 1, "the statements reached several servers: %r" % ports)
    check_eq(metric("odp_route_partition_misses_total") - before, 2, "partition misses counted")


def case_session_records_follow_the_session_to_every_server():
    # An OBServer reports session state it keeps (here the application info) as a SESS_INFO record
    # in its OB 2.0 answer; odp sends it with the session's next request on each of its other
    # server connections, so every server the session reaches has it. No other client ever sees
    # it: a connection that carried it is reset before another session uses it.
    def app_info_everywhere(cur):
        seen = {}
        for key in (3, 4, 5):  # orders' three partitions, led by three servers
            cur.execute("SELECT @@port, @__ob_app_info, COUNT(*) FROM test.orders WHERE id = %d" % key)
            port, info, _ = cur.fetchone()
            seen[port] = info.decode() if isinstance(info, bytes) else info
        return seen

    # A private odp with one server connection per server, so that the other client runs on the
    # connections that carried the records. It logs in first: connections opened after its login
    # have no older global values to reset for, so only the records can make odp reset them.
    with L.PrivateOdp({"pool": {"max_server_connections": 1}}) as o, \
            contextlib.closing(o.connect()) as other, other.cursor() as ocur, \
            contextlib.closing(o.connect()) as c, c.cursor() as cur:
        reuses = metric("odp_pool_reuses_total", o.admin_port)
        cur.execute("SELECT /*ob_endpoint:app_info=payroll*/ 1")
        seen = app_info_everywhere(cur)
        check(len(seen) > 1, "the statements reached several servers: %r" % seen)
        check(all(v == "payroll" for v in seen.values()), "the record on every server: %r" % seen)
        cur.execute("SELECT /*ob_endpoint:app_info=billing*/ 1")  # a newer record replaces it
        seen = app_info_everywhere(cur)
        check(all(v == "billing" for v in seen.values()), "the newer record on every server: %r" % seen)
        seen = app_info_everywhere(ocur)
        check(all(v is None for v in seen.values()), "another client sees none of it: %r" % seen)
        check(metric("odp_pool_reuses_total", o.admin_port) > reuses, "the other client ran on pooled connections")
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        seen = app_info_everywhere(cur)
        check(all(v is None for v in seen.values()), "a later client sees none of it: %r" % seen)


def old_extra_info_types(since):
    """Record types endpoint 3 (the older server: old-format extra info) received, after `since`
    of its log lines."""
    path = os.path.join(L.SANDBOX_DIR, "log", "endpoint3.log")
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    return len(lines), [t for line in lines[since:] if line.startswith("old_extra_info ")
                        for t in json.loads(line[len("old_extra_info "):])["types"]]


def case_session_records_cross_the_two_extra_info_formats():
    # s3's endpoint plays an older OBServer that does not grant the TLV extra-info format: odp
    # must read its SESS_INFO in the old ObObj key/value format and write records to it in that
    # format (the endpoint refuses a TLV frame from a proxy it did not grant it to), while s1 and
    # s2 speak the new one. A record set on each server reaches the other two.
    since, _ = old_extra_info_types(0)
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        for key, word in ((3, "north"), (4, "south"), (5, "east")):  # orders' three leaders in turn
            cur.execute("SELECT /*ob_endpoint:app_info=%s*/ @@port FROM test.orders WHERE id = %d" % (word, key))
            origin = cur.fetchone()[0]
            seen = {}
            for k in (3, 4, 5):
                cur.execute("SELECT @@port, @__ob_app_info FROM test.orders WHERE id = %d" % k)
                port, info = cur.fetchone()
                seen[port] = info.decode() if isinstance(info, bytes) else info
            check(len(seen) == 3, "the statements reached the three servers: %r" % seen)
            check(all(v == word for v in seen.values()),
                  "the record set on the server of port %s on every server: %r" % (origin, seen))
    _, types = old_extra_info_types(since)
    check(2002 in types, "odp sent session records to the older server in the old format: %r" % types)


def case_same_global_variables_version_spares_the_reset():
    # An OBServer reports the tenant's global-variables version in each proxy login's OK. A pooled
    # connection that logged in under the version a later client's login saw has that client's
    # global values: it takes it without COM_RESET_CONNECTION. After a SET GLOBAL (the version
    # moves on), the same hand-over resets again. One connection per server, so that B and D
    # run on A's connections.
    def everywhere(cur):
        ports = set()
        for key in (3, 4, 5):  # orders' three partitions, led by three servers
            cur.execute("SELECT @@port, COUNT(*) FROM test.orders WHERE id = %d" % key)
            ports.add(cur.fetchone()[0])
        return ports

    with L.PrivateOdp({"pool": {"max_server_connections": 1}}) as o:
        with contextlib.closing(o.connect()) as a, a.cursor() as cur:
            check(len(everywhere(cur)) > 1, "A reached several servers")
        time.sleep(0.05)  # B's login comes later than the connections A opened
        resets = metric("odp_pool_resets_total", o.admin_port)
        reuses = metric("odp_pool_reuses_total", o.admin_port)
        with contextlib.closing(o.connect()) as b, b.cursor() as cur:
            everywhere(cur)
        check(metric("odp_pool_reuses_total", o.admin_port) > reuses, "B ran on A's connections")
        check_eq(metric("odp_pool_resets_total", o.admin_port) - resets, 0, "resets for B (same globals)")
        L.bump_global_vars_version()  # as a SET GLOBAL anywhere in the tenant does
        time.sleep(0.05)
        with contextlib.closing(o.connect()) as d, d.cursor() as cur:
            everywhere(cur)
        check(metric("odp_pool_resets_total", o.admin_port) > resets, "D's globals are newer: resets")


# The spoiled-frame cases come last: a server that broke the protocol is avoided for a while, so
# writes then meet non-leaders (4038, retried), which the case above counts.
def corrupted(kind):
    before = metric("odp_server_ob20_errors_total")
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        try:
            cur.execute("SELECT /*ob_endpoint:corrupt=%s*/ 4242" % kind)
            got = cur.fetchall()
            raise AssertionError("a spoiled frame (%s) gave a result: %r" % (kind, got))
        except pymysql.err.OperationalError as e:
            check_eq(e.args[0], 1158, "error code")
            check("OB 2.0 frame refused" in e.args[1], "clear error: %r" % e.args[1])
    check(metric("odp_server_ob20_errors_total") > before, "counted")
    # odp still serves, on fresh connections.
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SELECT 4243")
        check_eq(cur.fetchone()[0], 4243, "next statement")


def case_payload_checksum_mismatch_is_refused():
    corrupted("payload")


def case_header_checksum_mismatch_is_refused():
    corrupted("header")


def case_frame_out_of_sequence_is_refused():
    corrupted("seq")


def case_response_to_another_request_is_refused():
    corrupted("request_id")


CASES = [(name[len("case_"):], fn) for name, fn in globals().items() if name.startswith("case_")]

if __name__ == "__main__":
    if not L.OCEANBASE:
        print("test_oceanbase.py needs the sandbox's oceanbase flavour (ODP_SANDBOX_OCEANBASE=1)")
        sys.exit(2)
    rc = run_cases(CASES, sys.argv[1:])
    # The spoiled frames left servers avoided for a while: tests that run next expect none.
    for p in L.SERVER_PORTS:
        wait_not_avoided(p + L.SQL_PORT_SHIFT, 40)
    sys.exit(rc)
