import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Random;

/** Cases 1b and 13: long values through every setter, and the minimal long-data repro. */
final class LongDataCases {
  private LongDataCases() {}

  /** How a long value is handed to the driver; server-prepared mode sends these as long data. */
  interface Setter {
    void set(Connection c, PreparedStatement ps, int i, byte[] bin, String txt) throws Exception;
  }

  record Method(String name, boolean binary, Setter setter) {}

  static final List<Method> METHODS = List.of(
      new Method("setBytes", true, (c, ps, i, b, s) -> ps.setBytes(i, b)),
      new Method("setBinaryStream", true, (c, ps, i, b, s) -> ps.setBinaryStream(i, new ByteArrayInputStream(b))),
      new Method("setBinaryStream(len)", true,
          (c, ps, i, b, s) -> ps.setBinaryStream(i, new ByteArrayInputStream(b), (long) b.length)),
      new Method("setBlob(Blob)", true, (c, ps, i, b, s) -> {
        Blob bl = c.createBlob();
        bl.setBytes(1, b);
        ps.setBlob(i, bl);
      }),
      new Method("setBlob(InputStream)", true, (c, ps, i, b, s) -> ps.setBlob(i, new ByteArrayInputStream(b))),
      new Method("setCharacterStream", false, (c, ps, i, b, s) -> ps.setCharacterStream(i, new StringReader(s))),
      new Method("setCharacterStream(len)", false,
          (c, ps, i, b, s) -> ps.setCharacterStream(i, new StringReader(s), s.length())),
      new Method("setClob(Clob)", false, (c, ps, i, b, s) -> {
        Clob cl = c.createClob();
        cl.setString(1, s);
        ps.setClob(i, cl);
      }),
      new Method("setClob(Reader)", false, (c, ps, i, b, s) -> ps.setClob(i, new StringReader(s))));

  static byte[] binData(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static String textData(int minUtf8Bytes) {
    String unit = "h\u00e9llo w\u00f6rld \ud83d\ude00 ' \\ \" \u4e2d ";
    StringBuilder b = new StringBuilder();
    int bytes = 0;
    int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
    while (bytes < minUtf8Bytes) {
      b.append(unit);
      bytes += unitBytes;
    }
    return b.toString();
  }

  /** The setters also tried with values above 1 MiB (the others only with small values). */
  static final java.util.Set<String> BIG_METHODS =
      java.util.Set.of("setBytes", "setBinaryStream", "setBlob(Blob)", "setCharacterStream", "setClob(Clob)");

  /**
   * Case 1b: long values through every setter, small and (for the main setters) above 1 MiB, as the
   * leading parameter, the trailing one, and in every position. In server-prepared mode Connector/J
   * sends each of them with COM_STMT_SEND_LONG_DATA before COM_STMT_EXECUTE. Every setter and size
   * gets its own connection, so one failure does not hide the next.
   */
  static void longData(Ctx x) throws Exception {
    String t = x.t("longdata");
    byte[] smallBin = {0, 'A', '\'', '\\', (byte) 0xff};
    String smallTxt = "h\u00e9 '\\ \ud83d\ude00";
    byte[] bigBin = binData((1 << 20) + 17, 11);
    String bigTxt = textData((1 << 20) + 5);
    try (Connection c = x.connect()) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, n INT, s VARCHAR(40), b1 LONGBLOB, b2 LONGBLOB,"
          + " b3 LONGBLOB, c1 LONGTEXT, c2 LONGTEXT, c3 LONGTEXT) DEFAULT CHARSET=utf8mb4");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
    }
    int id = 0;
    for (Method m : METHODS) {
      for (boolean big : new boolean[] {false, true}) {
        if (big && !BIG_METHODS.contains(m.name())) {
          continue;
        }
        byte[] bin = big ? bigBin : smallBin;
        String txt = big ? bigTxt : smallTxt;
        String what = m.name() + (big ? " big" : " small");
        int lead = ++id;
        int trail = ++id;
        int every = ++id;
        write(x, t, m, what, bin, txt, lead, trail, every);
        readBack(x, t, what, lead, trail, every);
      }
    }
    // The big values back through the streaming getters.
    try (Connection c = x.connect()) {
      x.attempt("streaming getters", () -> {
        try (Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT id, b1, c1 FROM " + t + " WHERE LENGTH(b1) > 1048576"
                + " OR LENGTH(c1) > 1048576 ORDER BY id")) {
          while (rs.next()) {
            int r = rs.getInt(1);
            byte[] viaStream = rs.getBinaryStream(2) == null ? null : Obs.readAll(rs.getBinaryStream(2));
            Blob bl = rs.getBlob(2);
            x.o.add("stream getters row " + r, viaStream, bl == null ? null : bl.length(),
                rs.getCharacterStream(3) == null ? null : Obs.readAll(rs.getCharacterStream(3)),
                rs.getClob(3) == null ? null : rs.getClob(3).length());
          }
        }
        x.o.add("big binary value came back intact", bigBinIntact(c, t, bigBin));
      });
    }
  }

  /** One setter and size: the long value leading, trailing, and in every position. */
  private static void write(Ctx x, String t, Method m, String what, byte[] bin, String txt, int lead, int trail,
      int every) throws SQLException {
    String col = m.binary() ? "b" : "c";
    try (Connection c = x.connect()) {
      // leading: the long value is the first parameter
      x.attempt(what + " leading", () -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (" + col + "1, id, s) VALUES (?, ?, ?)")) {
          m.setter().set(c, ps, 1, bin, txt);
          ps.setInt(2, lead);
          ps.setString(3, "leading");
          x.o.add(what + " leading count", ps.executeUpdate());
        }
      });
      x.attempt(what + " trailing", () -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, " + col + "1) VALUES (?, ?, ?)")) {
          ps.setInt(1, trail);
          ps.setString(2, "trailing");
          m.setter().set(c, ps, 3, bin, txt);
          x.o.add(what + " trailing count", ps.executeUpdate());
        }
      });
      // every parameter is a long value: an UPDATE of a row inserted with literals
      x.attempt(what + " every position", () -> {
        Ctx.exec(c, "INSERT INTO " + t + " (id, s) VALUES (" + every + ", 'every')");
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t + " SET " + col + "1 = ?, " + col + "2 = ?, "
            + col + "3 = ? WHERE id = " + every)) {
          for (int p = 1; p <= 3; p++) {
            m.setter().set(c, ps, p, bin, txt);
          }
          x.o.add(what + " every position count", ps.executeUpdate());
        }
      });
    }
  }

  /** Reads the three rows back on a fresh connection: what reached the server, whatever happened. */
  private static void readBack(Ctx x, String t, String what, int lead, int trail, int every) throws SQLException {
    try (Connection c = x.connect()) {
      x.attempt(what + " read back", () -> {
        for (int r : new int[] {lead, trail, every}) {
          try (PreparedStatement ps = c.prepareStatement("SELECT id, s, LENGTH(b1), MD5(b1), LENGTH(b2), MD5(b3),"
              + " LENGTH(c1), MD5(c1), CHAR_LENGTH(c2), MD5(c3), b1, c3 FROM " + t + " WHERE id = ?")) {
            ps.setInt(1, r);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                x.o.add(what + " row " + r, "missing");
                continue;
              }
              StringBuilder b = new StringBuilder(what + " row " + r + ":");
              for (int col2 = 1; col2 <= 12; col2++) {
                b.append(' ').append(Obs.show(rs.getObject(col2)));
              }
              x.o.line(b.toString());
            }
          }
        }
      });
    }
  }

  private static boolean bigBinIntact(Connection c, String t, byte[] bigBin) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT b1 FROM " + t + " WHERE LENGTH(b1) = " + bigBin.length + " LIMIT 1")) {
      return rs.next() && java.util.Arrays.equals(rs.getBytes(1), bigBin);
    }
  }

  /**
   * Case 13: the smallest statement that makes Connector/J send COM_STMT_SEND_LONG_DATA: three
   * parameters of "AB" given as streams / byte arrays to a server-prepared SELECT. Run with the
   * mode's own setting and with useServerPrepStmts=true forced (so every mode covers long data).
   */
  static void longDataMinimal(Ctx x) throws Exception {
    String sql = "SELECT ? AS a, CONCAT('[', ?, ']') AS b, ? IS NULL AS c";
    byte[] ab = "AB".getBytes(StandardCharsets.US_ASCII);
    String[][] variants = {{"mode default"}, {"server-prepared", "useServerPrepStmts=true"}};
    for (String[] v : variants) {
      String[] extra = java.util.Arrays.copyOfRange(v, 1, v.length);
      for (String how : new String[] {"stream,bytes,stream", "bytes,bytes,bytes"}) {
        String key = v[0] + " " + how;
        try (Connection c = x.connect(extra)) {
          x.attempt(key, () -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              for (int round = 1; round <= 2; round++) {
                String[] kinds = how.split(",");
                for (int p = 0; p < 3; p++) {
                  if (kinds[p].equals("stream")) {
                    ps.setBinaryStream(p + 1, new ByteArrayInputStream(ab));
                  } else {
                    ps.setBytes(p + 1, ab);
                  }
                }
                try (ResultSet rs = ps.executeQuery()) {
                  x.o.rows(key + " round " + round, rs);
                }
              }
            }
          });
          x.usable(key, c);
        }
      }
    }
  }
}
