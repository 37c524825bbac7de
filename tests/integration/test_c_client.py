#!/usr/bin/python3
"""libmariadb (C) client: the same program run directly against s1 and through odp prints the same.
usage: test_c_client.py C_CLIENT_BINARY [case...]   cases: suite, suite_tls, suite_compress, blob64, blob64_compress,
  bigcmd, bigcmd_tls, bigcmd_compress, longdata, longdata_tls, longdata_compress"""
import os
import subprocess
import sys

import odplib as L

BIN = sys.argv[1]
RUN_TIMEOUT = int(os.environ.get("ODP_IT_RUN_TIMEOUT", "120"))  # one run of the C program


def run(target, mode, extra_args=(), env_extra=None, tag="c"):
    env = dict(os.environ, C_CLIENT_TAG=tag)
    env.update(env_extra or {})
    p = subprocess.Popen([BIN, L.HOST, str(L.port_of(target)), L.USER, L.PASSWORD, L.DB, mode] + list(extra_args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("the %s run (%s) hung for %ds; its output ends with:\n%s\nstderr: %s" % (
            target, mode, RUN_TIMEOUT, "\n".join(out.decode("utf-8", "replace").splitlines()[-5:]),
            err.decode("utf-8", "replace")[-1000:]))
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def compare(mode, extra_args=(), env_odp=None, tag="c"):
    d = run("direct", mode, extra_args, tag=tag)
    L.check(d.returncode == 0, "direct run failed (%d): %s\n%s" % (d.returncode, d.stderr.decode(),
                                                                   d.stdout.decode()[-2000:]))
    o = run("odp", mode, extra_args, env_odp, tag=tag)
    if o.stdout != d.stdout:
        dl = d.stdout.decode("utf-8", "replace").splitlines()
        ol = o.stdout.decode("utf-8", "replace").splitlines()
        for i, (a, b) in enumerate(zip(ol, dl)):
            if a != b:
                raise AssertionError("first difference at line %d:\n  odp:    %s\n  direct: %s\nodp stderr: %s"
                                     % (i + 1, a[:500], b[:500], o.stderr.decode()[-2000:]))
        raise AssertionError("odp printed %d lines, direct %d; odp stderr: %s\nodp tail:\n%s"
                             % (len(ol), len(dl), o.stderr.decode()[-2000:], "\n".join(ol[-5:])))
    L.check(o.returncode == 0, "odp run exit status %d: %s" % (o.returncode, o.stderr.decode()))
    return o.stdout.decode("utf-8", "replace")


def case_suite():
    out = compare("suite", tag="csuite")
    for must in ("login status 16386 schema " + L.DB, "call status 2", "load affected 20000", "duplicate: error 1062",
                 "direct insert affected 1",
                 "prepared load: affected 20000",
                 "done failures 0"):
        L.check(must in out, "output lacks %r" % must)


def case_suite_tls():
    watch = L.CounterWatch("client_tls_handshakes_total")
    compare("suite", env_odp={"C_CLIENT_SSL": "1"}, tag="ctls")
    watch.expect_increase()


def case_suite_compress():
    watch = L.CounterWatch("client_compressed_sessions_total")
    compare("suite", env_odp={"C_CLIENT_COMPRESS": "1"}, tag="ccomp")
    watch.expect_increase()


def case_blob64_compress():
    watch = L.CounterWatch("client_compressed_sessions_total")
    out = compare("blob", ["64"], env_odp={"C_CLIENT_COMPRESS": "1"}, tag="cblobz")
    L.check(out.count(" ok\n") == 4, "expected 4 matching reads:\n" + out)
    watch.expect_increase()


def case_blob64():
    up, down = L.CounterWatch("splice_to_server_bytes_total"), L.CounterWatch("splice_to_client_bytes_total")
    out = compare("blob", ["64"], tag="cblob")
    L.check(out.count(" ok\n") == 4, "expected 4 matching reads:\n" + out)
    if not L.NO_METRICS and not L.OCEANBASE:
        # Plain TCP: the blob's bulk goes by splice both ways (two 64 MiB uploads, four reads). Not
        # towards OB 2.0 servers: odp frames and checks every byte there.
        L.check(up.delta() >= 100 * 2**20, "uploads spliced: %d bytes" % up.delta())
        L.check(down.delta() >= 200 * 2**20, "reads spliced: %d bytes" % down.delta())


def bigcmd(env_odp, tag):
    # 16,777,116 bytes and 17 MiB: text INSERTs over 0xFFFFFF bytes, a prepared one just under, rows
    # over and under it read back as text and binary.
    out = compare("bigcmd", env_odp=env_odp, tag=tag)
    L.check(out.count(" ok\n") == 8, "expected 8 matching reads:\n" + out)


def case_bigcmd():
    bigcmd(None, "cbig")


def case_bigcmd_tls():
    bigcmd({"C_CLIENT_SSL": "1"}, "cbigtls")


def case_bigcmd_compress():
    watch = L.CounterWatch("client_compressed_sessions_total")
    bigcmd({"C_CLIENT_COMPRESS": "1"}, "cbigz")
    watch.expect_increase()


# mysql_stmt_send_long_data on the leading, trailing, a middle and every parameter; COM_STMT_RESET.
def case_longdata():
    compare("longdata", tag="cld")


def case_longdata_tls():
    compare("longdata", env_odp={"C_CLIENT_SSL": "1"}, tag="cldtls")


def case_longdata_compress():
    compare("longdata", env_odp={"C_CLIENT_COMPRESS": "1"}, tag="cldz")


CASES = [("suite", case_suite), ("suite_tls", case_suite_tls), ("suite_compress", case_suite_compress),
         ("blob64", case_blob64), ("blob64_compress", case_blob64_compress), ("bigcmd", case_bigcmd),
         ("bigcmd_tls", case_bigcmd_tls), ("bigcmd_compress", case_bigcmd_compress), ("longdata", case_longdata),
         ("longdata_tls", case_longdata_tls), ("longdata_compress", case_longdata_compress)]

if __name__ == "__main__":
    sys.exit(L.run_cases(CASES, sys.argv[2:]))
