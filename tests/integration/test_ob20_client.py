#!/usr/bin/python3
"""OB 2.0 towards clients (issue 9 item 4): an OceanBase driver that asks for OB 2.0
(__proxy_capability_flag bit 8) gets it from odp when protocol.ob20_to_client is on, with the grant
in its login OK (ob_capability_flag), every response framed with its request's id, numbered on,
the last frame flagged, both checksums; a spoiled request frame is refused with a counter and a
framed error. The client is tests/integration/ob_client.py, independent of odp's codecs; results
are compared with the first server's, read directly.
"""

import contextlib
import glob
import json
import os
import random
import sys

import odplib as L
from ob_client import FrameError, Ob20Client, parse_result
from ob_endpoint import packet
from odplib import check, check_eq, connect, run_cases

QUERIES = ["SELECT 1, 'two', NULL",
           "SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 300) FROM seq_1_to_2000",
           "SELECT COUNT(*) FROM test.orders WHERE id < 1000",
           "SELECT * FROM nonexistent_table_ob20"]


def text(v):
    """A value as the text protocol carries it."""
    if v is None:
        return None
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def direct(sql):
    with contextlib.closing(connect("direct")) as c, c.cursor() as cur:
        try:
            cur.execute(sql)
            return ("rows", [[text(v) for v in row] for row in cur.fetchall()])
        except L.pymysql.err.MySQLError as e:
            return ("err", e.args[0])


def odp(**protocol):
    return L.PrivateOdp(extra_toml={"protocol": dict({"ob20_to_client": True}, **protocol)})


def client(o, **kw):
    return Ob20Client(L.HOST, o.port, L.USER, L.PASSWORD, L.DB, **kw)


def normalised(result):
    return result[:2] if result[0] == "err" else result


def case_results_match_the_server():
    with odp() as o:
        c = client(o)
        try:
            check(c.ob20, "OB 2.0 granted (ob_capability_flag = %d)" % c.granted)
            check_eq(c.granted, (1 << 8) | (1 << 15), "granted capabilities")
            for sql in QUERIES:
                check_eq(normalised(c.query(sql)), direct(sql), sql)
            # Many frames for the long result, each numbered on; only the last of each response flagged.
            last_flags = [f for f in c.frames_seen if f[2] & 2]
            check_eq(len(last_flags), len(QUERIES), "one LAST_PACKET frame per response")
            check(len(c.frames_seen) > len(QUERIES), "a long result took several frames")
            check(all(f[3] for f in c.frames_seen), "every frame checksummed")
        finally:
            c.close()
        check(o.metrics()["odp_client_ob20_sessions_total"] >= 1, "counted")


def case_a_request_in_several_frames_and_pipelined_requests():
    with odp() as o:
        c = client(o)
        try:
            check_eq(normalised(c.query("SELECT 'split over frames', 42", pieces=3)),
                     ("rows", [["split over frames", "42"]]), "a request in three frames")
            a = c.send_request(packet(0, b"\x03SELECT 'first'"))
            b = c.send_request(packet(0, b"\x03SELECT 'second'"))
            check_eq(parse_result(c.read_response(a)), ("rows", [["first"]]), "first of two pipelined")
            check_eq(parse_result(c.read_response(b)), ("rows", [["second"]]), "second of two pipelined")
            ping = c.read_response(c.send_request(packet(0, b"\x0e")))
            check_eq(ping[0][:1], b"\x00", "COM_PING's OK")
        finally:
            c.close()


def case_a_spoiled_request_is_refused():
    with odp() as o:
        c = client(o)
        try:
            before = o.metrics()["odp_client_ob20_errors_total"]
            req = c.send_request(packet(0, b"\x03SELECT 'never run'"), spoil="payload")
            # The answer is a framed ERR for that request (its header was readable), then the close.
            answer = parse_result(c.read_response(req))
            check_eq(answer[:2], ("err", 1158), "answer to a spoiled frame")
            check("checksum" in answer[2], "the error names the checksum: %r" % answer[2])
            try:
                c.read_response(req)
                raise AssertionError("the connection stayed open")
            except (ConnectionError, FrameError, OSError):
                pass
            L.wait_for(lambda: o.metrics()["odp_client_ob20_errors_total"] > before, 5, what="counted")
        finally:
            c.close()
        # odp serves the next client.
        c = client(o)
        try:
            check_eq(c.query("SELECT 5"), ("rows", [["5"]]), "next client")
        finally:
            c.close()


def case_internal_commands_in_ob20():
    with odp() as o:
        c = Ob20Client(L.HOST, o.port, "root@proxysys", "", "")
        try:
            check(c.ob20, "OB 2.0 granted to an admin login too")
            kind, rows = c.query("show proxystat")
            check_eq(kind, "rows", "show proxystat")
            check(any(r[0] == "client_ob20_sessions_total" for r in rows), "the counters: %r" % rows[:3])
        finally:
            c.close()


def case_trace_info_goes_on_to_the_server():
    # An OceanBase driver's TRACE_INFO record goes on with its request; the OBServer-side endpoint
    # logs what it received. (In the mysql flavour the server speaks plain MySQL: nothing to carry.)
    if not L.OCEANBASE:
        print("  (oceanbase flavour only: here the servers speak plain MySQL)")
        return
    trace = "odp-trace-%d" % random.randrange(1 << 30)
    with odp() as o:
        c = client(o)
        try:
            check(c.ob20, "OB 2.0 granted")
            kind, rows = c.query("SELECT 7", trace=trace.encode())
            check(kind == "rows" and str(rows[0][0]) == "7", "the traced statement's answer: %r" % (rows,))
            kind, rows = c.query("SELECT 8")  # untraced: nothing carried over
            check(kind == "rows" and str(rows[0][0]) == "8", "the next statement's answer: %r" % (rows,))
        finally:
            c.close()
    def traces():
        out = []
        for path in glob.glob(os.path.join(L.SANDBOX_DIR, "log", "endpoint*.log")):
            with open(path, "rb") as f:
                out += [json.loads(line[len("trace "):])["in"] for line in f.read().decode("utf-8", "replace").splitlines()
                        if line.startswith("trace ")]
        return out
    check_eq([t for t in traces() if t.startswith(trace)], [trace], "the trace, once, at a server")


def case_checksums_off_and_not_offered():
    with odp(checksum=False) as o:
        c = client(o)
        try:
            check_eq(c.query("SELECT 6"), ("rows", [["6"]]), "answer")
            check(c.frames_seen and not any(f[3] for f in c.frames_seen), "odp computes no checksums")
        finally:
            c.close()
    # The default (protocol.ob20_to_client = false): plain MySQL, no grant in the login OK.
    with L.PrivateOdp() as o:
        c = client(o)
        try:
            check_eq(c.granted, 0, "nothing granted")
            check(not c.ob20, "plain MySQL")
        finally:
            c.close()


CASES = [(name[len("case_"):], fn) for name, fn in globals().items() if name.startswith("case_")]

if __name__ == "__main__":
    sys.exit(run_cases(CASES, sys.argv[1:]))
