package io.aimesh.bench.e2e;

import io.aimesh.bench.e2e.PeerPathBenchmark.Point;
import io.aimesh.bench.e2e.PeerPathBenchmark.Result;
import io.aimesh.bench.e2e.PeerPathBenchmark.Saturation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * Renders a {@link PeerPathBenchmark} run as the results section of {@code docs/benchmarks/peers.md}
 * and replaces that section in the file, leaving the rest as written.
 */
final class PeerReport {
    /** The goals: aimesh's added p50 at most this share of AI Gateway's, its p99 no worse; throughput this multiple of LiteLLM's. */
    static final double GOAL_P50_SHARE = 0.8;
    static final double GOAL_THROUGHPUT_MULTIPLE = 5;
    /** The goal for the ai-filter's own work: its added p50 over a no-op ext_proc server, µs. */
    static final long GOAL_OWN_WORK_MICROS = 40;
    private static final String BEGIN = "<!-- peers:results -->";
    private static final String END = "<!-- /peers:results -->";

    private PeerReport() {
    }

    static String section(Result result, String command) {
        OverheadOptions options = result.options();
        StringBuilder md = new StringBuilder(BEGIN).append('\n');
        md.append("## Results of ").append(DateTimeFormatter.ISO_LOCAL_DATE_TIME
                .format(result.date().atOffset(ZoneOffset.UTC).withNano(0))).append(" UTC\n\n");
        md.append("| | |\n|---|---|\n")
                .append("| machine | ").append(result.machine()).append(" |\n")
                .append("| `envoy --version` (every Envoy path) | ").append(result.envoyVersion()).append(" |\n")
                .append("| peers | ").append(result.peers()).append(" |\n")
                .append("| load average (1, 5, 15 min) before → after | ").append(result.loadBefore()).append(" → ")
                .append(result.loadAfter()).append(" |\n")
                .append("| command | `").append(command).append("` |\n")
                .append("| saturation | ").append(options.saturationClients()).append(" closed-loop clients, ")
                .append(options.saturationSeconds().toSeconds()).append(" s per path, body and mode |\n")
                .append("| per rate and path | ").append(format("%.1f s open loop in %d slices, paths alternating",
                        options.duration().toMillis() / 1e3, options.rounds())).append(" |\n")
                .append("| Envoy workers / LiteLLM workers | ").append(options.envoyConcurrency()).append(" / ")
                .append(options.envoyConcurrency()).append(" |\n\n");
        saturation(md, result);
        added(md, result);
        latency(md, result);
        return md.append(END).append('\n').toString();
    }

    private static void saturation(StringBuilder md, Result result) {
        md.append("### Throughput at saturation, and CPU per request\n\n")
                .append("| body | mode | path | req/s | errors | p50 / p99 (ms) | CPU µs/req: Envoy + gateway process | "
                        + "aimesh ÷ LiteLLM (goal ≥ ").append(format("%.0f", GOAL_THROUGHPUT_MULTIPLE)).append("×) |\n")
                .append("|---:|---|---|---:|---:|---:|---:|---:|\n");
        for (Saturation s : result.saturations()) {
            String ratio = "";
            if (s.path() == DataPath.FILTER) {
                Optional<Saturation> litellm = result.saturations().stream().filter(o -> o.path() == DataPath.LITELLM
                        && o.bodyBytes() == s.bodyBytes() && o.stream() == s.stream()).findFirst();
                if (litellm.isPresent() && litellm.get().load().perSecond() > 0) {
                    double multiple = s.load().perSecond() / litellm.get().load().perSecond();
                    ratio = format("%.1f×", multiple) + (multiple >= GOAL_THROUGHPUT_MULTIPLE ? " met" : " **missed**");
                }
            }
            Histogram latency = s.load().latency();
            md.append("| ").append(kib(s.bodyBytes())).append(" | ").append(mode(s.stream())).append(" | ").append(s.path().id())
                    .append(" | ").append(format("%.0f", s.load().perSecond())).append(" | ").append(s.load().errors())
                    .append(" | ").append(format("%.2f / %.2f", latency.getValueAtPercentile(50) / 1e3,
                            latency.getValueAtPercentile(99) / 1e3))
                    .append(" | ").append(format("%.0f + %.0f", s.envoyCpuMicros(), s.serverCpuMicros()))
                    .append(" | ").append(ratio).append(" |\n");
        }
        md.append('\n');
    }

    private static void added(StringBuilder md, Result result) {
        DataPath baseline = result.points().stream().anyMatch(p -> p.result().path() == DataPath.PROXY) ? DataPath.PROXY
                : DataPath.ENVOY;
        md.append("### What each gateway adds over its baseline, same body, mode and rate (µs)\n\n")
                .append("aimesh and AI Gateway over `").append(baseline.id()).append("` (").append(baseline.description())
                .append("), LiteLLM over model-sim directly. Differences of percentiles, not percentiles of differences. Goal:"
                        + " aimesh's added p50 ≤ ").append(format("%.1f", GOAL_P50_SHARE)).append("× AI Gateway's, its added p99 no"
                        + " worse.\n\n")
                .append("| body | mode | rate | aimesh p50 / p99 | AI Gateway p50 / p99 | aimesh ÷ AI Gateway p50 | goal"
                        + " | LiteLLM p50 / p99 | aimesh's own work p50 / p99 (goal p50 ≤ ").append(GOAL_OWN_WORK_MICROS)
                .append(") |\n")
                .append("|---:|---|---:|---:|---:|---:|---|---:|---:|\n");
        for (Point point : result.points()) {
            if (point.result().path() != baseline) {
                continue;
            }
            PointResult envoy = point.result();
            Optional<PointResult> aimesh = find(result, DataPath.FILTER, point);
            Optional<PointResult> aigw = find(result, DataPath.AIGW, point);
            Optional<PointResult> litellm = find(result, DataPath.LITELLM, point);
            Optional<PointResult> direct = find(result, DataPath.DIRECT, point);
            Optional<PointResult> noop = find(result, DataPath.EXTPROC, point);
            String goal = "";
            String share = "";
            if (aimesh.isPresent() && aigw.isPresent()) {
                long ours50 = added(aimesh.get(), envoy, 50);
                long theirs50 = added(aigw.get(), envoy, 50);
                long ours99 = added(aimesh.get(), envoy, 99);
                long theirs99 = added(aigw.get(), envoy, 99);
                share = theirs50 <= 0 ? "–" : format("%.2f", ours50 / (double) theirs50);
                boolean p50 = ours50 <= GOAL_P50_SHARE * theirs50;
                boolean p99 = ours99 <= theirs99;
                goal = p50 && p99 ? "met" : "**missed**: " + (p50 ? "" : "p50") + (!p50 && !p99 ? " and " : "") + (p99 ? "" : "p99");
            }
            md.append("| ").append(kib(envoy.bodyBytes())).append(" | ").append(mode(point.stream())).append(" | ")
                    .append(envoy.rate()).append(" | ")
                    .append(aimesh.map(a -> added(a, envoy, 50) + " / " + added(a, envoy, 99)).orElse("–")).append(" | ")
                    .append(aigw.map(a -> added(a, envoy, 50) + " / " + added(a, envoy, 99)).orElse("–")).append(" | ")
                    .append(share).append(" | ").append(goal).append(" | ")
                    .append(litellm.isPresent() && direct.isPresent()
                            ? added(litellm.get(), direct.get(), 50) + " / " + added(litellm.get(), direct.get(), 99)
                            : "– (over its capacity)")
                    .append(" | ").append(aimesh.isPresent() && noop.isPresent() ? ownWork(aimesh.get(), noop.get()) : "–")
                    .append(" |\n");
        }
        md.append('\n');
    }

    /** What the ai-filter adds over the same Envoy with a no-op ext_proc server: the protocol's cost taken out. */
    private static String ownWork(PointResult aimesh, PointResult noop) {
        long p50 = added(aimesh, noop, 50);
        return p50 + " / " + added(aimesh, noop, 99) + (p50 <= GOAL_OWN_WORK_MICROS ? " met" : " **missed**");
    }

    private static void latency(StringBuilder md, Result result) {
        md.append("### Latency from the intended send time, open loop (µs)\n\n")
                .append("| body | mode | rate | path | p50 | p90 | p99 | p99.9 | achieved (req/s) | errors"
                        + " | CPU µs/req: Envoy + gateway process |\n")
                .append("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Point point : result.points()) {
            PointResult p = point.result();
            Histogram latency = p.stats().latency();
            md.append("| ").append(kib(p.bodyBytes())).append(" | ").append(mode(point.stream())).append(" | ").append(p.rate())
                    .append(" | ").append(p.path().id()).append(" | ")
                    .append(micros(latency, 50)).append(" | ").append(micros(latency, 90)).append(" | ")
                    .append(micros(latency, 99)).append(" | ").append(micros(latency, 99.9)).append(" | ")
                    .append(format("%.0f", p.achievedPerSecond())).append(" | ")
                    .append(p.errors() == 0 ? "0" : p.errors() + " (" + p.stats().firstError() + ")").append(" | ")
                    .append(format("%.0f + %.0f", p.envoyCpuMicrosPerRequest(), p.extProcCpuMicrosPerRequest())).append(" |\n");
        }
        md.append('\n');
    }

    /** Replaces the results section of {@code report} (or appends it). */
    static void write(Path report, String section) throws IOException {
        Files.writeString(report, OverheadReport.replaceSection(Files.exists(report) ? Files.readString(report) : "", section,
                BEGIN, END));
    }

    private static Optional<PointResult> find(Result result, DataPath path, Point like) {
        return result.points().stream().filter(p -> p.stream() == like.stream() && p.result().path() == path
                && p.result().rate() == like.result().rate() && p.result().bodyBytes() == like.result().bodyBytes())
                .map(Point::result).findFirst();
    }

    private static long added(PointResult with, PointResult without, double percentile) {
        return Math.round((with.stats().latency().getValueAtPercentile(percentile)
                - without.stats().latency().getValueAtPercentile(percentile)) / 1e3);
    }

    private static String micros(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? "–" : format("%.0f", histogram.getValueAtPercentile(percentile) / 1e3);
    }

    private static String mode(boolean stream) {
        return stream ? "SSE" : "JSON";
    }

    private static String kib(int bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
