"""Just enough of the MySQL client protocol for the end-to-end benchmarks: log in with
mysql_native_password (no TLS, no compression), run a query and count the result's bytes without
keeping them, and an asyncio login for holding many idle connections. Written for odp's benchmarks."""

import asyncio
import hashlib
import socket
import struct

CLIENT_LONG_PASSWORD = 0x1
CLIENT_LONG_FLAG = 0x4
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_RESULTS = 0x20000
CLIENT_PLUGIN_AUTH = 0x80000
CAPS = (CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 |
        CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH)


class ProtocolError(Exception):
    pass


def native_password(password, scramble):
    if not password:
        return b""
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(scramble + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def parse_greeting(p):
    if not p or p[0] != 10:
        raise ProtocolError("not a HandshakeV10 (%r)" % p[:8])
    i = p.index(b"\x00", 1) + 1
    i += 4  # connection id
    s1 = p[i:i + 8]
    i += 9
    i += 2 + 1 + 2 + 2  # caps low, charset, status, caps high
    alen = p[i]
    i += 1 + 10
    n = max(13, alen - 8)
    s2 = p[i:i + n]
    return s1 + s2[:12]


def handshake_response(user, password, db, scramble):
    payload = struct.pack("<IIB", CAPS, 1 << 24, 45) + b"\x00" * 23
    auth = native_password(password, scramble)
    payload += user.encode() + b"\x00" + bytes([len(auth)]) + auth
    payload += (db or "").encode() + b"\x00" + b"mysql_native_password\x00"
    return payload


def frame(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def err_text(p):
    code = struct.unpack("<H", p[1:3])[0]
    msg = p[3:]
    if msg[:1] == b"#":
        msg = msg[6:]
    return "ERR %d %s" % (code, msg.decode("utf-8", "replace"))


class Conn:
    """A blocking connection that can stream a result without keeping it."""

    BUF = 1 << 20

    def __init__(self, host, port, user, password, db, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray(self.BUF)
        self.view = memoryview(self.buf)
        self.start = self.end = 0
        seq, greet = self.read_packet()
        scramble = parse_greeting(greet)
        self.sock.sendall(frame(seq + 1, handshake_response(user, password, db, scramble)))
        seq, p = self.read_packet()
        if p[:1] == b"\xfe":  # auth switch to mysql_native_password
            name_end = p.index(b"\x00", 1)
            data = p[name_end + 1:].rstrip(b"\x00")
            self.sock.sendall(frame(seq + 1, native_password(password, data[:20])))
            seq, p = self.read_packet()
        if p[:1] == b"\xff":
            raise ProtocolError(err_text(p))
        if p[:1] != b"\x00":
            raise ProtocolError("unexpected login reply %r" % p[:8])

    def _fill(self, need):
        """Ensures `need` bytes are buffered from start (need <= BUF)."""
        if self.end - self.start >= need:
            return
        if self.start > 0:
            n = self.end - self.start
            self.buf[0:n] = self.buf[self.start:self.end]
            self.start, self.end = 0, n
        while self.end - self.start < need:
            got = self.sock.recv_into(self.view[self.end:])
            if got == 0:
                raise ProtocolError("connection closed")
            self.end += got

    def read_header(self):
        self._fill(4)
        b = self.buf
        s = self.start
        length = b[s] | b[s + 1] << 8 | b[s + 2] << 16
        seq = b[s + 3]
        self.start += 4
        return length, seq

    def read_packet(self):
        length, seq = self.read_header()
        if length > self.BUF:
            raise ProtocolError("packet too large to keep (%d)" % length)
        self._fill(length)
        p = bytes(self.buf[self.start:self.start + length])
        self.start += length
        return seq, p

    def skip(self, n):
        have = self.end - self.start
        if have >= n:
            self.start += n
            return
        n -= have
        self.start = self.end = 0
        while n > 0:
            got = self.sock.recv_into(self.view[:min(n, self.BUF)])
            if got == 0:
                raise ProtocolError("connection closed")
            n -= got

    def stream_query(self, sql):
        """Runs a text query; returns (rows, row_payload_bytes) without keeping the rows."""
        self.sock.sendall(frame(0, b"\x03" + sql.encode()))
        seq, p = self.read_packet()
        if p[:1] == b"\xff":
            raise ProtocolError(err_text(p))
        ncols = p[0]
        for _ in range(ncols):
            self.read_packet()
        seq, p = self.read_packet()  # EOF after the column definitions
        rows = nbytes = 0
        while True:
            length, seq = self.read_header()
            if length < 9:
                self._fill(length)
                first = self.buf[self.start]
                if first in (0xFE, 0xFF):
                    p = bytes(self.buf[self.start:self.start + length])
                    self.start += length
                    if first == 0xFF:
                        raise ProtocolError(err_text(p))
                    return rows, nbytes
            rows += 1
            nbytes += length
            self.skip(length)

    def close(self):
        try:
            self.sock.sendall(frame(0, b"\x01"))
        except OSError:
            pass
        self.sock.close()


async def _aread_packet(reader):
    hdr = await reader.readexactly(4)
    length = hdr[0] | hdr[1] << 8 | hdr[2] << 16
    return hdr[3], await reader.readexactly(length)


async def idle_login(host, port, user, password, db, timeout=30):
    """Opens a connection and logs in; returns (reader, writer) left idle."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    seq, greet = await asyncio.wait_for(_aread_packet(reader), timeout)
    writer.write(frame(seq + 1, handshake_response(user, password, db, parse_greeting(greet))))
    seq, p = await asyncio.wait_for(_aread_packet(reader), timeout)
    if p[:1] == b"\xfe":
        name_end = p.index(b"\x00", 1)
        data = p[name_end + 1:].rstrip(b"\x00")
        writer.write(frame(seq + 1, native_password(password, data[:20])))
        seq, p = await asyncio.wait_for(_aread_packet(reader), timeout)
    if p[:1] != b"\x00":
        writer.close()
        raise ProtocolError(err_text(p) if p[:1] == b"\xff" else "login reply %r" % p[:8])
    return reader, writer


async def ping(reader, writer, timeout=30):
    writer.write(frame(0, b"\x0e"))
    seq, p = await asyncio.wait_for(_aread_packet(reader), timeout)
    return p[:1] == b"\x00"
