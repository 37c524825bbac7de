/* Connection churn (issue 12): connect, log in, SELECT 1, close, as fast as one client can, and
 * the latency of each such cycle. Run by benchmarks/e2e/bench.py against the server directly,
 * odp and HAProxy in turn; not part of the tests.
 *
 *   odp_churn_client --port P [--host H] [--user U] [--password P] [--db D]
 *                    [--count N] [--parallel T] [--tls [--ca FILE]]
 *
 * --count cycles in all, spread over --parallel threads (each runs its share one after the
 * other). --tls asks for TLS (libmariadb's MYSQL_OPT_SSL_ENFORCE: the login fails rather than
 * fall back to plain text; the certificate is not verified, as in the sandbox it is self-signed;
 * --ca names the CA file libmariadb loads instead of the system's whole trust store).
 * Prints one line of key=value pairs: cycles, errors, the first error, wall seconds, cycles per
 * second and the cycle latency (median, p95, p99, mean, max) in microseconds. A cycle ends after
 * mysql_close() returns (COM_QUIT sent, socket closed). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <mysql.h>
#include <pthread.h>
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
  int parallel;
  int tls;
  const char* ca;
};

struct worker {
  const struct options* opt;
  long cycles;
  double* latency_us; /* cycles entries */
  double* phase_us[3]; /* per cycle: log in (init + connect), SELECT 1 (query + result), close */
  long errors;
  char first_error[256];
};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void note_error(struct worker* w, const char* what, MYSQL* conn) {
  if (w->errors++ == 0) {
    snprintf(w->first_error, sizeof w->first_error, "%s: %u %s", what, conn ? mysql_errno(conn) : 0,
             conn ? mysql_error(conn) : "out of memory");
    /* The line bench.py parses quotes the message: keep it one line without double quotes. */
    for (char* c = w->first_error; *c != '\0'; ++c) {
      if (*c == '"' || *c == '\n') *c = '\'';
    }
  }
}

/* One cycle; 0 when it went through. phase[] gets the three phases' microseconds. */
static int cycle(struct worker* w, double phase[3]) {
  const struct options* o = w->opt;
  double t0 = now_us();
  MYSQL* conn = mysql_init(NULL);
  if (conn == NULL) {
    note_error(w, "mysql_init", NULL);
    return -1;
  }
  unsigned timeout_s = 10;
  mysql_optionsv(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
  mysql_optionsv(conn, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
  if (o->tls) {
    my_bool yes = 1, no = 0;
    mysql_optionsv(conn, MYSQL_OPT_SSL_ENFORCE, &yes);
    mysql_optionsv(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
    /* Without a CA libmariadb has OpenSSL load the system's trust store for every connection
     * (about 20 ms of client CPU here), which would hide what the paths under test cost. */
    if (o->ca != NULL) mysql_optionsv(conn, MYSQL_OPT_SSL_CA, o->ca);
  }
  int rc = -1;
  MYSQL* connected = mysql_real_connect(conn, o->host, o->user, o->password, o->db, o->port, NULL, 0);
  double t1 = now_us();
  if (connected == NULL) {
    note_error(w, "connect", conn);
  } else if (o->tls && mysql_get_ssl_cipher(conn) == NULL) {
    note_error(w, "connected without TLS", conn);
  } else if (mysql_query(conn, "SELECT 1") != 0) {
    note_error(w, "SELECT 1", conn);
  } else {
    MYSQL_RES* res = mysql_store_result(conn);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (row == NULL || row[0] == NULL || strcmp(row[0], "1") != 0) {
      note_error(w, "SELECT 1 result", conn);
    } else {
      rc = 0;
    }
    if (res) mysql_free_result(res);
  }
  double t2 = now_us();
  mysql_close(conn);
  double t3 = now_us();
  phase[0] = t1 - t0;
  phase[1] = t2 - t1;
  phase[2] = t3 - t2;
  return rc;
}

static void* run_worker(void* arg) {
  struct worker* w = arg;
  mysql_thread_init();
  for (long i = 0; i < w->cycles; ++i) {
    double t0 = now_us();
    double phase[3] = {0, 0, 0};
    int rc = cycle(w, phase);
    w->latency_us[i] = rc == 0 ? now_us() - t0 : -1.0;
    for (int p = 0; p < 3; ++p) w->phase_us[p][i] = rc == 0 ? phase[p] : -1.0;
  }
  mysql_thread_end();
  return NULL;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double percentile(const double* sorted, long n, double p) {
  if (n == 0) return 0.0;
  long i = (long)(p * (double)(n - 1) + 0.5);
  return sorted[i];
}

static void usage(void) {
  fprintf(stderr,
          "usage: odp_churn_client --port P [--host H] [--user U] [--password P] [--db D] [--count N]"
          " [--parallel T] [--tls [--ca FILE]]\n");
  exit(2);
}

int main(int argc, char** argv) {
  struct options o = {"127.0.0.1", 0, "app", "app", "test", 1000, 1, 0, NULL};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--tls") == 0) {
      o.tls = 1;
      continue;
    }
    if (v == NULL) usage();
    ++i;
    if (strcmp(a, "--host") == 0) {
      o.host = v;
    } else if (strcmp(a, "--port") == 0) {
      o.port = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(a, "--user") == 0) {
      o.user = v;
    } else if (strcmp(a, "--password") == 0) {
      o.password = v;
    } else if (strcmp(a, "--db") == 0) {
      o.db = v;
    } else if (strcmp(a, "--count") == 0) {
      o.count = strtol(v, NULL, 10);
    } else if (strcmp(a, "--ca") == 0) {
      o.ca = v;
    } else if (strcmp(a, "--parallel") == 0) {
      o.parallel = atoi(v);
    } else {
      usage();
    }
  }
  if (o.port == 0 || o.count <= 0 || o.parallel <= 0 || o.parallel > 4096) usage();
  if (mysql_library_init(0, NULL, NULL) != 0) {
    fprintf(stderr, "mysql_library_init failed\n");
    return 1;
  }
  double* all = calloc((size_t)o.count, sizeof(double));
  double* phases[3];
  for (int p = 0; p < 3; ++p) {
    phases[p] = calloc((size_t)o.count, sizeof(double));
    if (phases[p] == NULL) return 1;
  }
  struct worker* workers = calloc((size_t)o.parallel, sizeof(struct worker));
  pthread_t* threads = calloc((size_t)o.parallel, sizeof(pthread_t));
  if (all == NULL || workers == NULL || threads == NULL) return 1;
  long given = 0;
  for (int t = 0; t < o.parallel; ++t) {
    workers[t].opt = &o;
    workers[t].cycles = o.count / o.parallel + (t < o.count % o.parallel ? 1 : 0);
    workers[t].latency_us = all + given;
    for (int p = 0; p < 3; ++p) workers[t].phase_us[p] = phases[p] + given;
    given += workers[t].cycles;
  }
  double t0 = now_us();
  for (int t = 0; t < o.parallel; ++t) {
    int e = pthread_create(&threads[t], NULL, run_worker, &workers[t]);
    if (e != 0) {
      fprintf(stderr, "pthread_create: %s\n", strerror(e));
      return 1;
    }
  }
  for (int t = 0; t < o.parallel; ++t) pthread_join(threads[t], NULL);
  double wall_s = (now_us() - t0) / 1e6;

  long errors = 0, ok = 0;
  const char* first_error = "";
  for (int t = 0; t < o.parallel; ++t) {
    errors += workers[t].errors;
    if (*first_error == '\0' && workers[t].errors > 0) first_error = workers[t].first_error;
  }
  /* Successful cycles' latencies (and their phases'), sorted. */
  double phase_median[3];
  for (int p = 0; p < 3; ++p) {
    long n = 0;
    for (long i = 0; i < o.count; ++i) {
      if (all[i] >= 0) phases[p][n++] = phases[p][i];
    }
    qsort(phases[p], (size_t)n, sizeof(double), by_value);
    phase_median[p] = percentile(phases[p], n, 0.50);
    free(phases[p]);
  }
  for (long i = 0; i < o.count; ++i) {
    if (all[i] >= 0) all[ok++] = all[i];
  }
  qsort(all, (size_t)ok, sizeof(double), by_value);
  double sum = 0;
  for (long i = 0; i < ok; ++i) sum += all[i];
  printf(
      "cycles=%ld errors=%ld wall_s=%.3f cycles_per_s=%.1f median_us=%.1f p95_us=%.1f p99_us=%.1f "
      "mean_us=%.1f max_us=%.1f login_median_us=%.1f query_median_us=%.1f close_median_us=%.1f tls=%d parallel=%d "
      "first_error=\"%s\"\n",
      ok, errors, wall_s, wall_s > 0 ? (double)ok / wall_s : 0.0, percentile(all, ok, 0.50), percentile(all, ok, 0.95),
      percentile(all, ok, 0.99), ok ? sum / (double)ok : 0.0, ok ? all[ok - 1] : 0.0, phase_median[0], phase_median[1],
      phase_median[2], o.tls, o.parallel, first_error);
  mysql_library_end();
  free(threads);
  free(workers);
  free(all);
  return errors == 0 ? 0 : 1;
}
