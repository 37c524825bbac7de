#!/usr/bin/python3
"""The OBServer side of odp's tests: a MariaDB server fronted as an OBServer would answer a proxy.

No OBServer runs on these machines. This endpoint does, in front of one sandbox MariaDB server,
what ../../../shared/OB-VECTORS.md says an OBServer does, written from that text and independent
of odp's codecs (so a misreading in one shows against the other):
  - login (section 3): its own scramble S_s; a peer whose attribute __mysql_client_type is
    "__ob_proxy" gets its token checked against __proxy_scramble XOR S_s (20 bytes; otherwise the
    legacy "aaaaaaaabbbbbbbbbbbb"), anyone else against S_s; the check is mysql_native_password's
    against the account's stored hash (read from the MariaDB server's mysql.user). "user@tenant"
    names the MariaDB user. A wrong password is ERROR 1045. The login OK tracks the system
    variable ob_capability_flag = what the proxy asked (__proxy_capability_flag) AND this server's
    mask (bits 0-3, 5-16, 18, 19).
  - after login, when OB_PROTOCOL_V2 (bit 8) was granted, OB 2.0 frames both ways (section 1):
    CRC-16/ARC header checksum over bytes 0..28, CRC-32C (init 0, no inversion) payload checksum,
    0 = not computed; the connection id is the server session id; the response carries the
    request id and continues the request's frame sequence; LAST_PACKET ends each response. A bad
    frame from the proxy closes the connection (as OB_CHECKSUM_ERROR / OB_UNKNOWN_PACKET would).
  - fault injection for tests: while the file given by --refuse-file holds 8001, 8002, 5150 or
    5727, every COM_QUERY / COM_STMT_EXECUTE gets that error without running (a server starting,
    stopping, not serving the tenant, or asking for a reroute); a request whose text holds `/*ob_endpoint:corrupt=KIND*/` (KIND:
    payload, header, seq, request_id) gets its response's last frame spoiled that way; one whose
    text holds `/*ob_endpoint:partition_miss*/` gets ob_proxy_partition_hit = false tracked in its
    final OK, as an OBServer says a statement did not hit a local partition (OB 2.0 sessions).
  - session sync (PROXY_SESSION_SYNC granted): `/*ob_endpoint:app_info=WORD*/` in a request sets
    the session's application info (kept as @__ob_app_info on MariaDB) and the answer's last frame
    reports it as a SESS_INFO record (type 0); SESS_INFO records in a request's extra info apply
    before it runs (logged as `sess_info {json}` lines); TRACE_INFO records are logged as
    `trace {json}` lines.
  - --old-extra-info: an older server that does not grant PROXY_NEW_EXTRA_INFO (bit 15): extra
    info both ways in the old ObObj key/value format (`old_extra_info {json}` lines log what came
    in); a request in the new format is a bad frame.
  - the tenant's global-variables version (ob_proxy_global_variables_version) in a proxy login's
    OK, kept in the file --global-version-file names and moved on by each SET GLOBAL relayed.

Usage: ob_endpoint.py --listen HOST:PORT --server HOST:PORT --socket MARIADB_UNIX_SOCKET
"""

import argparse
import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import re
import struct
import sys

import pymysql

CORRUPT_MARKER = re.compile(rb"/\*ob_endpoint:corrupt=(\w+)\*/")
PARTITION_MISS_MARKER = b"/*ob_endpoint:partition_miss*/"
SET_GLOBAL = re.compile(rb"\bSET\b.*(\bGLOBAL\b|@@GLOBAL\.)", re.IGNORECASE | re.DOTALL)
APP_INFO_MARKER = re.compile(rb"/\*ob_endpoint:app_info=(\w+)\*/")
SERVER_CAP_MASK = sum(1 << b for b in list(range(0, 4)) + list(range(5, 17)) + [18, 19])
OB_PROTOCOL_V2 = 1 << 8
PROXY_NEW_EXTRA_INFO = 1 << 15
LEGACY_SCRAMBLE = b"aaaaaaaabbbbbbbbbbbb"
MAGIC = 0x20AB
FLAG_EXTRA_INFO = 1 << 0
FLAG_LAST_PACKET = 1 << 1
# A frame's payload at most: its 3-byte length field counts the 24-byte header and 4-byte tail too.
MAX_FRAME_PAYLOAD = 0xFFFFFF - 24 - 4
FLAG_NEW_EXTRA_INFO = 1 << 3
PROXY_SESSION_SYNC = 1 << 13
EXTRA_TRACE_INFO = 2001
EXTRA_SESS_INFO = 2002
SESS_APPLICATION_INFO = 0

CLIENT_LONG_PASSWORD = 1
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_COMPRESS = 1 << 5
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_SSL = 1 << 11
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC = 1 << 21
CLIENT_SESSION_TRACK = 1 << 23
CLIENT_DEPRECATE_EOF = 1 << 24
SERVER_MORE_RESULTS_EXISTS = 0x0008
SERVER_STATUS_CURSOR_EXISTS = 0x0040
SERVER_SESSION_STATE_CHANGED = 0x4000


# --- checksums, from their definitions (bitwise, no tables) ------------------------------------

def crc16_arc(data, crc=0):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c_ob(data, crc=0):
    """CRC-32C with init 0 and no final inversion (OceanBase's 'ob_crc64')."""
    for b in data:
        crc = (crc >> 8) ^ _CRC32C_TABLE[(crc ^ b) & 0xFF]
    return crc


# --- MySQL bits ------------------------------------------------------------------------------

def lenenc_int(data, pos):
    b = data[pos]
    if b < 0xFB:
        return b, pos + 1
    if b == 0xFC:
        return struct.unpack_from("<H", data, pos + 1)[0], pos + 3
    if b == 0xFD:
        return int.from_bytes(data[pos + 1:pos + 4], "little"), pos + 4
    return struct.unpack_from("<Q", data, pos + 1)[0], pos + 9


def lenenc(n):
    if n < 0xFB:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + n.to_bytes(3, "little")
    return b"\xfe" + struct.pack("<Q", n)


def lenenc_str(b):
    return lenenc(len(b)) + b


def with_system_variable(p, caps, name, value):
    """The OK (or OK-shaped EOF) payload `p` with a SESSION_TRACK_SYSTEM_VARIABLES record added, as
    an OBServer adds its feedback to a proxy (ob_proxy_partition_hit); other packets unchanged."""
    is_ok = p[:1] == b"\x00" or (p[:1] == b"\xfe" and len(p) >= 7 and caps & CLIENT_DEPRECATE_EOF)
    if not is_ok or not caps & CLIENT_SESSION_TRACK:
        return p
    pos = 1
    _, pos = lenenc_int(p, pos)
    _, pos = lenenc_int(p, pos)
    status, warnings = struct.unpack_from("<HH", p, pos)
    head = p[:pos]
    pos += 4
    info, state = b"", b""
    if pos < len(p):
        n, pos = lenenc_int(p, pos)
        info, pos = p[pos:pos + n], pos + n
        if status & SERVER_SESSION_STATE_CHANGED and pos < len(p):
            n, pos = lenenc_int(p, pos)
            state = p[pos:pos + n]
    data = lenenc_str(name) + lenenc_str(value)
    state += bytes([0]) + lenenc_str(data)  # type 0: SESSION_TRACK_SYSTEM_VARIABLES
    status |= SERVER_SESSION_STATE_CHANGED
    return bytes(head) + struct.pack("<HH", status, warnings) + lenenc_str(bytes(info)) + lenenc_str(state)


def packet(seq, payload):
    return len(payload).to_bytes(3, "little") + bytes([seq & 0xFF]) + payload


def err_payload(code, state, message):
    return b"\xff" + struct.pack("<H", code) + b"#" + state.encode() + message.encode()


def sha1(b):
    return hashlib.sha1(b).digest()


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


async def read_packet(reader):
    head = await reader.readexactly(4)
    n = int.from_bytes(head[:3], "little")
    return head[3], await reader.readexactly(n)


def extra_record(rtype, value):
    """One record of new-format extra info, or of a SESS_INFO value (the same layout): type u16,
    length u32, value."""
    return struct.pack("<HI", rtype, len(value)) + value


def extra_records(data):
    """(type, value) of every record in `data` (new-format extra info, or a SESS_INFO value)."""
    out = []
    pos = 0
    while pos + 6 <= len(data):
        rtype, n = struct.unpack_from("<HI", data, pos)
        out.append((rtype, bytes(data[pos + 6:pos + 6 + n])))
        pos += 6 + n
    return out


def session_records(extra):
    """(type, bytes) of every record inside the SESS_INFO items of extra info (as extra_records)."""
    return [rec for rtype, value in extra if rtype == EXTRA_SESS_INFO for rec in extra_records(value)]


# Old-format extra info (OB-VECTORS.md 1.4, flag NEW_EXTRA_INFO clear): pairs of serialised ObObj,
# a varchar key and a varchar value; ObObj = meta (type, cs_level, cs_type, scale) + for a varchar
# varint(len) (7-bit groups, low first) + bytes + NUL. The keys, by the new format's type ids:
OLD_EXTRA_KEYS = {2001: b"ob_trace_info", 2002: b"sess_inf", 2003: b"full_trc", 2004: b"sess_ver"}
OB_VARCHAR_META = bytes([22, 2, 0, 0xFF])


def obobj_varchar(value):
    n, out = len(value), bytearray(OB_VARCHAR_META)
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            break
    return bytes(out) + value + b"\0"


def read_obobj_varchar(data, pos):
    if data[pos] not in (22, 23):  # ObVarcharType, ObCharType
        raise ValueError("old extra info: not a string")
    pos += 4
    n = shift = 0
    while True:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    if pos + n >= len(data) or data[pos + n] != 0:
        raise ValueError("old extra info: bad string")
    return bytes(data[pos:pos + n]), pos + n + 1


def old_extra_records(data):
    """(type, value) of the records of old-format extra info whose keys are known."""
    by_key = {k: t for t, k in OLD_EXTRA_KEYS.items()}
    out, pos = [], 0
    try:
        while pos < len(data):
            key, pos = read_obobj_varchar(data, pos)
            value, pos = read_obobj_varchar(data, pos)
            if key in by_key:
                out.append((by_key[key], value))
    except IndexError:
        raise ValueError("old extra info: truncated")
    return out


def old_extra_record(rtype, value):
    return obobj_varchar(OLD_EXTRA_KEYS[rtype]) + obobj_varchar(value)


async def set_app_info(sreader, swriter, value):
    """The session's application info, kept where a test can read it: @__ob_app_info on MariaDB."""
    sql = b"SET @__ob_app_info = X'" + value.hex().encode() + b"'"
    swriter.write(packet(0, b"\x03" + sql))
    await swriter.drain()
    _, reply = await read_packet(sreader)
    if reply[:1] != b"\x00":
        raise ValueError("could not set the application info: %r" % reply)


def global_vars_version(path, bump=False):
    """The tenant's global-variables version, shared by every endpoint of the sandbox through the
    file at `path` (OceanBase keeps one per tenant); `bump` moves it on, as a SET GLOBAL does."""
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        try:
            v = int(f.read().strip() or "1")
        except ValueError:
            v = 1
        if bump:
            v += 1
            f.seek(0)
            f.truncate()
            f.write(str(v))
        return v


class ResponseEnd:
    """Tells where a MariaDB response to one command ends (so its last frame gets LAST_PACKET)."""

    def __init__(self, command, caps, cursor_requested=False):
        self.command = command
        self.deprecate_eof = bool(caps & CLIENT_DEPRECATE_EOF)
        # Only an execute that asked for a cursor ends at its column definitions when the server
        # says a cursor exists (a procedure's own cursor sets the flag too).
        self.cursor_requested = cursor_requested
        self.state = "first"
        self.left = 0
        self.after = None

    def _terminator(self, p):
        return p[:1] == b"\xfe" and len(p) < 0xFFFFFF and (self.deprecate_eof or len(p) < 9)

    def _status(self, p):
        if p[:1] == b"\xfe" and len(p) < 9:  # EOF: fe warnings(2) status(2)
            return struct.unpack_from("<H", p, 3)[0] if len(p) >= 5 else 0
        pos = 1
        _, pos = lenenc_int(p, pos)
        _, pos = lenenc_int(p, pos)
        return struct.unpack_from("<H", p, pos)[0] if len(p) >= pos + 2 else 0

    def _columns(self, n, then):
        self.left = n
        self.after = then
        self.state = "defs" if n else then

    def feed(self, p):
        """One whole packet of the response; True when it ends the response."""
        if self.state == "first":
            if p[:1] == b"\xff":
                return True
            if self.command == 0x16:  # COM_STMT_PREPARE: OK stmt_id(4) cols(2) params(2)
                if p[:1] != b"\x00":
                    return True
                cols, params = struct.unpack_from("<HH", p, 5)
                self.pending = [cols]
                if params:
                    self._columns(params, "defs_eof_prep")
                    return False
                return self._prep_columns()
            if self.command == 0x09:  # COM_STATISTICS: one string
                return True
            if self.command in (0x04, 0x1C):  # COM_FIELD_LIST, COM_STMT_FETCH: rows then EOF
                self.state = "rows"
                return self._row_or_end(p)
            if p[:1] == b"\xfe":  # an auth switch (COM_CHANGE_USER): the client answers
                return True
            if p[:1] == b"\x00":
                return not (self._status(p) & SERVER_MORE_RESULTS_EXISTS)
            if p[:1] == b"\xfb":  # LOCAL INFILE request: the client's data follows
                return True
            n, _ = lenenc_int(p, 0)
            self._columns(n, "defs_eof")
            return False
        if self.state == "defs":
            self.left -= 1
            if self.left == 0:
                self.state = self.after
                if self.deprecate_eof and self.state == "defs_eof":
                    self.state = "rows"
                elif self.deprecate_eof and self.state == "defs_eof_prep":
                    return self._prep_columns()
            return False
        if self.state == "defs_eof":
            if self.cursor_requested and self._status(p) & SERVER_STATUS_CURSOR_EXISTS:
                return True
            self.state = "rows"
            return False
        if self.state == "defs_eof_prep":
            return self._prep_columns()
        if self.state == "prep_cols_eof":
            return True
        if self.state == "rows":
            return self._row_or_end(p)
        return True

    def _prep_columns(self):
        cols = self.pending[0]
        if not cols:
            return True
        self._columns(cols, "prep_cols_eof")
        if self.deprecate_eof:
            self.after = "done"
        return False

    def _row_or_end(self, p):
        if p[:1] == b"\xff":
            return True
        if self._terminator(p):
            if self._status(p) & SERVER_MORE_RESULTS_EXISTS:
                self.state = "first"
                return False
            return True
        return False

    def feed_defs_done(self):
        return self.state == "done"


# --- the endpoint --------------------------------------------------------------------------------

# OceanBase's texts for the refusals a test may ask for (the code is what a proxy acts on).
REFUSAL_MESSAGES = {8001: "Server is initializing", 8002: "Server is stopping", 5150: "Tenant not in server",
                    5727: "SQL need reroute"}


class Endpoint:
    def __init__(self, listen, server, socket_path, refuse_file=None, global_version_file=None, old_extra_info=False):
        self.old_extra_info = old_extra_info
        self.refuse_file = refuse_file
        self.global_version_file = global_version_file
        self.listen_host, self.listen_port = listen
        self.server = server
        self.socket_path = socket_path
        self.last_checksums = None
        self.stats = {"logins": 0, "proxy_logins": 0, "refused": 0, "ob20_sessions": 0, "bad_frames": 0,
                      "old_extra_info_in": 0}

    def refusal(self):
        """While the refuse file exists, its number (8001, 8002, 5150, 5727) answers every statement."""
        if not self.refuse_file:
            return 0
        try:
            with open(self.refuse_file) as f:
                return int(f.read().strip() or "0")
        except (OSError, ValueError):
            return 0

    def global_vars_version(self, bump=False):
        """The tenant's global-variables version (0: none kept); `bump` moves it on."""
        return global_vars_version(self.global_version_file, bump) if self.global_version_file else 0

    def stage2_of(self, user):
        conn = pymysql.connect(unix_socket=self.socket_path, user="root")
        try:
            with conn.cursor() as c:
                c.execute("SELECT authentication_string FROM mysql.user WHERE user = %s ORDER BY host = '%%' DESC",
                          (user,))
                row = c.fetchone()
        finally:
            conn.close()
        if row is None:
            return None
        text = row[0] or ""
        return bytes.fromhex(text[1:]) if text.startswith("*") else b""

    async def handle(self, creader, cwriter):
        sreader = swriter = None
        try:
            sreader, swriter = await asyncio.open_connection(*self.server)
            await self.session(creader, cwriter, sreader, swriter)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            for w in (cwriter, swriter):
                if w is not None:
                    w.close()

    async def session(self, creader, cwriter, sreader, swriter):
        _, greeting = await read_packet(sreader)
        # MariaDB's handshake: protocol(1) version NUL thread(4) scramble1(8) 0 caps_lo(2) charset(1)
        # status(2) caps_hi(2) auth_len(1) reserved(6) mariadb_caps(4) scramble2(12) 0 plugin NUL
        pos = greeting.index(b"\0", 1) + 1
        version = greeting[1:pos - 1]
        m_scramble = greeting[pos + 4:pos + 12]
        thread_pos = pos
        pos += 13
        caps_lo = struct.unpack_from("<H", greeting, pos)[0]
        charset = greeting[pos + 2]
        status = struct.unpack_from("<H", greeting, pos + 3)[0]
        caps_hi = struct.unpack_from("<H", greeting, pos + 5)[0]
        m_caps = caps_lo | (caps_hi << 16)
        m_scramble += greeting[pos + 18:pos + 30]
        # The server session id is MariaDB's thread id: KILL and SHOW PROCESSLIST name the same ids.
        sessid = struct.unpack_from("<I", greeting, thread_pos)[0]
        s_scramble = os.urandom(20).translate(bytes(range(1, 128)) * 2 + bytes(range(1, 3)))
        caps = m_caps & ~(CLIENT_COMPRESS | CLIENT_SSL)
        hs = (b"\x0a" + version + b"\0" + struct.pack("<I", sessid) + s_scramble[:8] + b"\0" +
              struct.pack("<H", caps & 0xFFFF) + bytes([charset]) + struct.pack("<H", status) +
              struct.pack("<H", caps >> 16) + bytes([21]) + b"\0" * 10 + s_scramble[8:] + b"\0" +
              b"mysql_native_password\0")
        cwriter.write(packet(0, hs))
        await cwriter.drain()

        seq, resp = await read_packet(creader)
        ccaps = struct.unpack_from("<I", resp, 0)[0]
        pos = 32
        end = resp.index(b"\0", pos)
        user = resp[pos:end].decode()
        pos = end + 1
        if ccaps & CLIENT_PLUGIN_AUTH_LENENC:
            n, pos = lenenc_int(resp, pos)
        else:
            n, pos = resp[pos], pos + 1
        token = resp[pos:pos + n]
        pos += n
        database = b""
        if ccaps & CLIENT_CONNECT_WITH_DB and pos < len(resp):
            end = resp.index(b"\0", pos)
            database, pos = resp[pos:end], end + 1
        if ccaps & CLIENT_PLUGIN_AUTH and pos < len(resp):
            end = resp.index(b"\0", pos)
            pos = end + 1
        attrs = {}
        if ccaps & CLIENT_CONNECT_ATTRS and pos < len(resp):
            total, pos = lenenc_int(resp, pos)
            stop = pos + total
            while pos < stop:
                kl, pos = lenenc_int(resp, pos)
                k = resp[pos:pos + kl]
                pos += kl
                vl, pos = lenenc_int(resp, pos)
                attrs[k.decode("latin-1")] = resp[pos:pos + vl]
                pos += vl
        is_proxy = attrs.get("__mysql_client_type") == b"__ob_proxy"
        self.stats["logins"] += 1
        # One line per login, for tests: the attributes as received (raw bytes in hex).
        print("login " + json.dumps({"user": user, "sessid": sessid, "proxy": is_proxy,
                                     "attrs": {k: v.hex() for k, v in attrs.items()}}), flush=True)
        if is_proxy:
            self.stats["proxy_logins"] += 1
            self.stats["last_attributes"] = attrs
            ps = attrs.get("__proxy_scramble", b"")
            scramble = xor(ps, s_scramble) if len(ps) == 20 else LEGACY_SCRAMBLE
            if attrs.get("__connection_id", b"").decode() != str(sessid):
                cwriter.write(packet(seq + 1, err_payload(1045, "28000", "bad __connection_id")))
                return
        else:
            scramble = s_scramble
        mysql_user = user.split("@", 1)[0]
        stage2 = self.stage2_of(mysql_user)
        stage1 = None
        ok = False
        if stage2 is not None:
            if stage2 == b"":
                ok = token == b""
            elif len(token) == 20:
                stage1 = xor(token, sha1(scramble + stage2))
                ok = sha1(stage1) == stage2
        if not ok:
            self.stats["refused"] += 1
            peer = cwriter.get_extra_info("peername")[0]
            cwriter.write(packet(seq + 1, err_payload(
                1045, "28000", "Access denied for user '%s'@'%s' (using password: %s)" %
                (mysql_user, peer, "YES" if token else "NO"))))
            await cwriter.drain()
            return

        # Log in to MariaDB as that user with what the token proved (SHA1(password)).
        m_token = xor(stage1, sha1(m_scramble + stage2)) if stage1 is not None else b""
        mcaps = (ccaps & m_caps & ~(CLIENT_COMPRESS | CLIENT_SSL | CLIENT_CONNECT_ATTRS)) | CLIENT_PROTOCOL_41 | \
            CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
        if database:
            mcaps |= CLIENT_CONNECT_WITH_DB
        else:
            mcaps &= ~CLIENT_CONNECT_WITH_DB
        mresp = (struct.pack("<IIB", mcaps, struct.unpack_from("<I", resp, 4)[0], resp[8]) + b"\0" * 19 +
                 struct.pack("<I", 0) + mysql_user.encode() + b"\0" + bytes([len(m_token)]) + m_token +
                 (database + b"\0" if database else b"") + b"mysql_native_password\0")
        swriter.write(packet(1, mresp))
        await swriter.drain()
        while True:
            mseq, answer = await read_packet(sreader)
            if answer[:1] == b"\xfe" and stage1 is not None:  # auth switch: answer for its scramble
                end = answer.index(b"\0", 1)
                scr = answer[end + 1:end + 21]
                swriter.write(packet(mseq + 1, xor(stage1, sha1(scr + stage2))))
                await swriter.drain()
                continue
            break
        if answer[:1] != b"\x00":
            cwriter.write(packet(seq + 1, answer))
            await cwriter.drain()
            return
        granted = 0
        if is_proxy:
            try:
                granted = int(attrs.get("__proxy_capability_flag", b"0")) & SERVER_CAP_MASK
                if self.old_extra_info:  # an older server: extra info in the ObObj key/value format
                    granted &= ~PROXY_NEW_EXTRA_INFO
            except ValueError:
                granted = 0
        mstatus = 0
        p = 1
        _, p = lenenc_int(answer, p)
        _, p = lenenc_int(answer, p)
        mstatus = struct.unpack_from("<H", answer, p)[0]
        ok = b"\x00\x00\x00"
        if ccaps & CLIENT_SESSION_TRACK:
            record = lenenc_str(b"ob_capability_flag") + lenenc_str(str(granted).encode())
            state = bytes([0]) + lenenc_str(record)
            version = self.global_vars_version() if is_proxy else 0
            if version:
                record = lenenc_str(b"ob_proxy_global_variables_version") + lenenc_str(str(version).encode())
                state += bytes([0]) + lenenc_str(record)
            ok += struct.pack("<HH", mstatus | SERVER_SESSION_STATE_CHANGED, 0) + lenenc_str(b"") + lenenc_str(state)
        else:
            ok += struct.pack("<HH", mstatus, 0)
        cwriter.write(packet(seq + 1, ok))
        await cwriter.drain()
        ob20 = bool(granted & OB_PROTOCOL_V2)
        if ob20:
            self.stats["ob20_sessions"] += 1
            await self.relay_ob20(creader, cwriter, sreader, swriter, sessid, ccaps, granted)
        else:
            await self.relay_plain(creader, cwriter, sreader, swriter)

    async def relay_plain(self, creader, cwriter, sreader, swriter):
        async def pump(r, w):
            while True:
                data = await r.read(65536)
                if not data:
                    break
                w.write(data)
                await w.drain()
            w.close()
        await asyncio.gather(pump(creader, swriter), pump(sreader, cwriter), return_exceptions=True)

    async def read_frame(self, reader, sessid):
        head = await reader.readexactly(31)
        comp_len = int.from_bytes(head[0:3], "little")
        plain_len = int.from_bytes(head[4:7], "little")
        magic, version, conn_id = struct.unpack_from("<HHI", head, 7)
        req_id = int.from_bytes(head[15:18], "little")
        pseq = head[18]
        payload_len, flags, _, hcrc = struct.unpack_from("<IIHH", head, 19)
        if plain_len != 0 or magic != MAGIC or version != 20 or comp_len != 24 + payload_len + 4:
            raise ValueError("unknown packet")
        if hcrc != 0 and hcrc != crc16_arc(head[:29]):
            raise ValueError("header checksum")
        body = await reader.readexactly(payload_len + 4)
        payload, tail = body[:payload_len], struct.unpack_from("<I", body, payload_len)[0]
        if tail != 0 and tail != crc32c_ob(payload):
            raise ValueError("payload checksum")
        self.last_checksums = hcrc != 0 or tail != 0
        if conn_id != sessid:
            raise ValueError("unknown connection")
        extra = []
        if flags & FLAG_EXTRA_INFO:
            n = struct.unpack_from("<I", payload, 0)[0]
            raw = payload[4:4 + n]
            if flags & FLAG_NEW_EXTRA_INFO:
                if self.old_extra_info:  # it never granted the TLV format: such bytes would be misread
                    raise ValueError("new-format extra info, not granted")
                extra = extra_records(raw)
            else:
                self.stats["old_extra_info_in"] += 1
                extra = old_extra_records(raw)
                # For tests: what came in the old format.
                print("old_extra_info " + json.dumps({"sessid": conn_id, "types": [t for t, _ in extra]}), flush=True)
            payload = payload[4 + n:]
        return req_id, pseq, flags, payload, extra

    def frame(self, sessid, req_id, pseq, flags, mysql, corrupt=None, extra=()):
        kind = corrupt if flags & FLAG_LAST_PACKET else None
        if extra:  # extra info ahead of the MySQL bytes: [(type, value)], in the format spoken
            if self.old_extra_info:
                raw = b"".join(old_extra_record(t, v) for t, v in extra)
                flags |= FLAG_EXTRA_INFO
            else:
                raw = b"".join(extra_record(t, v) for t, v in extra)
                flags |= FLAG_EXTRA_INFO | FLAG_NEW_EXTRA_INFO
            mysql = struct.pack("<I", len(raw)) + raw + mysql
        if kind == "seq":
            pseq = (pseq + 5) & 0xFF
        if kind == "request_id":
            req_id = (req_id + 1) & 0xFFFFFF
        head = ((24 + len(mysql) + 4).to_bytes(3, "little") + bytes([pseq]) + b"\0\0\0" +
                struct.pack("<HHI", MAGIC, 20, sessid) + req_id.to_bytes(3, "little") + bytes([pseq]) +
                struct.pack("<IIH", len(mysql), flags, 0))
        head += struct.pack("<H", crc16_arc(head))
        tail = crc32c_ob(mysql)
        if kind == "payload":
            tail ^= 0x1
        if kind == "header":
            head = head[:23] + bytes([head[23] ^ 0x04]) + head[24:]  # a flag bit, after the CRC was taken
        return head + mysql + struct.pack("<I", tail)

    async def relay_ob20(self, creader, cwriter, sreader, swriter, sessid, caps, granted):
        first_request = True
        sync = bool(granted & PROXY_SESSION_SYNC)
        while True:
            # One request: frames up to LAST_PACKET, their MySQL bytes sent on to MariaDB.
            try:
                request = await self.next_request(creader, sreader, sessid)
            except ValueError:
                self.stats["bad_frames"] += 1
                return
            if request is None:
                cwriter.close()  # MariaDB went away: so does this connection, as an OBServer's would
                return
            req_id, pseq, data, extra = request
            reply_extra = []
            for rtype, value in extra:
                if rtype == EXTRA_TRACE_INFO:  # a driver's trace, passed on by the proxy
                    print("trace " + json.dumps({"sessid": sessid, "in": value.decode("latin-1")}), flush=True)
            if sync:
                # Session sync: the proxy's records apply before the request runs; a marker sets
                # the application info here and reports it with the answer, as an OBServer would.
                for rtype, value in session_records(extra):
                    if rtype == SESS_APPLICATION_INFO:
                        print("sess_info " + json.dumps({"sessid": sessid, "in": value.decode("latin-1")}), flush=True)
                        await set_app_info(sreader, swriter, value)
                app = APP_INFO_MARKER.search(bytes(data))
                if app:
                    await set_app_info(sreader, swriter, app.group(1))
                    reply_extra = [(EXTRA_SESS_INFO, extra_record(SESS_APPLICATION_INFO, app.group(1)))]
            if first_request:
                # For tests: whether the proxy computes checksums (0 = "skip" in both fields).
                print("ob20 " + json.dumps({"sessid": sessid, "checksums": self.last_checksums}), flush=True)
                first_request = False
            command = data[4] if len(data) > 4 else 0
            marker = CORRUPT_MARKER.search(bytes(data))
            corrupt = marker.group(1).decode() if marker else None
            refusal = self.refusal()
            if refusal and command in (0x03, 0x17):  # COM_QUERY, COM_STMT_EXECUTE: refused, not run
                state = "08004" if refusal in (8001, 8002) else "HY000"
                err = packet(1, err_payload(refusal, state, REFUSAL_MESSAGES.get(refusal, "Refused")))
                cwriter.write(self.frame(sessid, req_id, (pseq + 1) & 0xFF, FLAG_LAST_PACKET, err))
                await cwriter.drain()
                continue
            if command in (0x03, 0x16) and SET_GLOBAL.search(bytes(data)):
                self.global_vars_version(bump=True)  # (a failed SET GLOBAL moves it on too: harmless)
            swriter.write(bytes(data))
            await swriter.drain()
            if command in (0x01, 0x18, 0x19):  # QUIT, SEND_LONG_DATA, STMT_CLOSE: no answer
                if command == 0x01:
                    return
                continue
            # COM_STMT_EXECUTE: its flags byte (after the statement id) asks for a cursor.
            cursor = command == 0x17 and len(data) > 9 and data[9] != 0
            seq, infile = await self.answer(cwriter, sreader, sessid, req_id, pseq, command, caps, corrupt,
                                            PARTITION_MISS_MARKER in data, reply_extra, cursor)
            while infile:
                # LOCAL INFILE: the file comes as the rest of this request, numbered on from our
                # last frame, and ends with an empty MySQL packet; then the final answer.
                try:
                    rid, pseq, data, _ = await self.read_request(creader, sessid, expect=(req_id, seq + 1))
                except ValueError:
                    self.stats["bad_frames"] += 1
                    return
                swriter.write(bytes(data))
                await swriter.drain()
                seq, infile = await self.answer(cwriter, sreader, sessid, req_id, pseq, 0x03, caps, None)

    async def next_request(self, creader, sreader, sessid):
        """The client's next request, or None when MariaDB closed (or spoke unasked) while the
        client was between requests: an OBServer's connections die with it, and a proxy must see
        its connection close then, not find out at its next statement."""
        request = asyncio.ensure_future(self.read_request(creader, sessid))
        gone = asyncio.ensure_future(sreader.read(1))
        done, _ = await asyncio.wait({request, gone}, return_when=asyncio.FIRST_COMPLETED)
        if gone in done:
            request.cancel()
            with contextlib.suppress(BaseException):
                await request
            return None
        gone.cancel()  # nothing was read: a read cancelled before data arrives consumes none
        with contextlib.suppress(BaseException):
            await gone
        return request.result()

    async def read_request(self, creader, sessid, expect=None):
        """Frames up to LAST_PACKET: (request id, last frame seq, MySQL bytes, first frame's extra info)."""
        req_id, pseq, flags, mysql, extra = await self.read_frame(creader, sessid)
        if expect is not None and (req_id, pseq) != (expect[0], expect[1] & 0xFF):
            raise ValueError("out of sequence")
        data = bytearray(mysql)
        while not flags & FLAG_LAST_PACKET:
            rid, seq, flags, more, _ = await self.read_frame(creader, sessid)
            if rid != req_id or seq != (pseq + 1) & 0xFF:
                raise ValueError("out of sequence")
            pseq = seq
            data += more
        return req_id, pseq, data, extra

    async def answer(self, cwriter, sreader, sessid, req_id, pseq, command, caps, corrupt, partition_miss=False,
                     extra=(), cursor_requested=False):
        """Relays MariaDB's answer in frames numbered from pseq + 1; (last seq, LOCAL INFILE asked).
        With `partition_miss`, its final OK reports ob_proxy_partition_hit = false."""
        end = ResponseEnd(command, caps, cursor_requested)
        seq = pseq
        buf = bytearray()
        infile = False
        first = True
        while True:
            mseq, p = await read_packet(sreader)
            infile = first and p[:1] == b"\xfb"
            first = False
            done = end.feed(p) or end.feed_defs_done()
            if done and partition_miss:
                p = with_system_variable(p, caps, b"ob_proxy_partition_hit", b"false")
            buf += packet(mseq, p)
            if done or len(buf) >= 32768:
                # A frame's length field has 24 bits: a packet of 16 MiB or more goes out in frames of
                # the largest payload first, as OceanBase's drivers split their large requests.
                room = MAX_FRAME_PAYLOAD - (4 + sum(80 + len(v) for _, v in extra) if done and extra else 0)
                while len(buf) > room:
                    seq = (seq + 1) & 0xFF
                    cwriter.write(self.frame(sessid, req_id, seq, 0, bytes(buf[:room])))
                    del buf[:room]
                    await cwriter.drain()
                seq = (seq + 1) & 0xFF
                cwriter.write(self.frame(sessid, req_id, seq, FLAG_LAST_PACKET if done else 0, bytes(buf), corrupt,
                                         extra if done else ()))
                await cwriter.drain()
                buf = bytearray()
            if done:
                return seq, infile

    async def serve(self):
        self.srv = await asyncio.start_server(self.handle, self.listen_host, self.listen_port)
        async with self.srv:
            await self.srv.serve_forever()


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--refuse-file", help="while it exists, statements get the OceanBase error number it holds")
    ap.add_argument("--global-version-file", help="the tenant's global-variables version, shared by the endpoints")
    ap.add_argument("--old-extra-info", action="store_true",
                    help="do not grant PROXY_NEW_EXTRA_INFO: extra info in the old ObObj key/value format both ways")
    a = ap.parse_args()
    ep = Endpoint(hostport(a.listen), hostport(a.server), a.socket, a.refuse_file, a.global_version_file,
                  a.old_extra_info)
    try:
        asyncio.run(ep.serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
