import java.io.ByteArrayInputStream;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;

/** Case 12: compressed-protocol specifics (runs in the compress mode only). */
final class CompressCases {
  private CompressCases() {}

  /** One below the 16 MiB - 1 packet limit minus the SQL around it: the boundary packets. */
  static final int NEAR_16MIB = 16_777_116;
  static final int SEVENTEEN_MIB = 17 << 20;

  static void compressSpecifics(Ctx x) throws Exception {
    rewrittenBatches(x);
    bigBlobs(x);
    incompressibleStatement(x);
    afterMultiAndLoad(x);
  }

  /** Compression together with rewritten batches, from the connect on. */
  private static void rewrittenBatches(Ctx x) {
    x.attempt("connect useCompression+rewriteBatchedStatements", () -> {
      try (Connection c = x.connect("useCompression=true", "rewriteBatchedStatements=true")) {
        x.o.add("first query", Ctx.scalar(c, "SELECT 'first'"));
        String t = x.t("zbatch");
        Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
        Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(60), d DOUBLE, n INT NULL)");
        x.cleanupSql("DROP TABLE IF EXISTS " + t);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, s, d, n) VALUES (?, ?, ?, ?)")) {
          BatchCases.fill(ps, 1, 5000);
          x.o.add("rewritten batch counts", (Object) ps.executeBatch());
        }
        x.tableDigest("rewritten batch rows", c, t, BatchCases.ROW);
        Ctx.exec(c, "DROP TABLE " + t);
      }
    });

  }

  /** Blobs around and past the 16 MiB packet boundary, text and server-prepared. */
  private static void bigBlobs(Ctx x) throws Exception {
    String t = x.t("zblob");
    try (Connection c = x.connect("useCompression=true")) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + t);
      Ctx.exec(c, "CREATE TABLE " + t + " (id INT PRIMARY KEY, b LONGBLOB)");
      x.cleanupSql("DROP TABLE IF EXISTS " + t);
      // The sandbox servers run with max_allowed_packet = 1G; the driver sizes its packets by it.
      x.o.add("max_allowed_packet", Ctx.scalar(c, "SELECT @@max_allowed_packet"));
    }
    byte[] letters = new byte[NEAR_16MIB];
    for (int i = 0; i < letters.length; i++) {
      letters[i] = (byte) ('a' + i % 26); // needs no escaping: the text packet is exactly prefix + blob + suffix
    }
    byte[] random = LongDataCases.binData(SEVENTEEN_MIB, 17);
    Object[][] blobs = {{"16777116 letters", letters}, {"17 MiB random", random}};
    int id = 0;
    for (String[] props : new String[][] {{"useCompression=true"}, {"useCompression=true", "useServerPrepStmts=true"}}) {
      String how = props.length == 1 ? "text" : "server-prepared";
      for (Object[] bl : blobs) {
        String key = how + " " + bl[0];
        byte[] data = (byte[]) bl[1];
        int rowId = ++id;
        try (Connection c = x.connect(props)) {
          x.attempt(key + " insert", () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, b) VALUES (?, ?)")) {
              ps.setInt(1, rowId);
              ps.setBytes(2, data);
              x.o.add(key + " insert count", ps.executeUpdate());
            }
          });
          x.attempt(key + " read back", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT LENGTH(b), MD5(b), b FROM " + t + " WHERE id = ?")) {
              ps.setInt(1, rowId);
              try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                  byte[] back = rs.getBytes(3);
                  x.o.add(key + " row", rs.getLong(1), rs.getString(2), back);
                  x.o.add(key + " bytes equal", Arrays.equals(back, data));
                } else {
                  x.o.add(key + " row", "missing");
                }
              }
            }
          });
          x.usable(key, c);
        }
      }
    }

  }

  /**
   * A statement longer than 100 bytes that deflate cannot shrink by 10%: Connector/J 2.7 then sends
   * it uncompressed, but with inner sequence id 1 (its compression attempt already counted a
   * sequence number). MariaDB accepts that.
   */
  private static void incompressibleStatement(Ctx x) throws Exception {
    String incompressible = "SELECT @@sql_mode, @@time_zone, @jdbc_user_var, @jdbc_n, FROM_UNIXTIME(0), \"x\""
        + " FROM (SELECT 1 AS x) AS d";
    try (Connection c = x.connect("useCompression=true")) {
      x.attempt("incompressible " + incompressible.length() + "-byte statement", () -> {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(incompressible)) {
          x.o.rows("incompressible statement", rs);
        }
      });
      x.usable("after the incompressible statement", c);
    }

  }

  /**
   * Statements after a multi-statement and after LOAD DATA LOCAL, compressed. The statements are
   * kept under 100 bytes where possible, so they test what they are about, not the one above.
   */
  private static void afterMultiAndLoad(Ctx x) throws Exception {
    String m = x.t("zmulti");
    Path file = Path.of(x.setup.tmpDir(), x.t("zload.tsv"));
    String[] props = {"useCompression=true", "allowMultiQueries=true", "allowLocalInfile=true"};
    try (Connection c = x.connect(props)) {
      Ctx.exec(c, "DROP TABLE IF EXISTS " + m);
      Ctx.exec(c, "CREATE TABLE " + m + " (id INT PRIMARY KEY, s VARCHAR(60))");
      x.cleanupSql("DROP TABLE IF EXISTS " + m);
      x.attempt("compressed multi-statement", () -> {
        try (Statement st = c.createStatement()) {
          ResultCases.results(x, "compressed multi", st, st.execute("INSERT INTO " + m + " VALUES (1, 'a'), (2, 'b');"
              + " SELECT * FROM " + m + " ORDER BY id; SELECT seq FROM seq_1_to_5"));
        }
        for (int i = 0; i < 3; i++) {
          x.o.add("after multi " + i, Ctx.scalar(c, "SELECT COUNT(*) FROM " + m));
        }
      });
    }
    try (Connection c = x.connect(props)) {
      x.attempt("compressed LOAD DATA LOCAL from a stream", () -> {
        StringBuilder b = new StringBuilder();
        for (int i = 100; i < 20_100; i++) {
          b.append(i).append("\ts ").append(i).append(" \u00e9\n");
        }
        try (Statement st = c.createStatement()) {
          st.unwrap(org.mariadb.jdbc.MariaDbStatement.class).setLocalInfileInputStream(
              new ByteArrayInputStream(b.toString().getBytes(StandardCharsets.UTF_8)));
          x.o.add("stream load count", st.executeUpdate("LOAD DATA LOCAL INFILE 'x' INTO TABLE " + m + " (id, s)"));
        }
        for (int i = 0; i < 3; i++) {
          x.o.add("after stream load " + i, Ctx.scalar(c, "SELECT COUNT(*) FROM " + m));
        }
      });
    }
    try (Connection c = x.connect(props)) {
      x.attempt("compressed LOAD DATA LOCAL from a file", () -> {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
          for (int i = 30_000; i < 60_000; i++) {
            w.write(i + "\tz " + i + " \u00e9\n");
          }
        }
        try (Statement st = c.createStatement()) {
          x.o.add("file load count", st.executeUpdate("LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE " + m
              + " CHARACTER SET utf8mb4 (id, s)"));
        }
        for (int i = 0; i < 3; i++) {
          x.o.add("after file load " + i, Ctx.scalar(c, "SELECT COUNT(*) FROM " + m));
        }
      });
    } finally {
      Files.deleteIfExists(file);
    }
    try (Connection c = x.connect(props)) {
      x.attempt("after the loads", () -> {
        x.tableDigest("compressed loaded rows", c, m, "CONCAT_WS(',', id, s)");
        try (PreparedStatement ps = c.prepareStatement("SELECT s FROM " + m + " WHERE id = ?")) {
          ps.setInt(1, 20_000);
          try (ResultSet rs = ps.executeQuery()) {
            x.o.rows("prepared after load", rs);
          }
        }
      });
    }
  }
}
