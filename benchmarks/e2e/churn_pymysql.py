#!/usr/bin/python3
"""Connection churn with PyMySQL (Debian's python3-pymysql), the client issue 12 was measured with:
connect (autocommit off, PyMySQL's default, so every login also sends `SET AUTOCOMMIT = 0`),
`SELECT 1`, close, --count times one after the other. Prints the line churn.py parses (the same
keys as build/odp_churn_client): cycles, errors, first_error, wall_s, cycles_per_s, median_us,
p95_us, p99_us, mean_us, max_us and the phases' medians (login_median_us: connect up to PyMySQL's
autocommit SET answered; query_median_us; close_median_us).

    churn_pymysql.py --port P [--host H] [--user U] [--password P] [--db D] [--count N]
"""

import argparse
import statistics
import time

import pymysql


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    return sorted_values[int(p * (len(sorted_values) - 1) + 0.5)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="app")
    ap.add_argument("--db", default="test")
    ap.add_argument("--count", type=int, default=1000)
    a = ap.parse_args()
    cycles, phases, errors, first_error = [], ([], [], []), 0, ""
    t_start = time.perf_counter()
    for _ in range(a.count):
        t0 = time.perf_counter()
        try:
            conn = pymysql.connect(host=a.host, port=a.port, user=a.user, password=a.password, database=a.db,
                                   connect_timeout=10, read_timeout=10)
            t1 = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                ok = cur.fetchall() == ((1,),)
            t2 = time.perf_counter()
            conn.close()
            t3 = time.perf_counter()
        except pymysql.MySQLError as e:
            errors += 1
            first_error = first_error or ("%s" % (e,)).replace('"', "'")
            continue
        if not ok:
            errors += 1
            first_error = first_error or "SELECT 1 result"
            continue
        cycles.append((t3 - t0) * 1e6)
        for i, (x, y) in enumerate(((t0, t1), (t1, t2), (t2, t3))):
            phases[i].append((y - x) * 1e6)
    wall = time.perf_counter() - t_start
    cycles.sort()
    med = lambda v: statistics.median(v) if v else 0.0  # noqa: E731
    print('cycles=%d errors=%d wall_s=%.3f cycles_per_s=%.1f median_us=%.1f p95_us=%.1f p99_us=%.1f mean_us=%.1f '
          'max_us=%.1f login_median_us=%.1f query_median_us=%.1f close_median_us=%.1f tls=0 parallel=1 '
          'first_error="%s"' % (len(cycles), errors, wall, len(cycles) / wall if wall > 0 else 0.0,
                                percentile(cycles, 0.5), percentile(cycles, 0.95), percentile(cycles, 0.99),
                                statistics.mean(cycles) if cycles else 0.0, cycles[-1] if cycles else 0.0,
                                med(phases[0]), med(phases[1]), med(phases[2]), first_error[:200]))


if __name__ == "__main__":
    main()
