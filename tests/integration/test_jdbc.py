#!/usr/bin/python3
"""MariaDB Connector/J (Debian's libmariadb-java, 2.7.x) directly against s1 and through odp.

usage: test_jdbc.py MODE [CASE,...]     MODE: text, prepared, compress, tls
       test_jdbc.py bench [ROWS]        JDBC batch insert timings, direct vs odp (for scripts/bench)

The Java program (tests/integration/jdbc/*.java) runs every case on both targets and compares what
the application observes; this script compiles it with javac (cached under $ODP_BUILD_DIR by a hash
of the sources), points it at the sandbox and fails when it reports a difference. A missing JDK or
driver jar is a failure, never a skip. Environment: see odplib.py; ODP_JDBC_JAR overrides the jar,
ODP_JDBC_VERBOSE=1 prints every observation, ODP_IT_RUN_TIMEOUT bounds one run (seconds).

In the sandbox's oceanbase flavour (ODP_SANDBOX_OCEANBASE=1) the reference is what stands for an
OBServer: the endpoint in front of s1 (ODP_SANDBOX_PORT_BASE + 51), not MariaDB, whose extended
capabilities (bulk executes...) an OBServer does not offer and odp in oceanbase mode does not
either. Only text and prepared then: the endpoint speaks neither TLS nor compression (odp does, its
own). The greeting is not compared there: odp's adds its TLS and compression to the server's
(test_oceanbase.py checks what it says in oceanbase mode).
"""
import fcntl
import hashlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import odplib as L

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.path.join(HERE, "jdbc")
JAR = os.environ.get("ODP_JDBC_JAR", "/usr/share/java/mariadb-java-client.jar")
MODES = ("text", "prepared", "compress", "tls")
RUN_TIMEOUT = int(os.environ.get("ODP_IT_RUN_TIMEOUT", "220"))


def fail(msg):
    print("test_jdbc: " + msg, flush=True)
    sys.exit(1)


def tools():
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java:
        fail("javac/java not found: install default-jdk-headless (scripts/setup)")
    if not os.path.isfile(JAR):
        fail("%s missing: install libmariadb-java (scripts/setup)" % JAR)
    return javac, java


def compile_classes(javac):
    """Compiles the Java sources once per content; concurrent ctest runs share the result."""
    sources = sorted(glob.glob(os.path.join(SRC_DIR, "*.java")))
    if not sources:
        fail("no Java sources in " + SRC_DIR)
    h = hashlib.sha256()
    for p in sources + [os.path.realpath(JAR)]:
        h.update(p.encode())
        with open(p, "rb") as f:
            h.update(f.read())
    h.update(subprocess.run([javac, "-version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout)
    base = os.path.join(L.BUILD_DIR, "jdbc-classes")
    os.makedirs(base, exist_ok=True)
    out = os.path.join(base, h.hexdigest()[:16])
    with open(os.path.join(base, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(os.path.join(out, ".ok")):
            tmp = tempfile.mkdtemp(prefix="tmp-", dir=base)
            p = subprocess.run([javac, "-encoding", "UTF-8", "-d", tmp, "-cp", JAR] + sources,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                fail("javac failed:\n" + p.stdout.decode("utf-8", "replace"))
            open(os.path.join(tmp, ".ok"), "w").close()
            shutil.rmtree(out, ignore_errors=True)
            os.rename(tmp, out)
    return out


def java_cmd(java, classes, args):
    # UTC: java.sql.Date/Timestamp conversions must not depend on the machine's zone.
    return [java, "-Duser.timezone=UTC", "-Dfile.encoding=UTF-8", "-Xmx1536m", "-cp",
            classes + os.pathsep + JAR, "OdpJdbc"] + args


def run(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        sys.stdout.write(out.decode("utf-8", "replace"))
        fail("the JDBC program did not finish within %d s" % RUN_TIMEOUT)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.flush()
    return p.returncode


def oceanbase_reference(java, classes, mode, cases):
    """The oceanbase flavour's reference port and cases (see the module's text)."""
    if mode not in ("text", "prepared"):
        fail("mode %s: the oceanbase flavour's endpoint speaks neither TLS nor compression" % mode)
    port = L.DIRECT_PORT if "ODP_DIRECT_PORT" in os.environ else L.PORT_BASE + 51
    if not cases:
        listed = subprocess.run(java_cmd(java, classes, ["list"]), stdout=subprocess.PIPE, check=True)
        names = []
        for line in listed.stdout.decode().splitlines():
            parts = line.split(None, 1)  # "name" or "name [mode, ...]": a case for those modes only
            if parts and parts[0] != "handshake" and (len(parts) == 1 or mode in parts[1]):
                names.append(parts[0])
        cases = ",".join(names)
        print("test_jdbc: oceanbase flavour: the reference is the endpoint on %d; case handshake not compared"
              % port, flush=True)
    return port, cases


def compare(mode, cases):
    javac, java = tools()
    classes = compile_classes(javac)
    direct_port = L.DIRECT_PORT
    if L.OCEANBASE:
        direct_port, cases = oceanbase_reference(java, classes, mode, cases)
    tmp = tempfile.mkdtemp(prefix="odp-jdbc-")
    args = ["compare", "--mode", mode,
            "--direct", "%s:%d" % (L.HOST, direct_port), "--odp", "%s:%d" % (L.HOST, L.ODP_PORT),
            "--servers", ",".join(str(p) for p in L.SERVER_PORTS),
            "--ca", os.path.join(L.SANDBOX_DIR, "tls", "ca.pem"),
            "--odp-log", os.path.join(L.SANDBOX_DIR, "log", "odp.log"), "--tmp", tmp]
    if cases:
        args += ["--case", cases]
    if os.environ.get("ODP_JDBC_VERBOSE") == "1":
        args.append("--verbose")
    # The TLS and compressed runs must really be TLS and compressed on the client side of odp.
    watch = {"tls": "client_tls_handshakes_total",
             "compress": "client_compressed_sessions_total"}.get(mode)
    w = L.CounterWatch(watch) if watch else None
    try:
        rc = run(java_cmd(java, classes, args))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if rc == 1:
        fail("the JDBC program saw differences between direct and odp: see above")
    if rc != 0:
        fail("the JDBC program could not run its cases as intended (exit status %d): see above" % rc)
    if w:
        w.expect_increase()
    print("test_jdbc: %s: no difference between direct and odp" % mode)


def bench(rows):
    javac, java = tools()
    classes = compile_classes(javac)
    rc = run(java_cmd(java, classes, ["bench", "--direct", "%s:%d" % (L.HOST, L.DIRECT_PORT),
                                      "--odp", "%s:%d" % (L.HOST, L.ODP_PORT), "--rows", str(rows)]))
    sys.exit(rc)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in MODES + ("bench",):
        print(__doc__)
        return 2
    if sys.argv[1] == "bench":
        bench(int(sys.argv[2]) if len(sys.argv) > 2 else 100000)
        return 0
    compare(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
