package io.aimesh.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Renders a {@link FanoutResult} as a markdown section, and keeps one such section per
 * protocol in the report file so that a SotW run and a delta run sit side by side.
 */
final class FanoutReport {
    /** The control plane's default debounce: a reload waits for this much quiet after the last edit. */
    static final Duration DEBOUNCE_QUIET = Duration.ofMillis(100);

    private static final String HEADER = """
            # ADS fan-out benchmark

            How long one policy edit takes to reach every connected Envoy, and how much control-plane heap
            each connected Envoy costs. Written by
            [`AdsFanoutBenchmark`](../../benchmarks/src/main/java/io/aimesh/bench/AdsFanoutBenchmark.java)
            (its javadoc has the command); each run rewrites the section of its protocol.

            Method: the control plane runs in its own JVM (`-Xmx1g -XX:+UseG1GC`) on a policy directory of
            8 InferencePools (4 endpoints each) and 4 ModelRoutes (2 versions each). N simulated Envoys in
            the benchmark JVM (grpc-java, 100 ADS streams per HTTP/2 connection, 2 event-loop threads)
            subscribe CDS and LDS, then EDS and RDS, and ACK every response. Each change atomically
            replaces one route file with a new canary weight, 250 ms after the previous change reached
            every client; *change→all-ACKed* runs from that file replacement to the last client's ACK of
            the new route table. The control plane waits for
            100 ms of quiet after an edit before it reloads (as istiod does), so that figure includes 100 ms
            spent waiting on purpose; the row below it subtracts them. Heap is the control plane's live heap
            after a full GC (`jcmd GC.run`, `GC.heap_info`), with all clients in sync minus before any
            connected, divided by N.

            Caveats: clients and control plane share the machine's cores, so the client side's work (decoding
            and ACKing N responses) is inside the latency; with 20 changes, p99 is the slowest change.
            The control plane's own push-latency histogram also counts each stream's first ACKs, timed from
            a publish that predates the stream, so the table shows only what it observed during the changes.
            Goals and peers are from their documentation, not measured here.
            """;

    private FanoutReport() {
    }

    /** The result as a markdown section, delimited for {@link #merge}. */
    static String section(FanoutResult result, String command) {
        FanoutOptions options = result.options();
        Histogram all = result.allAcked();
        double quietMs = DEBOUNCE_QUIET.toNanos() / 1e6;
        PushLatencyBuckets push = result.pushLatency();
        StringBuilder md = new StringBuilder();
        md.append(begin(options.protocol())).append('\n')
                .append("## ").append(options.delta() ? "Delta ADS" : "State-of-the-world ADS").append(", ")
                .append(options.clients()).append(" clients, ").append(options.changes()).append(" changes\n\n")
                .append("| | measured | goal / peer |\n|---|---|---|\n");
        row(md, "date", DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(result.date().atOffset(ZoneOffset.UTC)
                .withNano(0)) + " UTC", "");
        row(md, "machine", machine(), "");
        row(md, "command", "`" + command + "`", "");
        row(md, "clients / changes / protocol", options.clients() + " / " + options.changes() + " / " + options.protocol(), "");
        row(md, "**change→all-ACKed**, from the file write: p50 / p99 / max",
                "**" + ms(all, 50, 0) + " / " + ms(all, 99, 0) + " / " + ms(all, 100, 0) + " ms**",
                "p99 ≤ 250 ms");
        row(md, "change→all-ACKed minus the 100 ms debounce quiet period: p50 / p99 / max",
                ms(all, 50, quietMs) + " / " + ms(all, 99, quietMs) + " / " + ms(all, 100, quietMs) + " ms",
                "istiod's debounce alone is 100 ms");
        row(md, "change→all-ACKed per change, in order (ms)", result.changes().stream()
                .map(nanos -> format("%.0f", nanos / 1e6)).collect(Collectors.joining(", ")), "");
        Histogram each = result.eachClient();
        row(md, "change→client-ACKed, every client and change: min / p50 / p99 / max",
                format("%.1f", each.getMinValue() / 1e6) + " / " + ms(each, 50, 0) + " / " + ms(each, 99, 0) + " / "
                        + ms(each, 100, 0) + " ms", "");
        row(md, "control plane's `aimesh_xds_push_latency_seconds{type=\"route\"}` over the changes"
                        + " (publish→ACK received; bucket upper bounds): p50 / p99",
                "≤ " + seconds(push.quantileUpperBound(0.5)) + " / ≤ " + seconds(push.quantileUpperBound(0.99))
                        + " (n = " + push.count() + ")", "");
        row(md, "**control-plane heap per client**", format("**%.3f MiB** (%.1f KiB; live heap %.1f → %.1f MiB)",
                result.heapPerClientKb() / 1024, result.heapPerClientKb(), result.heapBeforeKb() / 1024.0,
                result.heapAfterKb() / 1024.0), "≤ 0.5 MB; Kong Mesh sizes ~1 MB per proxy");
        row(md, "control-plane resident set per client (heap, direct buffers, threads; no GC forced)",
                Double.isNaN(result.rssPerClientKb()) ? "n/a" : format("%.3f MiB (%.1f → %.1f MiB)",
                        result.rssPerClientKb() / 1024, result.rssBeforeKb() / 1024.0, result.rssAfterKb() / 1024.0), "");
        return md.append('\n').append(end(options.protocol())).append('\n').toString();
    }

    /** Replaces the protocol's section of the report file, creating the file (and its directories) if need be. */
    static void write(Path report, String protocol, String section) throws IOException {
        Path parent = report.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        String existing = Files.exists(report) ? Files.readString(report) : null;
        Files.writeString(report, merge(existing, protocol, section));
    }

    static String merge(String existing, String protocol, String section) {
        if (existing == null) {
            return HEADER + "\n" + section;
        }
        int from = existing.indexOf(begin(protocol));
        int to = existing.indexOf(end(protocol));
        if (from < 0 || to < from) {
            return existing + (existing.endsWith("\n") ? "\n" : "\n\n") + section;
        }
        int after = existing.indexOf('\n', to);
        return existing.substring(0, from) + section + (after < 0 ? "" : existing.substring(after + 1));
    }

    /** CPU count and model, OS and JVM, e.g. {@code nproc 2 (AMD EPYC 7B13), Linux 6.1 amd64, OpenJDK 17.0.15+6}. */
    static String machine() {
        String cpu = "";
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try (Stream<String> lines = Files.lines(cpuinfo)) {
                cpu = lines.filter(line -> line.startsWith("model name")).findFirst()
                        .map(line -> " (" + line.substring(line.indexOf(':') + 1).trim() + ")").orElse("");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return "nproc " + Runtime.getRuntime().availableProcessors() + cpu + ", " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + " " + System.getProperty("os.arch") + ", "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version");
    }

    private static String begin(String protocol) {
        return "<!-- ads-fanout:" + protocol + " -->";
    }

    private static String end(String protocol) {
        return "<!-- /ads-fanout:" + protocol + " -->";
    }

    private static void row(StringBuilder md, String what, String measured, String goal) {
        md.append("| ").append(what).append(" | ").append(measured).append(" | ").append(goal).append(" |\n");
    }

    private static String ms(Histogram histogram, double percentile, double minusMs) {
        return format("%.1f", histogram.getValueAtPercentile(percentile) / 1e6 - minusMs);
    }

    private static String seconds(double seconds) {
        return Double.isNaN(seconds) ? "n/a" : Double.isInfinite(seconds) ? "+Inf" : format("%s s", seconds);
    }

    private static String format(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
