package io.aimesh.bench.e2e;

import io.aimesh.bench.e2e.OpenLoopLoad.LoadRun;
import io.aimesh.testing.Envoy;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The end-to-end overhead of the ai-filter: requests at fixed rates through Envoy with the
 * filter in the path, against the same Envoy without it, in the same run, latency measured
 * from each request's intended send time with HdrHistogram.
 *
 * <h2>Method</h2>
 * {@link BenchMesh} starts one model-sim answering as fast as it can, and two full stacks
 * (control plane + Envoy) whose policies differ only in the Gateway that puts the ai-filter
 * (its own JVM) in the path; a third path goes straight to model-sim, the floor. For each body
 * size the paths are first warmed at the highest rate (JIT, connection pools), then each rate is
 * measured in {@code rounds} slices, the paths taking turns in the order A, B, C then C, B, A, so
 * that the machine's drifts and other tenants' bursts (the box is shared) fall on every path
 * alike; the slices are merged per path. One path at a time, never two at once: on two cores,
 * concurrent paths would take CPU from each other, and the busier filter path would slow the
 * baseline and hide its own cost. {@link OpenLoopLoad} sends open loop (no coordinated
 * omission). The filter path carries the tenant's API key, whose budget is far above the load, so
 * every request is admitted; the baseline gets the same bytes.
 *
 * <p>Run from the repository root; the last command rewrites the results section of
 * {@code docs/benchmarks/filter-overhead.md} (about 13 minutes with the defaults, see
 * {@link OverheadOptions#USAGE}):
 * <pre>
 * mvn -B -o -q -pl benchmarks -am install -DskipTests
 * java -Xms1g -Xmx1g -XX:+AlwaysPreTouch -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     io.aimesh.bench.e2e.FilterOverheadBenchmark --report docs/benchmarks/filter-overhead.md
 * </pre>
 * To profile the filter, add {@code --filter-jvm-args "-Xms1g -Xmx1g -XX:StartFlightRecording=filename=filter.jfr,settings=profile"}.
 * A smoke run of seconds: {@code FilterOverheadSmokeIT}.
 */
public final class FilterOverheadBenchmark {
    static final String COMMAND = "java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*'"
            + " io.aimesh.bench.e2e.FilterOverheadBenchmark";
    /** The response header only the filter sets: its presence proves a request went through the filter. */
    static final String FILTER_HEADER = "x-ratelimit-limit-tokens";
    /** Quiet time between two runs, for the last connections to close. */
    private static final Duration GAP = Duration.ofMillis(200);

    private FilterOverheadBenchmark() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        OverheadOptions options = OverheadOptions.parseOrExit(args);
        OverheadResult result = run(options, System.out::println);
        report(OverheadReport.section(result, command(COMMAND, args)), options.report(), OverheadReport::write);
    }

    /** Where a benchmark writes its results section. */
    interface SectionWriter {
        void write(Path report, String section) throws IOException;
    }

    /** Prints {@code section}, and writes it into {@code report} when there is one. */
    static void report(String section, Path report, SectionWriter writer) throws IOException {
        System.out.println();
        System.out.print(section);
        if (report != null) {
            writer.write(report, section);
            System.out.println("wrote " + report);
        }
    }

    /** The command line that reproduces this run: {@code base} with this JVM's flags and {@code args}. */
    static String command(String base, String[] args) {
        List<String> jvmFlags = ManagementFactory.getRuntimeMXBean().getInputArguments();
        return base.replaceFirst("^java ", "java " + (jvmFlags.isEmpty() ? "" : String.join(" ", jvmFlags) + " "))
                + (args.length == 0 ? "" : " " + String.join(" ", quoted(args)));
    }

    /**
     * Runs the benchmark and cleans up after itself: every process stopped, temporary files deleted.
     *
     * @param progress receives one line per step
     */
    static OverheadResult run(OverheadOptions options, Consumer<String> progress) throws IOException, InterruptedException {
        Instant date = Instant.now();
        String loadBefore = loadAverage();
        List<PointResult> points = new ArrayList<>();
        Map<String, Long> extProc;
        try (BenchMesh mesh = BenchMesh.start(options, progress)) {
            try {
                for (int bodyBytes : options.bodyBytes()) {
                    measureBody(mesh, options, bodyBytes, points, progress);
                }
                extProc = mesh.envoyStats(DataPath.FILTER, "ext_proc");
            } catch (IOException | RuntimeException e) {
                progress.accept(mesh.diagnostics());
                throw e;
            }
        }
        return new OverheadResult(options, date, machine(), javaVersion(), envoyVersion(), loadBefore, loadAverage(), points,
                extProc);
    }

    private static void measureBody(BenchMesh mesh, OverheadOptions options, int bodyBytes, List<PointResult> points,
                                    Consumer<String> progress) throws IOException, InterruptedException {
        byte[] request = ChatRequest.http(bodyBytes, MeshPolicies.API_KEY);
        if (!options.warmup().isZero()) {
            for (DataPath path : options.paths()) {
                LoadRun warm = load(mesh, path, request, options.warmupRate(), options.warmup(), options.connections());
                progress.accept(format("warm-up %d B %s: %d req/s for %d s, %d errors%s", bodyBytes, path.id(),
                        options.warmupRate(), options.warmup().toSeconds(), warm.stats().errors(),
                        warm.stats().errors() == 0 ? "" : " (" + warm.stats().firstError() + ")"));
            }
        }
        Duration slice = options.duration().dividedBy(options.rounds());
        for (int rate : options.rates()) {
            List<PointResult> atRate = options.paths().stream().map(path -> new PointResult(path, rate, bodyBytes)).toList();
            for (int round = 0; round < options.rounds(); round++) {
                for (int i = 0; i < atRate.size(); i++) {
                    PointResult point = atRate.get(round % 2 == 0 ? i : atRate.size() - 1 - i);
                    long envoyCpu = mesh.envoyCpuNanos(point.path());
                    long extProcCpu = mesh.extProcCpuNanos(point.path());
                    long benchCpu = BenchMesh.benchCpuNanos();
                    LoadRun run = load(mesh, point.path(), request, rate, slice, options.connections());
                    point.add(run, mesh.envoyCpuNanos(point.path()) - envoyCpu, mesh.extProcCpuNanos(point.path()) - extProcCpu,
                            BenchMesh.benchCpuNanos() - benchCpu);
                }
            }
            for (PointResult point : atRate) {
                progress.accept(format("%d B %5d req/s %-6s p50 %6.0f  p99 %6.0f  max %7.0f µs, %.0f req/s, %d errors, "
                                + "%d of %d with %s", bodyBytes, rate, point.path().id(),
                        point.stats().latency().getValueAtPercentile(50) / 1e3,
                        point.stats().latency().getValueAtPercentile(99) / 1e3,
                        point.stats().latency().getMaxValue() / 1e3, point.achievedPerSecond(), point.errors(),
                        point.stats().marked(), point.stats().ok(), FILTER_HEADER));
            }
            points.addAll(atRate);
        }
    }

    /** One open-loop run of {@code path}, then a quiet gap for its last connections to close. */
    static LoadRun load(BenchMesh mesh, DataPath path, byte[] request, int rate, Duration duration, int connections)
            throws IOException, InterruptedException {
        LoadRun run = new OpenLoopLoad(mesh.target(path), FILTER_HEADER, "load-" + path.id()).run(request, rate, duration,
                connections);
        TimeUnit.MILLISECONDS.sleep(GAP.toMillis());
        return run;
    }

    /** The 1, 5 and 15 minute load averages, or "n/a" off Linux. */
    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "n/a";
        }
    }

    /** CPU count and model, OS, JVM. */
    static String machine() {
        String cpu = "";
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            cpu = lines.filter(line -> line.startsWith("model name")).findFirst()
                    .map(line -> " (" + line.substring(line.indexOf(':') + 1).trim() + ")").orElse("");
        } catch (IOException e) {
            // not Linux: the CPU model is left out
        }
        return "nproc " + Runtime.getRuntime().availableProcessors() + cpu + ", " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + " " + System.getProperty("os.arch");
    }

    private static String javaVersion() throws IOException, InterruptedException {
        return OverheadReport.oneLine(output(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version"));
    }

    static String envoyVersion() throws IOException, InterruptedException {
        return OverheadReport.oneLine(output(Envoy.binary().toString(), "--version"));
    }

    private static String output(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(10, TimeUnit.SECONDS);
        return output;
    }

    private static List<String> quoted(String[] args) {
        return Stream.of(args).map(arg -> arg.matches("[A-Za-z0-9_./,:=+-]+") ? arg : "'" + arg + "'").toList();
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
