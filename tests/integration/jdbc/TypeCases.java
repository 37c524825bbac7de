import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Time;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Cases 1, 13 and what the driver learns at connect: types, long data, the handshake. */
final class TypeCases {
  private TypeCases() {}

  private static final String[] CAPS = {"LONG_PASSWORD", "FOUND_ROWS", "LONG_FLAG", "CONNECT_WITH_DB",
      "NO_SCHEMA", "COMPRESS", "ODBC", "LOCAL_FILES", "IGNORE_SPACE", "PROTOCOL_41", "INTERACTIVE", "SSL",
      "IGNORE_SIGPIPE", "TRANSACTIONS", "RESERVED", "SECURE_CONNECTION", "MULTI_STATEMENTS", "MULTI_RESULTS",
      "PS_MULTI_RESULTS", "PLUGIN_AUTH", "CONNECT_ATTRS", "PLUGIN_AUTH_LENENC_DATA", "EXPIRED_PASSWORDS",
      "SESSION_TRACK", "DEPRECATE_EOF", "bit25", "bit26", "bit27", "bit28", "CAPABILITY_EXTENSION",
      "SSL_VERIFY_SERVER_CERT", "REMEMBER_OPTIONS"};
  private static final String[] MARIADB_CAPS = {"PROGRESS", "COM_MULTI", "STMT_BULK_OPERATIONS",
      "EXTENDED_TYPE_INFO", "CACHE_METADATA", "BULK_UNIT_RESULTS"};

  static String flags(long bits, String[] names) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      if ((bits & (1L << i)) != 0) {
        out.add(i < names.length ? names[i] : "bit" + i);
      }
    }
    return String.join(",", out);
  }

  /**
   * The initial handshake as Connector/J reads it: its capability bits decide what the driver
   * does later (bulk execution needs MariaDB's STMT_BULK_OPERATIONS, compression needs COMPRESS),
   * so a difference here explains differences in behaviour further down.
   */
  static void handshake(Ctx x) throws Exception {
    try (Socket s = new Socket(x.host, x.port)) {
      s.setSoTimeout(10_000);
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] h = new byte[4];
      in.readFully(h);
      int len = (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16;
      byte[] p = new byte[len];
      in.readFully(p);
      int i = 0;
      int proto = p[i++] & 0xff;
      int z = i;
      while (p[z] != 0) {
        z++;
      }
      String version = new String(p, i, z - i, StandardCharsets.US_ASCII);
      i = z + 1 + 4 + 8 + 1; // connection id, scramble part 1, filler
      long capLow = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8;
      int charset = p[i + 2] & 0xff;
      int status = (p[i + 3] & 0xff) | (p[i + 4] & 0xff) << 8;
      long capHigh = (p[i + 5] & 0xff) | (p[i + 6] & 0xff) << 8;
      long caps = capLow | capHigh << 16;
      i += 7 + 1 + 6; // auth data length, reserved
      long mariadbCaps = 0;
      if ((caps & 1) == 0) { // no CLIENT_MYSQL bit: the last 4 reserved bytes are MariaDB's
        mariadbCaps = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8 | (p[i + 2] & 0xff) << 16 | (long) (p[i + 3] & 0xff) << 24;
      }
      x.o.add("handshake protocol", proto);
      x.o.add("handshake server version", version);
      x.o.add("handshake charset", charset);
      x.o.add("handshake status", status);
      // The SSL bit differs when a side has no certificate; both have one in the sandbox.
      x.o.line("handshake capabilities: " + flags(caps, CAPS));
      x.o.line("handshake mariadb capabilities: " + flags(mariadbCaps, MARIADB_CAPS));
    }
    try (Connection c = x.connect()) {
      DatabaseMetaData md = c.getMetaData();
      x.o.add("product", md.getDatabaseProductName(), md.getDatabaseProductVersion(),
          md.getDatabaseMajorVersion(), md.getDatabaseMinorVersion());
      x.o.add("driver", md.getDriverName(), md.getDriverVersion());
      x.o.add("user", md.getUserName());
      x.o.add("catalog", c.getCatalog());
      x.o.add("autocommit", c.getAutoCommit(), "isolation", c.getTransactionIsolation());
      x.o.add("valid", c.isValid(5));
      x.o.add("supports", md.supportsBatchUpdates(), md.supportsSavepoints(), md.supportsMultipleResultSets(),
          md.supportsStoredProcedures(), md.supportsTransactionIsolationLevel(Connection.TRANSACTION_SERIALIZABLE));
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT DATABASE(), CURRENT_USER() LIKE 'app@%', @@character_set_client,"
              + " @@character_set_connection, @@character_set_results, @@collation_connection, @@autocommit")) {
        x.o.rows("session at connect", rs);
      }
    }
  }

  static final String TYPES_COLS =
      "id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,"
      + " mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,"
      + " de DECIMAL(30,10), de0 DECIMAL(65,0), fl FLOAT, db DOUBLE, d DATE, tm TIME(3), dt DATETIME(6),"
      + " ts TIMESTAMP(6) NULL, y YEAR, c CHAR(10), vc VARCHAR(200), bn BINARY(4), vb VARBINARY(64),"
      + " bl BLOB, tx TEXT, bt BIT(12), b1 BIT(1), bo BOOLEAN, e ENUM('a','b','\u00e7'), st SET('x','y','z'),"
      + " j JSON, n INT NULL";
  static final int TYPES_NCOLS = 33;

  /** Case 1a: every common SQL type through PreparedStatement setters and ResultSet getters. */
  static void types(Ctx x) throws Exception {
    String t = x.t("types");
    try (Connection c = x.connect()) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (" + TYPES_COLS + ") DEFAULT CHARSET=utf8mb4");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      String ins = "INSERT INTO " + t + " VALUES (" + "?,".repeat(TYPES_NCOLS - 1) + "?)";
      try (PreparedStatement ps = c.prepareStatement(ins)) {
        // row 1: lower edges
        int k = 1;
        ps.setInt(k++, 1);
        ps.setByte(k++, (byte) -128);
        ps.setShort(k++, (short) 0);
        ps.setShort(k++, Short.MIN_VALUE);
        ps.setInt(k++, 0);
        ps.setInt(k++, -8388608);
        ps.setInt(k++, 0);
        ps.setInt(k++, Integer.MIN_VALUE);
        ps.setLong(k++, 0);
        ps.setLong(k++, Long.MIN_VALUE);
        ps.setBigDecimal(k++, BigDecimal.ZERO);
        ps.setBigDecimal(k++, new BigDecimal("-12345678901234567890.0123456789"));
        ps.setBigDecimal(k++, new BigDecimal("-" + "9".repeat(65)));
        ps.setFloat(k++, -1.0e-5f);
        ps.setDouble(k++, -Double.MAX_VALUE);
        ps.setDate(k++, Date.valueOf("1970-01-02"));
        ps.setString(k++, "-838:59:59.000");
        ps.setString(k++, "1000-01-01 00:00:00.000001");
        ps.setTimestamp(k++, Timestamp.valueOf("1970-01-02 00:00:00.5"));
        ps.setInt(k++, 1901);
        ps.setString(k++, "ab");
        ps.setString(k++, "h\u00e9llo w\u00f6rld \u2713 \ud83d\ude00 \u4e2d\u6587");
        k = binaryLater(ps, k);
        ps.setString(k++, "multi\nline\ttext 'quoted' \\ back \ud83d\ude00");
        ps.setInt(k++, 0xabc);
        ps.setBoolean(k++, true);
        ps.setBoolean(k++, false);
        ps.setString(k++, "\u00e7");
        ps.setString(k++, "x,z");
        ps.setString(k++, "{\"k\": [1, 2.5, \"\u00fc\", null, true]}");
        ps.setNull(k++, Types.INTEGER);
        x.o.add("insert row 1", ps.executeUpdate());
        // row 2: upper edges
        k = 1;
        ps.setInt(k++, 2);
        ps.setByte(k++, (byte) 127);
        ps.setShort(k++, (short) 255);
        ps.setShort(k++, Short.MAX_VALUE);
        ps.setInt(k++, 65535);
        ps.setInt(k++, 8388607);
        ps.setInt(k++, 16777215);
        ps.setInt(k++, Integer.MAX_VALUE);
        ps.setLong(k++, 4294967295L);
        ps.setLong(k++, Long.MAX_VALUE);
        ps.setBigDecimal(k++, new BigDecimal("18446744073709551615"));
        ps.setBigDecimal(k++, new BigDecimal("99999999999999999999.9999999999"));
        ps.setBigDecimal(k++, new BigDecimal("9".repeat(65)));
        ps.setFloat(k++, 3.4028e38f); // Float.MAX_VALUE prints as 3.4028235E38, above MariaDB's FLOAT range
        ps.setDouble(k++, Double.MIN_NORMAL);
        ps.setDate(k++, Date.valueOf("9999-12-31"));
        ps.setString(k++, "838:59:59.999");
        ps.setTimestamp(k++, Timestamp.valueOf("9999-12-31 23:59:59.999999"));
        ps.setTimestamp(k++, Timestamp.valueOf("2038-01-18 00:00:00.123456"));
        ps.setShort(k++, (short) 2155);
        ps.setString(k++, "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc");
        ps.setString(k++, "\ud83d\ude00".repeat(50));
        k = binaryLater(ps, k);
        ps.setString(k++, "");
        ps.setLong(k++, 4095);
        ps.setBoolean(k++, false);
        ps.setBoolean(k++, true);
        ps.setString(k++, "a");
        ps.setString(k++, "");
        ps.setString(k++, "[]");
        ps.setInt(k++, -1);
        x.o.add("insert row 2", ps.executeUpdate());
        // row 3: every column NULL through setNull with its type
        int[] nullTypes = {Types.TINYINT, Types.TINYINT, Types.SMALLINT, Types.SMALLINT, Types.INTEGER, Types.INTEGER,
            Types.INTEGER, Types.INTEGER, Types.BIGINT, Types.BIGINT, Types.DECIMAL, Types.DECIMAL, Types.FLOAT,
            Types.DOUBLE, Types.DATE, Types.TIME, Types.TIMESTAMP, Types.TIMESTAMP, Types.SMALLINT, Types.CHAR,
            Types.VARCHAR, Types.BINARY, Types.VARBINARY, Types.BLOB, Types.CLOB, Types.BIT, Types.BIT,
            Types.BOOLEAN, Types.VARCHAR, Types.VARCHAR, Types.VARCHAR, Types.INTEGER};
        ps.setInt(1, 3);
        for (int n = 0; n < nullTypes.length; n++) {
          ps.setNull(n + 2, nullTypes[n]);
        }
        x.o.add("insert row 3", ps.executeUpdate());
      }
      // row 4: setObject with the Java types an application passes (java.time, BigInteger...)
      x.attempt("insert row 4 setObject", () -> {
        try (PreparedStatement ps = c.prepareStatement(ins)) {
          Object[] v = {4, (byte) 5, (short) 6, (short) 7, 8, 9, 10, 11, 12L, -13L, new BigInteger("18446744073709551614"),
              new BigDecimal("3.14159"), new BigDecimal("-42"), 2.5f, 1.0 / 3, LocalDate.of(2024, 2, 29),
              LocalTime.of(23, 59, 58, 123_000_000), LocalDateTime.of(2024, 12, 31, 23, 59, 59, 999_999_000),
              Timestamp.valueOf("2001-02-03 04:05:06.7"), 2024, "c", "v\u00e9", null, null, null, "text", 1, true, Boolean.TRUE, "b",
              "y", "{\"a\":1}", null};
          for (int n = 0; n < v.length; n++) {
            ps.setObject(n + 1, v[n]);
          }
          x.o.add("insert row 4 count", ps.executeUpdate());
        }
      });
    }
    // The binary columns apart: in server-prepared mode Connector/J sends every byte[] parameter
    // with COM_STMT_SEND_LONG_DATA, and a proxy that fails on that must not hide the other types.
    Object[][] bins = {
        {1, new byte[] {0, 1, 2, (byte) 255}, new byte[] {0, (byte) 0xff, '\'', '\\', '"', 0x1a}, all256()},
        {2, new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}, new byte[0], new byte[0]},
        {4, new byte[] {9, 8, 7, 6}, new byte[] {1}, "blob as string".getBytes(StandardCharsets.UTF_8)}};
    for (Object[] b : bins) {
      try (Connection c = x.connect()) {
        x.attempt("binary columns of row " + b[0], () -> {
          try (PreparedStatement ps = c.prepareStatement("UPDATE " + t + " SET bn = ?, vb = ?, bl = ? WHERE id = ?")) {
            for (int k = 1; k <= 3; k++) {
              if ((int) b[0] == 4) {
                ps.setObject(k, b[k]);
              } else {
                ps.setBytes(k, (byte[]) b[k]);
              }
            }
            ps.setInt(4, (int) b[0]);
            x.o.add("binary columns of row " + b[0] + " count", ps.executeUpdate());
          }
        });
      }
    }
    try (Connection c = x.connect()) {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + t + " ORDER BY id")) {
        x.o.rows("statement select", rs);
      }
      // Through a PreparedStatement: the binary protocol in server-prepared mode.
      try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + t + " WHERE id >= ? ORDER BY id")) {
        ps.setInt(1, 0);
        try (ResultSet rs = ps.executeQuery()) {
          x.o.rows("prepared select", rs);
        }
      }
      // Typed getters on the upper edges, some of which the driver must refuse (out of range).
      try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + t + " WHERE id = ?")) {
        ps.setInt(1, 2);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          x.attempt("getLong(biu)", () -> x.o.add("getLong(biu) value", rs.getLong("biu")));
          x.o.add("getBigDecimal(biu)", rs.getBigDecimal("biu"));
          x.attempt("getInt(iu)", () -> x.o.add("getInt(iu) value", rs.getInt("iu")));
          x.o.add("getLong(iu)", rs.getLong("iu"));
          x.o.add("getBytes(bt)", rs.getBytes("bt"));
          x.o.add("getInt(bt)", rs.getInt("bt"));
          x.o.add("getInt(y)", rs.getInt("y"));
          x.o.add("getTimestamp(dt)", rs.getTimestamp("dt"));
          x.o.add("getString(tm)", rs.getString("tm"));
          x.attempt("getTime(tm)", () -> x.o.add("getTime(tm) value", rs.getTime("tm")));
          x.o.add("getFloat(fl)", rs.getFloat("fl"));
          x.o.add("getDouble(db)", rs.getDouble("db"));
          x.o.add("getBoolean(b1)", rs.getBoolean("b1"));
          x.o.add("getString(vc)", rs.getString("vc"));
          x.o.add("getInt(n)", rs.getInt("n"), rs.wasNull());
          x.o.add("getObject(j)", rs.getObject("j"));
          x.o.add("getDate(d)", rs.getDate("d"));
        }
      }
      // Parameters that come back as result columns: in server-prepared mode their types are the
      // parameter types the driver declared.
      try (PreparedStatement ps = c.prepareStatement("SELECT ? AS p_int, ? AS p_long, ? AS p_dec, ? AS p_dbl,"
          + " ? AS p_str, ? AS p_date, ? AS p_ts, ? AS p_null, ? AS p_bool, ? AS p_time")) {
        ps.setInt(1, -7);
        ps.setLong(2, Long.MIN_VALUE);
        ps.setBigDecimal(3, new BigDecimal("12345.6789"));
        ps.setDouble(4, 0.1);
        ps.setString(5, "\u00e7a \ud83d\ude00");
        ps.setDate(6, Date.valueOf("2020-02-29"));
        ps.setTimestamp(7, Timestamp.valueOf("2020-02-29 12:34:56.789"));
        ps.setNull(8, Types.VARCHAR);
        ps.setBoolean(9, true);
        ps.setTime(10, Time.valueOf("12:34:56"));
        try (ResultSet rs = ps.executeQuery()) {
          x.o.rows("parameter echo", rs);
        }
        x.o.add("parameter count", ps.getParameterMetaData().getParameterCount());
      }
      x.attempt("byte[] parameter echo", () -> {
        try (PreparedStatement ps = c.prepareStatement("SELECT ? AS p_bytes, HEX(?) AS p_hex")) {
          ps.setBytes(1, new byte[] {0, (byte) 0x80, '\''});
          ps.setBytes(2, new byte[] {0, (byte) 0x80, '\''});
          try (ResultSet rs = ps.executeQuery()) {
            x.o.rows("byte[] parameter echo", rs);
          }
        }
      });
    }
  }

  /** Leaves the three binary columns (bn, vb, bl) NULL for now; they are set by their own UPDATE. */
  private static int binaryLater(PreparedStatement ps, int k) throws SQLException {
    ps.setNull(k, Types.BINARY);
    ps.setNull(k + 1, Types.VARBINARY);
    ps.setNull(k + 2, Types.BLOB);
    return k + 3;
  }

  private static byte[] all256() {
    byte[] b = new byte[256];
    for (int k = 0; k < 256; k++) {
      b[k] = (byte) k;
    }
    return b;
  }

  // ---------------------------------------------------------------------------------------------
  // long data

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
        String col = m.binary() ? "b" : "c";
        String what = m.name() + (big ? " big" : " small");
        int lead = ++id;
        int trail = ++id;
        int every = ++id;
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
        // Read back on a fresh connection: what reached the server, whatever happened above.
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

  static InputStream stream(byte[] b) {
    return new ByteArrayInputStream(b);
  }
}
