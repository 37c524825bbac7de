import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;

/** Case 3: transactions, savepoints, isolation levels, consistent snapshots. */
final class TxCases {
  private TxCases() {}

  static String create(Ctx x, Connection c, String name) throws SQLException {
    String t = x.t(name);
    Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
    Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB");
    x.cleanupSql("DROP TABLE IF EXISTS " + t);
    return t;
  }

  /** Commit, rollback, savepoints, read-only, and what the session says about its transaction. */
  static void transactions(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
      String t = create(x, c, "tx");
      c.setAutoCommit(false);
      x.o.add("autocommit", c.getAutoCommit(), Ctx.scalar(c, "SELECT @@autocommit"));
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (1, 'rolled back')");
      x.o.add("in transaction", Ctx.scalar(c, "SELECT @@in_transaction"));
      c.rollback();
      x.o.add("rows after rollback", Ctx.count(c, t));
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (1, 'committed')");
      c.commit();
      x.o.add("rows after commit", Ctx.count(c, t));
      // savepoints
      Savepoint sp1 = c.setSavepoint("sp_one");
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (2, 'after sp1')");
      Savepoint sp2 = c.setSavepoint();
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (3, 'after sp2')");
      c.rollback(sp2);
      x.o.add("rows after rollback to sp2", Ctx.count(c, t));
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (4, 'after rollback to sp2')");
      c.releaseSavepoint(sp2);
      x.attempt("rollback to released savepoint", () -> c.rollback(sp2));
      c.rollback(sp1);
      x.o.add("rows after rollback to sp1", Ctx.count(c, t));
      Ctx.exec(c, "INSERT INTO " + t + " VALUES (5, 'kept')");
      c.commit();
      c.setAutoCommit(true);
      x.o.add("autocommit again", c.getAutoCommit(), Ctx.scalar(c, "SELECT @@autocommit"),
          Ctx.scalar(c, "SELECT @@in_transaction"));
      try (Statement st = c.createStatement(); var rs = st.executeQuery("SELECT * FROM " + t + " ORDER BY id")) {
        x.o.rows("committed rows", rs);
      }
      // Explicit SQL transactions with autocommit on.
      Ctx.exec(c, "START TRANSACTION");
      Ctx.exec(c, "UPDATE " + t + " SET v = 'changed' WHERE id = 1");
      x.o.add("in explicit transaction", Ctx.scalar(c, "SELECT @@in_transaction"));
      Ctx.exec(c, "ROLLBACK");
      x.o.add("value after explicit rollback", Ctx.scalar(c, "SELECT v FROM " + t + " WHERE id = 1"));
      Ctx.exec(c, "BEGIN");
      Ctx.exec(c, "DELETE FROM " + t + " WHERE id = 5");
      Ctx.exec(c, "COMMIT");
      x.o.add("rows after explicit commit", Ctx.count(c, t));
      // isolation levels as the driver sets them
      int[] levels = {Connection.TRANSACTION_READ_UNCOMMITTED, Connection.TRANSACTION_READ_COMMITTED,
          Connection.TRANSACTION_REPEATABLE_READ, Connection.TRANSACTION_SERIALIZABLE};
      for (int level : levels) {
        c.setTransactionIsolation(level);
        x.o.add("isolation " + level, c.getTransactionIsolation(), Ctx.scalar(c, "SELECT @@tx_isolation"));
      }
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      // read-only sessions refuse writes
      c.setReadOnly(true);
      x.o.add("read only", c.isReadOnly(), Ctx.scalar(c, "SELECT @@tx_read_only"));
      x.attempt("write in read-only transaction", () -> {
        c.setAutoCommit(false);
        try {
          Ctx.exec(c, "INSERT INTO " + t + " VALUES (9, 'read only?')");
        } finally {
          c.rollback();
          c.setAutoCommit(true);
        }
      });
      c.setReadOnly(false);
      x.o.add("read only off", c.isReadOnly(), Ctx.scalar(c, "SELECT @@tx_read_only"));
      x.o.add("final rows", Ctx.count(c, t));
      Ctx.exec(c, "DROP TABLE " + t);
    }
  }

  /**
   * READ COMMITTED sees a row another session committed meanwhile, REPEATABLE READ does not once its
   * snapshot exists (after its first read). The other session's row is waited for on every server
   * directly first, so the answer does not depend on where odp sent either session.
   */
  static void isolationVisibility(Ctx x) throws Exception {
    try (Connection a = x.connect(); Connection b = x.connect()) {
      String t = create(x, a, "iso");
      Ctx.exec(a, "INSERT INTO " + t + " VALUES (1, 'base')");
      x.waitReplicated(t, "id = 1");
      int id = 10;
      for (int level : new int[] {Connection.TRANSACTION_READ_COMMITTED, Connection.TRANSACTION_REPEATABLE_READ}) {
        a.setTransactionIsolation(level);
        a.setAutoCommit(false);
        x.o.add("level " + level + " first read", Ctx.count(a, t));
        Ctx.exec(b, "INSERT INTO " + t + " VALUES (" + ++id + ", 'from b')");
        x.waitReplicated(t, "id = " + id);
        x.o.add("level " + level + " read after b committed", Ctx.count(a, t));
        a.commit();
        a.setAutoCommit(true);
        x.o.add("level " + level + " after commit", Ctx.count(a, t));
      }
      Ctx.exec(a, "DROP TABLE " + t);
    }
  }

  /**
   * START TRANSACTION WITH CONSISTENT SNAPSHOT takes the snapshot at once: a row another session
   * commits afterwards is invisible to the transaction, even though the transaction had not read
   * anything yet. (A proxy that holds BEGIN back until the first statement breaks exactly this.)
   */
  static void consistentSnapshot(Ctx x) throws Exception {
    try (Connection a = x.connect(); Connection b = x.connect()) {
      String t = create(x, a, "snap");
      Ctx.exec(a, "INSERT INTO " + t + " VALUES (1, 'before')");
      x.waitReplicated(t, "id = 1");
      a.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      for (String how : new String[] {"sql", "sql with autocommit off"}) {
        int id = how.equals("sql") ? 2 : 3;
        if (!how.equals("sql")) {
          a.setAutoCommit(false);
        }
        Ctx.exec(a, "START TRANSACTION WITH CONSISTENT SNAPSHOT");
        Ctx.exec(b, "INSERT INTO " + t + " VALUES (" + id + ", 'committed by b after the snapshot')");
        x.waitReplicated(t, "id = " + id);
        long seen = Ctx.count(a, t);
        x.o.add(how + ": rows the snapshot sees", seen);
        x.o.check(how + ": the snapshot hides the row b committed after it", seen == id - 1);
        Ctx.exec(a, "COMMIT");
        x.o.add(how + ": rows after commit", Ctx.count(a, t));
        a.setAutoCommit(true);
      }
      Ctx.exec(a, "DROP TABLE " + t);
    }
  }
}
