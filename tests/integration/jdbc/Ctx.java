import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * One run of one case against one target (the server directly, or odp): how to connect in the
 * current mode, the target's own table prefix, the observations, and what to clean up.
 */
final class Ctx {
  /** Things one run needs to know beyond the target: the other servers, the CA, files. */
  record Setup(List<Integer> serverPorts, String host, String caPath, String tmpDir) {}

  final String mode;
  final String target; // "direct" or "odp"
  final String host;
  final int port;
  final Setup setup;
  final Obs o;
  final String prefix;
  private final List<Connection> opened = new ArrayList<>();
  private final List<String> cleanup = new ArrayList<>();

  Ctx(String mode, String target, String host, int port, Setup setup) {
    this.mode = mode;
    this.target = target;
    this.host = host;
    this.port = port;
    this.setup = setup;
    // Unique per mode and target: ctest may run the four modes at once, and every table created
    // on one server reaches the others by replication.
    this.prefix = "jt_" + mode + "_" + (target.equals("direct") ? "d" : "o") + "_";
    this.o = new Obs(prefix);
  }

  String t(String name) {
    return prefix + name;
  }

  /**
   * The connection properties of a mode (the four modes of the suite). No case records the
   * server's own view of TLS or compression (Ssl_cipher, Compression status): through odp the
   * server sees odp's connection, not the client's, so those differ by design. test_jdbc.py checks
   * odp's counters instead to prove the TLS and compressed runs really were TLS and compressed.
   */
  static String modeProps(String mode, Setup setup) {
    return switch (mode) {
      case "text" -> "useServerPrepStmts=false";
      case "prepared" -> "useServerPrepStmts=true";
      case "compress" -> "useCompression=true";
      // The sandbox CA signs the certificate of the servers and of odp (CN localhost, IP SAN
      // 127.0.0.1), so the driver verifies the chain and the host name.
      case "tls" -> "useSsl=true&serverSslCert=" + setup.caPath();
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    };
  }

  static String url(String host, int port, String props) {
    return "jdbc:mariadb://" + host + ":" + port + "/test?user=app&password=app"
        // No statement of the suite runs longer than a few seconds; a stuck one fails its case.
        + "&connectTimeout=10000&socketTimeout=30000" + (props.isEmpty() ? "" : "&" + props);
  }

  /** A connection in this mode; extra "k=v" properties come last and win. */
  Connection connect(String... extra) throws SQLException {
    String props = modeProps(mode, setup) + (extra.length > 0 ? "&" + String.join("&", extra) : "");
    Connection c = DriverManager.getConnection(url(host, port, props));
    synchronized (opened) {
      opened.add(c);
    }
    return c;
  }

  /** A plain connection straight to one sandbox server (for replication waits), any mode. */
  Connection connectServer(int serverPort) throws SQLException {
    Connection c = DriverManager.getConnection(url(setup.host(), serverPort, ""));
    synchronized (opened) {
      opened.add(c);
    }
    return c;
  }

  /** Runs after the case on a fresh connection (also after a failure): DROP TABLE and friends. */
  void cleanupSql(String sql) {
    cleanup.add(sql);
  }

  void runCleanup() {
    if (cleanup.isEmpty()) {
      return;
    }
    try (Connection c = DriverManager.getConnection(url(host, port, modeProps(mode, setup)));
        Statement s = c.createStatement()) {
      for (String sql : cleanup) {
        try {
          s.execute(sql);
        } catch (SQLException e) {
          // Best effort: a failed case may leave the target unusable; the next run drops again.
        }
      }
    } catch (SQLException e) {
      System.err.println("cleanup on " + target + " failed: " + Obs.describe(e));
    }
  }

  /** Closes what the case left open; abort() for anything stuck past the case deadline. */
  void closeAll(boolean abort) {
    List<Connection> cs;
    synchronized (opened) {
      cs = new ArrayList<>(opened);
      opened.clear();
    }
    for (Connection c : cs) {
      try {
        if (abort) {
          c.abort(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "abort");
            t.setDaemon(true);
            return t;
          }));
        } else if (!c.isClosed()) {
          c.close();
        }
      } catch (SQLException e) {
        // closing a connection the target already dropped: nothing more to learn here
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // small helpers used by the cases

  static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static Object scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getObject(1) : "(no row)";
    }
  }

  static long count(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Records whether the connection still answers a query (after an error, a cancel...). */
  void usable(String key, Connection c) {
    try {
      o.add(key + " usable", scalar(c, "SELECT 'still here'"));
    } catch (SQLException e) {
      o.error(key + " usable", e);
    }
  }

  interface SqlAction {
    void run() throws Exception;
  }

  /** Runs an action whose failure is itself an observation (an error the case may expect). */
  void attempt(String key, SqlAction a) {
    try {
      a.run();
      o.add(key, "ok");
    } catch (Exception e) {
      o.error(key, e);
    }
  }

  /** Same digest of a table's rows from any target: COUNT, SUM(id) and an MD5 over the rows. */
  void tableDigest(String key, Connection c, String table, String rowExpr) throws SQLException {
    exec(c, "SET SESSION group_concat_max_len = 1073741824");
    try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), SUM(id), MD5(GROUP_CONCAT(" + rowExpr
            + " ORDER BY id SEPARATOR '\\n')) FROM " + table);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      o.add(key, rs.getLong(1), rs.getObject(2), rs.getString(3));
    }
  }

  /**
   * Waits until a row is visible on every sandbox server directly (replication caught up), so a
   * visibility check does not depend on which server odp picked. Fails the case after 60 s.
   */
  void waitReplicated(String table, String where) throws Exception {
    long end = System.nanoTime() + 60_000_000_000L;
    for (int port : setup.serverPorts()) {
      try (Connection c = connectServer(port)) {
        while (true) {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table + " WHERE " + where)) {
            rs.next();
            if (rs.getLong(1) > 0) {
              break;
            }
          } catch (SQLException e) {
            // the table itself may not have replicated yet
          }
          if (System.nanoTime() > end) {
            throw new IllegalStateException("row " + where + " of " + table + " did not reach server "
                + port + " within 60 s");
          }
          Thread.sleep(20);
        }
      }
    }
  }
}
