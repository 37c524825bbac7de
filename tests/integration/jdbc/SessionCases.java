import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;

/** Cases 9 and 10: session variables, what a fresh session looks like, CONNECTION_ID(). */
final class SessionCases {
  private SessionCases() {}

  /** Case 9a: SET sql_mode / time_zone / a user variable, read back, and their effects. */
  static void sessionVars(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
      Ctx.exec(c, "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_ZERO_DATE'");
      Ctx.exec(c, "SET time_zone = '+05:30'");
      Ctx.exec(c, "SET @jdbc_user_var = 'h\u00e9llo \ud83d\ude00', @jdbc_n = 42");
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT @@sql_mode, @@time_zone, @jdbc_user_var, @jdbc_n,"
              + " FROM_UNIXTIME(0), \"x\" FROM (SELECT 1 AS x) AS d")) {
        x.o.rows("after SET", rs);
      }
      // The same through a prepared statement (server-prepared in that mode).
      try (PreparedStatement ps = c.prepareStatement("SELECT @@sql_mode, @@time_zone, @jdbc_user_var, ? + @jdbc_n")) {
        ps.setInt(1, 1);
        try (ResultSet rs = ps.executeQuery()) {
          x.o.rows("prepared after SET", rs);
        }
      }
      // Many statements later (odp may have handed the session to other server connections).
      for (int i = 0; i < 20; i++) {
        Ctx.scalar(c, "SELECT " + i);
      }
      x.o.add("still set", Ctx.scalar(c, "SELECT CONCAT_WS('|', @@sql_mode, @@time_zone, @jdbc_user_var, @jdbc_n)"));
      // SET NAMES and character sets.
      Ctx.exec(c, "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
      x.o.add("collation", Ctx.scalar(c, "SELECT @@collation_connection"));
      x.o.add("unicode compare", Ctx.scalar(c, "SELECT '\u00e9' = 'e'"));
      Ctx.exec(c, "SET @@session.autocommit = 0");
      x.o.add("driver after SET autocommit=0", c.getAutoCommit());
      Ctx.exec(c, "SET @@session.autocommit = 1");
      x.o.add("driver after SET autocommit=1", c.getAutoCommit());
      c.setCatalog("test");
      x.o.add("database", Ctx.scalar(c, "SELECT DATABASE()"), c.getCatalog());
    }
  }

  /**
   * Case 9b: 20 fresh connections, each asked for its session variables. Connector/J logs in with
   * CLIENT_IGNORE_SPACE, so on the server every JDBC session's sql_mode contains IGNORE_SPACE;
   * through a proxy the session must look the same, connection by connection.
   */
  static void freshSessions(Ctx x) throws Exception {
    for (int i = 1; i <= 20; i++) {
      try (Connection c = x.connect(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT @@sql_mode, @@session.autocommit, @@character_set_client,"
              + " @@character_set_connection, @@character_set_results, @@collation_connection, @@time_zone,"
              + " @@tx_isolation, @@auto_increment_increment > 0, @@max_allowed_packet, @@net_write_timeout,"
              + " @@wait_timeout, DATABASE(), @jdbc_user_var")) {
        rs.next();
        // sql_mode on a line of its own: it is the variable known to differ, and the report is read.
        x.o.line("session " + i + " sql_mode: " + rs.getString(1));
        StringBuilder b = new StringBuilder("session " + i + " others:");
        ResultSetMetaData md = rs.getMetaData();
        for (int k = 2; k <= md.getColumnCount(); k++) {
          b.append(' ').append(md.getColumnLabel(k)).append('=').append(rs.getString(k));
        }
        x.o.line(b.toString());
      }
    }
  }

  /**
   * Case 10: SELECT CONNECTION_ID(): the column label is the expression text, getLong by that label
   * works, the value is positive and the one the driver got in the handshake (which Connector/J
   * uses for KILL QUERY when cancelling).
   */
  static void connectionId(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
      long driverId = c.unwrap(org.mariadb.jdbc.MariaDbConnection.class).getServerThreadId();
      for (String sql : new String[] {"SELECT CONNECTION_ID()", "SELECT CONNECTION_ID() AS cid",
          "SELECT connection_id(), 1 + 1", "SELECT CONNECTION_ID() + 0"}) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
          record(x, "statement " + sql, rs, driverId);
        }
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
          record(x, "prepared " + sql, rs, driverId);
        }
      }
      x.attempt("getLong(\"CONNECTION_ID()\")", () -> {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT CONNECTION_ID()")) {
          rs.next();
          x.o.add("getLong by label is the id", rs.getLong("CONNECTION_ID()") == driverId);
        }
      });
    }
  }

  static void record(Ctx x, String key, ResultSet rs, long driverId) throws Exception {
    ResultSetMetaData md = rs.getMetaData();
    for (int i = 1; i <= md.getColumnCount(); i++) {
      x.o.add(key + " col" + i, md.getColumnLabel(i), md.getColumnName(i), md.getColumnTypeName(i),
          md.getColumnClassName(i));
    }
    rs.next();
    long id = rs.getLong(1);
    // The id itself differs between targets; that it is the driver's thread id must not.
    x.o.add(key + " value", "positive=" + (id > 0), "equals driver thread id=" + (id == driverId),
        rs.getObject(1).getClass().getSimpleName());
  }
}
