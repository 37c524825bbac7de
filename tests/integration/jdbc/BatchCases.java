import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.LinkedHashMap;
import java.util.Map;

/** Case 2 (batches, bulk execution) and the `bench` entry point. */
final class BatchCases {
  private BatchCases() {}

  /** The batch configurations an application picks between. */
  static final String[][] CONFIGS = {
      {"plain", "rewriteBatchedStatements=false"},
      {"rewrite", "rewriteBatchedStatements=true"},
      {"bulk", "useBulkStmts=true"},
      {"bulk+rewrite", "useBulkStmts=true", "rewriteBatchedStatements=true"},
  };

  static final String ROW = "CONCAT_WS(',', id, s, d, IFNULL(n, 'N'))";

  static void fill(PreparedStatement ps, int from, int count) throws SQLException {
    fill(ps, from, count, true);
  }

  /**
   * Adds rows to a batch. With nulls, every 7th row has a NULL: Connector/J then falls back from
   * COM_STMT_BULK_EXECUTE (a parameter's type changes inside the batch), so a batch without nulls
   * is needed to exercise bulk execution at all.
   */
  static void fill(PreparedStatement ps, int from, int count, boolean nulls) throws SQLException {
    for (int i = from; i < from + count; i++) {
      ps.setInt(1, i);
      ps.setString(2, "row " + i + " \u00fc\ud83d\ude00");
      ps.setDouble(3, i / 4.0);
      if (nulls && i % 7 == 0) {
        ps.setNull(4, Types.INTEGER);
      } else {
        ps.setInt(4, i * 3);
      }
      ps.addBatch();
    }
  }

  /** Case 2: PreparedStatement and Statement batches in each configuration, contents verified. */
  static void batches(Ctx x) throws Exception {
    for (String[] cfg : CONFIGS) {
      String name = cfg[0];
      String[] extra = java.util.Arrays.copyOfRange(cfg, 1, cfg.length);
      String t = x.t("batch_" + name.replace('+', '_'));
      try (Connection c = x.connect(extra)) {
        Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
        Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(60), d DOUBLE, n INT NULL)"
            + " DEFAULT CHARSET=utf8mb4");
        x.cleanupSql("DROP TABLE IF EXISTS " + t);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
          fill(ps, 1, 1000);
          x.o.add(name + " insert counts", (Object) ps.executeBatch());
          x.o.add(name + " update count after batch", ps.getUpdateCount());
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
          fill(ps, 10_001, 1000, false);
          x.o.add(name + " insert counts, no nulls", (Object) ps.executeBatch());
        }
        x.tableDigest(name + " after insert", c, t, ROW);
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t + " SET s = ?, n = NULL WHERE id = ?")) {
          for (int i = 1; i <= 1000; i += 10) {
            ps.setString(1, "upd " + i);
            ps.setInt(2, i);
            ps.addBatch();
          }
          ps.setString(1, "none");
          ps.setInt(2, 5000); // matches no row: update count 0
          ps.addBatch();
          x.o.add(name + " update counts", (Object) ps.executeBatch());
        }
        try (Statement st = c.createStatement()) {
          st.addBatch("INSERT INTO " + t + " (id, s) VALUES (2001, 'stmt a'), (2002, 'stmt b')");
          st.addBatch("UPDATE " + t + " SET d = -d WHERE id <= 10");
          st.addBatch("DELETE FROM " + t + " WHERE id BETWEEN 900 AND 949");
          st.addBatch("UPDATE " + t + " SET s = 'x' WHERE id = -1");
          x.o.add(name + " statement batch counts", (Object) st.executeBatch());
        }
        x.tableDigest(name + " after updates", c, t, ROW);
        // A duplicate key in the middle of a batch: counts up to and past the failure.
        x.attempt(name + " batch with duplicate", () -> {
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
            fill(ps, 3000, 5);
            fill(ps, 1, 1);
            fill(ps, 3005, 5);
            x.o.add(name + " duplicate batch counts", (Object) ps.executeBatch());
          }
        });
        x.o.add(name + " rows after duplicate batch", Ctx.count(c, t));
        // A batch inside a transaction that is rolled back leaves nothing behind.
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
          fill(ps, 5000, 200);
          x.o.add(name + " transaction batch counts", (Object) ps.executeBatch());
        }
        x.o.add(name + " rows inside transaction", Ctx.count(c, t));
        c.rollback();
        c.setAutoCommit(true);
        x.o.add(name + " rows after rollback", Ctx.count(c, t));
        Ctx.exec(c, "DROP TABLE " + t);
      }
    }
  }

  static Map<String, Long> sessionCounters(Connection c) throws SQLException {
    Map<String, Long> m = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
            + " WHERE VARIABLE_NAME IN ('COM_INSERT', 'COM_STMT_EXECUTE', 'COM_STMT_PREPARE', 'QUESTIONS') ORDER BY 1")) {
      while (rs.next()) {
        m.put(rs.getString(1).toLowerCase(), rs.getLong(2));
      }
    }
    return m;
  }

  /**
   * Case 2b: does Connector/J really use MariaDB's COM_STMT_BULK_EXECUTE? It does only when the
   * handshake advertises STMT_BULK_OPERATIONS. The server's own session counters tell: a bulk
   * insert of 3,000 rows is one command (Questions), the per-row fallback is 3,000 (Com_insert
   * counts rows either way). The counters are read inside a transaction so that, through odp, they come from the
   * one server connection that ran the batch.
   */
  static void bulkProtocol(Ctx x) throws Exception {
    String t = x.t("bulk");
    try (Connection c = x.connect("useBulkStmts=true")) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(60), d DOUBLE, n INT NULL)"
          + " DEFAULT CHARSET=utf8mb4");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      c.setAutoCommit(false);
      Ctx.exec(c, "INSERT INTO " + t + " (id, s) VALUES (0, 'pins the transaction to one server')");
      Map<String, Long> before = sessionCounters(c);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
        // 3,000 rows make a request over 64 KiB, which odp streams instead of buffering.
        fill(ps, 1, 3000, false);
        x.o.add("bulk insert counts", (Object) ps.executeBatch());
      }
      Map<String, Long> after = sessionCounters(c);
      long inserts = after.getOrDefault("com_insert", 0L) - before.getOrDefault("com_insert", 0L);
      long executes = after.getOrDefault("com_stmt_execute", 0L) - before.getOrDefault("com_stmt_execute", 0L);
      long questions = after.getOrDefault("questions", 0L) - before.getOrDefault("questions", 0L);
      x.o.add("server counted", "Com_insert +" + inserts, "Com_stmt_execute +" + executes, "Questions +" + questions);
      // Per row the server counts a statement (Questions) for each COM_QUERY or COM_STMT_EXECUTE; a
      // bulk execution is one command for all the rows.
      x.o.add("COM_STMT_BULK_EXECUTE used (a few commands for 3,000 rows)", questions <= 10);
      c.commit();
      c.setAutoCommit(true);
      x.tableDigest("bulk rows", c, t, BatchCases.ROW);
      Ctx.exec(c, "DROP TABLE " + t);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // bench: not a test; prints elapsed milliseconds for scripts/bench

  static int bench(Map<String, String> opt) throws Exception {
    int rows = Integer.parseInt(opt.getOrDefault("rows", "100000"));
    String props = opt.getOrDefault("props", "");
    String[][] targets = {{"direct", OdpJdbc.need(opt, "direct")}, {"odp", OdpJdbc.need(opt, "odp")}};
    String table = "jt_bench_" + ProcessHandle.current().pid();
    int rc = 0;
    for (String bulk : new String[] {"false", "true"}) {
      for (String[] tg : targets) {
        String url = Ctx.url(OdpJdbc.hostOf(tg[1]), OdpJdbc.portOf(tg[1]), "useBulkStmts=" + bulk
            + (props.isEmpty() ? "" : "&" + props));
        String t = table + "_" + tg[0];
        try (Connection c = DriverManager.getConnection(url)) {
          Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
          Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(60), d DOUBLE, n INT NULL)"
              + " DEFAULT CHARSET=utf8mb4");
          long t0 = System.nanoTime();
          c.setAutoCommit(false);
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
            fill(ps, 1, rows, false);
            ps.executeBatch();
          }
          c.commit();
          long ms = (System.nanoTime() - t0) / 1_000_000;
          c.setAutoCommit(true);
          long n = Ctx.count(c, t);
          Ctx.exec(c, "DROP TABLE " + t);
          System.out.printf("bench jdbc_batch target=%s useBulkStmts=%s rows=%d ms=%d rows_per_s=%d%s%n", tg[0], bulk,
              rows, ms, ms > 0 ? rows * 1000L / ms : 0, n == rows ? "" : " WRONG_ROW_COUNT=" + n);
          if (n != rows) {
            rc = 1;
          }
        } catch (BatchUpdateException e) {
          System.out.printf("bench jdbc_batch target=%s useBulkStmts=%s error=%s%n", tg[0], bulk, Obs.describe(e));
          rc = 1;
        } catch (SQLException e) {
          System.out.printf("bench jdbc_batch target=%s useBulkStmts=%s error=%s%n", tg[0], bulk, Obs.describe(e));
          rc = 1;
        }
      }
    }
    return rc;
  }
}
