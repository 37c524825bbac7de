import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MariaDB Connector/J (Debian's 2.7.x) against a sandbox server directly and through odp: every
 * case runs on both, and what the application observes (values and their Java classes, column
 * labels and types, update counts, error codes and SQLStates) must be the same.
 *
 * <pre>
 * java -cp CLASSES:mariadb-java-client.jar OdpJdbc compare --mode text|prepared|compress|tls
 *      --direct HOST:PORT --odp HOST:PORT --servers P1,P2,P3 --ca CA.pem [--odp-log FILE]
 *      [--case NAME,...] [--case-timeout S] [--verbose]
 * java -cp ... OdpJdbc bench --direct HOST:PORT --odp HOST:PORT [--rows N] [--props k=v&...]
 * java -cp ... OdpJdbc list
 * </pre>
 *
 * Exit status of compare: 0 when every case saw the same on both, 1 when some case differed, 2 when
 * a case broke its own expectations on the server directly (the test, not odp, is wrong there).
 */
public final class OdpJdbc {
  interface CaseFn {
    void run(Ctx x) throws Exception;
  }

  /** A case and the modes it runs in (null: all four). */
  record Case(String name, Set<String> modes, CaseFn fn) {}

  static final List<String> MODES = List.of("text", "prepared", "compress", "tls");

  static final List<Case> CASES = List.of(
      new Case("handshake", null, TypeCases::handshake),
      new Case("types", null, TypeCases::types),
      new Case("long_data", null, LongDataCases::longData),
      new Case("long_data_minimal", null, LongDataCases::longDataMinimal),
      new Case("batches", null, BatchCases::batches),
      new Case("bulk_protocol", null, BatchCases::bulkProtocol),
      new Case("transactions", null, TxCases::transactions),
      new Case("isolation_visibility", null, TxCases::isolationVisibility),
      new Case("consistent_snapshot", null, TxCases::consistentSnapshot),
      new Case("streaming", null, ResultCases::streaming),
      new Case("large_results", null, ResultCases::largeResults),
      new Case("procedures", null, ResultCases::procedures),
      new Case("multi_statements", null, ResultCases::multiStatements),
      new Case("query_timeout", null, ControlCases::queryTimeout),
      new Case("cancel", null, ControlCases::cancel),
      new Case("load_data_local", null, ControlCases::loadDataLocal),
      new Case("session_vars", null, SessionCases::sessionVars),
      new Case("fresh_sessions", null, SessionCases::freshSessions),
      new Case("connection_id", null, SessionCases::connectionId),
      new Case("errors", null, ControlCases::errors),
      new Case("compress_specifics", Set.of("compress"), CompressCases::compressSpecifics));

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      usage();
    }
    Map<String, String> opt = parse(Arrays.copyOfRange(args, 1, args.length));
    int rc;
    switch (args[0]) {
      case "compare" -> rc = compare(opt);
      case "bench" -> rc = BatchCases.bench(opt);
      case "list" -> {
        CASES.forEach(c -> System.out.println(c.name() + (c.modes() == null ? "" : " " + c.modes())));
        rc = 0;
      }
      default -> {
        usage();
        rc = 2;
      }
    }
    System.out.flush();
    // Threads of cases that overran their deadline may still be blocked in a socket read.
    System.exit(rc);
  }

  static void usage() {
    System.err.println("usage: OdpJdbc compare --mode MODE --direct H:P --odp H:P --servers P,P,P --ca FILE"
        + " [--odp-log FILE] [--case A,B] [--case-timeout S] [--verbose]\n"
        + "       OdpJdbc bench --direct H:P --odp H:P [--rows N] [--props k=v&...]\n"
        + "       OdpJdbc list");
    System.exit(2);
  }

  static Map<String, String> parse(String[] a) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < a.length; i++) {
      if (!a[i].startsWith("--")) {
        System.err.println("unexpected argument " + a[i]);
        usage();
      }
      String k = a[i].substring(2);
      if (k.equals("verbose")) {
        m.put(k, "1");
      } else if (i + 1 < a.length) {
        m.put(k, a[++i]);
      } else {
        System.err.println("--" + k + " needs a value");
        usage();
      }
    }
    return m;
  }

  static String need(Map<String, String> opt, String k) {
    String v = opt.get(k);
    if (v == null) {
      System.err.println("missing --" + k);
      usage();
    }
    return v;
  }

  static String hostOf(String hp) {
    return hp.substring(0, hp.lastIndexOf(':'));
  }

  static int portOf(String hp) {
    return Integer.parseInt(hp.substring(hp.lastIndexOf(':') + 1));
  }

  static int compare(Map<String, String> opt) throws Exception {
    String mode = need(opt, "mode");
    if (!MODES.contains(mode)) {
      System.err.println("mode must be one of " + MODES);
      return 2;
    }
    String direct = need(opt, "direct");
    String odp = need(opt, "odp");
    List<Integer> servers = new ArrayList<>();
    for (String p : need(opt, "servers").split(",")) {
      servers.add(Integer.parseInt(p.trim()));
    }
    Ctx.Setup setup = new Ctx.Setup(servers, hostOf(direct), need(opt, "ca"),
        opt.getOrDefault("tmp", System.getProperty("java.io.tmpdir")));
    String odpLog = opt.get("odp-log");
    long caseTimeoutMs = Long.parseLong(opt.getOrDefault("case-timeout", "90")) * 1000;
    boolean verbose = opt.containsKey("verbose");
    Set<String> only = opt.containsKey("case") ? Set.of(opt.get("case").split(",")) : null;
    if (only != null) {
      Set<String> known = new java.util.HashSet<>();
      CASES.forEach(c -> known.add(c.name()));
      for (String n : only) {
        if (!known.contains(n)) {
          System.out.println("no case named " + n + "; cases: " + String.join(", ", known.stream().sorted().toList()));
          return 2;
        }
      }
    }

    List<String> differing = new ArrayList<>();
    List<String> broken = new ArrayList<>();
    int ran = 0;
    for (Case k : CASES) {
      if ((only != null && !only.contains(k.name())) || (only == null && k.modes() != null && !k.modes().contains(mode))) {
        continue;
      }
      ran++;
      String tag = "jdbc[" + mode + "] " + k.name();
      long t0 = System.nanoTime();
      Obs d = runCase(k, new Ctx(mode, "direct", hostOf(direct), portOf(direct), setup), caseTimeoutMs);
      long t1 = System.nanoTime();
      long logStart = logSize(odpLog);
      Obs o = runCase(k, new Ctx(mode, "odp", hostOf(odp), portOf(odp), setup), caseTimeoutMs);
      long t2 = System.nanoTime();
      String times = String.format("direct %.1fs, odp %.1fs", (t1 - t0) / 1e9, (t2 - t1) / 1e9);
      List<String> dl = d.lines();
      List<String> ol = o.lines();
      if (d.checkFailures() > 0 || d.unexpectedCount() > 0) {
        broken.add(k.name());
        System.out.println(tag + ": BROKEN on the server directly (" + d.checkFailures()
            + " failed checks, " + d.unexpectedCount() + " unexpected errors): the case is wrong, not odp");
        dl.stream().filter(l -> l.contains("FAILED") || l.startsWith("UNEXPECTED") || l.startsWith("TIMEOUT"))
            .forEach(l -> System.out.println("    direct| " + l));
      }
      if (dl.equals(ol)) {
        System.out.println(tag + ": same (" + dl.size() + " observations; " + times + ")");
      } else {
        differing.add(k.name());
        System.out.println(tag + ": DIFFERENT direct vs odp (" + times + ")");
        printDiff(dl, ol);
        printLog(odpLog, logStart);
      }
      if (verbose) {
        dl.forEach(l -> System.out.println("    direct| " + l));
        ol.forEach(l -> System.out.println("    odp   | " + l));
      }
      System.out.flush();
    }
    System.out.println("jdbc[" + mode + "] summary: " + ran + " cases, " + (ran - differing.size())
        + " same, " + differing.size() + " different " + differing + ", " + broken.size()
        + " broken on the server directly " + broken);
    if (ran == 0) {
      return 2;
    }
    return !broken.isEmpty() ? 2 : differing.isEmpty() ? 0 : 1;
  }

  /** Runs one case on its own thread with a deadline; a stuck case is recorded, not waited for. */
  static Obs runCase(Case k, Ctx x, long timeoutMs) throws InterruptedException {
    Thread th = new Thread(() -> {
      try {
        k.fn().run(x);
      } catch (Throwable e) {
        x.o.unexpected(e);
        System.err.println("jdbc[" + x.mode + "] " + k.name() + " on " + x.target + ": unexpected exception");
        e.printStackTrace();
      }
    }, "case-" + k.name() + "-" + x.target);
    th.setDaemon(true);
    th.start();
    th.join(timeoutMs);
    if (th.isAlive()) {
      x.o.line("TIMEOUT the case did not finish within " + timeoutMs / 1000 + " s");
      x.o.unexpected(new IllegalStateException("case deadline passed"));
      x.o.freeze();
      x.closeAll(true);
      th.join(5000);
    } else {
      x.closeAll(false);
    }
    x.runCleanup();
    return x.o;
  }

  /**
   * The observations only one side made, in order (a longest-common-subsequence diff, so a missing
   * or extra line does not make every later line look different).
   */
  static void printDiff(List<String> d, List<String> o) {
    int n = d.size();
    int m = o.size();
    List<String> out = new ArrayList<>();
    if ((long) n * m > 4_000_000L) {
      int i = 0;
      while (i < n && i < m && d.get(i).equals(o.get(i))) {
        i++;
      }
      out.add("(too many observations for a full diff; from the first difference on)");
      for (int j = i; j < Math.min(n, i + 15); j++) {
        out.add("  - direct| " + clip(d.get(j)));
      }
      for (int j = i; j < Math.min(m, i + 15); j++) {
        out.add("  + odp   | " + clip(o.get(j)));
      }
    } else {
      int[][] lcs = new int[n + 1][m + 1];
      for (int i = n - 1; i >= 0; i--) {
        for (int j = m - 1; j >= 0; j--) {
          lcs[i][j] = d.get(i).equals(o.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
        }
      }
      int i = 0;
      int j = 0;
      while (i < n || j < m) {
        if (i < n && j < m && d.get(i).equals(o.get(j))) {
          i++;
          j++;
        } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
          out.add("  - direct| " + clip(d.get(i++)));
        } else {
          out.add("  + odp   | " + clip(o.get(j++)));
        }
      }
    }
    int shown = Math.min(out.size(), 40);
    System.out.println("    observations that differ (- only direct, + only odp; " + n + " direct, " + m + " odp)"
        + (shown < out.size() ? ", first " + shown + " of " + out.size() : "") + ":");
    for (int k = 0; k < shown; k++) {
      System.out.println("  " + out.get(k));
    }
  }

  static String clip(String s) {
    return s.length() > 400 ? s.substring(0, 400) + "..." : s;
  }

  static long logSize(String path) {
    if (path == null) {
      return 0;
    }
    return new java.io.File(path).length();
  }

  /** odp's log lines written while the odp run of a case went on (other tests may add theirs). */
  static void printLog(String path, long from) {
    if (path == null) {
      return;
    }
    try (RandomAccessFile f = new RandomAccessFile(path, "r")) {
      long len = f.length();
      if (len <= from) {
        System.out.println("    odp log: nothing new in " + path);
        return;
      }
      long start = Math.max(from, len - 64 * 1024);
      byte[] b = new byte[(int) (len - start)];
      f.seek(start);
      f.readFully(b);
      String[] lines = new String(b, StandardCharsets.UTF_8).split("\n");
      System.out.println("    odp log during the case (" + path + "):");
      int first = Math.max(0, lines.length - 30);
      for (int i = first; i < lines.length; i++) {
        System.out.println("    log| " + clip(lines[i]));
      }
    } catch (IOException e) {
      System.out.println("    odp log unreadable: " + e);
    }
  }
}
