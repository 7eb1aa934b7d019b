package io.aimesh.bench.e2e;

import io.aimesh.bench.ClosedLoop;
import io.aimesh.bench.e2e.OpenLoopLoad.LoadRun;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The whole request path beside the gateways users would pick instead, in one run: aimesh (Envoy
 * and the ai-filter), Envoy AI Gateway (the same Envoy binary with its extproc, {@link AiGatewayPath}),
 * LiteLLM's proxy, and as baselines Envoy alone and model-sim directly, all on the same model-sim,
 * request bytes and load generator ({@link BenchMesh}).
 *
 * <p>Per body size and mode (JSON or a stream of server-sent events), each path is first warmed up
 * closed loop ({@code --warmup} seconds, unrecorded; four times that before the first, for the
 * JIT), then runs closed loop with
 * {@code --saturation-clients} clients for {@code --saturation-seconds}: its throughput at
 * saturation and the CPU it spends per request. Then each rate is
 * measured open loop ({@link OpenLoopLoad}, latency from the intended send time), the paths taking
 * turns in slices as in {@link FilterOverheadBenchmark}; a path whose saturation throughput is
 * below a rate is not loaded at it (its queue would only grow), and the report says so.
 *
 * <pre>
 * benchmarks/scripts/peer-path.sh GIT_DIR_OF_AI_GATEWAY [--rates 100,500 --body-bytes 1024,16384,225280]
 * </pre>
 */
public final class PeerPathBenchmark {
    static final String COMMAND = "java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*'"
            + " io.aimesh.bench.e2e.PeerPathBenchmark";

    /** A path's closed-loop run at saturation, with the CPU its processes spent per request (µs). */
    record Saturation(DataPath path, int bodyBytes, boolean stream, ClosedLoop.Load load, double envoyCpuMicros,
                      double serverCpuMicros) {
    }

    /** An open-loop point of one mode. */
    record Point(boolean stream, PointResult result) {
    }

    /** The whole run. */
    record Result(OverheadOptions options, Instant date, String machine, String envoyVersion, String peers, String loadBefore,
                  String loadAfter, List<Saturation> saturations, List<Point> points) {
    }

    private PeerPathBenchmark() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        OverheadOptions options = OverheadOptions.parseOrExit(args);
        Result result = run(options, System.out::println);
        FilterOverheadBenchmark.report(PeerReport.section(result, FilterOverheadBenchmark.command(COMMAND, args)), options.report(),
                PeerReport::write);
    }

    static Result run(OverheadOptions options, Consumer<String> progress) throws IOException, InterruptedException {
        Instant date = Instant.now();
        String loadBefore = FilterOverheadBenchmark.loadAverage();
        List<Saturation> saturations = new ArrayList<>();
        List<Point> points = new ArrayList<>();
        try (BenchMesh mesh = BenchMesh.start(options, progress)) {
            try {
                for (int bodyBytes : options.bodyBytes()) {
                    for (boolean stream : options.streams()) {
                        measure(mesh, options, bodyBytes, stream, saturations, points, progress);
                    }
                }
            } catch (IOException | RuntimeException e) {
                progress.accept(mesh.diagnostics());
                throw e;
            }
        }
        return new Result(options, date, FilterOverheadBenchmark.machine(), FilterOverheadBenchmark.envoyVersion(),
                peers(options), loadBefore, FilterOverheadBenchmark.loadAverage(), saturations, points);
    }

    private static void measure(BenchMesh mesh, OverheadOptions options, int bodyBytes, boolean stream,
                                List<Saturation> saturations, List<Point> points, Consumer<String> progress)
            throws IOException, InterruptedException {
        String mode = stream ? "sse" : "json";
        // The first measurement also warms the JVMs' JIT, which takes longer than a connection pool.
        Duration warmup = saturations.isEmpty() ? options.warmup().multipliedBy(4) : options.warmup();
        List<Saturation> here = new ArrayList<>();
        for (DataPath path : options.paths()) {
            URI uri = URI.create("http://" + mesh.target(path).getHostString() + ":" + mesh.target(path).getPort() + ChatRequest.PATH);
            if (!warmup.isZero()) { // JIT, connection pools: closed loop, so a slow path is not flooded
                ClosedLoop.Load warm = ClosedLoop.run(List.of(uri), MeshPolicies.API_KEY, ChatRequest.body(bodyBytes, stream),
                        options.saturationClients(), warmup);
                progress.accept(format("%d B %s %-7s warm-up: %.0f req/s for %d s, %d errors", bodyBytes, mode, path.id(),
                        warm.perSecond(), warmup.toSeconds(), warm.errors()));
            }
            long envoyCpu = mesh.envoyCpuNanos(path);
            long serverCpu = mesh.extProcCpuNanos(path);
            ClosedLoop.Load load = ClosedLoop.run(List.of(uri), MeshPolicies.API_KEY, ChatRequest.body(bodyBytes, stream),
                    options.saturationClients(), options.saturationSeconds());
            long requests = Math.max(1, load.ok() + load.errors());
            Saturation saturation = new Saturation(path, bodyBytes, stream, load,
                    (mesh.envoyCpuNanos(path) - envoyCpu) / 1e3 / requests, (mesh.extProcCpuNanos(path) - serverCpu) / 1e3 / requests);
            here.add(saturation);
            progress.accept(format("%d B %s %-7s saturation: %.0f req/s, %d errors, p50 %.2f ms, CPU %.0f + %.0f µs/req", bodyBytes,
                    mode, path.id(), load.perSecond(), load.errors(), load.latency().getValueAtPercentile(50) / 1e3,
                    saturation.envoyCpuMicros(), saturation.serverCpuMicros()));
        }
        saturations.addAll(here);
        byte[] request = ChatRequest.http(bodyBytes, MeshPolicies.API_KEY, stream);
        Duration slice = options.duration().dividedBy(options.rounds());
        for (int rate : options.rates()) {
            List<PointResult> atRate = new ArrayList<>();
            for (Saturation saturation : here) {
                if (saturation.load().perSecond() >= rate) {
                    atRate.add(new PointResult(saturation.path(), rate, bodyBytes));
                }
            }
            for (int round = 0; round < options.rounds(); round++) {
                for (int i = 0; i < atRate.size(); i++) {
                    PointResult point = atRate.get(round % 2 == 0 ? i : atRate.size() - 1 - i);
                    long envoyCpu = mesh.envoyCpuNanos(point.path());
                    long serverCpu = mesh.extProcCpuNanos(point.path());
                    LoadRun run = FilterOverheadBenchmark.load(mesh, point.path(), request, rate, slice, options.connections());
                    point.add(run, mesh.envoyCpuNanos(point.path()) - envoyCpu, mesh.extProcCpuNanos(point.path()) - serverCpu, 0);
                }
            }
            for (PointResult point : atRate) {
                points.add(new Point(stream, point));
                progress.accept(format("%d B %s %5d req/s %-7s p50 %6.0f  p99 %6.0f µs, %.0f req/s, %d errors", bodyBytes, mode, rate,
                        point.path().id(), point.stats().latency().getValueAtPercentile(50) / 1e3,
                        point.stats().latency().getValueAtPercentile(99) / 1e3, point.achievedPerSecond(), point.errors()));
            }
        }
    }

    /** What was built of the peers: the AI Gateway commit (COMMIT beside its binary) and LiteLLM's version. */
    private static String peers(OverheadOptions options) throws IOException {
        List<String> peers = new ArrayList<>();
        if (options.aigwExtproc() != null) {
            Path commit = options.aigwExtproc().toAbsolutePath().resolveSibling("COMMIT");
            peers.add(Files.exists(commit) ? Files.readString(commit).trim() : "Envoy AI Gateway extproc " + options.aigwExtproc());
        }
        if (options.litellm() != null) {
            peers.add("LiteLLM " + options.litellm().toAbsolutePath().getParent().getParent().getFileName());
        }
        return String.join("; ", peers);
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
