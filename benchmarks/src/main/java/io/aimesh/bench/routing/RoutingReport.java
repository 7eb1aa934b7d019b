package io.aimesh.bench.routing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * Renders a {@link RoutingResult}: the markdown results section of
 * {@code docs/benchmarks/routing-quality.md} (the method and analysis around it stay as written)
 * and an SVG plot of p99 time to first token against offered load, one line per mode.
 */
final class RoutingReport {
    static final String BEGIN = "<!-- routing-quality:results -->";
    static final String END = "<!-- /routing-quality:results -->";
    /** The goal: at 80 to 90% of capacity, the picker's p99 TTFT against the others'. */
    static final double GOAL_VS_ROUND_ROBIN = 0.5;
    static final double GOAL_VS_LEAST_REQUEST = 0.8;
    /** For the prefix-heavy and LoRA workloads at 80 to 90%: against least request, against the oracle, hit-rate points. */
    static final double GOAL_AFFINITY_VS_LEAST_REQUEST = 0.5;
    static final double GOAL_VS_ORACLE = 1.3;
    static final double GOAL_HIT_RATE_POINTS = 10;
    private static final List<String> COLORS = List.of("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
            "#7f7f7f");

    private RoutingReport() {
    }

    static String progressLine(RoutingResult.Point point) {
        StreamingLoad.Result run = point.run();
        return format("load %.2f (%.1f req/s) %-18s TTFT p50 %7.1f p99 %8.1f ms, e2e p99 %8.1f ms, %.1f req/s, %.0f tok/s, "
                        + "cache hits %.0f%%, %d errors%s, by instance %s", point.load(), point.rate(), point.mode(),
                ms(run.ttft(), 50), ms(run.ttft(), 99), ms(run.e2e(), 99), point.requestsPerSecond(), point.tokensPerSecond(),
                point.cacheHitRate() * 100, run.errors(),
                run.firstError() == null ? "" : " (" + run.firstError() + ")", run.byInstance());
    }

    static String markdown(RoutingResult result, String command) {
        RoutingOptions options = result.options();
        StringBuilder md = new StringBuilder(BEGIN).append('\n');
        md.append("## Results of ").append(DateTimeFormatter.ISO_LOCAL_DATE_TIME
                .format(result.date().atOffset(ZoneOffset.UTC).withNano(0))).append(" UTC\n\n");
        md.append("| | |\n|---|---|\n");
        md.append("| command | `").append(command).append("` |\n");
        md.append("| workload | ").append(options.workload().name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .append(options.workload() == Workload.LORA ? ", " + options.maxLoras() + " adapter slots per model-sim" : "")
                .append(" |\n");
        md.append("| fleet | ").append(options.speeds().size()).append(" model-sims, speeds ")
                .append(options.speeds().stream().map(speed -> format("%.1f", speed)).collect(Collectors.joining(", ")))
                .append(", batch ").append(options.maxSeqs()).append(" each |\n");
        md.append("| capacity (measured) | ").append(format("%.1f", result.capacity())).append(" req/s |\n");
        md.append("| per load and mode | ").append(options.duration().toSeconds()).append(" s, open loop (Poisson), seed ")
                .append(options.seed()).append("; picker scrape interval ").append(options.metricsInterval().toMillis())
                .append(" ms |\n\n");
        md.append("Times in ms from each request's intended send time. Throughput: requests (and output tokens) that"
                + " ended within the measured window, per second.\n\n");
        md.append("| load | req/s offered | mode | TTFT p50 | TTFT p90 | TTFT p99 | e2e p50 | e2e p90 | e2e p99"
                + " | req/s done | tok/s | cache hits | errors | requests per endpoint |\n");
        md.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (RoutingResult.Point point : result.points()) {
            StreamingLoad.Result run = point.run();
            md.append(format("| %.0f%% | %.1f | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f%% | %s | %s |\n",
                    point.load() * 100, point.rate(), point.mode(), ms(run.ttft(), 50), ms(run.ttft(), 90),
                    ms(run.ttft(), 99), ms(run.e2e(), 50), ms(run.e2e(), 90), ms(run.e2e(), 99), point.requestsPerSecond(),
                    point.tokensPerSecond(), point.cacheHitRate() * 100, run.errors() == 0 ? "0" : run.errors() + " (" + run.firstError() + ")",
                    run.byInstance().values().stream().map(String::valueOf).collect(Collectors.joining(" / "))));
        }
        md.append('\n').append(goals(result)).append(END).append('\n');
        return md.toString();
    }

    /** The goal's ratios at each measured load from 80% to 90%. */
    static String goals(RoutingResult result) {
        StringBuilder md = new StringBuilder();
        for (RoutingResult.Point picker : result.points()) {
            if (!picker.mode().equals("picker") || picker.load() < 0.8 - 1e-9 || picker.load() > 0.9 + 1e-9) {
                continue;
            }
            Optional<RoutingResult.Point> rr = result.point("round-robin", picker.load());
            Optional<RoutingResult.Point> lr = result.point("least-request", picker.load());
            double p99 = ms(picker.run().ttft(), 99);
            md.append(format("- At %.0f%%: picker p99 TTFT %.1f ms", picker.load() * 100, p99));
            rr.ifPresent(point -> md.append(format("; × %.2f round robin's (goal ≤ %.1f: %s); throughput × %.2f of round"
                            + " robin's (goal ≥ 1: %s)", p99 / ms(point.run().ttft(), 99), GOAL_VS_ROUND_ROBIN,
                    p99 / ms(point.run().ttft(), 99) <= GOAL_VS_ROUND_ROBIN ? "met" : "**missed**",
                    picker.requestsPerSecond() / point.requestsPerSecond(),
                    picker.requestsPerSecond() >= point.requestsPerSecond() * 0.99 ? "met" : "**missed**")));
            double vsLeastRequest = result.options().workload() == Workload.PLAIN ? GOAL_VS_LEAST_REQUEST
                    : GOAL_AFFINITY_VS_LEAST_REQUEST;
            lr.ifPresent(point -> md.append(format("; × %.2f least request's (goal ≤ %.1f: %s)",
                    p99 / ms(point.run().ttft(), 99), vsLeastRequest,
                    p99 / ms(point.run().ttft(), 99) <= vsLeastRequest ? "met" : "**missed**")));
            result.point(RoutingBenchmark.ORACLE, picker.load()).ifPresent(oracle -> md.append(format(
                    "; × %.2f the oracle's (goal ≤ %.1f: %s); cache hits %.0f%% against the oracle's %.0f%% (goal within %.0f"
                            + " points: %s)", p99 / ms(oracle.run().ttft(), 99), GOAL_VS_ORACLE,
                    p99 / ms(oracle.run().ttft(), 99) <= GOAL_VS_ORACLE ? "met" : "**missed**", picker.cacheHitRate() * 100,
                    oracle.cacheHitRate() * 100, GOAL_HIT_RATE_POINTS,
                    (oracle.cacheHitRate() - picker.cacheHitRate()) * 100 <= GOAL_HIT_RATE_POINTS ? "met" : "**missed**")));
            md.append(".\n");
        }
        return md.length() == 0 ? "" : "Goal (picker at 80–90% of capacity; throughput within 1% counts as equal):\n\n" + md + "\n";
    }

    /** p99 time to first token against offered load, log scale, one line per mode. */
    static String svg(RoutingResult result) {
        int width = 720;
        int height = 420;
        int left = 70;
        int right = 160;
        int top = 40;
        int bottom = 60;
        List<Double> loads = result.points().stream().map(RoutingResult.Point::load).distinct().sorted().toList();
        double minLoad = loads.get(0);
        double maxLoad = loads.get(loads.size() - 1);
        double lo = Math.log10(Math.max(1, result.points().stream().mapToDouble(p -> ms(p.run().ttft(), 99)).min().orElse(1)));
        double hi = Math.log10(Math.max(10, result.points().stream().mapToDouble(p -> ms(p.run().ttft(), 99)).max().orElse(10)));
        lo = Math.floor(lo);
        hi = Math.ceil(hi);
        double plotW = width - left - right;
        double plotH = height - top - bottom;
        StringBuilder svg = new StringBuilder();
        svg.append(format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\""
                + " font-size=\"12\">\n", width, height));
        svg.append(format("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height));
        svg.append(format("<text x=\"%d\" y=\"22\" font-size=\"14\">p99 time to first token vs offered load (%s)</text>\n",
                left, result.fleet().size() + " model-sims, speeds " + result.options().speeds().stream()
                        .map(speed -> format("%.1f", speed)).collect(Collectors.joining("/"))));
        for (double decade = lo; decade <= hi; decade++) {
            double y = top + plotH - (decade - lo) / (hi - lo) * plotH;
            svg.append(format("<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y, left + plotW, y));
            svg.append(format("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s ms</text>\n", left - 6, y + 4,
                    format("%.0f", Math.pow(10, decade))));
        }
        for (double load : loads) {
            double x = x(load, minLoad, maxLoad, left, plotW);
            svg.append(format("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x, top, x, top + plotH));
            svg.append(format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f%%</text>\n", x, top + plotH + 18, load * 100));
        }
        svg.append(format("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">offered load (fraction of measured capacity)</text>\n",
                left + plotW / 2, height - 15));
        List<String> modes = result.options().modes();
        for (int m = 0; m < modes.size(); m++) {
            String mode = modes.get(m);
            String color = COLORS.get(m % COLORS.size());
            StringBuilder line = new StringBuilder();
            for (double load : loads) {
                Optional<RoutingResult.Point> point = result.point(mode, load);
                if (point.isEmpty()) {
                    continue;
                }
                double value = Math.log10(Math.max(1, ms(point.get().run().ttft(), 99)));
                double x = x(load, minLoad, maxLoad, left, plotW);
                double y = top + plotH - (value - lo) / (hi - lo) * plotH;
                line.append(line.length() == 0 ? "M" : " L").append(format("%.1f %.1f", x, y));
                svg.append(format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, color));
            }
            svg.append(format("<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", line, color));
            svg.append(format("<text x=\"%.1f\" y=\"%d\" fill=\"%s\">%s</text>\n", left + plotW + 12, top + 16 + 18 * m, color, mode));
        }
        return svg.append("</svg>\n").toString();
    }

    private static double x(double load, double min, double max, int left, double plotW) {
        return max == min ? left + plotW / 2 : left + (load - min) / (max - min) * plotW;
    }

    /** Replaces the results section of {@code report} and writes the plot beside it ({@code .svg}). */
    static void write(Path report, String section, String svg) throws IOException {
        Files.createDirectories(report.toAbsolutePath().getParent());
        String existing = Files.exists(report) ? Files.readString(report) : "# Routing quality\n\n";
        int from = existing.indexOf(BEGIN);
        int to = existing.indexOf(END);
        String merged = from < 0 || to < from ? existing + "\n" + section
                : existing.substring(0, from) + section + existing.substring(Math.min(existing.length(), existing.indexOf('\n', to) + 1));
        Files.writeString(report, merged);
        String name = report.getFileName().toString();
        Files.writeString(report.resolveSibling(name.replaceFirst("\\.md$", "") + ".svg"), svg);
    }

    static double ms(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(percentile) / 1e3;
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
