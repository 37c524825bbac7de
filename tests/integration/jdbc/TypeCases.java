import java.io.DataInputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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

/** Case 1a and what the driver learns at connect: SQL types through setters and getters, the handshake. */
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
      // The connection id and the scramble differ on every connection: skipped, not compared.
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
      // CACHE_METADATA (result sets may leave out metadata the client cached) is not offered by odp:
      // it forwards responses by their packets' heads, and a statement prepared again on another
      // server connection would make the server's idea of what the client cached wrong.
      x.o.line("handshake mariadb capabilities: " + flags(mariadbCaps & ~(1L << 4), MARIADB_CAPS));
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
        lowerEdges(ps);
        x.o.add("insert row 1", ps.executeUpdate());
        upperEdges(ps);
        x.o.add("insert row 2", ps.executeUpdate());
        allNull(ps);
        x.o.add("insert row 3", ps.executeUpdate());
      }
      // row 4: setObject with the Java types an application passes (java.time, BigInteger...)
      x.attempt("insert row 4 setObject", () -> {
        try (PreparedStatement ps = c.prepareStatement(ins)) {
          Object[] v = {4, (byte) 5, (short) 6, (short) 7, 8, 9, 10, 11, 12L, -13L, new BigInteger("18446744073709551614"),
              new BigDecimal("3.14159"), new BigDecimal("-42"), 2.5f, 1.0 / 3, LocalDate.of(2024, 2, 29),
              LocalTime.of(23, 59, 58, 123_000_000), LocalDateTime.of(2024, 12, 31, 23, 59, 59, 999_999_000),
              Timestamp.valueOf("2001-02-03 04:05:06.7"), 2024, "c", "v\u00e9", null, null, null, "text", 1, true,
              Boolean.TRUE, "b", "y", "{\"a\":1}", null};
          for (int n = 0; n < v.length; n++) {
            ps.setObject(n + 1, v[n]);
          }
          x.o.add("insert row 4 count", ps.executeUpdate());
        }
      });
    }
    binaryColumns(x, t);
    readBack(x, t);
    echoParameters(x);
  }

  /** Row 1: the lower edge of every type. */
  private static void lowerEdges(PreparedStatement ps) throws SQLException {
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
  }

  /** Row 2: the upper edge of every type. */
  private static void upperEdges(PreparedStatement ps) throws SQLException {
    int k = 1;
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
  }

  /** Row 3: every column NULL through setNull with its JDBC type. */
  private static void allNull(PreparedStatement ps) throws SQLException {
    int[] nullTypes = {Types.TINYINT, Types.TINYINT, Types.SMALLINT, Types.SMALLINT, Types.INTEGER, Types.INTEGER,
        Types.INTEGER, Types.INTEGER, Types.BIGINT, Types.BIGINT, Types.DECIMAL, Types.DECIMAL, Types.FLOAT,
        Types.DOUBLE, Types.DATE, Types.TIME, Types.TIMESTAMP, Types.TIMESTAMP, Types.SMALLINT, Types.CHAR,
        Types.VARCHAR, Types.BINARY, Types.VARBINARY, Types.BLOB, Types.CLOB, Types.BIT, Types.BIT,
        Types.BOOLEAN, Types.VARCHAR, Types.VARCHAR, Types.VARCHAR, Types.INTEGER};
    ps.setInt(1, 3);
    for (int n = 0; n < nullTypes.length; n++) {
      ps.setNull(n + 2, nullTypes[n]);
    }
  }

  /**
   * The binary columns apart: in server-prepared mode Connector/J sends every byte[] parameter with
   * COM_STMT_SEND_LONG_DATA, and a proxy that fails on that must not hide the other types.
   */
  private static void binaryColumns(Ctx x, String t) throws Exception {
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
  }

  /** Every row back through the text protocol, the prepared path, and the typed getters. */
  private static void readBack(Ctx x, String t) throws Exception {
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
    }
  }

  /**
   * Parameters that come back as result columns: in server-prepared mode their types are the
   * parameter types the driver declared.
   */
  private static void echoParameters(Ctx x) throws Exception {
    try (Connection c = x.connect()) {
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
}
