import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;

/** Cases 4, 5, 6: streaming and large results, stored procedures, multi-statements. */
final class ResultCases {
  private ResultCases() {}

  static final String BIG_SELECT = "SELECT seq, CONCAT('row ', seq, ' \u00fc'), seq * 1.5, IF(seq % 10 = 0, NULL, seq)"
      + " FROM seq_1_to_100000";

  /** Case 4a: setFetchSize(Integer.MIN_VALUE) streaming, and a chunked fetch. */
  static void streaming(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
      try (Statement st = c.createStatement()) {
        st.setFetchSize(Integer.MIN_VALUE);
        try (ResultSet rs = st.executeQuery(BIG_SELECT)) {
          x.o.digest("streamed statement", rs);
        }
      }
      x.usable("after a streamed result", c);
      // A streamed result abandoned after 10 rows: the driver must skip the rest before the next query.
      try (PreparedStatement ps = c.prepareStatement(BIG_SELECT + " WHERE seq > ?")) {
        ps.setFetchSize(Integer.MIN_VALUE);
        ps.setInt(1, 5);
        try (ResultSet rs = ps.executeQuery()) {
          int n = 0;
          long sum = 0;
          while (n < 10 && rs.next()) {
            n++;
            sum += rs.getLong(1);
          }
          x.o.add("abandoned stream first rows", n, sum);
        }
      }
      x.usable("after an abandoned stream", c);
      try (PreparedStatement ps = c.prepareStatement(BIG_SELECT + " WHERE seq <= ?")) {
        ps.setFetchSize(1000);
        ps.setInt(1, 100000);
        try (ResultSet rs = ps.executeQuery()) {
          x.o.digest("fetch size 1000 prepared", rs);
        }
      }
    }
  }

  /**
   * Case 4b: large results read whole (several MB each), each followed by more statements on the
   * same connection.
   */
  static void largeResults(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
          "SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 200), seq * seq FROM seq_1_to_200000")) {
        x.o.digest("materialised large result", rs);
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT seq, REPEAT('x', ?) FROM seq_1_to_20000")) {
        ps.setInt(1, 300);
        try (ResultSet rs = ps.executeQuery()) {
          x.o.digest("materialised prepared result", rs);
        }
      }
      // Scrolling over a materialised result.
      try (Statement st = c.createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_READ_ONLY);
          ResultSet rs = st.executeQuery("SELECT seq FROM seq_1_to_1000")) {
        rs.last();
        x.o.add("scroll last", rs.getRow(), rs.getLong(1));
        rs.absolute(500);
        x.o.add("scroll absolute 500", rs.getLong(1));
        rs.beforeFirst();
        rs.next();
        x.o.add("scroll first", rs.getLong(1));
      }
      x.usable("after scrolling", c);
    }
  }

  /** Case 5: OUT and INOUT parameters, a function, and a procedure returning several result sets. */
  static void procedures(Ctx x) throws Exception {
    String pOut = x.t("p_out");
    String pMulti = x.t("p_multi");
    String pMod = x.t("p_mod");
    String fn = x.t("f_twice");
    String t = x.t("proc_tbl");
    try (Connection c = x.connect()) {
      for (String d : new String[] {"PROCEDURE " + pOut, "PROCEDURE " + pMulti, "PROCEDURE " + pMod, "FUNCTION " + fn}) {
        Ctx.exec(c, "DROP " + d.replace(" ", " IF EXISTS "));
        x.cleanupSql("DROP " + d.replace(" ", " IF EXISTS "));
      }
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, v INT)");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE PROCEDURE " + pOut + "(IN a INT, OUT b INT, INOUT s VARCHAR(50), OUT d DECIMAL(10,2))"
          + " BEGIN SET b = a * 2; SET s = CONCAT(s, '-', a, '-\u00e9'); SET d = a / 8; END");
      Ctx.exec(c, "CREATE PROCEDURE " + pMulti + "(IN n INT) BEGIN"
          + " SELECT n AS first_value;"
          + " SELECT seq, seq * n AS product FROM seq_1_to_3;"
          + " SELECT 'third' AS label, NULL AS nothing, CAST(n AS DECIMAL(5,1)) AS dec_value;"
          + " END");
      Ctx.exec(c, "CREATE PROCEDURE " + pMod + "(IN n INT) BEGIN"
          + " INSERT INTO " + t + " SELECT seq, seq FROM seq_1_to_5 WHERE seq <= n;"
          + " UPDATE " + t + " SET v = v * 10;"
          + " SELECT COUNT(*) AS c, SUM(v) AS s FROM " + t + ";"
          + " END");
      Ctx.exec(c, "CREATE FUNCTION " + fn + "(a INT) RETURNS INT DETERMINISTIC RETURN a * 2");

      try (CallableStatement cs = c.prepareCall("{call " + pOut + "(?, ?, ?, ?)}")) {
        cs.setInt(1, 21);
        cs.registerOutParameter(2, Types.INTEGER);
        cs.setString(3, "in");
        cs.registerOutParameter(3, Types.VARCHAR);
        cs.registerOutParameter(4, Types.DECIMAL);
        x.o.add("call out: execute returned a result set", cs.execute());
        x.o.add("call out values", cs.getInt(2), cs.getString(3), cs.getBigDecimal(4), cs.getObject(2));
        cs.setInt(1, 5);
        cs.setString(3, "again");
        cs.execute();
        x.o.add("call out second execution", cs.getInt(2), cs.getString(3), cs.getBigDecimal(4));
        x.o.add("call out parameter count", cs.getParameterMetaData().getParameterCount());
      }
      // Named OUT parameters: the driver reads the procedure's definition for the names.
      x.attempt("call out by name", () -> {
        try (CallableStatement cs = c.prepareCall("{call " + pOut + "(?, ?, ?, ?)}")) {
          cs.setInt("a", 3);
          cs.registerOutParameter("b", Types.INTEGER);
          cs.setString("s", "named");
          cs.registerOutParameter("s", Types.VARCHAR);
          cs.registerOutParameter("d", Types.DECIMAL);
          cs.execute();
          x.o.add("call out by name values", cs.getInt("b"), cs.getString("s"), cs.getBigDecimal("d"));
        }
      });
      try (CallableStatement cs = c.prepareCall("{? = call " + fn + "(?)}")) {
        cs.registerOutParameter(1, Types.INTEGER);
        cs.setInt(2, 21);
        cs.execute();
        x.o.add("function result", cs.getInt(1));
      }
      try (CallableStatement cs = c.prepareCall("{call " + pMulti + "(?)}")) {
        cs.setInt(1, 7);
        results(x, "callable multi", cs, cs.execute());
      }
      try (Statement st = c.createStatement()) {
        results(x, "statement CALL multi", st, st.execute("CALL " + pMulti + "(2)"));
        results(x, "statement CALL modifying", st, st.execute("CALL " + pMod + "(4)"));
      }
      x.usable("after procedures", c);
      try (PreparedStatement ps = c.prepareStatement("CALL " + pMulti + "(?)")) {
        ps.setInt(1, 3);
        results(x, "prepared CALL multi", ps, ps.execute());
      }
      x.usable("after prepared CALL", c);
    }
  }

  /** Walks every result of an execute(): result sets, update counts, until none is left. */
  static void results(Ctx x, String key, Statement st, boolean isResultSet) throws Exception {
    int i = 0;
    while (true) {
      i++;
      if (i > 20) {
        x.o.add(key, "more than 20 results: stopping");
        return;
      }
      if (isResultSet) {
        try (ResultSet rs = st.getResultSet()) {
          x.o.rows(key + " result " + i, rs);
        }
      } else {
        int uc = st.getUpdateCount();
        x.o.add(key + " result " + i + " update count", uc);
        if (uc == -1) {
          return;
        }
      }
      isResultSet = st.getMoreResults();
    }
  }

  /** Case 6: allowMultiQueries, getMoreResults, update counts, an error in the middle. */
  static void multiStatements(Ctx x) throws Exception {
    String t = x.t("multi");
    try (Connection c = x.connect("allowMultiQueries=true")) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, v INT)");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      try (Statement st = c.createStatement()) {
        results(x, "mixed", st, st.execute("INSERT INTO " + t + " VALUES (1, 10), (2, 20), (3, 30);"
            + " UPDATE " + t + " SET v = v + 1 WHERE id >= 2; SELECT * FROM " + t + " ORDER BY id;"
            + " DELETE FROM " + t + " WHERE id = 3; SELECT COUNT(*) AS n FROM " + t + "; SET @mv = 5; SELECT @mv"));
        results(x, "selects only", st, st.execute("SELECT 1 AS a; SELECT 'two' AS b, 2.5 AS c; SELECT seq FROM seq_1_to_3"));
        x.attempt("error in the middle", () -> results(x, "error in the middle", st,
            st.execute("SELECT 1 AS before_error; SELECT * FROM " + x.t("no_such_table") + "; SELECT 3 AS after_error")));
        x.usable("after the error", c);
        x.attempt("executeQuery of a multi-statement", () -> {
          try (ResultSet rs = st.executeQuery("SELECT 'q1' AS q; SELECT 'q2' AS q")) {
            x.o.rows("executeQuery first result", rs);
          }
          x.o.add("executeQuery more results", st.getMoreResults());
        });
        x.usable("after executeQuery", c);
        // Statement batch: with allowMultiQueries the driver sends it as one multi-statement.
        st.addBatch("INSERT INTO " + t + " VALUES (10, 1)");
        st.addBatch("INSERT INTO " + t + " VALUES (11, 1), (12, 1)");
        st.addBatch("UPDATE " + t + " SET v = 7 WHERE id >= 10");
        x.o.add("statement batch counts", (Object) st.executeBatch());
        x.o.add("update count of last execute", st.getUpdateCount());
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT ? AS p; SELECT COUNT(*) AS n FROM " + t)) {
        ps.setInt(1, 42);
        results(x, "prepared multi-statement", ps, ps.execute());
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + t + " ORDER BY id")) {
        x.o.rows("final table", rs);
      }
      Ctx.exec(c, "DROP TABLE " + t);
    }
  }
}
