package io.aimesh.bench.routing;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The routing-quality benchmark: the same heterogeneous model-sim fleet behind real Envoy and the
 * ai-filter, balanced in turn by Envoy's round robin, Envoy's least request and the aimesh picker,
 * at offered loads from under to over the fleet's capacity, open loop. Writes
 * {@code docs/benchmarks/routing-quality.md} (results section) and its {@code .svg} plot.
 *
 * <pre>
 * benchmarks/scripts/routing-quality.sh            # builds, then runs with the defaults
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *   io.aimesh.bench.routing.RoutingBenchmark --report docs/benchmarks/routing-quality.md [options]
 * </pre>
 * Options: see {@link RoutingOptions#USAGE}.
 *
 * <h2>Method</h2>
 * <ul>
 *   <li><b>Capacity.</b> Each model-sim is driven alone, closed loop, with twice its batch size of
 *       clients sending the workload, for the calibration time; the fleet's capacity is the sum of
 *       their completion rates, the most any balancer could get. Offered loads are fractions of it.</li>
 *   <li><b>Order.</b> All stacks run side by side on the one fleet; each load is measured for every
 *       mode in turn (the order alternating between loads), and the fleet drains between runs, so
 *       drifts of the shared machine fall on all modes alike. Before each run the fleet's prefix
 *       caches and adapter slots are emptied, so no mode finds what the one before sent.</li>
 *   <li><b>Requests.</b> The same seeded request sequence and arrival times for every mode
 *       ({@link Workload}); time to first token and end to end are measured from each request's
 *       intended send time.</li>
 * </ul>
 */
public final class RoutingBenchmark {
    private static final Duration DRAIN = Duration.ofSeconds(60);
    static final String ORACLE = "oracle";

    private RoutingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        RoutingOptions options;
        try {
            options = RoutingOptions.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        RoutingResult result = run(options, System.out::println);
        String report = RoutingReport.markdown(result, "java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:"
                + "benchmarks/target/lib/*' io.aimesh.bench.routing.RoutingBenchmark " + String.join(" ", args));
        System.out.println(report);
        if (options.report() != null) {
            RoutingReport.write(options.report(), report, RoutingReport.svg(result));
            System.out.println("wrote " + options.report());
        }
        System.exit(0);
    }

    static RoutingResult run(RoutingOptions options, Consumer<String> progress) throws IOException, InterruptedException {
        Instant date = Instant.now();
        Path work = Files.createTempDirectory("aimesh-routing-");
        List<ModelSimServer> fleet = new ArrayList<>();
        List<RoutingStack> stacks = new ArrayList<>();
        try {
            for (int i = 0; i < options.speeds().size(); i++) {
                fleet.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(RoutingStack.MODEL).version("v1")
                        .speed(options.speeds().get(i)).maxSeqs(options.maxSeqs()).kvTokens(1 << 16).seed(100 + i)
                        .loraAdapters(adapters(options)).maxLoras(options.maxLoras()).build()));
                progress.accept("model-sim " + fleet.get(i).instanceName() + " speed " + options.speeds().get(i));
            }
            Workload workload = options.workload();
            double capacity = calibrate(fleet, workload, options, progress);
            Map<String, Function<Workload.Request, URI>> routes = new HashMap<>();
            for (String mode : options.modes()) {
                if (mode.equals(ORACLE)) {
                    routes.put(mode, oracle(fleet));
                    continue;
                }
                RoutingStack stack = RoutingStack.start(mode, fleet, options.metricsInterval(), adapters(options),
                        work.resolve(mode));
                stacks.add(stack);
                routes.put(mode, request -> stack.target());
                progress.accept(mode + ": stack up");
            }
            List<RoutingResult.Point> points = new ArrayList<>();
            for (int l = 0; l < options.loads().size(); l++) {
                double load = options.loads().get(l);
                double rate = load * capacity;
                int count = (int) Math.ceil(rate * options.duration().toSeconds() * 2) + 100;
                List<Workload.Request> requests = workload.draw(RoutingStack.MODEL, count, options.seed() * 1_000 + l);
                List<String> order = new ArrayList<>(options.modes());
                if (l % 2 == 1) {
                    java.util.Collections.reverse(order);
                }
                for (String mode : order) {
                    // Every mode meets the same cold fleet: the same requests, sent by the mode before,
                    // would otherwise be found in the servers' caches.
                    fleet.forEach(ModelSimServer::resetCaches);
                    long[] cacheBefore = prefixCache(fleet);
                    StreamingLoad.Result run = StreamingLoad.run(routes.get(mode), requests, rate, options.duration(), DRAIN,
                            options.seed() * 7_919 + l);
                    long[] cacheAfter = prefixCache(fleet);
                    long queried = cacheAfter[0] - cacheBefore[0];
                    RoutingResult.Point point = new RoutingResult.Point(mode, load, rate, run,
                            queried == 0 ? 0 : (double) (cacheAfter[1] - cacheBefore[1]) / queried);
                    points.add(point);
                    progress.accept(RoutingReport.progressLine(point));
                }
            }
            points.sort(Comparator.comparingDouble(RoutingResult.Point::load)
                    .thenComparingInt(point -> options.modes().indexOf(point.mode())));
            return new RoutingResult(options, date, capacity, fleet.stream().map(ModelSimServer::instanceName).toList(),
                    points);
        } finally {
            for (RoutingStack stack : stacks) {
                stack.close();
            }
            for (ModelSimServer sim : fleet) {
                sim.close();
            }
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    /** The adapters the fleet serves: those of the {@code lora} workload, else none. */
    static List<String> adapters(RoutingOptions options) {
        return options.workload() == Workload.LORA ? Workload.adapters(RoutingStack.MODEL) : List.of();
    }

    /**
     * The oracle: each request straight to the model-sim whose exact state (queue, remaining outputs,
     * prefix cache, adapters; {@link ModelSimServer#predictTtftNanos}) promises the first token soonest.
     * No proxy is in its path; the proxies' share of a TTFT (under a millisecond) is left out in its favour.
     */
    static Function<Workload.Request, URI> oracle(List<ModelSimServer> fleet) {
        List<URI> targets = fleet.stream().map(sim -> URI.create("http://" + sim.instanceName() + "/v1/chat/completions")).toList();
        // A first prediction makes each engine publish its state from its next step on.
        byte[] probe = ("{\"model\":\"" + RoutingStack.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        fleet.forEach(sim -> sim.predictTtftNanos(probe));
        return request -> {
            byte[] body = request.body().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int best = 0;
            long bestNanos = Long.MAX_VALUE;
            for (int i = 0; i < fleet.size(); i++) {
                long nanos = fleet.get(i).predictTtftNanos(body);
                if (nanos < bestNanos) {
                    best = i;
                    bestNanos = nanos;
                }
            }
            return targets.get(best);
        };
    }

    /** The fleet's prefix-cache tokens so far: {queried, hit}. */
    private static long[] prefixCache(List<ModelSimServer> fleet) {
        long[] sums = new long[2];
        for (ModelSimServer sim : fleet) {
            sums[0] += sim.prefixCacheQueriedTokens();
            sums[1] += sim.prefixCacheHitTokens();
        }
        return sums;
    }

    /**
     * The fleet's capacity in requests per second: each model-sim alone, closed loop with twice its
     * batch size of clients, all at once (they share nothing but the machine).
     */
    static double calibrate(List<ModelSimServer> fleet, Workload workload, RoutingOptions options, Consumer<String> progress)
            throws InterruptedException {
        int clients = 2 * options.maxSeqs();
        ExecutorService threads = Executors.newFixedThreadPool(clients * fleet.size());
        try {
            List<Workload.Request> requests = workload.draw(RoutingStack.MODEL, 20_000, options.seed());
            long deadline = System.nanoTime() + options.calibration().toNanos();
            List<List<Future<Integer>>> perSim = new ArrayList<>();
            for (int s = 0; s < fleet.size(); s++) {
                URI target = URI.create("http://" + fleet.get(s).instanceName() + "/v1/chat/completions");
                List<Future<Integer>> futures = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int offset = (s * clients + c) * 97;
                    futures.add(threads.submit(() -> {
                        int done = 0;
                        for (int i = offset; System.nanoTime() < deadline; i++) {
                            StreamingLoad.Outcome outcome = StreamingLoad.send(target, requests.get(i % requests.size()));
                            if (outcome.status() == 200 && System.nanoTime() <= deadline) {
                                done++;
                            }
                        }
                        return done;
                    }));
                }
                perSim.add(futures);
            }
            double capacity = 0;
            for (int s = 0; s < fleet.size(); s++) {
                int done = 0;
                for (Future<Integer> future : perSim.get(s)) {
                    done += future.get();
                }
                double rate = done / (options.calibration().toMillis() / 1e3);
                progress.accept(String.format(java.util.Locale.ROOT, "capacity of %s: %.1f req/s", fleet.get(s).instanceName(), rate));
                capacity += rate;
            }
            progress.accept(String.format(java.util.Locale.ROOT, "fleet capacity: %.1f req/s", capacity));
            return capacity;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("calibration failed", e.getCause());
        } finally {
            threads.shutdownNow();
            threads.awaitTermination(30, TimeUnit.SECONDS);
        }
    }
}
