import java.io.InputStream;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Blob;
import java.sql.Clob;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What one run of one case observed, as lines of text. The direct run and the odp run of a case
 * are compared line by line, so every line must be free of things that legitimately differ
 * between two servers: connection ids, timings, and the table-name prefix (each target uses its
 * own tables, because the sandbox replicates every table to every server).
 */
final class Obs {
  private static final Pattern CONN_ID = Pattern.compile("\\(conn=\\d+\\)\\s*");
  /** Connector/J names unnamed savepoints with a random UUID, which shows in error messages. */
  private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final int INLINE_BYTES = 48;
  private static final int INLINE_CHARS = 160;

  private final List<String> lines = new ArrayList<>();
  private final String prefix;
  private int checkFailures;
  private int unexpected;
  private boolean frozen;

  Obs(String prefix) {
    this.prefix = prefix;
  }

  /** One observation: a key and the values seen, each rendered with its Java class. */
  synchronized void add(String key, Object... values) {
    if (frozen) {
      return; // a case thread that outlived its deadline must not change a finished record
    }
    StringBuilder b = new StringBuilder(key);
    if (values.length > 0) {
      b.append(':');
    }
    for (Object v : values) {
      b.append(' ').append(show(v));
    }
    lines.add(normalise(b.toString()));
  }

  /** Raw line, no value rendering (already a string the case built). */
  synchronized void line(String s) {
    if (!frozen) {
      lines.add(normalise(s));
    }
  }

  /**
   * An expectation that must hold on the server directly (it validates the case itself); through
   * odp a failed check simply shows up as a difference.
   */
  synchronized void check(String what, boolean ok) {
    if (!ok) {
      checkFailures++;
    }
    line("check " + what + ": " + (ok ? "ok" : "FAILED"));
  }

  /** An error the case expected might happen: code, SQLState and message are the observation. */
  void error(String key, Throwable e) {
    line(key + ": " + describe(e));
  }

  /** An exception that escaped the case: the case stops here. */
  synchronized void unexpected(Throwable e) {
    unexpected++;
    line("UNEXPECTED " + describe(e));
  }

  synchronized void freeze() {
    frozen = true;
  }

  synchronized List<String> lines() {
    return new ArrayList<>(lines);
  }

  synchronized int checkFailures() {
    return checkFailures;
  }

  synchronized int unexpectedCount() {
    return unexpected;
  }

  private String normalise(String s) {
    String t = CONN_ID.matcher(s.replace(prefix, "T_")).replaceAll("");
    return UUID.matcher(t).replaceAll("<uuid>");
  }

  static String describe(Throwable e) {
    StringBuilder b = new StringBuilder(e.getClass().getSimpleName());
    if (e instanceof SQLException se) {
      b.append(" code=").append(se.getErrorCode()).append(" state=").append(se.getSQLState());
      if (e instanceof java.sql.BatchUpdateException be) {
        b.append(" counts=").append(Obs.counts(be.getUpdateCounts()));
      }
    }
    String m = String.valueOf(e.getMessage());
    // Connector/J appends the query text to some messages; it is ours, keep only the head.
    int nl = m.indexOf('\n');
    if (nl >= 0) {
      m = m.substring(0, nl);
    }
    if (m.length() > 300) {
      m = m.substring(0, 300) + "...";
    }
    return b.append(" msg=").append(m).toString();
  }

  /** Update counts as a compact histogram (1000 x 1 reads better than a thousand ones). */
  static String counts(int[] counts) {
    if (counts == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("[n=" + counts.length);
    int i = 0;
    while (i < counts.length) {
      int j = i;
      while (j < counts.length && counts[j] == counts[i]) {
        j++;
      }
      b.append(' ').append(j - i).append('x').append(counts[i]);
      i = j;
    }
    return b.append(']').toString();
  }

  static String counts(long[] counts) {
    int[] c = new int[counts.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = (int) counts[i];
    }
    return counts(c);
  }

  /** A value with its class: Connector/J's choice of class is part of what an application sees. */
  static String show(Object v) {
    try {
      if (v == null) {
        return "null";
      }
      if (v instanceof byte[] b) {
        return bytes(b);
      }
      if (v instanceof String s) {
        return "String:" + text(s);
      }
      if (v instanceof BigDecimal d) {
        return "BigDecimal:" + d.toPlainString();
      }
      if (v instanceof Blob bl) {
        return "Blob:" + bytes(bl.getBytes(1, (int) bl.length()));
      }
      if (v instanceof Clob cl) {
        return "Clob:" + text(cl.getSubString(1, (int) cl.length()));
      }
      if (v instanceof int[] a) {
        return counts(a);
      }
      if (v instanceof long[] a) {
        return counts(a);
      }
      return v.getClass().getSimpleName() + ":" + v;
    } catch (SQLException e) {
      return "(cannot show: " + describe(e) + ")";
    }
  }

  static String bytes(byte[] b) {
    if (b.length <= INLINE_BYTES) {
      return "bytes[" + b.length + "]" + HexFormat.of().formatHex(b);
    }
    return "bytes[" + b.length + "]md5=" + md5(b);
  }

  static String text(String s) {
    if (s.length() <= INLINE_CHARS) {
      return "'" + escape(s) + "'";
    }
    return "len=" + s.length() + ",md5=" + md5(s.getBytes(StandardCharsets.UTF_8)) + ",head='"
        + escape(s.substring(0, 20)) + "'";
  }

  /** Control characters (binary columns read with getString) as escapes: the report stays text. */
  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch < 0x20 || ch == 0x7f || ch == '\ufffd') {
        b.append(String.format("\\u%04x", (int) ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  static String md5(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] readAll(InputStream in) throws java.io.IOException {
    try (in) {
      return in.readAllBytes();
    }
  }

  static String readAll(Reader r) throws java.io.IOException {
    try (r) {
      StringBuilder b = new StringBuilder();
      char[] buf = new char[8192];
      int n;
      while ((n = r.read(buf)) > 0) {
        b.append(buf, 0, n);
      }
      return b.toString();
    }
  }

  /** Column metadata: label, name, type name, Java class, precision, scale, signedness, nullability. */
  void meta(String key, ResultSetMetaData md) throws SQLException {
    for (int i = 1; i <= md.getColumnCount(); i++) {
      add(key + " col" + i, md.getColumnLabel(i), md.getColumnName(i), md.getColumnTypeName(i),
          md.getColumnType(i), md.getColumnClassName(i), md.getPrecision(i), md.getScale(i),
          md.isSigned(i), md.isNullable(i));
    }
  }

  /** Every row, each column as getObject (class + value) and getString. */
  void rows(String key, ResultSet rs) throws SQLException {
    meta(key, rs.getMetaData());
    int n = rs.getMetaData().getColumnCount();
    int r = 0;
    while (rs.next()) {
      r++;
      StringBuilder b = new StringBuilder(key + " row" + r + ":");
      for (int i = 1; i <= n; i++) {
        b.append(" ").append(show(rs.getObject(i))).append("/");
        String s = rs.getString(i);
        b.append(s == null ? "null" : text(s));
      }
      line(b.toString());
    }
    add(key + " rows", r);
  }

  /** A big result as count + digest, read column by column with getString. */
  void digest(String key, ResultSet rs) throws SQLException {
    meta(key, rs.getMetaData());
    int n = rs.getMetaData().getColumnCount();
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("MD5");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long rows = 0;
    while (rs.next()) {
      rows++;
      for (int i = 1; i <= n; i++) {
        String s = rs.getString(i);
        md.update((s == null ? "\\N" : s).getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
    }
    add(key + " rows", rows, "md5=" + HexFormat.of().formatHex(md.digest()));
  }
}
