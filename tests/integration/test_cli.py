#!/usr/bin/python3
"""The mariadb CLI in batch mode through odp gives the same output as directly to s1:
plain (no TLS), with --compress, with --ssl (certificate not verified)."""
import sys

import odplib as L

MODES = {
    "batch": ["--skip-ssl"],
    "compress": ["--skip-ssl", "--compress"],
    "ssl": ["--ssl", "--skip-ssl-verify-server-cert"],
}


def script(t):
    return f"""
DROP TABLE IF EXISTS {t};
CREATE TABLE {t} (id INT PRIMARY KEY, i BIGINT, d DOUBLE, m DECIMAL(20,6), s VARCHAR(100),
  b BLOB, dt DATE, ts DATETIME(6), n INT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO {t} VALUES (1, -9223372036854775808, 1.5e300, '12345678901234.123456', 'hello', x'00ff10', '2024-02-29', '2024-02-29 23:59:59.123456', NULL),
  (2, 9223372036854775807, -0.0, '-0.000001', 'tab\\there', '', '1000-01-01', '9999-12-31 23:59:59.999999', 7),
  (3, 0, 3.141592653589793, '0', 'unicode \u00e9\u4e2d\U0001F600', NULL, NULL, NULL, NULL);
SELECT * FROM {t} ORDER BY id;
SELECT id, HEX(b), LENGTH(s), CHAR_LENGTH(s) FROM {t} ORDER BY id;
UPDATE {t} SET n = n + 1 WHERE id = 2;
SELECT ROW_COUNT();
SELECT COUNT(*), SUM(i), MAX(ts) FROM {t};
SELECT 1/0;
SHOW WARNINGS;
INSERT INTO {t} (id, s) VALUES (4, REPEAT('y', 200));
SHOW WARNINGS;
SELECT id, LENGTH(s) FROM {t} WHERE id = 4;
SELECT seq, REPEAT(CHAR(65 + seq % 26), seq) FROM seq_1_to_300;
SELECT @@session.autocommit, DATABASE(), CURRENT_USER() LIKE 'app@%';
SET @v := 'user variable';
SELECT @v;
BEGIN;
INSERT INTO {t} (id) VALUES (10);
ROLLBACK;
SELECT COUNT(*) FROM {t} WHERE id = 10;
DROP TABLE {t};
""".encode()


def run_mode(mode):
    args = MODES[mode]
    t = "cli_" + mode
    # --force: keep going after the expected truncation error, like a batch job would.
    common = args + ["--default-character-set=utf8mb4", "--batch", "--force", "--column-names", "--max-allowed-packet=64M"]
    d = L.mariadb_cli("direct", common, script(t))
    o = L.mariadb_cli("odp", common, script(t))
    L.check(d.returncode == o.returncode,
            "exit status: odp %d, direct %d\nodp stderr: %s" % (o.returncode, d.returncode, o.stderr.decode()))
    L.check_eq(o.stdout, d.stdout, "stdout of the mariadb CLI")
    L.check_eq(o.stderr, d.stderr, "stderr of the mariadb CLI")
    L.check(b"hello" in o.stdout and b"\xf0\x9f\x98\x80" in o.stdout, "output misses expected rows")
    # The CLI's own status says whether the session is compressed / encrypted.
    st = L.mariadb_cli("odp", args + ["-e", "status"])
    L.check(st.returncode == 0, "status failed: %s" % st.stderr.decode())
    text = st.stdout.decode()
    if mode == "compress":
        L.check("Compressed" in text, "odp session is not compressed:\n" + text)
    if mode == "ssl":
        L.check("Cipher in use" in text, "odp session is not encrypted:\n" + text)
    if mode == "batch":
        L.check("Cipher in use" not in text, "--skip-ssl session reports TLS:\n" + text)


def admin_commands(mode):
    # root@proxysys has no server behind it: odp writes the result sets itself, and libmariadb (which
    # agrees to MariaDB's extended type info) must be able to read them.
    for sql, want in (("show proxystat like 'pool_reuses%'", b"pool_reuses_total"),
                      ("show proxyconfig like 'routing.failover%'", b"routing.failover_wait_ms"),
                      ("show proxycongestion", b"")):
        o = L.mariadb_cli("odp", MODES[mode] + ["--batch", "-e", sql], user="root@proxysys", password="",
                          database=None)
        L.check(o.returncode == 0, "%s through the mariadb CLI (%s): %s" % (sql, mode, o.stderr.decode()))
        L.check(want in o.stdout, "%s answered %r" % (sql, o.stdout[:300]))


def counter_for(mode):
    return {"compress": "client_compressed_sessions_total", "ssl": "client_tls_handshakes_total"}.get(mode)


def make_case(mode):
    def case():
        name = counter_for(mode)
        watch = L.CounterWatch(name) if name else None
        run_mode(mode)
        admin_commands(mode)
        if watch:
            watch.expect_increase()
    return case


if __name__ == "__main__":
    sys.exit(L.run_cases([(m, make_case(m)) for m in MODES]))
