#!/usr/bin/env python3
"""Cluster-aware routing through odp against the OceanBase-shaped sandbox (docs/METADATA.md).

Every expectation is computed from the metadata tables read directly from a server (which
server leads which partition, zones/regions/IDCs), never written into the test: the statements
run through odp must land where the metadata says. `SELECT @@port` tells which server answered.
"""

import contextlib
import os
import subprocess
import sys

import pymysql

from odplib import (BUILD_DIR, HOST, ODP_PORT, ROOT, SERVER_PORTS, SQL_PORT_SHIFT, check, check_eq, connect, metric, run_cases,
                    wait_for)

TENANT = "t1"
# One key value per partition, per table: (table, key column, {partition number: value}).
TABLES = [
    ("orders", "id", {0: 3, 1: 4, 2: 5}),          # HASH(id) 3
    ("events", "id", {0: 10, 1: 1500, 2: 5000}),   # RANGE(id) 1000, 2000, MAXVALUE
    ("regions", "code", {0: 1, 1: 5, 2: 9}),        # LIST(code) (1,2,3) (4,5,6) DEFAULT
    ("items", "id", {0: 1}),                        # not partitioned
]


def meta(sql, args=None):
    """Metadata as the sandbox keeps it, read from the first live server directly. (Its sql_port
    names the OBServer-side endpoints in the oceanbase flavour: the readers below give the MariaDB
    port behind each, which is what @@port says.)"""
    last = None
    for port in SERVER_PORTS:
        try:
            with contextlib.closing(connect(port=port, user="proxyro", password="proxyro", database="oceanbase")) as c:
                with c.cursor() as cur:
                    cur.execute(sql, args)
                    return cur.fetchall()
        except pymysql.err.OperationalError as e:
            last = e
    raise last


def tablet_numbers(table):
    """tablet_id -> the tablet's number as `scripts/sandbox switch-leader` counts them: partition N, or
    for a two-level table part_id * sub-partitions + sub_part_id (replicas are keyed by tablet_id)."""
    rows = meta("SELECT table_id, part_num FROM __all_virtual_proxy_schema WHERE tenant_name=%s AND "
                "database_name='test' AND table_name=%s AND tablet_id=0 LIMIT 1", (TENANT, table))
    table_id, part_num = int(rows[0][0]), int(rows[0][1])
    subs = meta("SELECT tablet_id, part_id, sub_part_id FROM __all_virtual_proxy_sub_partition WHERE tenant_name=%s "
                "AND table_id=%s", (TENANT, table_id))
    if subs:
        width = max(int(s) for _, _, s in subs) + 1
        return {int(t): int(p) * width + int(s) for t, p, s in subs}
    parts = meta("SELECT tablet_id, part_id FROM __all_virtual_proxy_partition WHERE tenant_name=%s AND table_id=%s",
                 (TENANT, table_id))
    if parts:
        return {int(t): int(p) for t, p in parts}
    # Not partitioned: its one tablet is the one its replica rows other than the entry's name.
    rows = meta("SELECT DISTINCT tablet_id FROM __all_virtual_proxy_schema WHERE tenant_name=%s AND "
                "database_name='test' AND table_name=%s AND tablet_id <> 0", (TENANT, table))
    check_eq((len(rows), part_num), (1, 1), "the one tablet of " + table)
    return {int(rows[0][0]): 0}


def leaders(table):
    numbers = tablet_numbers(table)
    rows = meta("SELECT tablet_id, sql_port FROM __all_virtual_proxy_schema WHERE tenant_name=%s AND "
                "database_name='test' AND table_name=%s AND role=1 AND tablet_id <> 0", (TENANT, table))
    return {numbers[int(t)]: int(port) - SQL_PORT_SHIFT for t, port in rows}


def replicas(table, partition):
    tablet = next(t for t, n in tablet_numbers(table).items() if n == partition)
    rows = meta("SELECT sql_port, role FROM __all_virtual_proxy_schema WHERE tenant_name=%s AND "
                "database_name='test' AND table_name=%s AND tablet_id=%s", (TENANT, table, tablet))
    return [(int(port) - SQL_PORT_SHIFT, int(role)) for port, role in rows]


def places():
    """sql_port -> (idc, region) from DBA_OB_SERVERS joined with DBA_OB_ZONES."""
    rows = meta("SELECT s.sql_port, z.idc, z.region FROM DBA_OB_SERVERS s JOIN DBA_OB_ZONES z ON s.zone = z.zone")
    return {int(p) - SQL_PORT_SHIFT: (idc, region) for p, idc, region in rows}


def odp_config_value(key):
    with contextlib.closing(connect(user="root@proxysys", password="", database=None)) as c, c.cursor() as cur:
        cur.execute("show proxyconfig like %s", (key,))
        rows = cur.fetchall()
        return rows[0][1] if rows else ""


def port_of_partition(cur, table, column, value, hint=""):
    cur.execute("SELECT %s @@port, COUNT(*) FROM test.%s WHERE %s = %d" % (hint, table, column, value))
    return int(cur.fetchone()[0])


def all_tables():
    """Every partitioned (and the plain) table of the sandbox: what a test that moves leaders
    restores."""
    return ([t for t, _, _ in TABLES] + [t for t, _, _, _ in KEY_TABLES] + [t for t, _, _ in MULTI_TABLES])


def sandbox(*args):
    out = subprocess.run([os.path.join(ROOT, "scripts", "sandbox")] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=120)
    check(out.returncode == 0, "scripts/sandbox %s failed: %s" % (" ".join(args), out.stdout.decode()))


def case_sandbox_is_cluster_shaped():
    # Straight to the servers: a non-leader refuses a write with 4038 like OceanBase; the leader
    # takes it and replication brings it to every other server.
    lead = leaders("orders")[1]
    followers = [p for p in SERVER_PORTS if p != lead]
    key = 900400  # 900400 mod 3 == 1: partition p1
    with contextlib.closing(connect(port=followers[0])) as c, c.cursor() as cur:
        try:
            cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (%d, 'non-leader', 1)" % key)
            raise AssertionError("a write on a non-leader was accepted")
        except pymysql.err.OperationalError as e:
            check_eq(e.args[0], 4038, "error of a write on a non-leader")
    with contextlib.closing(connect(port=lead)) as c, c.cursor() as cur:
        cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (%d, 'leader', 1)" % key)
    try:
        for port in followers:
            wait_for(lambda p=port: _has_order(p, key), 90, what="replication of the write to %d" % port)
    finally:
        with contextlib.closing(connect(port=lead)) as c, c.cursor() as cur:
            cur.execute("DELETE FROM test.orders WHERE id = %d" % key)


def _has_order(port, key):
    with contextlib.closing(connect(port=port)) as c, c.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM test.orders WHERE id = %d" % key)
        return cur.fetchone()[0] == 1


def case_reads_land_on_leaders():
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        for table, column, values in TABLES:
            lead = leaders(table)
            check_eq(sorted(lead), sorted(values), "partitions of %s" % table)
            for part, value in values.items():
                got = port_of_partition(cur, table, column, value)
                check_eq(got, lead[part], "server answering %s partition %d (key %d)" % (table, part, value))


def case_writes_land_on_leaders():
    # A write on a non-leader fails with 4038 in the sandbox, so success means it reached the leader.
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        before = metric("odp_route_not_master_total")
        for i, key in enumerate((900001, 900002, 900003)):
            cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (%d, 'routing-test', %d)" % (key, i))
            cur.execute("UPDATE test.orders SET amount = amount + 1 WHERE id = %d" % key)
            cur.execute("DELETE FROM test.orders WHERE id = %d" % key)
        cur.execute("INSERT INTO test.events (id, kind) VALUES (1999, 'x'), (1998, 'y')")  # one partition, 2 rows
        cur.execute("DELETE FROM test.events WHERE id IN (1998, 1999)")
        cur.execute("INSERT INTO test.regions (code, id, name) VALUES (42, 900001, 'default partition')")
        cur.execute("DELETE FROM test.regions WHERE code = 42 AND id = 900001")
        check_eq(metric("odp_route_not_master_total"), before, "4038 answers during leader writes")


def expected_weak_order(table, partition, idc, region):
    reps = replicas(table, partition)
    where = places()
    followers = [p for p, role in reps if role == 2]
    lead = [p for p, role in reps if role == 1]

    def tier(port):
        s_idc, s_region = where[port]
        if idc and s_idc == idc:
            return 0
        if region and s_region == region:
            return 1
        return 2
    followers.sort(key=lambda p: (tier(p), SERVER_PORTS.index(p)))
    return followers + lead


def case_weak_reads_follow_ldc_order():
    idc, region = odp_config_value("routing.proxy_idc"), odp_config_value("routing.proxy_region")
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        for table, column, values in TABLES:
            for part, value in values.items():
                order = expected_weak_order(table, part, idc, region)
                got = port_of_partition(cur, table, column, value, "/*+ READ_CONSISTENCY(WEAK) */")
                check_eq(got, order[0], "weak read of %s p%d (LDC idc=%s region=%s, order %s)" %
                         (table, part, idc, region, order))
        # The session variable does the same; a transaction makes reads strong again.
        cur.execute("SET ob_read_consistency = 'WEAK'")
        table, column, values = TABLES[0]
        order = expected_weak_order(table, 0, idc, region)
        check_eq(port_of_partition(cur, table, column, values[0]), order[0], "weak read by session variable")
        cur.execute("BEGIN")
        check_eq(port_of_partition(cur, table, column, values[0]), leaders(table)[0], "read inside a transaction")
        cur.execute("COMMIT")
        cur.execute("SET ob_read_consistency = 'STRONG'")
        check_eq(port_of_partition(cur, table, column, values[0]), leaders(table)[0], "strong again")


def case_transaction_sticks_to_one_server():
    with contextlib.closing(connect(autocommit=False)) as c, c.cursor() as cur:
        cur.execute("BEGIN")
        seen = set()
        table, column, values = TABLES[0]
        for i in range(10):
            value = values[i % 3]
            cur.execute("SELECT @@port, CONNECTION_ID(), COUNT(*) FROM test.orders WHERE id = %d" % value)
            port, conn_id, _ = cur.fetchone()
            seen.add((int(port), int(conn_id)))
        c.commit()
        check_eq(len(seen), 1, "servers used by a 10-statement transaction (%s)" % seen)
    # autocommit=1 again: statements spread over the partitions' leaders.
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        ports = {port_of_partition(cur, "orders", "id", v) for v in TABLES[0][2].values()}
        check_eq(ports, set(leaders("orders").values()), "servers used outside a transaction")


def case_session_state_follows_the_client():
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        cur.execute("SET @x = 42, @s = 'h\u00e9llo', @d = 2.5, @n = NULL")
        cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'")
        cur.execute("SET SESSION wait_timeout = 1234")
        cur.execute("SELECT @@port FROM test.orders WHERE id = %d" % TABLES[0][2][0])  # pick a server
        cur.execute("SET @x = @x + 1")  # an expression: its value is read back
        ports = set()
        for part, value in TABLES[0][2].items():
            cur.execute("SELECT @x, @s, @d, @n, @@sql_mode, @@wait_timeout, @@port, COUNT(*) "
                        "FROM test.orders WHERE id = %d" % value)
            x, s, d, n, mode, timeout, port, _ = cur.fetchone()
            check_eq((int(x), s, str(d), n, mode, int(timeout)),
                     (43, "h\u00e9llo", "2.5", None, "ANSI_QUOTES,NO_ENGINE_SUBSTITUTION", 1234),
                     "session state on server %s" % port)
            ports.add(int(port))
        check_eq(ports, set(leaders("orders").values()), "servers visited (the partitions' leaders)")
        check(len(ports) >= 2, "the partitions of orders have more than one leader")
        cur.execute("USE mysql")
        cur.execute("SELECT DATABASE(), @@port FROM test.orders WHERE id = %d" % TABLES[0][2][1])
        check_eq(cur.fetchone()[0], "mysql", "current database after moving")


def case_stale_route_is_retried_after_switch_leader():
    table, column, values = TABLES[0]
    original = leaders(table)[0]
    target = next(p for p in SERVER_PORTS if p != original)
    name_of = {p: "s%d" % (i + 1) for i, p in enumerate(SERVER_PORTS)}
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        check_eq(port_of_partition(cur, table, column, values[0]), original, "leader before the switch")
        retries = metric("odp_route_retries_total")
        sandbox("switch-leader", table, "p0", name_of[target])
        try:
            # odp still believes the old leader: the write gets 4038, odp refreshes and retries.
            cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (900300, 'after-switch', 1)")
            cur.execute("DELETE FROM test.orders WHERE id = 900300")
            check(metric("odp_route_retries_total") > retries, "the stale route was retried")
            check_eq(port_of_partition(cur, table, column, values[0]), target, "leader after the switch")
        finally:
            sandbox("switch-leader", table, "p0", name_of[original])
        wait_for(lambda: _write_ok(cur), 10, what="writes after switching back")


def _write_ok(cur):
    cur.execute("INSERT INTO test.orders (id, customer, amount) VALUES (900301, 'switch-back', 1)")
    cur.execute("DELETE FROM test.orders WHERE id = 900301")
    return True


def case_explain_route():
    value = TABLES[0][2][1]
    with contextlib.closing(connect()) as c, c.cursor() as cur:
        port_of_partition(cur, "orders", "id", value)  # make sure the entry is loaded
    with contextlib.closing(connect(user="root@proxysys", password="", database=None)) as c, c.cursor() as cur:
        cur.execute("explain route SELECT * FROM test.orders WHERE id = %d" % value)
        rows = dict(cur.fetchall())
        check_eq(rows.get("partition"), "p1", "explained partition")
        check_eq(rows.get("server"), "%s:%d" % (HOST, leaders("orders")[1] + SQL_PORT_SHIFT), "explained server")
        cur.execute("show proxyroute like 'test.orders'")
        check_eq(len(cur.fetchall()), 3, "route rows for test.orders")


# KEY tables: (table, key column, partitions, key values). The partition OceanBase would pick is
# computed here, by a reference independent of odp (OB-VECTORS.md section 4).
KEY_TABLES = [
    ("accounts", "id", 10, [0, 1, 2, 7, 145, 754623846937, -1, -145, 9000000000000000000, 123456789, 42, 99]),
    ("tags", "tag", 16, [b"partitionKey", b"alpha", b"beta", b"gamma", b"delta", b"t1", b"t2 ", b"", b"x" * 60,
                         b"Tag-With-Case", b"0", b"zz"]),
    ("people", "name", 8, ["abcdef", "ABCDEF  ", "alice", "Bob", "Jos\u00e9", "Zo\u00eb", "\u00c5sa", "Stra\u00dfe",
                           "\u4e2d\u6587", "x" * 64, "carol", "dave"]),
]


def murmur64a_reference(data, seed):
    m, mask = 0xC6A4A7935BD1E995, (1 << 64) - 1
    h = (seed ^ (len(data) * m)) & mask
    full = len(data) // 8 * 8
    for i in range(0, full, 8):
        k = int.from_bytes(data[i:i + 8], "little")
        k = (k * m) & mask
        k ^= k >> 47
        k = (k * m) & mask
        h = ((h ^ k) * m) & mask
    if len(data) > full:
        h = ((h ^ int.from_bytes(data[full:], "little")) * m) & mask
    h ^= h >> 47
    h = (h * m) & mask
    return h ^ (h >> 47)


def general_ci_weights(text):
    """The string's utf8mb4_general_ci weights, 2 bytes LE each, read from a server (not odp)."""
    text = text.rstrip(" ")
    if not text:
        return b""
    be = bytes.fromhex(meta("SELECT HEX(WEIGHT_STRING(CONVERT(%s USING utf8mb4) COLLATE utf8mb4_general_ci))",
                            (text,))[0][0])
    return b"".join(be[i + 1:i + 2] + be[i:i + 1] for i in range(0, len(be), 2))


def expected_key_partition(table, value, parts):
    if table == "accounts":
        h = murmur64a_reference((value & ((1 << 64) - 1)).to_bytes(8, "little"), 0)
    elif table == "tags":
        h = murmur64a_reference(value, 0)
    else:
        w, h = general_ci_weights(value), 0
        for i in range(0, len(w), 128):
            h = murmur64a_reference(w[i:i + 128], h)
    r = h - (1 << 64) if h >= 1 << 63 else h
    return abs(r) % parts


def key_literal(value):
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "'%s'" % value.decode("ascii")
    return "'%s'" % value


def case_key_partitions_as_oceanbase():
    # The reference against OceanBase's own vectors first (ObHashUtilTest).
    check_eq(murmur64a_reference((145).to_bytes(8, "little"), 0), 3972054043075874492, "murmur64A(145)")
    check_eq(murmur64a_reference(b"partitionKey", 0), (1 << 64) - 6632533813747801170, "murmur64A(partitionKey)")
    check_eq(expected_key_partition("people", "abcdef", 1 << 62), 5483367784116059036 % (1 << 62), "general_ci abcdef")
    with contextlib.closing(connect()) as c, c.cursor() as cur, \
            contextlib.closing(connect(user="root@proxysys", password="", database=None)) as admin, \
            admin.cursor() as acur:
        for table, column, parts, values in KEY_TABLES:
            cur.execute("SELECT COUNT(*) FROM test.%s" % table)  # the entry is loaded
            lead = leaders(table)
            check_eq(sorted(lead), list(range(parts)), "partitions of %s" % table)
            check(len(set(lead.values())) > 1, "the partitions of %s have different leaders" % table)
            before = metric("odp_route_not_master_total")
            seen = set()
            for value in values:
                part = expected_key_partition(table, value, parts)
                seen.add(part)
                lit = key_literal(value)
                what = "%s key %r (p%d)" % (table, value, part)
                acur.execute("explain route SELECT * FROM test.%s WHERE %s = %s" % (table, column, lit))
                rows = dict(acur.fetchall())
                check_eq(rows.get("partition"), "p%d" % part, "explained partition of " + what)
                check_eq(rows.get("server"), "%s:%d" % (HOST, lead[part] + SQL_PORT_SHIFT), "explained server of " + what)
                # A write on a non-leader fails with 4038 (the sandbox computes the partition in SQL).
                cur.execute("DELETE FROM test.%s WHERE %s = %s" % (table, column, lit))  # a failed run's row
                cur.execute("INSERT INTO test.%s (%s) VALUES (%s)" % (table, column, lit))
                cur.execute("SELECT @@port, COUNT(*) FROM test.%s WHERE %s = %s" % (table, column, lit))
                port, n = cur.fetchone()
                check_eq((int(port), n), (lead[part], 1), "server reading " + what)
                cur.execute("DELETE FROM test.%s WHERE %s = %s" % (table, column, lit))
            check(len(seen) >= 3, "%s keys spread over several partitions" % table)
            check_eq(metric("odp_route_not_master_total"), before, "4038 answers during %s writes" % table)


# Multi-column and two-level tables: (table, key columns, key tuples). The tablet each tuple lands
# in is computed here, independently of odp (OB-VECTORS.md section 4; the bounds as the sandbox's
# DDL writes them).
MULTI_TABLES = [
    ("devices", ("vendor", "serial"), [(b"acme", 0), (b"acme", 1), (b"acme", 42), (b"globex", 7), (b"", 5),
                                       (b"initech", -3), (b"acme", 754623846937), (b"x" * 30, 99), (b"z", 1 << 40)]),
    ("readings", ("site", "seq"), [(1, 5), (10, 99), (10, 100), (10, 1 << 50), (11, -5), (20, -1), (20, 0), (99, 3),
                                   (-4, 1000)]),
    ("stock", ("country", "kind"), [(1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (9, 9), (-1, 1)]),
    ("shipments", ("id", "region_id"), [(5, 3), (5, 4), (999, -7), (1000, 2), (1500, 5), (1999, 0), (2000, 1),
                                        (5000, -8), (123456, 11)]),
]
READINGS_BOUNDS = [(10, 100), (10, None), (20, 0), (None, None)]  # None = MAXVALUE
SHIPMENT_BOUNDS, SHIPMENT_SUBPARTS = [1000, 2000, None], 2
STOCK_LISTS = [[(1, 1), (1, 2)], [(2, 1)]]  # then DEFAULT


def below(row, bound):
    """RANGE COLUMNS: the row's tuple is below the bound's (lexicographic, None = MAXVALUE)."""
    for v, b in zip(row, bound):
        if b is None or v < b:
            return True
        if v > b:
            return False
    return False


def expected_tablet(table, key):
    """(tablet number as tablet_numbers() counts them, partition name)."""
    if table == "devices":
        vendor, serial = key
        h = murmur64a_reference((serial & ((1 << 64) - 1)).to_bytes(8, "little"), murmur64a_reference(vendor, 0))
        r = h - (1 << 64) if h >= 1 << 63 else h
        part = abs(r) % 6
        return part, "p%d" % part
    if table == "readings":
        part = next(i for i, b in enumerate(READINGS_BOUNDS) if below(key, b))
        return part, "p%d" % part
    if table == "stock":
        part = next((i for i, values in enumerate(STOCK_LISTS) if key in values), len(STOCK_LISTS))  # else DEFAULT
        return part, "p%d" % part
    ident, region = key
    part = next(i for i, b in enumerate(SHIPMENT_BOUNDS) if b is None or ident < b)
    sub = abs(region) % SHIPMENT_SUBPARTS
    return part * SHIPMENT_SUBPARTS + sub, "p%dsp%d" % (part, sub)


def case_multi_column_and_two_level_partitions():
    with contextlib.closing(connect()) as c, c.cursor() as cur, \
            contextlib.closing(connect(user="root@proxysys", password="", database=None)) as admin, \
            admin.cursor() as acur:
        for table, columns, keys in MULTI_TABLES:
            cur.execute("SELECT COUNT(*) FROM test.%s" % table)  # the entry is loaded
            lead = leaders(table)
            check(len(set(lead.values())) > 1, "the tablets of %s have different leaders" % table)
            before = metric("odp_route_not_master_total")
            retries = metric("odp_route_retries_total")
            seen = set()
            for key in keys:
                tablet, name = expected_tablet(table, key)
                seen.add(tablet)
                lits = [key_literal(v) for v in key]
                where = " AND ".join("%s = %s" % (col, lit) for col, lit in zip(columns, lits))
                what = "%s key %r (%s)" % (table, key, name)
                acur.execute("explain route SELECT * FROM test.%s WHERE %s" % (table, where))
                rows = dict(acur.fetchall())
                check_eq(rows.get("partition"), name, "explained partition of " + what)
                check_eq(rows.get("server"), "%s:%d" % (HOST, lead[tablet] + SQL_PORT_SHIFT), "explained server of " + what)
                # A write on a non-leader fails with 4038 (the sandbox computes the tablet in SQL).
                cur.execute("DELETE FROM test.%s WHERE %s" % (table, where))  # left by an interrupted run
                cur.execute("INSERT INTO test.%s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join(lits)))
                cur.execute("SELECT @@port, COUNT(*) FROM test.%s WHERE %s" % (table, where))
                port, n = cur.fetchone()
                check_eq((int(port), n), (lead[tablet], 1), "server reading " + what)
                cur.execute("UPDATE test.%s SET %s = %s WHERE %s" % (table, columns[1], lits[1], where))
                cur.execute("DELETE FROM test.%s WHERE %s" % (table, where))
            check(len(seen) >= 3, "%s keys spread over several tablets" % table)
            check_eq(metric("odp_route_not_master_total"), before, "4038 answers during %s writes" % table)
            check_eq(metric("odp_route_retries_total"), retries, "retried statements during %s writes" % table)
        # A key that fixes only some columns names no tablet.
        acur.execute("explain route SELECT * FROM test.devices WHERE vendor = 'acme'")
        check_eq(dict(acur.fetchall()).get("partition_choice"), "unknown (no usable key value)", "devices by vendor")
        acur.execute("explain route SELECT * FROM test.shipments WHERE id = 1500")
        rows = dict(acur.fetchall())
        check_eq(rows.get("partition_choice"), "unknown (no usable key value)", "shipments by its partition key only")
        check(rows.get("partition") is None, "no partition named without the sub-partition key")
        acur.execute("show proxyroute like 'test.shipments'")
        check_eq(sorted(r[6] for r in acur.fetchall()), ["p%dsp%d" % (p, s) for p in range(3) for s in range(2)],
                 "route rows of test.shipments: its sub-partitions")


def case_key_partitions_from_prepared_parameters():
    # The same through COM_STMT_EXECUTE: the key is a bound parameter (BIGINT, or a string).
    from hygienelib import CClient
    binary = os.environ.get("ODP_C_CLIENT") or os.path.join(BUILD_DIR, "tests", "integration", "odp_it_c_client")
    check(os.path.exists(binary), "the C client %s is built" % binary)
    c = CClient(binary, ODP_PORT, "prepared", "app", "app", "test")
    check(c.dead is None, "C client login: %s" % c.login_answer)
    try:
        before = metric("odp_route_not_master_total")
        for table, column, parts, values, kind in [
                ("accounts", "id", 10, [3, 145, -9, 754623846937, 77, 1000], "l"),
                ("tags", "tag", 16, [b"partitionKey", b"alpha", b"omega", b"t9"], "s"),
                ("people", "name", 8, ["abcdef", "Jos\u00e9", "erin", "Frank"], "s")]:
            lead = leaders(table)
            check_eq(c.run(".ps ins INSERT INTO test.%s (%s) VALUES (?)" % (table, column)).strip(),
                     "prepared params=1 columns=0", "prepare insert into %s" % table)
            c.run(".ps sel SELECT @@port FROM test.%s WHERE %s = ?" % (table, column))
            c.run(".ps del DELETE FROM test.%s WHERE %s = ?" % (table, column))
            seen = set()
            for value in values:
                part = expected_key_partition(table, value, parts)
                seen.add(part)
                text = value.decode() if isinstance(value, bytes) else str(value)
                arg = "%s:%s" % (kind, text)
                what = "%s key %r (p%d) as a parameter" % (table, value, part)
                c.run(".exec del " + arg)  # a failed run's row
                out = c.run(".exec ins " + arg)
                check("ERROR" not in out, "insert of %s: %s" % (what, out))
                out = c.run(".exec sel " + arg)
                check("row: %d" % lead[part] in out, "server reading %s: %s (leader %d)" % (what, out, lead[part]))
                out = c.run(".exec del " + arg)
                check("ERROR" not in out, "delete of %s: %s" % (what, out))
            check(len(seen) >= 2, "%s parameters spread over partitions" % table)
            for name in ("ins", "sel", "del"):
                c.run(".close " + name)
        check_eq(metric("odp_route_not_master_total"), before, "4038 answers during prepared writes")
    finally:
        c.close()


def case_kill_finds_the_statement_not_the_pooled_connection():
    import threading
    import time
    # KILL QUERY of a running statement stops that statement, wherever odp runs it.
    with contextlib.closing(connect()) as a, contextlib.closing(connect()) as b:
        result = {}

        def sleeper():
            try:
                with a.cursor() as cur:
                    cur.execute("SELECT SLEEP(20)")
                    result["rows"] = cur.fetchall()
            except pymysql.err.MySQLError as e:
                result["error"] = e.args[0]
        t = threading.Thread(target=sleeper)
        t0 = time.monotonic()
        t.start()
        time.sleep(0.5)
        with b.cursor() as cur:
            cur.execute("KILL QUERY %d" % a.thread_id())
        t.join(15)
        check(time.monotonic() - t0 < 10, "the killed statement ended early")
        # MariaDB ends a killed SLEEP() with result 1 (or error 1317 on some versions).
        check(result.get("rows") == ((1,),) or result.get("error") == 1317, "killed statement: %r" % result)
        # The killed session goes on.
        with a.cursor() as cur:
            cur.execute("SELECT 7")
            check_eq(cur.fetchall(), ((7,),), "the session after KILL QUERY")
    # KILL of an idle session (its server connection is pooled) closes that client, nothing else.
    with contextlib.closing(connect()) as idle, contextlib.closing(connect()) as other:
        with idle.cursor() as cur:
            cur.execute("SELECT 1")
        with other.cursor() as cur:
            cur.execute("KILL %d" % idle.thread_id())
            cur.execute("SELECT 2")
            check_eq(cur.fetchall(), ((2,),), "the killer goes on")
        def dead():
            try:
                with idle.cursor() as c2:
                    c2.execute("SELECT 3")
                return False
            except pymysql.err.MySQLError:
                return True
        wait_for(dead, 5, what="the killed idle session to be closed")


def case_kill_query_of_a_session_between_statements_hits_no_one_else():
    import threading
    import time
    # A runs short statements in a loop; B says KILL QUERY <A> over and over, often as A's
    # statement ends and its pooled connection goes to the C clients waiting for it (one
    # connection per server and worker); their statements must never be interrupted. (odp once
    # located A's connection, then said KILL there on a connection of its own after A's had gone
    # back to the pool and served someone else.)
    stop = threading.Event()
    errors = []
    counts = {"a": 0, "a_killed": 0, "b": 0, "c": 0}  # a_killed: A's own statements interrupted
    lock = threading.Lock()

    def note(key, n=1):
        with lock:
            counts[key] += n

    def run_a(conn):
        with conn.cursor() as cur:
            while not stop.is_set():
                try:
                    cur.execute("SELECT 1")
                    cur.fetchall()
                except pymysql.err.MySQLError as e:
                    if e.args[0] != 1317:
                        errors.append("A: %r" % (e.args,))
                        return
                    note("a_killed")
                note("a")

    def run_b(conn, target):
        with conn.cursor() as cur:
            while not stop.is_set():
                try:
                    cur.execute("KILL QUERY %d" % target)
                except pymysql.err.MySQLError as e:
                    errors.append("B: %r" % (e.args,))
                    return
                note("b")

    def run_c(conn, n):
        with conn.cursor() as cur:
            while not stop.is_set():
                try:
                    cur.execute("SELECT SLEEP(0.01)")
                    rows = cur.fetchall()
                except pymysql.err.MySQLError as e:
                    errors.append("C%d: %r" % (n, e.args))
                    return
                if rows != ((0,),):
                    errors.append("C%d: its SLEEP was interrupted: %r" % (n, rows))
                    return
                note("c")

    def admin(sql):
        with contextlib.closing(connect(user="root@proxysys", password="", database=None)) as c, c.cursor() as cur:
            cur.execute(sql)
    old_cap = odp_config_value("pool.max_server_connections")
    admin("alter proxyconfig set pool.max_server_connections = 1")
    conns = []
    try:
        conns = [connect() for _ in range(8)]
        a, b, cs = conns[0], conns[1], conns[2:]
        threads = [threading.Thread(target=run_a, args=(a,)), threading.Thread(target=run_b, args=(b, a.thread_id()))]
        threads += [threading.Thread(target=run_c, args=(c, i + 1)) for i, c in enumerate(cs)]
        for t in threads:
            t.start()
        time.sleep(8)
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        stop.set()
        for c in conns:
            c.close()
        admin("alter proxyconfig set pool.max_server_connections = %s" % old_cap)
    print("statements: A %d (%d killed), KILL QUERY %d, C %d" % (counts["a"], counts["a_killed"], counts["b"],
                                                                  counts["c"]))
    check(not errors, "KILL QUERY of A reached another client or failed: %s" % errors[:5])
    check(counts["b"] > 100 and counts["c"] > 100 and counts["a"] > 20, "enough traffic: %r" % counts)


def case_kill_of_another_users_idle_session_needs_the_privilege():
    # An idle session has no server thread for the server to judge a KILL on: odp closes it only
    # for its own user, or once a server took a KILL of that user's thread from the killer.
    def works(conn, n):
        with conn.cursor() as cur:
            cur.execute("SELECT %d" % n)
            return cur.fetchall() == ((n,),)

    def dead(conn):
        try:
            return not works(conn, 3)
        except pymysql.err.MySQLError:
            return True

    with contextlib.closing(connect()) as victim, contextlib.closing(connect()) as victim2, \
            contextlib.closing(connect(user="app2", password="app2")) as other:
        check(works(victim, 1), "the victim logs in")
        for stmt in ("KILL %d", "KILL CONNECTION %d", "KILL QUERY %d"):
            try:
                with other.cursor() as cur:
                    cur.execute(stmt % victim.thread_id())
                check(False, "app2's %s of app's idle session was let through" % stmt.split(" %")[0])
            except pymysql.err.OperationalError as e:
                check_eq(e.args[0], 1095, "app2's %s: %r" % (stmt, e.args))
                check_eq(e.args[1], "You are not owner of thread %d" % victim.thread_id(), "1095's message")
        try:
            other.kill(victim.thread_id())  # COM_PROCESS_KILL
            check(False, "app2's COM_PROCESS_KILL of app's idle session was let through")
        except pymysql.err.OperationalError as e:
            check_eq(e.args[0], 1095, "app2's COM_PROCESS_KILL: %r" % (e.args,))
        check(works(victim, 2), "the victim still works after app2's KILLs")
        check(works(other, 4), "app2 goes on after its refused KILLs")
        # Its own user's session: closed.
        with victim2.cursor() as cur:
            cur.execute("KILL %d" % victim.thread_id())
        wait_for(lambda: dead(victim), 5, what="app's KILL of its own idle session to close it")
        check(works(victim2, 5), "app's killer goes on")
    # root (CONNECTION ADMIN) closes app's idle session; KILL QUERY of it is a no-op.
    with contextlib.closing(connect()) as victim, contextlib.closing(connect(user="root", password="")) as root:
        check(works(victim, 6), "the victim logs in")
        with root.cursor() as cur:
            cur.execute("KILL QUERY %d" % victim.thread_id())
        check(works(victim, 7), "root's KILL QUERY of an idle session is a no-op")
        with root.cursor() as cur:
            cur.execute("KILL %d" % victim.thread_id())
        wait_for(lambda: dead(victim), 5, what="root's KILL of app's idle session to close it")
        check(works(root, 8), "root goes on")


def case_connection_id_is_the_handshake_id():
    # CONNECTION_ID() answers the id the client got in odp's handshake (the one KILL takes), not
    # the server's thread id of whichever pooled connection ran the statement.
    with contextlib.closing(connect()) as a, contextlib.closing(connect()) as b:
        for c in (a, b):
            with c.cursor() as cur:
                cur.execute("SELECT CONNECTION_ID(), 'CONNECTION_ID()'")
                check_eq(cur.fetchall(), ((c.thread_id(), "CONNECTION_ID()"),), "CONNECTION_ID() through odp")
        with b.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            b_id = cur.fetchone()[0]
        with a.cursor() as cur:
            cur.execute("KILL %d" % b_id)
        with a.cursor() as cur:
            cur.execute("SELECT 1")
            check_eq(cur.fetchall(), ((1,),), "the killer survives KILL of the id CONNECTION_ID() gave")

        def dead():
            try:
                with b.cursor() as c2:
                    c2.execute("SELECT 3")
                return False
            except pymysql.err.MySQLError:
                return True
        wait_for(dead, 5, what="the session whose CONNECTION_ID() was killed to be closed")


def case_proxysys_kill_query_stops_the_statement():
    import threading
    import time
    # root@proxysys has no server of its own: odp stops the statement through a side connection
    # of the target session to the server the statement runs on.
    with contextlib.closing(connect()) as a:
        result = {}

        def sleeper():
            try:
                with a.cursor() as cur:
                    cur.execute("SELECT SLEEP(20)")
                    result["rows"] = cur.fetchall()
            except pymysql.err.MySQLError as e:
                result["error"] = e.args[0]
        t = threading.Thread(target=sleeper)
        t0 = time.monotonic()
        t.start()
        time.sleep(0.5)
        with contextlib.closing(connect(user="root@proxysys", password="", database=None)) as adm, adm.cursor() as cur:
            cur.execute("kill query %d" % a.thread_id())
        t.join(15)
        check(time.monotonic() - t0 < 10, "the statement killed from root@proxysys ended early")
        check(result.get("rows") == ((1,),) or result.get("error") == 1317, "killed statement: %r" % result)
        with a.cursor() as cur:
            cur.execute("SELECT 7")
            check_eq(cur.fetchall(), ((7,),), "the session after kill query from root@proxysys")
    with contextlib.closing(connect(user="root@proxysys", password="", database=None)) as adm, adm.cursor() as cur:
        try:
            cur.execute("kill query 999999")
            raise AssertionError("kill query of an unknown id succeeded")
        except pymysql.err.MySQLError as e:
            check_eq(e.args[0], 1094, "kill query of an unknown id")


def case_multi_column_keys_from_prepared_parameters():
    # Two key columns bound as parameters (COM_STMT_EXECUTE): every parameter is needed to name the
    # tablet, and the writes reach its leader.
    from hygienelib import CClient
    binary = os.environ.get("ODP_C_CLIENT") or os.path.join(BUILD_DIR, "tests", "integration", "odp_it_c_client")
    check(os.path.exists(binary), "the C client %s is built" % binary)
    c = CClient(binary, ODP_PORT, "prepared", "app", "app", "test")
    check(c.dead is None, "C client login: %s" % c.login_answer)
    try:
        before = metric("odp_route_not_master_total")
        for table, columns, keys, kinds in [
                ("devices", ("vendor", "serial"), [(b"acme", 3), (b"globex", 42), (b"initech", -7), (b"zz", 9)],
                 "sl"),
                ("shipments", ("id", "region_id"), [(5, 1), (1500, 2), (1500, 3), (7000, 4)], "ll")]:
            lead = leaders(table)
            where = " AND ".join("%s = ?" % col for col in columns)
            c.run(".ps ins INSERT INTO test.%s (%s) VALUES (?, ?)" % (table, ", ".join(columns)))
            c.run(".ps sel SELECT @@port FROM test.%s WHERE %s" % (table, where))
            c.run(".ps del DELETE FROM test.%s WHERE %s" % (table, where))
            seen = set()
            for key in keys:
                tablet, name = expected_tablet(table, key)
                seen.add(tablet)
                arg = " ".join("%s:%s" % (k, v.decode() if isinstance(v, bytes) else v) for k, v in zip(kinds, key))
                what = "%s key %r (%s) as parameters" % (table, key, name)
                c.run(".exec del " + arg)  # left by an interrupted run
                out = c.run(".exec ins " + arg)
                check("ERROR" not in out, "insert of %s: %s" % (what, out))
                out = c.run(".exec sel " + arg)
                check("row: %d" % lead[tablet] in out, "server reading %s: %s (leader %d)" % (what, out, lead[tablet]))
                out = c.run(".exec del " + arg)
                check("ERROR" not in out, "delete of %s: %s" % (what, out))
            check(len(seen) >= 2, "%s parameters spread over tablets" % table)
            for name in ("ins", "sel", "del"):
                c.run(".close " + name)
        check_eq(metric("odp_route_not_master_total"), before, "4038 answers during prepared multi-column writes")
    finally:
        c.close()


CASES = [
    ("sandbox_is_cluster_shaped", case_sandbox_is_cluster_shaped),
    ("reads_land_on_leaders", case_reads_land_on_leaders),
    ("writes_land_on_leaders", case_writes_land_on_leaders),
    ("weak_reads_follow_ldc_order", case_weak_reads_follow_ldc_order),
    ("transaction_sticks_to_one_server", case_transaction_sticks_to_one_server),
    ("session_state_follows_the_client", case_session_state_follows_the_client),
    ("stale_route_is_retried_after_switch_leader", case_stale_route_is_retried_after_switch_leader),
    ("explain_route", case_explain_route),
    ("key_partitions_as_oceanbase", case_key_partitions_as_oceanbase),
    ("key_partitions_from_prepared_parameters", case_key_partitions_from_prepared_parameters),
    ("multi_column_and_two_level_partitions", case_multi_column_and_two_level_partitions),
    ("multi_column_keys_from_prepared_parameters", case_multi_column_keys_from_prepared_parameters),
    ("kill_finds_the_statement_not_the_pooled_connection", case_kill_finds_the_statement_not_the_pooled_connection),
    ("kill_query_of_a_session_between_statements_hits_no_one_else",
     case_kill_query_of_a_session_between_statements_hits_no_one_else),
    ("proxysys_kill_query_stops_the_statement", case_proxysys_kill_query_stops_the_statement),
    ("kill_of_another_users_idle_session_needs_the_privilege",
     case_kill_of_another_users_idle_session_needs_the_privilege),
    ("connection_id_is_the_handshake_id", case_connection_id_is_the_handshake_id),
]

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
