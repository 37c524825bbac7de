#!/usr/bin/python3
"""mariadb-dump of a database made directly on s1, restored through odp into another database:
CHECKSUM TABLE and routines equal."""
import os
import subprocess
import sys
import tempfile

import odplib as L

SRC = "test_dump_src"
DST = "test_dump_dst"


def make_source():
    L.query_all("direct", "DROP DATABASE IF EXISTS %s" % SRC)
    L.query_all("direct", "CREATE DATABASE %s DEFAULT CHARSET utf8mb4" % SRC)
    stmts = [
        "CREATE TABLE a (id INT PRIMARY KEY AUTO_INCREMENT, s VARCHAR(200), b BLOB, d DECIMAL(18,6), "
        "ts TIMESTAMP(6) NULL, j LONGTEXT, KEY (s)) ENGINE=InnoDB",
        "INSERT INTO a (s, b, d, ts, j) SELECT CONCAT('row ', seq, ' \u00e9\U0001F600'), UNHEX(SHA2(seq, 256)), "
        "seq / 7, FROM_UNIXTIME(1700000000 + seq), REPEAT('j', seq % 3000) FROM seq_1_to_20000",
        "CREATE TABLE b (k BIGINT UNSIGNED PRIMARY KEY, v DOUBLE, e ENUM('x','y','z'), bits BIT(12)) ENGINE=InnoDB",
        "INSERT INTO b SELECT seq * 1000003, seq / 3, ELT(1 + seq % 3, 'x', 'y', 'z'), seq % 4096 FROM seq_1_to_5000",
        "CREATE TABLE c (id INT PRIMARY KEY, big MEDIUMBLOB) ENGINE=InnoDB",
        "INSERT INTO c SELECT seq, REPEAT(UNHEX('00FF7F80'), 200000) FROM seq_1_to_5",
        "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100))",
        "CREATE TRIGGER a_ins AFTER INSERT ON a FOR EACH ROW INSERT INTO log (msg) VALUES (CONCAT('ins ', NEW.id))",
        "CREATE PROCEDURE count_a(OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM a; END",
        "CREATE VIEW v_b AS SELECT k, v FROM b WHERE e = 'x'",
    ]
    with L.connect("direct", database=SRC) as c, c.cursor() as cur:
        for s in stmts:
            cur.execute(s)


def checksums(target, db):
    return L.query_all(target, "CHECKSUM TABLE %s.a, %s.b, %s.c, %s.log" % (db, db, db, db))


def case_dump_restore():
    make_source()
    fd, path = tempfile.mkstemp(suffix=".sql")
    os.close(fd)
    try:
        with open(path, "wb") as f:
            p = subprocess.run(["mariadb-dump", "--no-defaults", "-h127.0.0.1", "-P%d" % L.DIRECT_PORT, "-uapp",
                                "-papp", "--routines", "--triggers", "--no-tablespaces", "--hex-blob",
                                "--default-character-set=utf8mb4", "--max-allowed-packet=256M", SRC],
                               stdout=f, stderr=subprocess.PIPE, timeout=300)
        L.check(p.returncode == 0, "mariadb-dump failed: %s" % p.stderr.decode())
        print("dump: %d bytes" % os.path.getsize(path))
        L.query_all("odp", "DROP DATABASE IF EXISTS %s" % DST)
        L.query_all("odp", "CREATE DATABASE %s DEFAULT CHARSET utf8mb4" % DST)
        with open(path, "rb") as f:
            r = L.mariadb_cli("odp", ["--default-character-set=utf8mb4", "--max-allowed-packet=256M", "--batch"],
                              f.read(), database=DST, timeout=600)
        L.check(r.returncode == 0, "restore through odp failed: %s" % r.stderr.decode()[-3000:])
        src = [row[1:] for row in checksums("direct", SRC)]
        L.check_eq([row[1:] for row in checksums("odp", DST)], src, "CHECKSUM TABLE (restored through odp)")
        L.check_eq([row[1:] for row in checksums("direct", DST)], src, "CHECKSUM TABLE (restored, read directly)")
        with L.connect("odp", database=DST) as c, c.cursor() as cur:
            cur.execute("CALL count_a(@n)")
            cur.execute("SELECT @n, (SELECT COUNT(*) FROM v_b)")
            got = cur.fetchall()
        want = L.query_all("direct", "SELECT COUNT(*), (SELECT COUNT(*) FROM %s.v_b) FROM %s.a" % (SRC, SRC))
        L.check_eq(got, want, "procedure and view in the restored database")
        # A dump taken through odp equals one taken directly (modulo the header/footer lines).
        def dump(port):
            p = subprocess.run(["mariadb-dump", "--no-defaults", "-h127.0.0.1", "-P%d" % port, "-uapp", "-papp",
                                "--skip-dump-date", "--no-tablespaces", "--hex-blob", "--skip-comments",
                                "--max-allowed-packet=256M", SRC], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=300)
            L.check(p.returncode == 0, "mariadb-dump on port %d failed: %s" % (port, p.stderr.decode()))
            return p.stdout
        L.check(dump(L.ODP_PORT) == dump(L.DIRECT_PORT), "a dump through odp differs from a direct dump")
    finally:
        os.unlink(path)
        L.query_all("direct", "DROP DATABASE IF EXISTS %s" % DST)
        L.query_all("direct", "DROP DATABASE IF EXISTS %s" % SRC)


if __name__ == "__main__":
    sys.exit(L.run_cases([("dump_restore", case_dump_restore)]))
