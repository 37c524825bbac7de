import java.io.BufferedWriter;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Cases 7, 8, 11: query timeout, cancel, LOAD DATA LOCAL INFILE, errors. */
final class ControlCases {
  private ControlCases() {}

  /** What a statement that may be interrupted produced: its rows, or its error. */
  static String outcome(Statement st, String sql) {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return "result " + rs.getObject(1);
    } catch (SQLException e) {
      return "error " + Obs.describe(e);
    }
  }

  /**
   * Case 7a: setQueryTimeout(1) on SELECT SLEEP(5). Against MariaDB the driver prefixes the
   * statement with SET STATEMENT max_statement_time=1 FOR; the statement must end early with the
   * timeout error and the connection must go on working. "Returned within 4 s" is a generous bound.
   */
  static void queryTimeout(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
      try (Statement st = c.createStatement()) {
        st.setQueryTimeout(1);
        long t0 = System.nanoTime();
        x.o.add("statement SLEEP(5) with timeout 1", outcome(st, "SELECT SLEEP(5)"));
        x.o.add("statement returned within 4 s", System.nanoTime() - t0 < 4_000_000_000L);
        x.o.add("same statement, quick query", outcome(st, "SELECT 'quick'"));
      }
      x.usable("after statement timeout", c);
      try (PreparedStatement ps = c.prepareStatement("SELECT SLEEP(?)")) {
        ps.setQueryTimeout(1);
        ps.setInt(1, 5);
        long t0 = System.nanoTime();
        String r;
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          r = "result " + rs.getObject(1);
        } catch (SQLException e) {
          r = "error " + Obs.describe(e);
        }
        x.o.add("prepared SLEEP(5) with timeout 1", r);
        x.o.add("prepared returned within 4 s", System.nanoTime() - t0 < 4_000_000_000L);
      }
      x.usable("after prepared timeout", c);
      // The session's own max_statement_time, as an application might set it instead.
      Ctx.exec(c, "SET SESSION max_statement_time = 1");
      try (Statement st = c.createStatement()) {
        x.o.add("session max_statement_time", outcome(st, "SELECT SLEEP(3)"));
      }
      Ctx.exec(c, "SET SESSION max_statement_time = 0");
      x.usable("after session timeout", c);
    }
  }

  /**
   * Case 7b: Statement.cancel() from another thread. Connector/J opens a second connection to
   * the same address and sends KILL QUERY with the thread id from the first one's handshake, so
   * through odp that id must name the odp session.
   */
  static void cancel(Ctx x) throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "cancel-runner");
      t.setDaemon(true);
      return t;
    });
    try (Connection c = x.connect()) {
      for (String how : new String[] {"statement", "prepared"}) {
        // The alias makes the statement easy to find in the process list, next to other tests.
        String alias = x.t("cancel_" + how);
        Statement st = how.equals("statement") ? c.createStatement()
            : c.prepareStatement("SELECT SLEEP(?) AS " + alias);
        if (st instanceof PreparedStatement ps) {
          ps.setInt(1, 10);
        }
        long t0 = System.nanoTime();
        Future<String> f = ex.submit(() -> {
          if (st instanceof PreparedStatement ps) {
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return "result " + rs.getObject(1);
            } catch (SQLException e) {
              return "error " + Obs.describe(e);
            }
          }
          return outcome(st, "SELECT SLEEP(10) AS " + alias);
        });
        // Wait until the server runs the sleep, then cancel: probing from a separate connection.
        waitRunning(x, alias, 8_000);
        st.cancel();
        String r;
        try {
          r = f.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          r = "still running 30 s after cancel";
        }
        x.o.add(how + " cancelled SLEEP(10)", r);
        x.o.add(how + " returned within 8 s", System.nanoTime() - t0 < 8_000_000_000L);
        st.close();
        x.usable("after " + how + " cancel", c);
      }
    } finally {
      ex.shutdownNow();
    }
  }

  /** Polls the process lists of all sandbox servers (directly) until a query like this runs. */
  static void waitRunning(Ctx x, String like, long timeoutMs) throws Exception {
    long end = System.nanoTime() + timeoutMs * 1_000_000;
    while (System.nanoTime() < end) {
      for (int port : x.setup.serverPorts()) {
        try (Connection s = x.connectServer(port); Statement st = s.createStatement();
            ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                + " WHERE INFO LIKE '%" + like + "%' AND INFO NOT LIKE '%PROCESSLIST%'")) {
          rs.next();
          if (rs.getLong(1) > 0) {
            return;
          }
        }
      }
      Thread.sleep(50);
    }
  }

  /** Case 8: LOAD DATA LOCAL INFILE of a generated file (and of an InputStream), contents verified. */
  static void loadDataLocal(Ctx x) throws Exception {
    String t = x.t("load");
    // Named after the target's table prefix: the file name shows in error messages.
    Path file = Path.of(x.setup.tmpDir(), x.t("load.tsv"));
    try (Connection c = x.connect("allowLocalInfile=true")) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(60), d DOUBLE) DEFAULT CHARSET=utf8mb4");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        for (int i = 1; i <= 50_000; i++) {
          w.write(i + "\tline " + i + " \u00e9\u00e8 \ud83d\ude00\t" + (i / 3.0) + "\n");
        }
      }
      try (Statement st = c.createStatement()) {
        int n = st.executeUpdate("LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE " + t
            + " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (id, s, d)");
        x.o.add("load count", n);
        java.sql.SQLWarning w = st.getWarnings();
        x.o.add("load warnings", w == null ? "none" : Obs.describe(w));
      }
      x.tableDigest("loaded rows", c, t, "CONCAT_WS(',', id, s, d)");
      x.usable("after load", c);
      // The driver's own stream API instead of a file.
      x.attempt("load from InputStream", () -> {
        try (Statement st = c.createStatement()) {
          byte[] data = "100001\tfrom stream\t1.5\n100002\tsecond \u00fc\t2.5\n".getBytes(StandardCharsets.UTF_8);
          st.unwrap(org.mariadb.jdbc.MariaDbStatement.class).setLocalInfileInputStream(new ByteArrayInputStream(data));
          x.o.add("stream load count", st.executeUpdate("LOAD DATA LOCAL INFILE 'ignored' INTO TABLE " + t
              + " CHARACTER SET utf8mb4 (id, s, d)"));
        }
      });
      // A file that does not exist: the driver answers the server's request with an empty packet.
      x.attempt("load missing file", () -> {
        try (Statement st = c.createStatement()) {
          st.executeUpdate("LOAD DATA LOCAL INFILE '" + file + ".missing' INTO TABLE " + t);
        }
      });
      x.usable("after missing file", c);
      x.o.add("rows at the end", Ctx.count(c, t));
      Ctx.exec(c, "DROP TABLE " + t);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** Case 11: error codes and SQLStates are the same, and the connection is usable after each. */
  static void errors(Ctx x) throws Exception {
    String t = x.t("err");
    try (Connection c = x.connect()) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(5) NOT NULL)");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (1, 'one')");
      String[][] bad = {
          {"syntax error", "SELEC 1"},
          {"duplicate key", "INSERT INTO " + t + " VALUES (1, 'dup')"},
          {"unknown table", "SELECT * FROM " + x.t("no_such_table")},
          {"unknown column", "SELECT nope FROM " + t},
          {"data too long", "INSERT INTO " + t + " VALUES (2, 'far too long')"},
          {"null into not null", "INSERT INTO " + t + " VALUES (3, NULL)"},
          {"division by zero in strict mode", "INSERT INTO " + t + " VALUES (1/0, 'x')"},
          {"signal", "SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1644, MESSAGE_TEXT = 'custom \u00e9rror'"},
          {"unknown database", "USE no_such_database_jdbc"},
      };
      for (String[] b : bad) {
        try (Statement st = c.createStatement()) {
          x.attempt("statement " + b[0], () -> st.execute(b[1]));
        }
        x.usable("after statement " + b[0], c);
        x.attempt("prepared " + b[0], () -> {
          try (PreparedStatement ps = c.prepareStatement(b[1])) {
            ps.execute();
          }
        });
        x.usable("after prepared " + b[0], c);
      }
      // Errors raised at execution of a statement that prepared fine.
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
        ps.setInt(1, 1);
        ps.setString(2, "dup");
        x.attempt("prepared execute duplicate", ps::executeUpdate);
        ps.setInt(1, 4);
        ps.setString(2, "toolong");
        x.attempt("prepared execute too long", ps::executeUpdate);
        ps.setInt(1, 5);
        ps.setString(2, "fine");
        x.attempt("prepared execute after errors", ps::executeUpdate);
      }
      // Warnings are part of what an application sees too.
      try (Statement st = c.createStatement()) {
        Ctx.exec(c, "SET SESSION sql_mode = ''");
        st.execute("INSERT INTO " + t + " VALUES (6, 'truncated here')");
        java.sql.SQLWarning w = st.getWarnings();
        x.o.add("warning", w == null ? "none" : Obs.describe(w));
        x.o.add("warning count", Ctx.scalar(c, "SELECT @@warning_count"));
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + t + " ORDER BY id")) {
        x.o.rows("final table", rs);
      }
      Ctx.exec(c, "DROP TABLE " + t);
    }
  }
}
