package dev.bobbin.bench.echo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time from Linux's {@code /proc}, in clock ticks ({@code getconf CLK_TCK}, 100 on common kernels).
 * A process's time is {@code utime + stime} of {@code /proc/<pid>/stat}: all its threads, user and
 * kernel, including the JIT and GC threads. The machine's time is the first line of {@code /proc/stat}.
 */
public final class ProcStat {
    private ProcStat() { }

    /** Machine-wide CPU ticks: busy (everything but idle and iowait) and total, summed over all CPUs. */
    public record MachineTicks(long busy, long total) { }

    /** utime + stime of process {@code pid}, in clock ticks. */
    public static long processCpuTicks(long pid) throws IOException {
        if (pid <= 0) throw new IllegalArgumentException("pid must be positive: " + pid);
        return parseProcessCpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    }

    /** utime + stime from the text of a {@code /proc/<pid>/stat} file. */
    static long parseProcessCpuTicks(String stat) {
        // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
        int close = stat.lastIndexOf(')');
        if (close < 0) throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + stat);
        String[] f = stat.substring(close + 1).trim().split("\\s+");
        // f[0] is field 3 (state); utime is field 14, stime field 15.
        if (f.length < 13) throw new IllegalArgumentException("too few fields in /proc/<pid>/stat: " + stat);
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** The machine's CPU ticks so far. */
    public static MachineTicks machineTicks() throws IOException {
        return parseMachineTicks(Files.readString(Path.of("/proc/stat")));
    }

    /** Parses the aggregate {@code cpu} line of {@code /proc/stat}. */
    static MachineTicks parseMachineTicks(String procStat) {
        String line = procStat.lines().filter(l -> l.startsWith("cpu ")).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no aggregate cpu line in /proc/stat"));
        String[] f = line.trim().split("\\s+");
        // cpu user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already in user.
        if (f.length < 9) throw new IllegalArgumentException("too few fields in /proc/stat cpu line: " + line);
        long total = 0;
        for (int i = 1; i <= 8; i++) total += Long.parseLong(f[i]);
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        return new MachineTicks(total - idle, total);
    }
}
