#!/usr/bin/python3
"""Bad input: each case expects a clear error or a clean close, a counter in /metrics, and odp still
serving a normal client afterwards. usage: test_bad_input.py [case...]"""
import contextlib
import os
import re
import socket
import struct
import sys
import time

import pymysql

import odplib as L

CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
BASE_CAPS = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH


def login_error(port=None, user=L.USER, password=L.PASSWORD):
    try:
        c = L.connect(port=port, user=user, password=password)
    except pymysql.MySQLError as e:
        return e.args[0], e.args[1]
    c.close()
    return None


def read_greeting(s):
    p = L.read_packet(s, 5)
    L.check(p is not None, "no handshake packet")
    seq, payload = p
    L.check(seq == 0 and payload[0] == 10, "not a HandshakeV10: seq %d first byte %r" % (seq, payload[:1]))
    return payload


def handshake_response_prefix(caps=BASE_CAPS):
    return struct.pack("<IIB", caps, 16 << 20, 45) + b"\x00" * 23


# ------------------------------------------------------------------------------------------------

def case_wrong_password():
    w = L.CounterWatch("client_auth_failures_total")
    e = login_error(password="not-the-password")
    L.check(e is not None and e[0] == 1045, "wrong password: expected 1045, got %r" % (e,))
    L.check("denied" in e[1].lower(), "message should say access denied: %r" % (e[1],))
    w.expect_increase()
    L.odp_still_serves()


def case_unknown_user():
    w = L.CounterWatch("client_auth_failures_total")
    e = login_error(user="no_such_user_xyz", password="x")
    L.check(e is not None and e[0] == 1045, "unknown user: expected 1045, got %r" % (e,))
    w.expect_increase()
    L.odp_still_serves()


def case_malformed_packets():
    # (name, bytes sent after the greeting, counters that may grow)
    variants = [
        ("junk payload", L.packet(1, b"\x01\x02\x03"), ["client_protocol_errors_total"]),
        ("random bytes", L.packet(1, bytes((i * 37 + 11) & 0xFF for i in range(48)) + b"\x00" * 4),
         ["client_protocol_errors_total", "client_auth_failures_total"]),
        ("user without terminator", L.packet(1, handshake_response_prefix() + b"app"),
         ["client_protocol_errors_total"]),
        ("auth length past the end", L.packet(1, handshake_response_prefix() + b"app\x00" + b"\x14" + b"abc"),
         ["client_protocol_errors_total"]),
        ("wrong sequence id", L.packet(7, handshake_response_prefix() + b"app\x00\x00"),
         ["client_protocol_errors_total"]),
    ]
    for name, data, counters in variants:
        w = L.CounterWatch(counters)
        with contextlib.closing(L.raw_connect()) as s:
            read_greeting(s)
            s.sendall(data)
            r = L.expect_err_or_close(s, timeout=10)
            print("  %s -> %s" % (name, r))
        w.expect_increase()
    L.odp_still_serves()


def case_truncated_packet():
    """A frame whose header promises more bytes than arrive before the client half-closes."""
    w = L.CounterWatch(["client_protocol_errors_total", "client_aborts_total"])
    with contextlib.closing(L.raw_connect()) as s:
        read_greeting(s)
        s.sendall(b"\x64\x00\x00\x01" + handshake_response_prefix()[:10])
        s.shutdown(socket.SHUT_WR)
        r = L.expect_err_or_close(s, timeout=10)
        print("  truncated HandshakeResponse -> %s" % (r,))
    w.expect_increase()
    L.odp_still_serves()


def case_garbage_before_handshake():
    w = L.CounterWatch(["client_protocol_errors_total", "client_handshake_timeouts_total"])
    with contextlib.closing(L.raw_connect()) as s:
        # Bytes sent at once on connect, before reading the greeting: a small frame with a wrong
        # sequence id and nonsense, then text.
        s.sendall(b"\x08\x00\x00\x00GARBAGE!" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        r = L.expect_err_or_close(s, timeout=20)
        print("  garbage first -> %s after %.2fs" % (r, time.monotonic() - t0))
    w.expect_increase()
    L.odp_still_serves()


def case_max_packet():
    with L.start_private_odp({"limits": {"max_packet_bytes": 1 << 20}}) as odp:
        w = odp.counter("client_protocol_errors_total")
        # 0: before login, a HandshakeResponse whose header announces 16 MiB - 1
        with contextlib.closing(L.raw_connect(odp.port)) as s:
            read_greeting(s)
            s.sendall(b"\xff\xff\xff\x01" + handshake_response_prefix() + b"app\x00")
            r = L.expect_err_or_close(s, timeout=10)
            print("  16 MiB header before login -> %s" % (r,))
        w.expect_increase()
        w = odp.counter("client_protocol_errors_total")
        # 1: a header announcing 16 MiB - 1 (a logical packet past 1 MiB) right after login
        c = odp.connect()
        sock = c._sock
        sock.sendall(b"\xff\xff\xff\x00\x03" + b"SELECT '" + b"a" * 65536)
        r = L.expect_err_or_close(sock, timeout=10)
        print("  16 MiB header -> %s" % (r,))
        if r[0] == "err":
            L.check(r[1] == 1153, "expected ERR 1153, got %r" % (r,))
        with contextlib.suppress(Exception):
            c.close()
        w.expect_increase()
        # 2: a well-formed 2 MiB query from a normal client
        w = odp.counter("client_protocol_errors_total")
        c = odp.connect()
        try:
            with c.cursor() as cur:
                cur.execute("SELECT LENGTH('%s')" % ("b" * (2 << 20)))
            raise AssertionError("a 2 MiB packet passed max_packet_bytes = 1 MiB")
        except pymysql.MySQLError as e:
            print("  2 MiB query -> %r" % (e.args,))
            L.check(e.args[0] in (1153, 2013, 2006, 0), "unexpected error %r" % (e.args,))
        finally:
            with contextlib.suppress(Exception):
                c.close()
        w.expect_increase()
        # a packet under the limit still passes, and odp still serves
        with contextlib.closing(odp.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT LENGTH('%s')" % ("c" * (512 << 10)))
            L.check_eq(cur.fetchall(), ((512 << 10,),), "512 KiB query under the limit")
        L.check(odp.alive(), "private odp died")


def case_client_vanishes_mid_result():
    w = L.CounterWatch("client_aborts_total")
    # 1 MiB rows: the client vanishes mid-splice. Not in the oceanbase flavour: OB 2.0 frames from the
    # server are checked and unwrapped, so no byte can go from one socket to the other untouched.
    spliced = None if L.OCEANBASE else L.CounterWatch("splice_to_client_bytes_total")
    c = L.connect("odp", cursorclass=pymysql.cursors.SSCursor)
    cur = c.cursor()
    cur.execute("select repeat('x', 1048576) as big, 'odp-vanish-test' as tag from seq_1_to_1024")
    for _ in range(8):
        cur.fetchone()
    # Vanish: reset the connection (SO_LINGER 0) without reading the rest.
    # pymysql reads through a file object over the socket: close both, or the fd stays open.
    c._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c._rfile.close()
    c._sock.close()
    # keep pymysql from draining the dead socket at garbage collection
    cur._result.unbuffered_active = False
    cur.close = lambda: None
    w.expect_increase(deadline_s=15)
    if spliced:
        spliced.expect_increase()
    L.odp_still_serves()

    # The server stops working for the vanished client (odp closes or cancels its server side).
    def server_query_gone():
        rows = L.query_all("direct", "SELECT COUNT(*) FROM information_schema.processlist "
                                     "WHERE info LIKE '%odp-vanish-test%' AND info NOT LIKE '%processlist%'")
        return rows[0][0] == 0
    L.wait_for(server_query_gone, 60, 0.5, what="the server-side query of the vanished client to end")


def case_server_down():
    dead = L.closed_port()
    with L.start_private_odp({"cluster.sandbox": {"rootservice_list": ["127.0.0.1:%d" % dead]}}) as odp:
        w = odp.counter("server_connect_failures_total")
        t0 = time.monotonic()
        try:
            with contextlib.closing(odp.connect(connect_timeout=20)) as c, c.cursor() as cur:
                cur.execute("SELECT 1")
            raise AssertionError("a query succeeded with the only server down")
        except pymysql.MySQLError as e:
            dt = time.monotonic() - t0
            print("  server down -> %r after %.2fs" % (e.args, dt))
            msg = str(e.args[1] if len(e.args) > 1 else e.args[0])
            L.check(re.search(r"unreachable|can'?t connect|cannot connect|connection refused|not available|"
                              r"no server|down", msg, re.I),
                    "the error should say the server is unreachable: %r" % (e.args,))
            L.check(dt < 15, "the error took %.1fs" % dt)
        w.expect_increase()
        L.check(odp.alive(), "private odp died")
        status, _ = L.http_get(odp.admin_port, "/metrics")
        L.check(status == 200, "private odp's /metrics stopped answering")
    L.odp_still_serves()


def case_max_connections():
    with L.start_private_odp({"limits": {"client_max_connections": 5}}) as odp:
        w = odp.counter("client_connections_rejected_total")
        conns = [odp.connect() for _ in range(5)]
        try:
            for c in conns:
                with c.cursor() as cur:
                    cur.execute("SELECT 1")
            e = None
            try:
                extra = odp.connect()
                extra.close()
            except pymysql.MySQLError as ex:
                e = ex.args
            print("  6th client -> %r" % (e,))
            L.check(e is not None and e[0] == 1040, "6th client: expected 1040 Too many connections, got %r" % (e,))
            w.expect_increase()
            conns.pop().close()

            def sixth_fits():
                with contextlib.closing(odp.connect()) as c, c.cursor() as cur:
                    cur.execute("SELECT 2")
                    return cur.fetchall() == ((2,),)
            L.wait_for(sixth_fits, 10, 0.1, what="a new client to fit after one left")
        finally:
            for c in conns:
                with contextlib.suppress(Exception):
                    c.close()
        L.check(odp.alive(), "private odp died")


def case_handshake_timeout():
    with L.start_private_odp({"limits": {"client_handshake_timeout_ms": 500}}) as odp:
        w = odp.counter("client_handshake_timeouts_total")
        with contextlib.closing(L.raw_connect(odp.port)) as s:
            read_greeting(s)
            t0 = time.monotonic()
            r = L.expect_err_or_close(s, timeout=10)
            dt = time.monotonic() - t0
            print("  silent client -> %s after %.2fs" % (r, dt))
            L.check(0.3 <= dt <= 5, "closed after %.2fs, expected about 0.5s" % dt)
        # also a client that connects and sends nothing at all, not even reading
        with contextlib.closing(L.raw_connect(odp.port)) as s:
            time.sleep(0.01)
            r = L.expect_err_or_close(s, timeout=10)
        w.expect_increase()
        with contextlib.closing(odp.connect()) as c, c.cursor() as cur:
            cur.execute("SELECT 3")
            L.check_eq(cur.fetchall(), ((3,),), "a normal client after timeouts")


CASES = [
    ("wrong_password", case_wrong_password),
    ("unknown_user", case_unknown_user),
    ("malformed_packets", case_malformed_packets),
    ("truncated_packet", case_truncated_packet),
    ("garbage_before_handshake", case_garbage_before_handshake),
    ("max_packet", case_max_packet),
    ("client_vanishes_mid_result", case_client_vanishes_mid_result),
    ("server_down", case_server_down),
    ("max_connections", case_max_connections),
    ("handshake_timeout", case_handshake_timeout),
]

if __name__ == "__main__":
    sys.exit(L.run_cases(CASES))
