#!/usr/bin/python3
"""The compressed protocol byte by byte: a small raw client writes compressed frames the way
Connector/J and libmariadb do (inner sequence ids that do not start at 0, several commands in one
frame, a 16 MiB packet across frames) and checks what comes back, directly against s1 and
through odp. Where a client sends one request at a time it also checks the compressed sequence
ids of the answer as a strict client (libmysqlclient) does: the first frame one past the last
frame sent, then counting on.
usage: test_compress_raw.py [case...]"""
import hashlib
import os
import random
import socket
import struct
import sys
import tempfile
import time
import zlib

import odplib as L

CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_COMPRESS = 0x20
CLIENT_LOCAL_FILES = 0x80
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_STATEMENTS = 0x10000
CLIENT_MULTI_RESULTS = 0x20000
CLIENT_PLUGIN_AUTH = 0x80000
CAPS = (CLIENT_LONG_PASSWORD | CLIENT_CONNECT_WITH_DB | CLIENT_COMPRESS | CLIENT_LOCAL_FILES | CLIENT_PROTOCOL_41 |
        CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS |
        CLIENT_PLUGIN_AUTH)
SERVER_MORE_RESULTS_EXISTS = 0x08
MAX_CHUNK = 0xFFFFFF


def u24(n):
    return struct.pack("<I", n)[:3]


def native_password(password, scramble):
    h1 = hashlib.sha1(password.encode()).digest()
    h3 = hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def lenenc(p, i):
    """(value, next index) of a length-encoded integer; value None for 0xFB (NULL)."""
    b = p[i]
    if b < 0xFB:
        return b, i + 1
    if b == 0xFB:
        return None, i + 1
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}[b]
    return int.from_bytes(p[i + 1:i + 1 + width], "little"), i + 1 + width


def split_packets(seq, payload):
    """A logical packet as physical packets: 0xFFFFFF-byte chunks, ids seq, seq + 1, ..."""
    out = bytearray()
    off = 0
    while True:
        chunk = payload[off:off + MAX_CHUNK]
        out += u24(len(chunk)) + bytes([seq & 0xFF]) + chunk
        seq += 1
        off += len(chunk)
        if len(chunk) < MAX_CHUNK:
            return bytes(out)


def frame(cseq, body, compress=None):
    """One compressed frame around `body` (zlib when it pays, like the clients, unless told)."""
    assert len(body) <= MAX_CHUNK
    if compress is None:
        compress = len(body) >= 50
    if compress:
        z = zlib.compress(body)
        if len(z) < len(body):
            return u24(len(z)) + bytes([cseq & 0xFF]) + u24(len(body)) + z
    return u24(len(body)) + bytes([cseq & 0xFF]) + u24(0) + body


def frames_of(plain, first_cseq=0):
    """libmariadb's framing: the stream cut into frames of at most 0xFFFFFF bytes."""
    out = bytearray()
    for n, off in enumerate(range(0, len(plain), MAX_CHUNK)):
        out += frame(first_cseq + n, plain[off:off + MAX_CHUNK])
    return bytes(out), first_cseq + max(1, (len(plain) + MAX_CHUNK - 1) // MAX_CHUNK) - 1


class CompressedClient:
    def __init__(self, target):
        self.target = target
        self.sock = socket.create_connection((L.HOST, L.port_of(target)), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.raw = bytearray()      # socket bytes not decoded yet
        self.plain = bytearray()    # decoded bytes not read yet
        self.compressed = False
        self.frame_seqs = []        # compressed ids of the frames received since the last request
        self.expect_first = None    # what the first of them must be (None: not checked)
        self._login()

    # -- bytes in
    def _recv(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise AssertionError("%s closed the connection" % self.target)
        self.raw += data

    def _need_plain(self, n):
        while len(self.plain) < n:
            if not self.compressed:
                while len(self.raw) < n - len(self.plain):
                    self._recv()
                self.plain += self.raw
                self.raw.clear()
                continue
            while len(self.raw) < 7:
                self._recv()
            clen = int.from_bytes(self.raw[0:3], "little")
            ulen = int.from_bytes(self.raw[4:7], "little")
            while len(self.raw) < 7 + clen:
                self._recv()
            body = bytes(self.raw[7:7 + clen])
            self.frame_seqs.append(self.raw[3])
            del self.raw[:7 + clen]
            if ulen:
                body = zlib.decompress(body)
                L.check(len(body) == ulen, "frame inflates to %d bytes, header says %d" % (len(body), ulen))
            L.check(len(body) <= MAX_CHUNK, "a frame carried %d plain bytes" % len(body))
            self.plain += body

    def read_packet(self):
        """(first seq, payload) of the next logical packet."""
        payload = bytearray()
        first = None
        while True:
            self._need_plain(4)
            n = int.from_bytes(self.plain[0:3], "little")
            seq = self.plain[3]
            self._need_plain(4 + n)
            payload += self.plain[4:4 + n]
            del self.plain[:4 + n]
            first = seq if first is None else first
            if n < MAX_CHUNK:
                return first, bytes(payload)

    # -- bytes out
    def send_raw(self, data, last_cseq):
        """Frames already made; a strict client expects the answer at last_cseq + 1."""
        self.frame_seqs = []
        self.expect_first = (last_cseq + 1) & 0xFF
        self.sock.sendall(data)

    def command(self, payload, inner_seq=0):
        """One command as libmariadb frames it (compressed ids from 0); inner ids from inner_seq."""
        data, last = frames_of(split_packets(inner_seq, payload))
        self.send_raw(data, last)

    def check_frame_seqs(self, what):
        if self.expect_first is None:
            return
        want = [(self.expect_first + i) & 0xFF for i in range(len(self.frame_seqs))]
        L.check(self.frame_seqs == want, "%s via %s: answer frames numbered %s, a strict client wants %s" %
                (what, self.target, self.frame_seqs[:20], want[:20]))

    # -- login
    def _login(self):
        seq, greet = self.read_packet()
        L.check(greet[0] == 10, "not a HandshakeV10")
        i = greet.index(b"\x00", 1) + 1 + 4
        s1 = greet[i:i + 8]
        i += 9
        caps = struct.unpack("<H", greet[i:i + 2])[0]
        i += 2 + 1 + 2
        caps |= struct.unpack("<H", greet[i:i + 2])[0] << 16
        i += 2
        alen = greet[i]
        i += 1 + 10
        s2 = greet[i:i + max(13, alen - 8)]
        L.check(caps & CLIENT_COMPRESS, "%s does not offer compression" % self.target)
        scramble = s1 + s2[:12]
        p = struct.pack("<IIB", CAPS, 1 << 30, 45) + b"\x00" * 23
        auth = native_password(L.PASSWORD, scramble)
        p += L.USER.encode() + b"\x00" + bytes([len(auth)]) + auth + L.DB.encode() + b"\x00"
        p += b"mysql_native_password\x00"
        self.sock.sendall(split_packets(seq + 1, p))
        seq, p = self.read_packet()
        if p[:1] == b"\xfe":
            data = p[p.index(b"\x00", 1) + 1:].rstrip(b"\x00")
            self.sock.sendall(split_packets(seq + 1, native_password(L.PASSWORD, data[:20])))
            seq, p = self.read_packet()
        L.check(p[:1] == b"\x00", "login via %s failed: %r" % (self.target, p[:80]))
        self.compressed = True
        L.check(not self.plain and not self.raw, "bytes after the login OK")

    # -- responses
    def read_result(self, what="response"):
        """The whole response to a text command, canonical: a list of ('ok', affected) /
        ('err', code) / ('rows', [row...]) / ('infile', name), one per result."""
        results = []
        while True:
            _, p = self.read_packet()
            if p[0] == 0x00:
                affected, i = lenenc(p, 1)
                _, i = lenenc(p, i)
                status = struct.unpack("<H", p[i:i + 2])[0]
                results.append(("ok", affected))
            elif p[0] == 0xFF:
                results.append(("err", struct.unpack("<H", p[1:3])[0]))
                status = 0
            elif p[0] == 0xFB:
                results.append(("infile", p[1:].decode()))
                return results  # the client's file comes next
            else:
                ncols, _ = lenenc(p, 0)
                for _ in range(ncols):
                    self.read_packet()
                _, eof = self.read_packet()
                L.check(eof[0] == 0xFE, "no EOF after the column definitions")
                rows = []
                while True:
                    _, p = self.read_packet()
                    if p[0] == 0xFE and len(p) < 9:
                        status = struct.unpack("<H", p[3:5])[0]
                        break
                    if p[0] == 0xFF:
                        rows.append(("err", struct.unpack("<H", p[1:3])[0]))
                        status = 0
                        break
                    row, i = [], 0
                    while i < len(p):
                        n, i = lenenc(p, i)
                        row.append(None if n is None else bytes(p[i:i + n]))
                        i += n or 0
                    rows.append(tuple(row))
                results.append(("rows", rows))
            if not status & SERVER_MORE_RESULTS_EXISTS:
                break
        self.check_frame_seqs(what)
        return results

    def query(self, sql, inner_seq=0):
        self.command(b"\x03" + sql.encode() if isinstance(sql, str) else sql, inner_seq)
        return self.read_result(sql[:60] if isinstance(sql, str) else "command")

    def close(self):
        try:
            self.sock.sendall(frame(0, split_packets(0, b"\x01")))
        except OSError:
            pass
        self.sock.close()


def both(fn):
    """Runs fn(client) directly against s1 and through odp; their results must be equal."""
    out = {}
    for target in ("direct", "odp"):
        c = CompressedClient(target)
        try:
            out[target] = fn(c)
        finally:
            c.close()
    L.check_eq(out["odp"], out["direct"], "results")
    return out["odp"]


def case_inner_seq_one():
    # Connector/J's first command after its login: compressed id 0, inner id 1.
    def run(c):
        r = [c.query("SELECT 1 + 1", inner_seq=1)]
        r.append(c.query("SELECT 'next'", inner_seq=5))
        r.append(c.query("SELECT 'normal'"))
        return r
    r = both(run)
    L.check_eq(r[0], [("rows", [(b"2",)])], "SELECT 1 + 1")


def case_pipelined_one_frame():
    # Commands in one frame, the first numbered 1 (as Connector/J pipelines its session set-up
    # after the login), answered in order. MariaDB itself serves two commands in one frame (it
    # loses track from the third on: ERR 1047 or no answer), so the longer run is odp's alone.
    def two(c):
        plain = split_packets(1, b"\x03SET @odp_raw = 41") + split_packets(0, b"\x03SELECT @odp_raw + 1")
        c.send_raw(frame(0, plain), 0)
        c.expect_first = None  # answers to pipelined commands are not one sequence
        r = [c.read_result() for _ in range(2)]
        r.append(c.query("SELECT 'alone again'"))
        return r
    r = both(two)
    L.check_eq(r[1], [("rows", [(b"42",)])], "the pipelined SELECT")

    c = CompressedClient("odp")
    try:
        plain = (split_packets(1, b"\x03SET @odp_raw = 41") + split_packets(0, b"\x03SELECT @odp_raw + 1") +
                 split_packets(3, b"\x0e") + split_packets(0, b"\x03SELECT 'after the ping'") +
                 split_packets(9, b"\x03BEGIN") + split_packets(0, b"\x03COMMIT"))
        c.send_raw(frame(0, plain), 0)
        c.expect_first = None
        got = [c.read_result(), c.read_result(), c.read_packet()[1][:1], c.read_result(), c.read_result(),
               c.read_result()]
        L.check_eq(got, [[("ok", 0)], [("rows", [(b"42",)])], b"\x00", [("rows", [(b"after the ping",)])],
                         [("ok", 0)], [("ok", 0)]], "six pipelined answers")
        # Every answer continues the frame its command came in.
        L.check(set(c.frame_seqs) == {1}, "answers numbered %s" % c.frame_seqs)
        L.check_eq(c.query("SELECT 'alone again'"), [("rows", [(b"alone again",)])], "the next command")
    finally:
        c.close()


def case_pipelined_frames():
    # Each command in its own frame numbered 0 (Connector/J), all written at once.
    def run(c):
        data = b"".join(frame(0, split_packets(0, b"\x03SELECT %d" % i)) for i in range(20))
        c.send_raw(data, 0)
        c.expect_first = None
        r = [c.read_result() for _ in range(20)]
        r.append(c.query("SELECT 'done'"))
        return r
    both(run)


def blob(n, seed):
    return random.Random(seed).randbytes(n)


def insert_blob_jdbc_style(c, table, row_id, data):
    """A text INSERT of `data` (hex literal) as Connector/J frames a packet of 16 MiB or more:
    a raw frame of exactly 0xFFFFFF stream bytes (the header, inner id 1, and 0xFFFFFB payload
    bytes), a frame with the chunk's last 4 bytes, then the rest; chunk ids 1, 3, 5, ..."""
    payload = b"\x03INSERT INTO %s VALUES (%d, x'%s')" % (table.encode(), row_id, data.hex().encode())
    stream = bytearray()
    seq, off = 1, 0
    while True:
        chunk = payload[off:off + MAX_CHUNK]
        stream += u24(len(chunk)) + bytes([seq]) + chunk
        seq, off = seq + 2, off + len(chunk)
        if len(chunk) < MAX_CHUNK:
            break
    L.check(len(stream) > MAX_CHUNK + 4, "the INSERT must span frames")
    out = bytearray(frame(0, stream[:MAX_CHUNK], compress=False))
    out += frame(1, stream[MAX_CHUNK:MAX_CHUNK + 4], compress=False)
    cseq, rest = 2, stream[MAX_CHUNK + 4:]
    for o in range(0, len(rest), MAX_CHUNK):
        out += frame(cseq, rest[o:o + MAX_CHUNK])
        cseq += 1
    c.send_raw(bytes(out), cseq - 1)
    return c.read_result("INSERT of %d bytes" % len(data))


def big_commands(c, table, sizes):
    r = [c.query("DROP TABLE IF EXISTS %s" % table),
         c.query("CREATE TABLE %s (id INT PRIMARY KEY, b LONGBLOB)" % table)]
    for k, n in enumerate(sizes):
        data = blob(n, n)
        r.append(insert_blob_jdbc_style(c, table, 2 * k, data))
        # The same bytes as libmariadb frames a big packet (ids 0, 1, ...; frames cut at 0xFFFFFF).
        r.append(c.query(b"\x03INSERT INTO %s VALUES (%d, x'%s')" % (table.encode(), 2 * k + 1, data.hex().encode())))
        for row_id in (2 * k, 2 * k + 1):
            got = c.query("SELECT b FROM %s WHERE id = %d" % (table, row_id))
            L.check(got == [("rows", [(data,)])], "row %d of %d bytes came back different (%d bytes)" % (
                row_id, n, len(got[0][1][0][0]) if got and got[0][0] == "rows" and got[0][1] else -1))
        r.append(c.query("SELECT id, LENGTH(b), SHA2(b, 256) FROM %s WHERE id >= %d ORDER BY id" % (table, 2 * k)))
        r.append(c.query("SELECT 'after %d bytes'" % n))
    r.append(c.query("DROP TABLE %s" % table))
    return r


def case_big_commands():
    # 16,777,116-byte and 17 MiB blobs: their INSERTs are packets of 16 MiB and more; a SELECT of
    # the 17 MiB one is a row over 0xFFFFFF bytes coming back compressed.
    both(lambda c: big_commands(c, "craw_big", [16777116, 17 << 20]))


def case_after_multi_statement():
    def run(c):
        return [c.query("SELECT 1 AS a; SELECT 'x', 'y'; DO 1"), c.query("SELECT 'after multi'"),
                c.query("SELECT 1; SELECT * FROM no_such_table_raw; SELECT 3"),
                c.query("SELECT 'after a failing multi'", inner_seq=2)]
    r = both(run)
    L.check_eq(r[1], [("rows", [(b"after multi",)])], "the statement after the multi-statement")


def load_data(c, table, lines, inner_start):
    """LOAD DATA LOCAL: the file in frames numbered on from the server's request (as libmariadb
    and libmysqlclient do), inner ids from inner_start (anything: MariaDB does not look)."""
    r = [c.query("DROP TABLE IF EXISTS %s" % table),
         c.query("CREATE TABLE %s (id INT PRIMARY KEY, v VARCHAR(40))" % table)]
    c.command(b"\x03LOAD DATA LOCAL INFILE 'raw.tsv' INTO TABLE " + table.encode())
    req = c.read_result("LOAD DATA request")
    L.check(req and req[0][0] == "infile", "no LOCAL INFILE request: %r" % req)
    c.check_frame_seqs("LOAD DATA request")
    data = b"".join(b"%d\tvalue %d\n" % (i, i * 3) for i in range(lines))
    stream = bytearray()
    seq = inner_start
    for o in range(0, len(data), 16384):
        stream += split_packets(seq, data[o:o + 16384])
        seq += 1
    stream += split_packets(seq, b"")
    first = (c.frame_seqs[-1] + 1) & 0xFF
    out = bytearray()
    # Frames that do not line up with the packets.
    cseq = first
    for o in range(0, len(stream), 10000):
        out += frame(cseq, bytes(stream[o:o + 10000]))
        cseq += 1
    c.send_raw(bytes(out), cseq - 1)
    r.append(c.read_result("LOAD DATA contents"))
    r.append(c.query("SELECT COUNT(*), SUM(id) FROM %s" % table))
    r.append(c.query("SELECT 'after load'"))
    r.append(c.query("DROP TABLE %s" % table))
    return r


def case_after_load_data():
    r = both(lambda c: load_data(c, "craw_load", 5000, 2) + load_data(c, "craw_load", 10, 77))
    L.check_eq(r[3], [("rows", [(b"5000", b"12497500")])], "rows loaded")


def case_after_idle():
    def run(c):
        r = [c.query("SELECT 'before'")]
        time.sleep(2.5)
        r.append(c.query("SELECT 'after idle'", inner_seq=1))
        r.append(c.query("SELECT 'and again'"))
        return r
    both(run)


CASES = [("inner_seq_one", case_inner_seq_one), ("pipelined_one_frame", case_pipelined_one_frame),
         ("pipelined_frames", case_pipelined_frames), ("after_multi_statement", case_after_multi_statement),
         ("after_load_data", case_after_load_data), ("after_idle", case_after_idle),
         ("big_commands", case_big_commands)]

if __name__ == "__main__":
    sys.exit(L.run_cases(CASES, sys.argv[1:]))
