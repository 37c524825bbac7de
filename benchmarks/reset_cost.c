/* What a pooled connection's hand-over between clients costs on the server (issue 13): odp sends
 * COM_RESET_CONNECTION to a connection that held state no replay can undo before another client
 * uses it. This measures that round trip against the server directly, next to COM_PING (the bare
 * round trip) and COM_CHANGE_USER (the older, heavier way to clean a connection), each on one
 * connection, one after the other. Run by benchmarks/e2e/reset.py; not part of the tests.
 *
 *   odp_reset_cost --port P [--host H] [--user U] [--password P] [--db D] [--count N]
 *
 * Prints one line per operation: op=NAME count=N median_us=.. p95_us=.. mean_us=.. errors=..
 * Operations: ping; reset (COM_RESET_CONNECTION on a clean connection); dirty_reset (a user
 * variable, a session variable and a temporary table set up first, not timed, then the reset);
 * change_user (mysql_change_user to the same account). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct options {
  const char* host;
  unsigned port;
  const char* user;
  const char* password;
  const char* db;
  long count;
};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static int dirty(MYSQL* c) {
  return mysql_query(c, "SET @odp_reset_cost = REPEAT('x', 100), SESSION sql_mode = 'ANSI_QUOTES'") ||
         mysql_query(c, "CREATE TEMPORARY TABLE IF NOT EXISTS odp_reset_cost_tmp (a INT)");
}

/* One timed operation; 0 when it went through (dirty_reset sets its state up first, untimed). */
static int run_op(const char* op, MYSQL* c, const struct options* o, double* us) {
  if (strcmp(op, "dirty_reset") == 0 && dirty(c) != 0) return 1;
  double t = now_us();
  int rc;
  if (strcmp(op, "ping") == 0) {
    rc = mysql_ping(c);
  } else if (strcmp(op, "change_user") == 0) {
    rc = mysql_change_user(c, o->user, o->password, o->db) ? 1 : 0;
  } else {
    rc = mysql_reset_connection(c);
  }
  *us = now_us() - t;
  return rc;
}

static void measure(const char* op, MYSQL* c, const struct options* o) {
  double* lat = calloc((size_t)o->count, sizeof *lat);
  long n = 0, errors = 0;
  if (lat == NULL) return;
  for (long i = 0; i < o->count; ++i) {
    double us;
    if (run_op(op, c, o, &us) != 0) {
      if (errors++ == 0) fprintf(stderr, "%s: %u %s\n", op, mysql_errno(c), mysql_error(c));
      continue;
    }
    lat[n++] = us;
  }
  qsort(lat, (size_t)n, sizeof *lat, cmp_double);
  double sum = 0;
  for (long i = 0; i < n; ++i) sum += lat[i];
  printf("op=%s count=%ld median_us=%.1f p95_us=%.1f mean_us=%.1f errors=%ld\n", op, n,
         n ? lat[n / 2] : 0.0, n ? lat[(n * 95) / 100] : 0.0, n ? sum / (double)n : 0.0, errors);
  free(lat);
}

int main(int argc, char** argv) {
  struct options o = {"127.0.0.1", 0, "app", "app", "test", 2000};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--host") == 0) o.host = argv[i + 1];
    else if (strcmp(argv[i], "--port") == 0) o.port = (unsigned)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--user") == 0) o.user = argv[i + 1];
    else if (strcmp(argv[i], "--password") == 0) o.password = argv[i + 1];
    else if (strcmp(argv[i], "--db") == 0) o.db = argv[i + 1];
    else if (strcmp(argv[i], "--count") == 0) o.count = atol(argv[i + 1]);
    else {
      fprintf(stderr, "reset_cost: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (o.port == 0 || o.count <= 0) {
    fprintf(stderr, "usage: odp_reset_cost --port P [--count N] ...\n");
    return 2;
  }
  MYSQL* c = mysql_init(NULL);
  unsigned ssl_off = 0;
  mysql_optionsv(c, MYSQL_OPT_SSL_ENFORCE, &ssl_off);
  if (mysql_real_connect(c, o.host, o.user, o.password, o.db, o.port, NULL, 0) == NULL) {
    fprintf(stderr, "reset_cost: connect: %s\n", mysql_error(c));
    return 1;
  }
  const char* ops[] = {"ping", "reset", "dirty_reset", "change_user"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) measure(ops[i], c, &o);
  mysql_close(c);
  return 0;
}
