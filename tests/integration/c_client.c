/* libmariadb client for odp's integration tests. Prints what it sees in a canonical form so the
 * output through odp can be diffed with the output of the same run against the server directly.
 *
 *   c_client HOST PORT USER PASSWORD DB suite    text + binary protocol, multi-statements,
 *                                                a procedure's result sets, LOAD DATA LOCAL
 *   c_client HOST PORT USER PASSWORD DB blob MiB LONGBLOB round trip with prepared statements
 *                                                (one bound parameter, and send_long_data)
 *   c_client HOST PORT USER PASSWORD DB script --text|--prepared
 *                                                interactive: one command a line on stdin, each
 *                                                answer ends with a line ".done" (see script_main)
 *   c_client HOST PORT USER PASSWORD DB bigcmd   commands and rows of 16 MiB and more (a
 *                                                16,777,116-byte and a 17 MiB blob): text and
 *                                                prepared INSERTs, text and binary SELECTs
 *   c_client HOST PORT USER PASSWORD DB longdata mysql_stmt_send_long_data on the leading, the
 *                                                trailing and every parameter; COM_STMT_RESET
 *                                                clearing it
 * Table names carry a tag (env C_CLIENT_TAG, default "c") so concurrent runs do not collide.
 */
#define _GNU_SOURCE 1 /* getline, strtok_r, strdup under -std=c11 */
#include <mysql.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static MYSQL* conn;
static char** args; /* HOST PORT USER PASSWORD DB from argv */
static void connect_db(void);
static const char* tag = "c";
static int failures;

static void die(const char* what) {
  fprintf(stderr, "FATAL %s: %u %s\n", what, mysql_errno(conn), mysql_error(conn));
  printf("FATAL %s: %u\n", what, mysql_errno(conn));
  exit(2);
}

static void stmt_die(MYSQL_STMT* st, const char* what) {
  fprintf(stderr, "FATAL %s: %u %s\n", what, mysql_stmt_errno(st), mysql_stmt_error(st));
  printf("FATAL %s: %u\n", what, mysql_stmt_errno(st));
  exit(2);
}

/* Formats SQL with the table tag substituted for every "%s". */
static char* fmt(const char* f, ...) {
  static char buf[8192];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

static void exec_sql(const char* sql) {
  if (mysql_query(conn, sql)) die(sql);
  /* drain any result */
  do {
    MYSQL_RES* r = mysql_store_result(conn);
    if (r) mysql_free_result(r);
  } while (mysql_next_result(conn) == 0);
}

static void print_value(const char* v, unsigned long len, int binary) {
  if (!v) {
    fputs("\\N", stdout);
    return;
  }
  if (binary) {
    fputs("0x", stdout);
    for (unsigned long i = 0; i < len; i++) printf("%02x", (unsigned char)v[i]);
    return;
  }
  fwrite(v, 1, len, stdout);
}

static void print_result(MYSQL_RES* r) {
  unsigned n = mysql_num_fields(r);
  MYSQL_FIELD* f = mysql_fetch_fields(r);
  printf("columns %u:", n);
  for (unsigned i = 0; i < n; i++)
    printf(" %s(type=%d,len=%lu,dec=%u,charset=%u,flags=0x%x)", f[i].name, (int)f[i].type, f[i].length, f[i].decimals,
           f[i].charsetnr, f[i].flags & ~(unsigned)PART_KEY_FLAG);
  printf("\n");
  MYSQL_ROW row;
  unsigned long rows = 0;
  while ((row = mysql_fetch_row(r))) {
    unsigned long* lens = mysql_fetch_lengths(r);
    printf("  row:");
    for (unsigned i = 0; i < n; i++) {
      putchar(' ');
      print_value(row[i], lens[i],
                  f[i].charsetnr == 63 && f[i].type >= MYSQL_TYPE_TINY_BLOB && f[i].type <= MYSQL_TYPE_BLOB);
    }
    printf("\n");
    rows++;
  }
  printf("rows %lu\n", rows);
}

/* Runs SQL (possibly several statements) and prints every result set or OK. */
static void query_print(const char* sql) {
  printf("query: %s\n", sql);
  if (mysql_query(conn, sql)) {
    printf("error %u %s\n", mysql_errno(conn), mysql_sqlstate(conn));
    return;
  }
  int set = 0;
  int status;
  do {
    MYSQL_RES* r = mysql_store_result(conn);
    printf("result %d: ", set++);
    if (r) {
      print_result(r);
      mysql_free_result(r);
    } else if (mysql_field_count(conn) == 0) {
      printf("ok affected=%llu warnings=%u info=%s\n", (unsigned long long)mysql_affected_rows(conn),
             mysql_warning_count(conn), mysql_info(conn) ? mysql_info(conn) : "");
    } else {
      printf("error %u\n", mysql_errno(conn));
    }
    status = mysql_next_result(conn);
    if (status > 0) printf("next_result error %u %s\n", mysql_errno(conn), mysql_sqlstate(conn));
  } while (status == 0);
}

static void suite_text(void) {
  printf("== text protocol\n");
  exec_sql(fmt("DROP TABLE IF EXISTS %s_types", tag));
  exec_sql(
      fmt("CREATE TABLE %s_types (id INT PRIMARY KEY, i INT, bi BIGINT, d DOUBLE, m DECIMAL(30,8),"
          " s VARCHAR(200), b BLOB, dt DATE, ts DATETIME(3), t TIME, n INT NULL,"
          " u BIGINT UNSIGNED, f FLOAT, e ENUM('a','b'), j TEXT) DEFAULT CHARSET=utf8mb4",
          tag));
  query_print(
      fmt("INSERT INTO %s_types VALUES"
          " (1, -2147483648, -9223372036854775807, 2.5e-300, '-12345678901234567890.12345678',"
          " 'plain', x'00010203ff', '2000-01-01', '2000-01-01 00:00:00.001', '-838:59:59', NULL,"
          " 18446744073709551615, 1.25, 'a', 'text one'),"
          " (2, 2147483647, 9223372036854775807, -1e308, '0.00000001', 'caf\xc3\xa9 \xf0\x9f\x90\xac',"
          " '', '9999-12-31', '9999-12-31 23:59:59.999', '838:59:59', 5, 0, -3.5, 'b', NULL)",
          tag));
  query_print(fmt("SELECT * FROM %s_types ORDER BY id", tag));
  query_print("SELECT 1, 'two', 3.0, NULL, X'41', CAST('2020-02-02' AS DATE), 1e10, -0.5");
  query_print("SELECT * FROM no_such_table_anywhere");
  query_print("SELECT seq, REPEAT('z', seq * 10) FROM seq_1_to_50");
  query_print(fmt("UPDATE %s_types SET n = IFNULL(n, 0) + 1", tag));
  query_print("SELECT 1/0");
  printf("warning_count %u\n", mysql_warning_count(conn));
  query_print("SHOW WARNINGS");
  query_print("DO SLEEP(0)");
  printf("ping %d\n", mysql_ping(conn));
  printf("select_db %d\n", mysql_select_db(conn, "test"));
  printf("set_charset %d %s\n", mysql_set_character_set(conn, "utf8mb4"), mysql_character_set_name(conn));
  query_print("SELECT DATABASE(), @@character_set_client, @@character_set_results");
}

static void bind_param(MYSQL_BIND* b, enum enum_field_types type, void* buf, unsigned long len, unsigned long* lenp,
                       my_bool* is_null) {
  memset(b, 0, sizeof *b);
  b->buffer_type = type;
  b->buffer = buf;
  b->buffer_length = len;
  if (lenp) {
    *lenp = len;
    b->length = lenp;
  }
  b->is_null = is_null;
}

static void suite_binary(void) {
  printf("== binary protocol (prepared statements)\n");
  MYSQL_STMT* st = mysql_stmt_init(conn);
  const char* ins = fmt("INSERT INTO %s_types (id, i, bi, d, m, s, b, dt, ts, n) VALUES (?,?,?,?,?,?,?,?,?,?)", tag);
  if (mysql_stmt_prepare(st, ins, strlen(ins))) stmt_die(st, "prepare insert");
  printf("param_count %lu\n", mysql_stmt_param_count(st));
  MYSQL_BIND p[10];
  int id = 0;
  int ival = 0;
  long long bval = 0;
  double dval = 0;
  char mval[40];
  char sval[64];
  char blob[256];
  MYSQL_TIME date, ts;
  unsigned long lens[10];
  my_bool null_yes = 1, null_no = 0;
  for (int row = 0; row < 5; row++) {
    id = 100 + row;
    ival = row * 1000 - 2147483647;
    bval = (long long)row * 1234567890123LL - 9223372036854775807LL;
    dval = row / 3.0;
    snprintf(mval, sizeof mval, "%d.%08d", row * 7 - 10, row * 1234567);
    snprintf(sval, sizeof sval, "row %d \xe2\x82\xac", row);
    for (int k = 0; k < 256; k++) blob[k] = (char)(k * (row + 1));
    memset(&date, 0, sizeof date);
    date.year = 2020 + row;
    date.month = 1 + row;
    date.day = 10 + row;
    date.time_type = MYSQL_TIMESTAMP_DATE;
    ts = date;
    ts.hour = row;
    ts.minute = 30;
    ts.second = 59;
    ts.second_part = row * 1000;
    ts.time_type = MYSQL_TIMESTAMP_DATETIME;
    bind_param(&p[0], MYSQL_TYPE_LONG, &id, 0, NULL, NULL);
    bind_param(&p[1], MYSQL_TYPE_LONG, &ival, 0, NULL, NULL);
    bind_param(&p[2], MYSQL_TYPE_LONGLONG, &bval, 0, NULL, NULL);
    bind_param(&p[3], MYSQL_TYPE_DOUBLE, &dval, 0, NULL, NULL);
    bind_param(&p[4], MYSQL_TYPE_NEWDECIMAL, mval, strlen(mval), &lens[4], NULL);
    bind_param(&p[5], MYSQL_TYPE_STRING, sval, strlen(sval), &lens[5], NULL);
    bind_param(&p[6], MYSQL_TYPE_BLOB, blob, (unsigned long)(row * 50), &lens[6], NULL);
    bind_param(&p[7], MYSQL_TYPE_DATE, &date, sizeof date, NULL, NULL);
    bind_param(&p[8], MYSQL_TYPE_DATETIME, &ts, sizeof ts, NULL, NULL);
    bind_param(&p[9], MYSQL_TYPE_LONG, &ival, 0, NULL, (row % 2) ? &null_yes : &null_no);
    if (mysql_stmt_bind_param(st, p)) stmt_die(st, "bind insert");
    if (mysql_stmt_execute(st)) stmt_die(st, "execute insert");
    printf("insert row %d affected %llu\n", row, (unsigned long long)mysql_stmt_affected_rows(st));
  }
  /* a duplicate key through the binary protocol */
  if (mysql_stmt_execute(st)) printf("duplicate: error %u %s\n", mysql_stmt_errno(st), mysql_stmt_sqlstate(st));
  mysql_stmt_close(st);

  /* read back through the binary protocol; every column bound as a string (converted by the client
   * from the binary row format) plus typed binds for a few. */
  st = mysql_stmt_init(conn);
  const char* sel =
      fmt("SELECT id, i, bi, d, m, s, b, dt, ts, n, t, u, f, e FROM %s_types WHERE id >= ? ORDER BY id", tag);
  if (mysql_stmt_prepare(st, sel, strlen(sel))) stmt_die(st, "prepare select");
  int minid = 0;
  MYSQL_BIND q;
  bind_param(&q, MYSQL_TYPE_LONG, &minid, 0, NULL, NULL);
  if (mysql_stmt_bind_param(st, &q)) stmt_die(st, "bind select param");
  for (int pass = 0; pass < 2; pass++) {
    my_bool update_max = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
    if (pass == 1) {
      unsigned long cursor = CURSOR_TYPE_READ_ONLY;
      unsigned long prefetch = 2;
      mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &cursor);
      mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch);
    }
    if (mysql_stmt_execute(st)) stmt_die(st, "execute select");
    MYSQL_RES* meta = mysql_stmt_result_metadata(st);
    unsigned n = mysql_num_fields(meta);
    MYSQL_FIELD* f = mysql_fetch_fields(meta);
    printf("stmt select pass %d columns %u:", pass, n);
    for (unsigned i = 0; i < n; i++) printf(" %s(type=%d)", f[i].name, (int)f[i].type);
    printf("\n");
    MYSQL_BIND r[14];
    char bufs[14][512];
    unsigned long rl[14];
    my_bool rn[14], re[14];
    memset(r, 0, sizeof r);
    for (unsigned i = 0; i < n; i++) {
      r[i].buffer_type = MYSQL_TYPE_STRING;
      r[i].buffer = bufs[i];
      r[i].buffer_length = sizeof bufs[i];
      r[i].length = &rl[i];
      r[i].is_null = &rn[i];
      r[i].error = &re[i];
    }
    long long typed_bi = 0;
    double typed_d = 0;
    r[2].buffer_type = MYSQL_TYPE_LONGLONG;
    r[2].buffer = &typed_bi;
    r[3].buffer_type = MYSQL_TYPE_DOUBLE;
    r[3].buffer = &typed_d;
    if (mysql_stmt_bind_result(st, r)) stmt_die(st, "bind result");
    int rc;
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
      printf("  row:");
      for (unsigned i = 0; i < n; i++) {
        putchar(' ');
        if (rn[i]) {
          fputs("\\N", stdout);
        } else if (i == 2) {
          printf("%lld", typed_bi);
        } else if (i == 3) {
          printf("%.17g", typed_d);
        } else {
          print_value(bufs[i], rl[i] < sizeof bufs[i] ? rl[i] : sizeof bufs[i], i == 6);
        }
      }
      printf("\n");
    }
    if (rc != MYSQL_NO_DATA) stmt_die(st, "fetch");
    mysql_free_result(meta);
    mysql_stmt_free_result(st);
  }
  mysql_stmt_reset(st);
  mysql_stmt_close(st);

  /* send_long_data of a blob in chunks */
  st = mysql_stmt_init(conn);
  const char* upd = fmt("UPDATE %s_types SET b = ? WHERE id = 100", tag);
  if (mysql_stmt_prepare(st, upd, strlen(upd))) stmt_die(st, "prepare update");
  MYSQL_BIND ub;
  memset(&ub, 0, sizeof ub);
  ub.buffer_type = MYSQL_TYPE_BLOB;
  if (mysql_stmt_bind_param(st, &ub)) stmt_die(st, "bind update");
  for (int k = 0; k < 3; k++) {
    char chunk[100];
    memset(chunk, 'a' + k, sizeof chunk);
    if (mysql_stmt_send_long_data(st, 0, chunk, sizeof chunk)) stmt_die(st, "send_long_data");
  }
  if (mysql_stmt_execute(st)) stmt_die(st, "execute update");
  printf("long data update affected %llu\n", (unsigned long long)mysql_stmt_affected_rows(st));
  mysql_stmt_close(st);
  query_print(fmt("SELECT id, LENGTH(b), MD5(b) FROM %s_types WHERE id = 100", tag));

  /* a statement that fails at prepare time */
  st = mysql_stmt_init(conn);
  const char* bad = "SELECT * FROM no_such_table_for_prepare WHERE x = ?";
  if (mysql_stmt_prepare(st, bad, strlen(bad)))
    printf("prepare error %u %s\n", mysql_stmt_errno(st), mysql_stmt_sqlstate(st));
  mysql_stmt_close(st);
}

static void suite_multi(void) {
  printf("== multi-statements and multiple result sets\n");
  query_print(
      fmt("SELECT 1 AS a; SELECT 'x' AS b, 'y' AS c; UPDATE %s_types SET n = 9 WHERE id = 1;"
          " SELECT id, n FROM %s_types WHERE id = 1; SELECT COUNT(*) FROM %s_types",
          tag, tag, tag));
  query_print("SELECT 'after a multi-statement'");
  query_print("SELECT 1; SELECT * FROM no_such_table_multi; SELECT 3");
  query_print("SELECT 'after a failed multi-statement'");
  printf("== stored procedure with two result sets\n");
  exec_sql(fmt("DROP PROCEDURE IF EXISTS %s_proc", tag));
  exec_sql(
      fmt("CREATE PROCEDURE %s_proc(IN lim INT)\n"
          "BEGIN\n"
          "  SELECT id, s FROM %s_types WHERE id <= lim ORDER BY id;\n"
          "  SELECT COUNT(*) AS cnt, SUM(id) AS total FROM %s_types;\n"
          "END",
          tag, tag, tag));
  query_print(fmt("CALL %s_proc(101)", tag));
  /* the same procedure through a prepared CALL */
  MYSQL_STMT* st = mysql_stmt_init(conn);
  const char* call = fmt("CALL %s_proc(?)", tag);
  if (mysql_stmt_prepare(st, call, strlen(call))) stmt_die(st, "prepare call");
  int lim = 2;
  MYSQL_BIND b;
  bind_param(&b, MYSQL_TYPE_LONG, &lim, 0, NULL, NULL);
  mysql_stmt_bind_param(st, &b);
  if (mysql_stmt_execute(st)) stmt_die(st, "execute call");
  int sets = 0;
  do {
    if (mysql_stmt_field_count(st) > 0) {
      if (mysql_stmt_store_result(st)) stmt_die(st, "store call result");
      printf("call result set %d rows %llu\n", sets, (unsigned long long)mysql_stmt_num_rows(st));
      mysql_stmt_free_result(st);
    } else {
      printf("call status %d\n", sets);
    }
    sets++;
  } while (mysql_stmt_next_result(st) == 0);
  mysql_stmt_close(st);
  exec_sql(fmt("DROP PROCEDURE %s_proc", tag));
}

/* The other commands clients send: FIELD_LIST, STATISTICS, SET_OPTION, CHANGE_USER, RESET_CONNECTION. */
static void suite_commands(void) {
  printf("== other commands\n");
  MYSQL_RES* r = mysql_list_fields(conn, fmt("%s_types", tag), "i%");
  if (r) {
    unsigned n = mysql_num_fields(r);
    MYSQL_FIELD* f = mysql_fetch_fields(r);
    printf("field_list %u:", n);
    for (unsigned i = 0; i < n; i++) printf(" %s(type=%d,len=%lu)", f[i].name, (int)f[i].type, f[i].length);
    printf("\n");
    mysql_free_result(r);
  } else {
    printf("field_list error %u\n", mysql_errno(conn));
  }
  const char* st = mysql_stat(conn);
  printf("statistics %s\n", st && strncmp(st, "Uptime:", 7) == 0 ? "ok" : "bad");

  printf("set_option off %d\n", mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF));
  if (mysql_query(conn, "SELECT 1; SELECT 2")) {
    printf("multi while off: error %u\n", mysql_errno(conn));
  } else {
    do {
      MYSQL_RES* x = mysql_store_result(conn);
      if (x) mysql_free_result(x);
    } while (mysql_next_result(conn) == 0);
    printf("multi while off: accepted\n");
  }
  printf("set_option on %d\n", mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_ON));
  query_print("SELECT 'on 1'; SELECT 'on 2'");

  exec_sql("SET @odp_uv = 42");
  exec_sql("SET SESSION sql_mode = 'ANSI_QUOTES'");
  printf("reset_connection %d\n", mysql_reset_connection(conn));
  query_print("SELECT @odp_uv IS NULL, @@session.sql_mode = @@global.sql_mode, DATABASE()");

  exec_sql("SET @odp_uv = 43");
  printf("change_user %d\n", mysql_change_user(conn, "app", "app", "test"));
  query_print("SELECT @odp_uv IS NULL, CURRENT_USER() LIKE 'app@%', DATABASE()");
  printf("change_user wrong password %d", mysql_change_user(conn, "app", "wrong", "test") ? 1 : 0);
  printf(" errno %u\n", mysql_errno(conn));
  /* after a failed CHANGE_USER the session is gone; log in again */
  mysql_close(conn);
  connect_db();
  query_print("SELECT 'reconnected'");
}

static void suite_load_data(void) {
  printf("== LOAD DATA LOCAL INFILE\n");
  char path[256];
  snprintf(path, sizeof path, "%s/odp_c_client_%s_%d.tsv", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", tag,
           (int)getpid());
  FILE* f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(2);
  }
  for (int i = 0; i < 20000; i++) fprintf(f, "%d\tname %d\t%d.%02d\n", i, i * 7, i, i % 100);
  fclose(f);
  exec_sql(fmt("DROP TABLE IF EXISTS %s_load", tag));
  exec_sql(fmt("CREATE TABLE %s_load (id INT PRIMARY KEY, name VARCHAR(40), v DECIMAL(12,2))", tag));
  char sql[512];
  snprintf(sql, sizeof sql, "LOAD DATA LOCAL INFILE '%s' INTO TABLE %s_load", path, tag);
  if (mysql_query(conn, sql)) {
    printf("load error %u %s\n", mysql_errno(conn), mysql_sqlstate(conn));
  } else {
    printf("load affected %llu info %s\n", (unsigned long long)mysql_affected_rows(conn), mysql_info(conn));
  }
  query_print(fmt("SELECT COUNT(*), SUM(id), SUM(v), MD5(GROUP_CONCAT(name ORDER BY id)) FROM %s_load", tag));
  /* a missing local file: the client answers the server's request with an empty packet */
  snprintf(sql, sizeof sql, "LOAD DATA LOCAL INFILE '%s.missing' INTO TABLE %s_load", path, tag);
  if (mysql_query(conn, sql))
    printf("missing file: error %u\n", mysql_errno(conn));
  else
    printf("missing file: no error\n");
  query_print("SELECT 'still usable'");
  /* Prepared: the execute's answer asks for the file (MariaDB runs LOAD DATA as a statement). */
  exec_sql(fmt("TRUNCATE TABLE %s_load", tag));
  for (int missing = 1; missing >= 0; missing--) {
    MYSQL_STMT* st = mysql_stmt_init(conn);
    snprintf(sql, sizeof sql, "LOAD DATA LOCAL INFILE '%s%s' INTO TABLE %s_load", path, missing ? ".missing" : "", tag);
    if (mysql_stmt_prepare(st, sql, strlen(sql))) {
      printf("prepared load: prepare error %u\n", mysql_stmt_errno(st));
    } else if (mysql_stmt_execute(st)) {
      printf("prepared load%s: error %u\n", missing ? " (missing file)" : "", mysql_stmt_errno(st));
    } else {
      printf("prepared load%s: affected %llu\n", missing ? " (missing file)" : "",
             (unsigned long long)mysql_stmt_affected_rows(st));
    }
    mysql_stmt_close(st);
  }
  /* (The rows are not read back here: in the oceanbase flavour the execute may run on another
   * server of the sandbox than the next statement, and its replication may lag.) */
  unlink(path);
  exec_sql(fmt("DROP TABLE %s_load", tag));
}

/* xorshift64* filled buffer: deterministic, incompressible. */
static void fill(unsigned char* p, size_t n, uint64_t seed) {
  uint64_t x = seed | 1;
  for (size_t i = 0; i < n; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t v = x * 2685821657736338717ULL;
    memcpy(p + i, &v, n - i < 8 ? n - i : 8);
  }
}

static void sha256_hex(const unsigned char* p, size_t n, char out[65]) {
  unsigned char md[32];
  unsigned int mdlen = 0;
  EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

static void blob_roundtrip(size_t mib) {
  size_t n = mib << 20;
  unsigned char* data = malloc(n);
  unsigned char* back = malloc(n);
  if (!data || !back) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  fill(data, n, 0x9E3779B97F4A7C15ULL);
  char want[65], got[65];
  sha256_hex(data, n, want);
  printf("blob bytes %zu sha256 %s\n", n, want);
  exec_sql(fmt("DROP TABLE IF EXISTS %s_blob", tag));
  exec_sql(fmt("CREATE TABLE %s_blob (id INT PRIMARY KEY, b LONGBLOB)", tag));

  /* 1: the whole blob as one bound parameter (one COM_STMT_EXECUTE of several 16 MiB packets) */
  MYSQL_STMT* st = mysql_stmt_init(conn);
  const char* ins = fmt("INSERT INTO %s_blob VALUES (?, ?)", tag);
  if (mysql_stmt_prepare(st, ins, strlen(ins))) stmt_die(st, "prepare blob insert");
  int id = 1;
  unsigned long len = (unsigned long)n;
  MYSQL_BIND p[2];
  bind_param(&p[0], MYSQL_TYPE_LONG, &id, 0, NULL, NULL);
  bind_param(&p[1], MYSQL_TYPE_LONG_BLOB, data, len, &len, NULL);
  if (mysql_stmt_bind_param(st, p)) stmt_die(st, "bind blob");
  if (mysql_stmt_execute(st)) stmt_die(st, "execute blob insert");
  printf("insert 1 affected %llu\n", (unsigned long long)mysql_stmt_affected_rows(st));
  /* 2: the same bytes streamed with send_long_data in 1 MiB chunks (C_CLIENT_CHUNK bytes) */
  id = 2;
  memset(&p[1], 0, sizeof p[1]);
  p[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
  if (mysql_stmt_bind_param(st, p)) stmt_die(st, "bind blob 2");
  size_t chunk = getenv("C_CLIENT_CHUNK") ? (size_t)atol(getenv("C_CLIENT_CHUNK")) : (1u << 20);
  if (chunk == 0) chunk = 1u << 20;
  for (size_t off = 0; off < n; off += chunk) {
    size_t c = n - off < chunk ? n - off : chunk;
    if (mysql_stmt_send_long_data(st, 1, (const char*)data + off, c)) stmt_die(st, "send_long_data blob");
  }
  if (mysql_stmt_execute(st)) stmt_die(st, "execute blob insert 2");
  printf("insert 2 affected %llu\n", (unsigned long long)mysql_stmt_affected_rows(st));
  mysql_stmt_close(st);

  /* read back with a prepared statement (binary protocol) */
  st = mysql_stmt_init(conn);
  const char* sel = fmt("SELECT id, b FROM %s_blob ORDER BY id", tag);
  if (mysql_stmt_prepare(st, sel, strlen(sel))) stmt_die(st, "prepare blob select");
  if (mysql_stmt_execute(st)) stmt_die(st, "execute blob select");
  MYSQL_BIND r[2];
  int rid = 0;
  unsigned long blen = 0;
  my_bool bnull = 0;
  memset(r, 0, sizeof r);
  r[0].buffer_type = MYSQL_TYPE_LONG;
  r[0].buffer = &rid;
  r[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
  r[1].buffer = back;
  r[1].buffer_length = (unsigned long)n;
  r[1].length = &blen;
  r[1].is_null = &bnull;
  if (mysql_stmt_bind_result(st, r)) stmt_die(st, "bind blob result");
  int rc;
  while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
    sha256_hex(back, blen, got);
    printf("binary read id %d bytes %lu sha256 %s %s\n", rid, blen, got, strcmp(got, want) ? "MISMATCH" : "ok");
    if (strcmp(got, want)) failures++;
  }
  if (rc != MYSQL_NO_DATA) stmt_die(st, "fetch blob");
  mysql_stmt_close(st);

  /* and with a text query */
  if (mysql_query(conn, fmt("SELECT id, b FROM %s_blob ORDER BY id", tag))) die("select blob text");
  MYSQL_RES* res = mysql_use_result(conn);
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(res))) {
    unsigned long* lens = mysql_fetch_lengths(res);
    sha256_hex((unsigned char*)row[1], lens[1], got);
    printf("text read id %s bytes %lu sha256 %s %s\n", row[0], lens[1], got, strcmp(got, want) ? "MISMATCH" : "ok");
    if (strcmp(got, want)) failures++;
  }
  if (mysql_errno(conn)) die("fetch blob text");
  mysql_free_result(res);
  query_print(fmt("SELECT id, LENGTH(b), SHA2(b, 256) FROM %s_blob ORDER BY id", tag));
  exec_sql(fmt("DROP TABLE %s_blob", tag));
  free(data);
  free(back);
}

/* Commands and rows of 16 MiB and more: the blob's INSERT as a text statement (escaped: a packet
 * over 0xFFFFFF bytes) and as a prepared statement (for 16,777,116 bytes a packet just under
 * 0xFFFFFF, whose compressed frames still cross the boundary), read back as text and binary rows. */
static void bigcmd_roundtrip(size_t n) {
  unsigned char* data = malloc(n);
  unsigned char* back = malloc(n);
  char* sql = malloc(2 * n + 200);
  if (!data || !back || !sql) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  fill(data, n, 0x2545F4914F6CDD1DULL + n);
  char want[65], got[65];
  sha256_hex(data, n, want);
  printf("== %zu bytes sha256 %s\n", n, want);
  exec_sql(fmt("DROP TABLE IF EXISTS %s_big", tag));
  exec_sql(fmt("CREATE TABLE %s_big (id INT PRIMARY KEY, b LONGBLOB)", tag));

  int len = snprintf(sql, 200, "INSERT INTO %s_big VALUES (1, '", tag);
  len += (int)mysql_real_escape_string(conn, sql + len, (const char*)data, (unsigned long)n);
  len += snprintf(sql + len, 10, "')");
  printf("text insert packet over 0xFFFFFF bytes: %s\n", len + 1 > 0xFFFFFF ? "yes" : "no");
  if (mysql_real_query(conn, sql, (unsigned long)len)) die("text insert of a big blob");
  printf("text insert affected %llu\n", (unsigned long long)mysql_affected_rows(conn));
  query_print("SELECT 'after a big text insert'");

  MYSQL_STMT* st = mysql_stmt_init(conn);
  const char* ins = fmt("INSERT INTO %s_big VALUES (?, ?)", tag);
  if (mysql_stmt_prepare(st, ins, strlen(ins))) stmt_die(st, "prepare big insert");
  int id = 2;
  unsigned long blen = (unsigned long)n;
  MYSQL_BIND p[2];
  bind_param(&p[0], MYSQL_TYPE_LONG, &id, 0, NULL, NULL);
  bind_param(&p[1], MYSQL_TYPE_LONG_BLOB, data, blen, &blen, NULL);
  if (mysql_stmt_bind_param(st, p)) stmt_die(st, "bind big insert");
  if (mysql_stmt_execute(st)) stmt_die(st, "execute big insert");
  printf("prepared insert affected %llu\n", (unsigned long long)mysql_stmt_affected_rows(st));
  mysql_stmt_close(st);
  query_print("SELECT 'after a big prepared insert'");

  if (mysql_query(conn, fmt("SELECT id, b FROM %s_big ORDER BY id", tag))) die("select big text");
  MYSQL_RES* res = mysql_use_result(conn);
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(res))) {
    unsigned long* lens = mysql_fetch_lengths(res);
    sha256_hex((unsigned char*)row[1], lens[1], got);
    printf("text read id %s bytes %lu %s\n", row[0], lens[1], strcmp(got, want) ? "MISMATCH" : "ok");
    if (strcmp(got, want)) failures++;
  }
  if (mysql_errno(conn)) die("fetch big text");
  mysql_free_result(res);

  st = mysql_stmt_init(conn);
  const char* sel = fmt("SELECT id, b FROM %s_big ORDER BY id", tag);
  if (mysql_stmt_prepare(st, sel, strlen(sel))) stmt_die(st, "prepare big select");
  if (mysql_stmt_execute(st)) stmt_die(st, "execute big select");
  MYSQL_BIND r[2];
  int rid = 0;
  unsigned long rlen = 0;
  memset(r, 0, sizeof r);
  r[0].buffer_type = MYSQL_TYPE_LONG;
  r[0].buffer = &rid;
  r[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
  r[1].buffer = back;
  r[1].buffer_length = (unsigned long)n;
  r[1].length = &rlen;
  if (mysql_stmt_bind_result(st, r)) stmt_die(st, "bind big result");
  int rc;
  while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
    sha256_hex(back, rlen, got);
    printf("binary read id %d bytes %lu %s\n", rid, rlen, strcmp(got, want) ? "MISMATCH" : "ok");
    if (strcmp(got, want)) failures++;
  }
  if (rc != MYSQL_NO_DATA) stmt_die(st, "fetch big");
  mysql_stmt_close(st);
  query_print(fmt("SELECT id, LENGTH(b), SHA2(b, 256) FROM %s_big ORDER BY id", tag));
  exec_sql(fmt("DROP TABLE %s_big", tag));
  free(data);
  free(back);
  free(sql);
}

/* Sends `total` bytes of pattern `c` as long data for parameter `param`, in chunks of `chunk`. */
static int long_data(MYSQL_STMT* st, unsigned param, char c, size_t total, size_t chunk) {
  char* buf = malloc(chunk);
  if (!buf) exit(2);
  int rc = 0;
  for (size_t off = 0; off < total && rc == 0; off += chunk) {
    size_t n = total - off < chunk ? total - off : chunk;
    for (size_t i = 0; i < n; i++) buf[i] = (char)(c + (off + i) % 7);
    if (mysql_stmt_send_long_data(st, param, buf, (unsigned long)n)) {
      printf("  send_long_data: error %u\n", mysql_stmt_errno(st));
      fprintf(stderr, "send_long_data: %s\n", mysql_stmt_error(st));
      rc = 1;
    }
  }
  free(buf);
  return rc;
}

static int ld_execute(MYSQL_STMT* st, const char* what) {
  if (mysql_stmt_execute(st)) {
    printf("  execute %s: error %u %s\n", what, mysql_stmt_errno(st), mysql_stmt_sqlstate(st));
    fprintf(stderr, "execute %s: %s\n", what, mysql_stmt_error(st));
    return 1;
  }
  printf("  execute %s: affected %llu\n", what, (unsigned long long)mysql_stmt_affected_rows(st));
  return 0;
}

/* One send_long_data case on a connection of its own (a failure does not hide the next case):
 * INSERT (a, b, c) with long data on the parameters in `ld` (1-based, 0 ends), the others bound.
 * reset: 1 = long data, COM_STMT_RESET, execute; 2 = long data, reset, long data on parameter 2
 * (b), execute. */
static void ld_case(int k, const char* what, const int ld[3], size_t bytes, int reset) {
  printf("-- %s\n", what);
  mysql_close(conn);
  connect_db();
  MYSQL_STMT* st = mysql_stmt_init(conn);
  const char* ins = fmt("INSERT INTO %s_ld (k, a, b, c) VALUES (%d, ?, ?, ?)", tag, k);
  if (mysql_stmt_prepare(st, ins, strlen(ins))) {
    printf("  prepare: error %u\n", mysql_stmt_errno(st));
    mysql_stmt_close(st);
    return;
  }
  char small_a[] = "plain a", small_b[] = "plain b", small_c[] = "plain c";
  unsigned long la, lb, lc;
  MYSQL_BIND p[3];
  bind_param(&p[0], MYSQL_TYPE_BLOB, small_a, strlen(small_a), &la, NULL);
  bind_param(&p[1], MYSQL_TYPE_STRING, small_b, strlen(small_b), &lb, NULL);
  bind_param(&p[2], MYSQL_TYPE_BLOB, small_c, strlen(small_c), &lc, NULL);
  if (mysql_stmt_bind_param(st, p)) stmt_die(st, "bind long data insert");
  int failed = 0;
  for (int j = 0; j < 3 && ld[j] && !failed; j++) {
    unsigned param = (unsigned)ld[j] - 1;
    failed = long_data(st, param, (char)('a' + param), bytes, param == 1 ? 1000 : 32768);
  }
  if (!failed && reset) {
    printf("  reset %d\n", mysql_stmt_reset(st));
    if (mysql_stmt_bind_param(st, p)) stmt_die(st, "bind after reset");
    if (reset == 2) failed = long_data(st, 1, 'r', 777, 777);
  }
  if (!failed) failed = ld_execute(st, "insert");
  /* the statement again, all values bound: no long data is left over */
  if (!failed) failed = ld_execute(st, "again without long data");
  mysql_stmt_close(st);
  if (!failed) query_print("SELECT 'same connection still usable'");
}

/* COM_STMT_SEND_LONG_DATA on the leading, the trailing, a middle and every parameter, small and
 * large (over 64 KiB: a proxy streams it), and COM_STMT_RESET dropping it. */
static void suite_long_data(void) {
  printf("== send_long_data\n");
  exec_sql(fmt("DROP TABLE IF EXISTS %s_ld", tag));
  exec_sql(
      fmt("CREATE TABLE %s_ld (id INT AUTO_INCREMENT PRIMARY KEY, k INT, a LONGBLOB, b LONGTEXT, c LONGBLOB)", tag));
  static const struct {
    const char* what;
    int ld[3];
    size_t bytes;
    int reset;
  } cases[] = {
      {"trailing parameter, 300 bytes", {3, 0, 0}, 300, 0},
      {"trailing parameter, 200 KiB", {3, 0, 0}, 200 * 1024, 0},
      {"leading parameter, 500 bytes", {1, 0, 0}, 500, 0},
      {"leading parameter, 300 KiB", {1, 0, 0}, 300 * 1024, 0},
      {"middle parameter, 70000 bytes", {2, 0, 0}, 70000, 0},
      {"every parameter, 90000 bytes each", {1, 2, 3}, 90000, 0},
      {"every parameter, 100 bytes each", {1, 2, 3}, 100, 0},
      {"long data then COM_STMT_RESET: the bound values go in", {1, 3, 0}, 100000, 1},
      {"long data, COM_STMT_RESET, long data on another parameter", {1, 0, 0}, 120000, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ld_case((int)i + 1, cases[i].what, cases[i].ld, cases[i].bytes, cases[i].reset);
  }
  mysql_close(conn);
  connect_db();
  query_print(fmt("SELECT k, LENGTH(a), MD5(a), LENGTH(b), MD5(b), LENGTH(c), MD5(c) FROM %s_ld ORDER BY id", tag));

  /* long data on a SELECT's only parameter */
  MYSQL_STMT* st = mysql_stmt_init(conn);
  const char* sel = fmt("SELECT k FROM %s_ld WHERE b = ? ORDER BY k", tag);
  if (mysql_stmt_prepare(st, sel, strlen(sel))) stmt_die(st, "prepare long data select");
  MYSQL_BIND q;
  memset(&q, 0, sizeof q);
  q.buffer_type = MYSQL_TYPE_BLOB;
  if (mysql_stmt_bind_param(st, &q)) stmt_die(st, "bind long data select");
  printf("-- a SELECT's only parameter as long data\n");
  if (!long_data(st, 0, 'b', 70000, 1000)) {
    if (mysql_stmt_execute(st) || mysql_stmt_store_result(st)) {
      printf("  select by long data: error %u\n", mysql_stmt_errno(st));
      fprintf(stderr, "select by long data: %s\n", mysql_stmt_error(st));
    } else {
      printf("  select by long data: rows %llu\n", (unsigned long long)mysql_stmt_num_rows(st));
    }
  }
  mysql_stmt_close(st);
  mysql_close(conn);
  connect_db();
  exec_sql(fmt("DROP TABLE %s_ld", tag));
}

static void connect_db(void) {
  conn = mysql_init(NULL);
  unsigned int on = 1;
  unsigned long max_packet = 1ul << 30;
  unsigned int timeout = 10;
  mysql_optionsv(conn, MYSQL_OPT_LOCAL_INFILE, &on);
  mysql_optionsv(conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  mysql_optionsv(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (getenv("C_CLIENT_COMPRESS")) mysql_optionsv(conn, MYSQL_OPT_COMPRESS, NULL);
  if (getenv("C_CLIENT_SSL")) {
    my_bool yes = 1, no = 0;
    mysql_optionsv(conn, MYSQL_OPT_SSL_ENFORCE, &yes);
    mysql_optionsv(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
  }
  if (!mysql_real_connect(conn, args[0], args[2], args[3], args[4], (unsigned)atoi(args[1]), NULL,
                          CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS | CLIENT_LOCAL_FILES))
    die("connect");
  if (getenv("C_CLIENT_SSL") && !mysql_get_ssl_cipher(conn)) {
    printf("FATAL: no TLS\n");
    exit(2);
  }
}

/* ------------------------------------------------------------------------------------------------
 * script mode: a session that a test drives one command at a time, so that several clients can
 * stay connected and take turns (session hygiene tests). Every answer ends with a line ".done".
 *
 *   SQL                     run with the session's protocol: --text (mysql_query) or --prepared
 *                           (mysql_stmt_prepare + execute, one statement handle per line; a
 *                           statement the server cannot prepare, error 1295, runs as text and its
 *                           answer starts with "(text)")
 *   .text SQL / .prep SQL   the other protocol for one statement
 *   .ps NAME SQL            prepare and keep a named statement
 *   .exec NAME T:V ...      bind parameters (mysql_stmt_bind_param: their types are sent) and
 *                           execute; T is i (INT), l (BIGINT), d (DOUBLE), s (string), n (NULL)
 *   .reexec NAME V ...      new values into the same buffers, no new bind: the types are not sent
 *   .close NAME             mysql_stmt_close
 *   .thread_id              the connection id of the handshake (mysql_thread_id)
 *   .quit                   COM_QUIT, then exit
 * Answers, one line each: "columns N: name(type=..,len=..,dec=..,charset=..,flags=..[,xtype=..]
 * [,format=..])", "row: v1 v2 ..." (NULL is \N; values over 256 bytes are shortened to their first
 * 64 bytes and their length), "rows N", "ok affected=N insert_id=N warnings=N",
 * "ERROR code sqlstate message". Environment: C_CLIENT_CHARSET (default utf8mb4), C_CLIENT_ATTRS
 * ("k=v,k=v": connection attributes added to libmariadb's own).
 */
#define SCRIPT_MAX_PARAMS 8
#define SCRIPT_MAX_STMTS 16

struct script_param {
  enum enum_field_types type;
  long long ll;
  int i;
  double d;
  char s[1024];
  unsigned long len;
  my_bool is_null;
};

struct script_stmt {
  char name[64];
  MYSQL_STMT* st;
  unsigned nparams;
  struct script_param p[SCRIPT_MAX_PARAMS];
  MYSQL_BIND b[SCRIPT_MAX_PARAMS];
};

static struct script_stmt script_stmts[SCRIPT_MAX_STMTS];

/* n bytes, with newlines, backslashes and other control bytes escaped: one answer line stays one line. */
static void print_escaped(const char* v, unsigned long n) {
  for (unsigned long i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v[i];
    if (c == '\n')
      fputs("\\n", stdout);
    else if (c == '\\')
      fputs("\\\\", stdout);
    else if (c < 0x20 || c == 0x7f)
      printf("\\x%02x", c);
    else
      putchar(c);
  }
}

/* A value of `len` bytes, of which `have` are at v: NULL as \N, values over 256 bytes as their first
 * 64 bytes and their length. */
static void print_cell(const char* v, unsigned long have, unsigned long len) {
  if (!v) {
    fputs("\\N", stdout);
    return;
  }
  if (len > 256) {
    print_escaped(v, have < 64 ? have : 64);
    printf("...(%lu bytes)", len);
  } else {
    print_escaped(v, have < len ? have : len);
  }
}

static void print_columns(MYSQL_FIELD* f, unsigned n) {
  printf("columns %u:", n);
  for (unsigned i = 0; i < n; i++) {
    putchar(' ');
    print_escaped(f[i].name, f[i].name_length);
    printf("(type=%d,len=%lu,dec=%u,charset=%u,flags=0x%x", (int)f[i].type, f[i].length, f[i].decimals, f[i].charsetnr,
           f[i].flags & ~(unsigned)PART_KEY_FLAG);
    MARIADB_CONST_STRING attr;
    if (mariadb_field_attr(&attr, &f[i], MARIADB_FIELD_ATTR_DATA_TYPE_NAME) == 0 && attr.length)
      printf(",xtype=%.*s", (int)attr.length, attr.str);
    if (mariadb_field_attr(&attr, &f[i], MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 && attr.length)
      printf(",format=%.*s", (int)attr.length, attr.str);
    putchar(')');
  }
  putchar('\n');
}

static void print_conn_error(void) {
  printf("ERROR %u %s %s\n", mysql_errno(conn), mysql_sqlstate(conn), mysql_error(conn));
}

static void print_stmt_error(MYSQL_STMT* st) {
  printf("ERROR %u %s %s\n", mysql_stmt_errno(st), mysql_stmt_sqlstate(st), mysql_stmt_error(st));
}

static void script_text(const char* sql) {
  if (mysql_query(conn, sql)) {
    print_conn_error();
    return;
  }
  int status;
  do {
    MYSQL_RES* r = mysql_store_result(conn);
    if (r) {
      unsigned n = mysql_num_fields(r);
      print_columns(mysql_fetch_fields(r), n);
      MYSQL_ROW row;
      unsigned long rows = 0;
      while ((row = mysql_fetch_row(r))) {
        unsigned long* lens = mysql_fetch_lengths(r);
        fputs("row:", stdout);
        for (unsigned i = 0; i < n; i++) {
          putchar(' ');
          print_cell(row[i], lens[i], lens[i]);
        }
        putchar('\n');
        rows++;
      }
      printf("rows %lu\n", rows);
      mysql_free_result(r);
    } else if (mysql_field_count(conn) == 0) {
      printf("ok affected=%lld insert_id=%llu warnings=%u\n", (long long)mysql_affected_rows(conn),
             (unsigned long long)mysql_insert_id(conn), mysql_warning_count(conn));
    } else {
      print_conn_error();
    }
    status = mysql_next_result(conn);
    if (status > 0) print_conn_error();
  } while (status == 0);
}

/* Prints every result of an executed statement (a CALL has several). */
static void print_stmt_results(MYSQL_STMT* st) {
  int status;
  do {
    unsigned n = mysql_stmt_field_count(st);
    if (n > 0) {
      MYSQL_RES* meta = mysql_stmt_result_metadata(st);
      MYSQL_FIELD* f = meta ? mysql_fetch_fields(meta) : NULL;
      if (f) {
        print_columns(f, n);
      } else {
        printf("columns %u: (no metadata)\n", n);
      }
      if (mysql_stmt_store_result(st)) {
        print_stmt_error(st);
        if (meta) mysql_free_result(meta);
        return;
      }
      MYSQL_BIND* r = calloc(n, sizeof *r);
      char(*bufs)[257] = calloc(n, sizeof *bufs);
      unsigned long* lens = calloc(n, sizeof *lens);
      my_bool* nulls = calloc(n, sizeof *nulls);
      my_bool* errs = calloc(n, sizeof *errs);
      for (unsigned i = 0; i < n; i++) {
        r[i].buffer_type = MYSQL_TYPE_STRING;
        r[i].buffer = bufs[i];
        r[i].buffer_length = sizeof bufs[i] - 1;
        r[i].length = &lens[i];
        r[i].is_null = &nulls[i];
        r[i].error = &errs[i];
      }
      unsigned long rows = 0;
      if (mysql_stmt_bind_result(st, r)) {
        print_stmt_error(st);
      } else {
        int rc;
        while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
          fputs("row:", stdout);
          for (unsigned i = 0; i < n; i++) {
            putchar(' ');
            /* longer than the buffer: only its start is shown anyway */
            print_cell(nulls[i] ? NULL : bufs[i], sizeof bufs[i] - 1, lens[i]);
          }
          putchar('\n');
          rows++;
        }
        if (rc != MYSQL_NO_DATA) print_stmt_error(st);
      }
      printf("rows %lu\n", rows);
      mysql_stmt_free_result(st);
      free(r);
      free(bufs);
      free(lens);
      free(nulls);
      free(errs);
      if (meta) mysql_free_result(meta);
    } else {
      printf("ok affected=%lld insert_id=%llu warnings=%u\n", (long long)mysql_stmt_affected_rows(st),
             (unsigned long long)mysql_stmt_insert_id(st), mysql_warning_count(conn));
    }
    status = mysql_stmt_next_result(st);
    if (status > 0) print_stmt_error(st);
  } while (status == 0);
}

static void script_prepared(const char* sql) {
  MYSQL_STMT* st = mysql_stmt_init(conn);
  if (!st) {
    print_conn_error();
    return;
  }
  if (mysql_stmt_prepare(st, sql, strlen(sql))) {
    if (mysql_stmt_errno(st) == 1295) { /* ER_UNSUPPORTED_PS */
      mysql_stmt_close(st);
      printf("(text)\n");
      script_text(sql);
      return;
    }
    print_stmt_error(st);
    mysql_stmt_close(st);
    return;
  }
  if (mysql_stmt_param_count(st) > 0) {
    printf("ERROR 0 00000 statement has %lu parameters: use .ps/.exec\n", mysql_stmt_param_count(st));
  } else if (mysql_stmt_execute(st)) {
    print_stmt_error(st);
  } else {
    print_stmt_results(st);
  }
  mysql_stmt_close(st);
}

static struct script_stmt* find_stmt(const char* name, int create) {
  for (int i = 0; i < SCRIPT_MAX_STMTS; i++)
    if (script_stmts[i].st && strcmp(script_stmts[i].name, name) == 0) return &script_stmts[i];
  if (!create) return NULL;
  for (int i = 0; i < SCRIPT_MAX_STMTS; i++)
    if (!script_stmts[i].st) return &script_stmts[i];
  return NULL;
}

/* Sets a parameter's value from text, keeping its type. */
static void set_param_value(struct script_param* p, const char* v) {
  p->is_null = 0;
  switch (p->type) {
    case MYSQL_TYPE_LONG:
      p->i = atoi(v);
      break;
    case MYSQL_TYPE_LONGLONG:
      p->ll = atoll(v);
      break;
    case MYSQL_TYPE_DOUBLE:
      p->d = atof(v);
      break;
    case MYSQL_TYPE_NULL:
      p->is_null = 1;
      break;
    default:
      snprintf(p->s, sizeof p->s, "%s", v);
      p->len = strlen(p->s);
      break;
  }
}

static void script_exec(struct script_stmt* s, char* values, int rebind) {
  unsigned n = 0;
  char* save = NULL;
  for (char* tok = strtok_r(values, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (n >= SCRIPT_MAX_PARAMS) break;
    struct script_param* p = &s->p[n];
    const char* v = tok;
    if (rebind) {
      char t = tok[0];
      v = tok[1] == ':' ? tok + 2 : "";
      p->type = t == 'i'   ? MYSQL_TYPE_LONG
                : t == 'l' ? MYSQL_TYPE_LONGLONG
                : t == 'd' ? MYSQL_TYPE_DOUBLE
                : t == 'n' ? MYSQL_TYPE_NULL
                           : MYSQL_TYPE_STRING;
    }
    set_param_value(p, v);
    n++;
  }
  if (rebind) {
    memset(s->b, 0, sizeof s->b);
    for (unsigned i = 0; i < n; i++) {
      struct script_param* p = &s->p[i];
      s->b[i].buffer_type = p->type;
      s->b[i].is_null = &p->is_null;
      switch (p->type) {
        case MYSQL_TYPE_LONG:
          s->b[i].buffer = &p->i;
          break;
        case MYSQL_TYPE_LONGLONG:
          s->b[i].buffer = &p->ll;
          break;
        case MYSQL_TYPE_DOUBLE:
          s->b[i].buffer = &p->d;
          break;
        case MYSQL_TYPE_NULL:
          break;
        default:
          s->b[i].buffer = p->s;
          s->b[i].buffer_length = sizeof p->s;
          s->b[i].length = &p->len;
          break;
      }
    }
    s->nparams = n;
    if (n != mysql_stmt_param_count(s->st)) {
      printf("ERROR 0 00000 %u values for %lu parameters\n", n, mysql_stmt_param_count(s->st));
      return;
    }
    if (n > 0 && mysql_stmt_bind_param(s->st, s->b)) {
      print_stmt_error(s->st);
      return;
    }
  } else if (n != s->nparams) {
    printf("ERROR 0 00000 %u values for %u bound parameters\n", n, s->nparams);
    return;
  }
  if (mysql_stmt_execute(s->st)) {
    print_stmt_error(s->st);
    return;
  }
  print_stmt_results(s->st);
}

static int script_command(char* line, int prepared) {
  if (strncmp(line, ".text ", 6) == 0) {
    script_text(line + 6);
  } else if (strncmp(line, ".prep ", 6) == 0) {
    script_prepared(line + 6);
  } else if (strncmp(line, ".ps ", 4) == 0 || strncmp(line, ".exec ", 6) == 0 || strncmp(line, ".reexec ", 8) == 0 ||
             strncmp(line, ".close ", 7) == 0) {
    char* rest = strchr(line, ' ') + 1;
    char* sp = strchr(rest, ' ');
    char name[64];
    size_t nl = sp ? (size_t)(sp - rest) : strlen(rest);
    if (nl >= sizeof name) nl = sizeof name - 1;
    memcpy(name, rest, nl);
    name[nl] = 0;
    char* arg = sp ? sp + 1 : rest + strlen(rest);
    if (line[1] == 'p') {
      struct script_stmt* s = find_stmt(name, 0);
      if (s) { /* the name is prepared again: the old statement goes */
        mysql_stmt_close(s->st);
        s->st = NULL;
      }
      s = find_stmt(name, 1);
      if (!s) {
        printf("ERROR 0 00000 too many named statements\n");
        return 1;
      }
      memset(s, 0, sizeof *s);
      snprintf(s->name, sizeof s->name, "%s", name);
      s->st = mysql_stmt_init(conn);
      if (mysql_stmt_prepare(s->st, arg, strlen(arg))) {
        print_stmt_error(s->st);
        mysql_stmt_close(s->st);
        s->st = NULL;
        return 1;
      }
      printf("prepared params=%lu columns=%u\n", mysql_stmt_param_count(s->st), mysql_stmt_field_count(s->st));
    } else {
      struct script_stmt* s = find_stmt(name, 0);
      if (!s) {
        printf("ERROR 0 00000 no statement named %s\n", name);
      } else if (line[1] == 'c') {
        printf("close %d\n", mysql_stmt_close(s->st) ? 1 : 0);
        s->st = NULL;
      } else {
        script_exec(s, arg, line[1] == 'e');
      }
    }
  } else if (strcmp(line, ".thread_id") == 0) {
    printf("thread_id %lu\n", mysql_thread_id(conn));
  } else if (strcmp(line, ".quit") == 0) {
    return 0;
  } else if (prepared) {
    script_prepared(line);
  } else {
    script_text(line);
  }
  return 1;
}

static int script_main(const char* protocol) {
  int prepared = strcmp(protocol, "--prepared") == 0;
  if (!prepared && strcmp(protocol, "--text") != 0) {
    fprintf(stderr, "script mode takes --text or --prepared\n");
    return 2;
  }
  conn = mysql_init(NULL);
  unsigned long max_packet = 1ul << 30;
  unsigned int timeout = 10;
  const char* charset = getenv("C_CLIENT_CHARSET") ? getenv("C_CLIENT_CHARSET") : "utf8mb4";
  mysql_optionsv(conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  mysql_optionsv(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(conn, MYSQL_SET_CHARSET_NAME, charset);
  if (getenv("C_CLIENT_ATTRS")) {
    char* attrs = strdup(getenv("C_CLIENT_ATTRS"));
    char* save = NULL;
    for (char* kv = strtok_r(attrs, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
      char* eq = strchr(kv, '=');
      if (!eq) continue;
      *eq = 0;
      mysql_optionsv(conn, MYSQL_OPT_CONNECT_ATTR_ADD, kv, eq + 1);
    }
    free(attrs);
  }
  if (!mysql_real_connect(conn, args[0], args[2], args[3], args[4][0] ? args[4] : NULL, (unsigned)atoi(args[1]), NULL,
                          CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS)) {
    print_conn_error();
    printf(".done\n");
    return 1;
  }
  printf("connected thread_id=%lu\n.done\n", mysql_thread_id(conn));
  char* line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (len == 0) continue;
    int go_on = script_command(line, prepared);
    printf(".done\n");
    if (!go_on) break;
  }
  free(line);
  for (int i = 0; i < SCRIPT_MAX_STMTS; i++)
    if (script_stmts[i].st) mysql_stmt_close(script_stmts[i].st);
  mysql_close(conn);
  return 0;
}

/* mariadb_stmt_execute_direct: COM_STMT_PREPARE and, pipelined behind it, an execute of statement
 * id 0xFFFFFFFF ("the statement prepared last"); after a prepare that failed the execute fails
 * too and nothing older runs. */
static void suite_direct(void) {
  printf("== execute_direct (prepare + execute of the last statement, pipelined)\n");
  /* Rows 7000 and up of the suite's table (created long before: a table created just now may not
   * have reached every server of the sandbox yet, and a prepare goes where odp routes it). */
  MYSQL_STMT* st = mysql_stmt_init(conn);
  int a = 7;
  char b[] = "seven";
  unsigned long blen = strlen(b);
  MYSQL_BIND p[2];
  bind_param(&p[0], MYSQL_TYPE_LONG, &a, 0, NULL, NULL);
  bind_param(&p[1], MYSQL_TYPE_STRING, b, blen, &blen, NULL);
  unsigned int count = 2;
  mysql_stmt_attr_set(st, STMT_ATTR_PREBIND_PARAMS, &count);
  if (mysql_stmt_bind_param(st, p)) stmt_die(st, "direct bind");
  const char* ins = fmt("INSERT INTO %s_types (id, s) VALUES (? + 7000, ?)", tag);
  if (mariadb_stmt_execute_direct(st, ins, strlen(ins))) {
    print_stmt_error(st);
  } else {
    printf("direct insert affected %llu\n", (unsigned long long)mysql_stmt_affected_rows(st));
  }
  mysql_stmt_close(st);
  st = mysql_stmt_init(conn);
  const char* sel = fmt("SELECT id, s FROM %s_types WHERE id >= 7000 ORDER BY id", tag);
  if (mariadb_stmt_execute_direct(st, sel, strlen(sel))) {
    print_stmt_error(st);
  } else {
    print_stmt_results(st);
  }
  mysql_stmt_close(st);
  /* Fewer parameters sent than the statement has (MDEV-19838): the server refuses the execute and
   * the connection goes on. */
  st = mysql_stmt_init(conn);
  unsigned int fewer = 1;
  mysql_stmt_attr_set(st, STMT_ATTR_PREBIND_PARAMS, &fewer);
  if (mysql_stmt_bind_param(st, p)) stmt_die(st, "direct bind fewer");
  const char* ten = fmt("INSERT INTO %s_types (id, s) VALUES (?, ?)", tag);
  /* (Only that it failed: which error the client library keeps depends on when the execute's own
   * answer arrives, even directly: 2034 from its own check, or none once it read that answer.) */
  printf("direct fewer params: %d\n", mariadb_stmt_execute_direct(st, ten, strlen(ten)) != 0);
  mysql_stmt_close(st);
  query_print("SELECT 'still usable after the refused execute'");
  /* The prepare fails: the execute behind it must not run the statement prepared before it (one
   * still open here, which would add a row). */
  MYSQL_STMT* keep = mysql_stmt_init(conn);
  const char* nine = fmt("INSERT INTO %s_types (id, s) VALUES (7009, 'nine')", tag);
  if (mysql_stmt_prepare(keep, nine, strlen(nine))) stmt_die(keep, "prepare nine");
  st = mysql_stmt_init(conn);
  const char* bad = fmt("INSERT INTO %s_types (id, s) VALUES (7008, 'eight') garbage", tag);
  printf("direct bad: %d\n", mariadb_stmt_execute_direct(st, bad, strlen(bad)) != 0);
  print_stmt_error(st);
  mysql_stmt_close(st);
  if (mysql_query(conn, fmt("SELECT COUNT(*) FROM %s_types WHERE id >= 7000", tag))) die("count direct");
  MYSQL_RES* r = mysql_store_result(conn);
  print_result(r);
  mysql_free_result(r);
  mysql_stmt_close(keep);
  exec_sql(fmt("DELETE FROM %s_types WHERE id >= 7000", tag));
}

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s HOST PORT USER PASSWORD DB suite|blob [MiB]|bigcmd|longdata|script --text|--prepared\n",
            argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (getenv("C_CLIENT_TAG")) tag = getenv("C_CLIENT_TAG");
  args = argv + 1;
  if (strcmp(argv[6], "script") == 0) return script_main(argc > 7 ? argv[7] : "--text");
  connect_db();
  printf("connected protocol %u\n", mysql_get_proto_info(conn));
  if (strcmp(argv[6], "suite") == 0) {
    /* The login OK as the client saw it: status flags, and the schema a login with a database
     * reports to a client that tracks session state. */
    unsigned int login_status = 0;
    mariadb_get_infov(conn, MARIADB_CONNECTION_SERVER_STATUS, &login_status);
    const char* schema = NULL;
    size_t schema_len = 0;
    int tracked = mysql_session_track_get_first(conn, SESSION_TRACK_SCHEMA, &schema, &schema_len) == 0;
    printf("login status %u schema %.*s\n", login_status, tracked ? (int)schema_len : 6, tracked ? schema : "(none)");
    suite_text();
    suite_binary();
    suite_multi();
    suite_commands();
    suite_load_data();
    suite_direct();
    exec_sql(fmt("DROP TABLE IF EXISTS %s_types", tag));
  } else if (strcmp(argv[6], "blob") == 0) {
    blob_roundtrip(argc > 7 ? (size_t)atoi(argv[7]) : 64);
  } else if (strcmp(argv[6], "bigcmd") == 0) {
    bigcmd_roundtrip(16777116);
    bigcmd_roundtrip(17u << 20);
  } else if (strcmp(argv[6], "longdata") == 0) {
    suite_long_data();
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[6]);
    return 2;
  }
  mysql_close(conn);
  printf("done failures %d\n", failures);
  return failures ? 1 : 0;
}
