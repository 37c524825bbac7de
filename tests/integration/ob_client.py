"""A minimal OceanBase 2.0 client for odp's tests: what OceanBase Connector/J and /C do on the
wire when they ask a proxy for OB 2.0 (../../../shared/OB-VECTORS.md sections 1 and 3), written
independently of odp's codecs (the checksums come from ob_endpoint.py's plain implementations).

It logs in with mysql_native_password and the attributes the drivers send (__mysql_client_type,
__ob_client_name, __proxy_capability_flag with bit 8), reads the grant from the login OK's
session state (ob_capability_flag), then frames every command in OB 2.0 and checks every frame of
the answers: both checksums, its connection id, the request id, the sequence numbers.
"""

import os
import socket
import struct

from ob_endpoint import (CLIENT_CONNECT_ATTRS, CLIENT_CONNECT_WITH_DB, CLIENT_LONG_PASSWORD, CLIENT_MULTI_RESULTS,
                         CLIENT_PLUGIN_AUTH, CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION, CLIENT_SESSION_TRACK,
                         CLIENT_TRANSACTIONS, EXTRA_TRACE_INFO, FLAG_EXTRA_INFO, FLAG_LAST_PACKET,
                         FLAG_NEW_EXTRA_INFO, MAGIC, extra_record, OB_PROTOCOL_V2, PROXY_NEW_EXTRA_INFO, crc16_arc,
                         crc32c_ob, lenenc_int, lenenc_str, packet, sha1, xor)


class FrameError(AssertionError):
    pass


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def _read_packet(sock):
    head = _read_exact(sock, 4)
    n = int.from_bytes(head[:3], "little")
    return head[3], _read_exact(sock, n)


def split_packets(data):
    out = []
    pos = 0
    while pos + 4 <= len(data):
        n = int.from_bytes(data[pos:pos + 3], "little")
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    if pos != len(data):
        raise FrameError("the frames' MySQL bytes end inside a packet")
    return out


def session_variables(ok):
    """System variables in an OK packet's session state (PROTOCOL_41 + SESSION_TRACK)."""
    pos = 1
    _, pos = lenenc_int(ok, pos)
    _, pos = lenenc_int(ok, pos)
    status = struct.unpack_from("<H", ok, pos)[0]
    pos += 4
    out = {}
    if pos >= len(ok):
        return out
    n, pos = lenenc_int(ok, pos)  # info
    pos += n
    if not status & 0x4000 or pos >= len(ok):
        return out
    total, pos = lenenc_int(ok, pos)
    end = pos + total
    while pos < end:
        kind = ok[pos]
        ln, pos = lenenc_int(ok, pos + 1)
        rec = ok[pos:pos + ln]
        pos += ln
        if kind == 0:
            kl, p = lenenc_int(rec, 0)
            name = rec[p:p + kl]
            vl, p = lenenc_int(rec, p + kl)
            out[name.decode()] = rec[p:p + vl].decode()
    return out


class Ob20Client:
    def __init__(self, host, port, user, password, db, caps=OB_PROTOCOL_V2 | PROXY_NEW_EXTRA_INFO, checksum=True):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.checksum = checksum
        _, hs = _read_packet(self.sock)
        pos = hs.index(b"\0", 1) + 1
        self.connection_id = struct.unpack_from("<I", hs, pos)[0]
        scramble = hs[pos + 4:pos + 12] + hs[pos + 31:pos + 43]
        token = xor(sha1(password.encode()), sha1(scramble + sha1(sha1(password.encode())))) if password else b""
        flags = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |
                 CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS | CLIENT_SESSION_TRACK |
                 CLIENT_CONNECT_WITH_DB)
        attrs = {"__mysql_client_type": "__ob_jdbc_client", "__ob_client_name": "OceanBase Connector/J",
                 "__ob_client_version": "2.4.9", "__proxy_capability_flag": str(caps)}
        blob = b"".join(lenenc_str(k.encode()) + lenenc_str(v.encode()) for k, v in attrs.items())
        resp = (struct.pack("<IIB", flags, 1 << 24, 45) + b"\0" * 23 + user.encode() + b"\0" +
                bytes([len(token)]) + token + db.encode() + b"\0" + b"mysql_native_password\0" +
                lenenc_str(blob))
        self.sock.sendall(packet(1, resp))
        _, ok = _read_packet(self.sock)
        if ok[:1] != b"\x00":
            raise ConnectionError("login refused: %r" % ok)
        self.granted = int(session_variables(ok).get("ob_capability_flag", "0"))
        self.ob20 = bool(self.granted & OB_PROTOCOL_V2)
        self.request_id = int.from_bytes(os.urandom(3), "little")
        self.frames_seen = []  # (request id, seq, flags, checksummed) of every response frame

    def close(self):
        self.sock.close()

    # --- OB 2.0 framing ------------------------------------------------------------------------

    def frame(self, seq, mysql, last, request_id=None, spoil=None, extra=b""):
        request_id = self.request_id if request_id is None else request_id
        flags = FLAG_LAST_PACKET if last else 0
        if extra:  # new-format extra info ahead of the MySQL bytes
            flags |= FLAG_EXTRA_INFO | FLAG_NEW_EXTRA_INFO
            mysql = struct.pack("<I", len(extra)) + extra + mysql
        head = ((24 + len(mysql) + 4).to_bytes(3, "little") + bytes([seq]) + b"\0\0\0" +
                struct.pack("<HHI", MAGIC, 20, self.connection_id) + request_id.to_bytes(3, "little") +
                bytes([seq]) + struct.pack("<IIH", len(mysql), flags, 0))
        head += struct.pack("<H", crc16_arc(head) if self.checksum else 0)
        tail = crc32c_ob(mysql) if self.checksum else 0
        if spoil == "payload":
            tail ^= 0x10
        return head + mysql + struct.pack("<I", tail)

    def send_request(self, mysql, pieces=1, spoil=None, trace=None):
        """One command's MySQL bytes in `pieces` frames (seq 0, 1, ...), the first one carrying
        `trace` as a TRACE_INFO record when given; returns (request id, last seq)."""
        cut = [len(mysql) * i // pieces for i in range(pieces + 1)]
        out = b""
        for i in range(pieces):
            extra = extra_record(EXTRA_TRACE_INFO, trace) if trace and i == 0 else b""
            out += self.frame(i, mysql[cut[i]:cut[i + 1]], i == pieces - 1, spoil=spoil, extra=extra)
        self.sock.sendall(out)
        sent = (self.request_id, pieces - 1)
        self.request_id = (self.request_id + 1) & 0xFFFFFF
        return sent

    def read_response(self, request):
        """Frames up to LAST_PACKET, each checked; the response's MySQL packet payloads."""
        request_id, last_seq = request
        expect_seq = (last_seq + 1) & 0xFF
        data = b""
        while True:
            head = _read_exact(self.sock, 31)
            comp_len = int.from_bytes(head[0:3], "little")
            magic, version, conn_id = struct.unpack_from("<HHI", head, 7)
            rid = int.from_bytes(head[15:18], "little")
            seq = head[18]
            plen, flags, _, hcrc = struct.unpack_from("<IIHH", head, 19)
            if magic != MAGIC or version != 20 or comp_len != 24 + plen + 4 or head[4:7] != b"\0\0\0":
                raise FrameError("not an OB 2.0 frame: %r" % head)
            if head[3] != seq:
                raise FrameError("compressed seq %d differs from the frame seq %d" % (head[3], seq))
            if hcrc != 0 and hcrc != crc16_arc(head[:29]):
                raise FrameError("header checksum")
            body = _read_exact(self.sock, plen + 4)
            payload, tail = body[:plen], struct.unpack_from("<I", body, plen)[0]
            if tail != 0 and tail != crc32c_ob(payload):
                raise FrameError("payload checksum")
            if conn_id != self.connection_id:
                raise FrameError("connection id %d, not %d" % (conn_id, self.connection_id))
            if rid != request_id:
                raise FrameError("request id %d, not %d" % (rid, request_id))
            if seq != expect_seq:
                raise FrameError("frame seq %d, not %d" % (seq, expect_seq))
            # Checksummed: a real CRC is 0 only by chance (1 in 2^16 for the header's), both 1 in 2^48.
            self.frames_seen.append((rid, seq, flags, hcrc != 0 or tail != 0))
            expect_seq = (expect_seq + 1) & 0xFF
            data += payload
            if flags & FLAG_LAST_PACKET:
                return split_packets(data)

    # --- commands ------------------------------------------------------------------------------

    def query(self, sql, pieces=1, trace=None):
        return parse_result(self.read_response(self.send_request(packet(0, b"\x03" + sql.encode()), pieces,
                                                                 trace=trace)))


def parse_result(packets):
    """("ok", affected) | ("err", code, message) | ("rows", [[str|None, ...], ...]) (text protocol, with EOFs)."""
    first = packets[0]
    if first[:1] == b"\xff":
        return ("err", struct.unpack_from("<H", first, 1)[0], first[9:].decode("utf-8", "replace"))
    if first[:1] == b"\x00":
        affected, _ = lenenc_int(first, 1)
        return ("ok", affected)
    ncols, _ = lenenc_int(first, 0)
    i = 1 + ncols
    if packets[i][:1] == b"\xfe":
        i += 1  # EOF after the column definitions
    rows = []
    while i < len(packets) and not (packets[i][:1] == b"\xfe" and len(packets[i]) < 9):
        row, pos = [], 0
        p = packets[i]
        while pos < len(p):
            if p[pos] == 0xFB:
                row.append(None)
                pos += 1
                continue
            n, pos = lenenc_int(p, pos)
            row.append(p[pos:pos + n].decode("utf-8", "replace"))
            pos += n
        rows.append(row)
        i += 1
    return ("rows", rows)
