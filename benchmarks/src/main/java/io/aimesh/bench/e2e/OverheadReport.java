package io.aimesh.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * Renders an {@link OverheadResult} as the markdown results section of
 * {@code docs/benchmarks/filter-overhead.md}, and replaces that section in the file, leaving
 * the rest (the method, the analysis) as written.
 */
final class OverheadReport {
    /** The goal from the issue, for 4 KB bodies at 1,000 requests per second. */
    static final int GOAL_BODY_BYTES = 4096;
    static final int GOAL_RATE = 1000;
    static final long GOAL_ADDED_P50_MICROS = 150;
    static final long GOAL_ADDED_P99_MICROS = 500;
    private static final String BEGIN = "<!-- filter-overhead:results -->";
    private static final String END = "<!-- /filter-overhead:results -->";
    private static final String HEADER = """
            # ai-filter overhead, end to end

            What the ai-filter adds to a request on the real path, client → Envoy → ai-filter (ext_proc)
            → model-sim, against the same Envoy path without it. Written by
            [`FilterOverheadBenchmark`](../../benchmarks/src/main/java/io/aimesh/bench/e2e/FilterOverheadBenchmark.java)
            (its javadoc has the command); each run rewrites the results section.
            """;

    private OverheadReport() {
    }

    /** The results as a markdown section, delimited for {@link #merge}. */
    static String section(OverheadResult result, String command) {
        OverheadOptions options = result.options();
        StringBuilder md = new StringBuilder(BEGIN).append('\n');
        md.append("## Results of ").append(DateTimeFormatter.ISO_LOCAL_DATE_TIME
                .format(result.date().atOffset(ZoneOffset.UTC).withNano(0))).append(" UTC\n\n");
        md.append("| | |\n|---|---|\n");
        md.append("| machine | ").append(result.machine()).append(" |\n");
        md.append("| `java -version` | ").append(result.javaVersion()).append(" |\n");
        md.append("| `envoy --version` | ").append(result.envoyVersion()).append(" |\n");
        md.append("| load average (1, 5, 15 min) before → after | ").append(result.loadBefore()).append(" → ")
                .append(result.loadAfter()).append(" |\n");
        md.append("| command | `").append(command).append("` |\n");
        md.append("| per point and path | ").append(format("%.1f s measured in %d rounds, paths alternating",
                options.duration().toMillis() / 1e3, options.rounds())).append("; warm-up ")
                .append(options.warmup().toSeconds()).append(" s per path and body size at ").append(options.warmupRate())
                .append(" req/s |\n");
        md.append("| Envoy workers / tokenizer / filter JVM | ").append(options.envoyConcurrency()).append(" / ")
                .append(options.tokenizer()).append(" / `").append(String.join(" ", options.filterJvmArgs())).append("`")
                .append(" |\n\n");
        latencyTable(md, result);
        overheadTable(md, result);
        extProc(md, result);
        sendLag(md, result);
        return md.append(END).append('\n').toString();
    }

    private static void latencyTable(StringBuilder md, OverheadResult result) {
        md.append("### Latency from the intended send time (µs)\n\n")
                .append("| body | rate (req/s) | path | p50 | p90 | p99 | p99.9 | max | achieved (req/s) | errors"
                        + " | Envoy CPU (µs/req) | ext_proc server CPU (µs/req) |\n")
                .append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (PointResult point : result.points()) {
            Histogram latency = point.stats().latency();
            md.append("| ").append(kib(point.bodyBytes())).append(" | ").append(point.rate()).append(" | ")
                    .append(point.path().id()).append(" | ")
                    .append(micros(latency, 50)).append(" | ").append(micros(latency, 90)).append(" | ")
                    .append(micros(latency, 99)).append(" | ").append(micros(latency, 99.9)).append(" | ")
                    .append(micros(latency, 100)).append(" | ")
                    .append(format("%.0f", point.achievedPerSecond())).append(" | ")
                    .append(point.errors() == 0 ? "0" : point.errors() + " (" + point.stats().firstError() + ")").append(" | ")
                    .append(point.path() == DataPath.DIRECT ? "–" : format("%.0f", point.envoyCpuMicrosPerRequest())).append(" | ")
                    .append(point.path() == DataPath.FILTER || point.path() == DataPath.EXTPROC
                            ? format("%.0f", point.extProcCpuMicrosPerRequest()) : "–")
                    .append(" |\n");
        }
        md.append('\n');
    }

    /** The differences the report shows: each path with its baseline, in this order. */
    private static final List<DataPath[]> COMPARISONS = List.of(
            new DataPath[] {DataPath.FILTER, DataPath.ENVOY},
            new DataPath[] {DataPath.EXTPROC, DataPath.ENVOY},
            new DataPath[] {DataPath.FILTER, DataPath.EXTPROC});

    private static void overheadTable(StringBuilder md, OverheadResult result) {
        StringBuilder rows = new StringBuilder();
        for (PointResult point : result.points()) {
            for (DataPath[] comparison : COMPARISONS) {
                if (point.path() != comparison[0]) {
                    continue;
                }
                Optional<PointResult> baseline = result.point(comparison[1], point.rate(), point.bodyBytes());
                if (baseline.isPresent()) {
                    row(rows, point, baseline.get());
                }
            }
        }
        if (rows.length() == 0) {
            return;
        }
        md.append("### What each path adds over its baseline, same body and rate\n\n")
                .append("`filter − envoy` is what the ai-filter adds, the figure the goal is about; `extproc − envoy` is what"
                        + " the ext_proc protocol adds with a server that does nothing; `filter − extproc` is the"
                        + " ai-filter's own work. Differences of the percentiles (µs), not percentiles of differences:"
                        + " the paths serve different requests. Throughput ratio: achieved req/s of the path over its"
                        + " baseline's. Added CPU: the path's Envoy minus the baseline's Envoy, plus the ext_proc servers'"
                        + " difference.\n\n")
                .append("| body | rate (req/s) | paths | added p50 | added p90 | added p99 | throughput ratio"
                        + " | added CPU (µs/req): Envoy + ext_proc server | goal: p50 ≤ ").append(GOAL_ADDED_P50_MICROS)
                .append(" µs, p99 ≤ ").append(GOAL_ADDED_P99_MICROS).append(" µs (filter − envoy, 4 KiB, 1000 req/s) |\n")
                .append("|---:|---:|---|---:|---:|---:|---:|---:|---|\n")
                .append(rows).append('\n');
    }

    private static void row(StringBuilder rows, PointResult point, PointResult baseline) {
        Histogram with = point.stats().latency();
        Histogram without = baseline.stats().latency();
        long addedP50 = added(with, without, 50);
        long addedP99 = added(with, without, 99);
        boolean goalPoint = point.path() == DataPath.FILTER && baseline.path() == DataPath.ENVOY
                && point.bodyBytes() == GOAL_BODY_BYTES && point.rate() == GOAL_RATE;
        rows.append("| ").append(kib(point.bodyBytes())).append(" | ").append(point.rate()).append(" | ")
                .append(point.path().id()).append(" − ").append(baseline.path().id()).append(" | ")
                .append(goalPoint ? "**" + addedP50 + "**" : addedP50).append(" | ")
                .append(added(with, without, 90)).append(" | ")
                .append(goalPoint ? "**" + addedP99 + "**" : addedP99).append(" | ")
                .append(format("%.3f", point.achievedPerSecond() / baseline.achievedPerSecond())).append(" | ")
                .append(format("%+.0f", point.envoyCpuMicrosPerRequest() - baseline.envoyCpuMicrosPerRequest()))
                .append(" ").append(format("%+.0f", point.extProcCpuMicrosPerRequest() - baseline.extProcCpuMicrosPerRequest()))
                .append(" | ").append(goalPoint ? goal(addedP50, addedP99) : "").append(" |\n");
    }

    /** How many ext_proc messages each request cost, from the filter path's Envoy: the round trips behind the added latency. */
    private static void extProc(StringBuilder md, OverheadResult result) {
        Map<String, Long> stats = result.extProcStats();
        long streams = stats.getOrDefault("http.aimesh.ext_proc.streams_started", 0L);
        if (streams == 0) {
            return;
        }
        md.append("ext_proc, from the filter path's Envoy over the whole run (warm-ups included): ")
                .append(streams).append(" streams, ")
                .append(format("%.2f", stats.getOrDefault("http.aimesh.ext_proc.stream_msgs_sent", 0L) / (double) streams))
                .append(" messages sent and ")
                .append(format("%.2f", stats.getOrDefault("http.aimesh.ext_proc.stream_msgs_received", 0L) / (double) streams))
                .append(" received per request; other non-zero counters: ")
                .append(stats.entrySet().stream()
                        .filter(e -> e.getValue() != 0 && e.getKey().startsWith("http.aimesh.ext_proc.")
                                && !e.getKey().matches(".*\\.(streams_started|stream_msgs_sent|stream_msgs_received)$"))
                        .map(e -> "`" + e.getKey().substring("http.aimesh.ext_proc.".length()) + "` " + e.getValue())
                        .collect(Collectors.joining(", ")))
                .append(".\n\n");
    }

    private static void sendLag(StringBuilder md, OverheadResult result) {
        md.append("### The generator's own share\n\n")
                .append("Send lag: how late the generator wrote each request after its intended time (pacer wake-up"
                        + " and write), inside every latency above. `direct` is the generator and model-sim alone.\n\n")
                .append("| body | rate (req/s) | path | send lag p50 / p99 / max (µs) | connections (most in a round)"
                        + " | benchmark JVM CPU: generator, model-sim (µs/req) |\n")
                .append("|---:|---:|---|---|---:|---:|\n");
        for (PointResult point : result.points()) {
            Histogram lag = point.stats().sendLag();
            md.append("| ").append(kib(point.bodyBytes())).append(" | ").append(point.rate()).append(" | ")
                    .append(point.path().id()).append(" | ")
                    .append(micros(lag, 50)).append(" / ").append(micros(lag, 99)).append(" / ").append(micros(lag, 100))
                    .append(" | ").append(point.maxConnections()).append(" | ")
                    .append(format("%.0f", point.benchCpuMicrosPerRequest())).append(" |\n");
        }
        md.append('\n');
    }

    /** Replaces the results section of {@code report}, creating the file with its header if need be. */
    static void write(Path report, String section) throws IOException {
        Path parent = report.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        String existing = Files.exists(report) ? Files.readString(report) : null;
        Files.writeString(report, merge(existing, section));
    }

    static String merge(String existing, String section) {
        return existing == null ? HEADER + "\n" + section : replaceSection(existing, section, BEGIN, END);
    }

    /**
     * {@code existing} with the part from the line {@code begin} to the line {@code end} replaced by
     * {@code section} (which carries both lines), or with {@code section} appended when it has none.
     */
    static String replaceSection(String existing, String section, String begin, String end) {
        int from = existing.indexOf(begin);
        int to = existing.indexOf(end);
        if (from < 0 || to < from) {
            return existing + (existing.isEmpty() ? "" : existing.endsWith("\n") ? "\n" : "\n\n") + section;
        }
        int after = existing.indexOf('\n', to);
        return existing.substring(0, from) + section + (after < 0 ? "" : existing.substring(after + 1));
    }

    private static String goal(long addedP50, long addedP99) {
        boolean p50 = addedP50 <= GOAL_ADDED_P50_MICROS;
        boolean p99 = addedP99 <= GOAL_ADDED_P99_MICROS;
        return p50 && p99 ? "met" : "**missed**: " + (p50 ? "" : "p50") + (!p50 && !p99 ? " and " : "") + (p99 ? "" : "p99");
    }

    private static long added(Histogram with, Histogram without, double percentile) {
        return Math.round((with.getValueAtPercentile(percentile) - without.getValueAtPercentile(percentile)) / 1e3);
    }

    private static String micros(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? "–" : format("%.0f", histogram.getValueAtPercentile(percentile) / 1e3);
    }

    private static String kib(int bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    /** Joins lines for a table cell. */
    static String oneLine(String text) {
        return text.lines().map(String::trim).filter(line -> !line.isEmpty()).collect(Collectors.joining("; "));
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
