package dev.bobbin.bench.echo;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of /proc, of the client's RESULT line, the command line, and the ratio arithmetic of the table. */
class EchoReportTest {

    @Test
    void parsesProcessCpuTicksEvenWithSpacesAndParenthesesInTheName() {
        String stat = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 2093 0 0 0 1234 567 0 0 20 0 31 0 100 0 0";
        assertEquals(1234 + 567, ProcStat.parseProcessCpuTicks(stat));
        assertThrows(IllegalArgumentException.class, () -> ProcStat.parseProcessCpuTicks("4242 java S 1"));
    }

    @Test
    void parsesMachineTicks() {
        String stat = "cpu  100 5 50 1000 20 3 2 1 7 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
        ProcStat.MachineTicks t = ProcStat.parseMachineTicks(stat);
        assertEquals(100 + 5 + 50 + 1000 + 20 + 3 + 2 + 1, t.total());
        assertEquals(t.total() - 1000 - 20, t.busy());
    }

    @Test
    void readsThisProcessFromProc() throws Exception {
        assertTrue(ProcStat.processCpuTicks(ProcessHandle.current().pid()) >= 0);
        assertThrows(IllegalArgumentException.class, () -> ProcStat.processCpuTicks(0));
    }

    @Test
    void keyValuesKeepsMultiWordValues() {
        Map<String, String> m = EchoBench.keyValues("UNAVAILABLE kind=bobbin-uring reason=pending: needs an API (x=y)");
        assertEquals("bobbin-uring", m.get("kind"));
        assertEquals("pending: needs an API (x=y)", m.get("reason"));
    }

    @Test
    void tableComputesRatiosPerConnectionCount() {
        List<EchoBench.Row> rows = List.of(
                row("jdk-vthread", 100, 20.0), row("netty-uring", 100, 10.0), row("bobbin-jdksocket", 100, 15.0),
                new EchoBench.Row("bobbin-uring", 100, Map.of(), "unavailable: pending"),
                row("jdk-vthread", 1000, 40.0), row("bobbin-jdksocket", 1000, 10.0));
        String table = EchoBench.table(rows);
        assertTrue(table.contains("| bobbin-jdksocket | 100 | 1,000 | 50.0 | 990 | 15.00 | 0.75x | 1.50x |"), table);
        assertTrue(table.contains("| jdk-vthread | 100 | 1,000 | 50.0 | 990 | 20.00 | 1.00x | 2.00x |"), table);
        assertTrue(table.contains("| bobbin-uring | 100 | unavailable: pending |"), table);
        // no netty-uring row at 1,000 connections: no ratio to it
        assertTrue(table.contains("| bobbin-jdksocket | 1000 | 1,000 | 50.0 | 990 | 10.00 | 0.25x | – |"), table);
        // the time until every connection was served, where the client reported it
        assertTrue(table.contains("| netty-uring | 100 | 1,000 | 50.0 | 990 | 10.00 | 0.50x | 1.00x | 0.50 | 0.40 | 1.00 | – |"), table);
        Map<String, Double> served = new java.util.HashMap<>(row("netty-uring", 1000, 10.0).metrics());
        served.put("all_served_ms", 1234.4);
        assertTrue(EchoBench.table(List.of(new EchoBench.Row("netty-uring", 1000, served, null))).contains("| 1.00 | 1,234 |"));
    }

    @Test
    void medianOfRoundsPerMetric() {
        EchoBench.Row m = EchoBench.median(List.of(row("k", 1, 3.0), row("k", 1, 1.0), row("k", 1, 2.0)));
        assertEquals(2.0, m.get("server_cpu_us_per_rt"));
        assertTrue(EchoBench.table(List.of(m)).contains("| 2.00 (1.00–3.00) | –"), EchoBench.table(List.of(m)));
        EchoBench.Row failed = new EchoBench.Row("k", 1, Map.of(), "failed: x");
        assertEquals("failed: x", EchoBench.median(List.of(row("k", 1, 3.0), failed)).problem());
    }

    @Test
    void flagsRejectUnknownOptionsAndBadNumbers() {
        Set<String> valued = Set.of("n");
        assertThrows(IllegalArgumentException.class, () -> Flags.parse(new String[] {"--m", "1"}, valued, Set.of()));
        assertThrows(IllegalArgumentException.class, () -> Flags.parse(new String[] {"--n"}, valued, Set.of()));
        Flags f = Flags.parse(new String[] {"a", "--n", "x", "--s"}, valued, Set.of("s"));
        assertEquals(List.of("a"), f.positional());
        assertTrue(f.has("s"));
        assertThrows(IllegalArgumentException.class, () -> f.intValue("n", 1, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> Flags.parseLong("x", "11", 0, 10));
        assertEquals(7, Flags.parse(new String[] {"--n", "7"}, valued, Set.of()).intValue("n", 1, 0, 10));
    }

    private static EchoBench.Row row(String kind, int connections, double cpuPerRt) {
        return new EchoBench.Row(kind, connections, Map.of("rt_per_s", 1000.0, "p50_us", 50.0, "p99_us", 990.0,
                "server_cpu_us_per_rt", cpuPerRt, "server_cores", 0.5, "client_cores", 0.4, "machine_busy_cores", 1.0), null);
    }
}
