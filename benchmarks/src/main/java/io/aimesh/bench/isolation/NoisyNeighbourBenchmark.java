package io.aimesh.bench.isolation;

import io.aimesh.bench.FilterStack;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The noisy-neighbour benchmark: a quiet tenant trickles requests into a pool of two model-sims
 * (4 sequences each) alone, then beside a tenant that floods it, behind real Envoy and the
 * ai-filter. Run once with the pool balanced by Envoy's least request (the model servers' own
 * queues absorb the flood, as in a plain mesh) and once as an aimesh picker pool with
 * {@code maxInFlight} and {@code whenSaturated: queue} (priorities, fair share and slot headroom
 * in the filter). Both stacks identify the tenants the same way, so they differ only in the pool.
 *
 * <pre>
 * benchmarks/scripts/noisy-neighbour.sh [--quiet-requests 200] [--flood-clients 24] [--report FILE]
 * </pre>
 *
 * <p>Method: the quiet tenant sends one 16-token request every 125 ms (open loop, 8 req/s, about
 * a quarter of the pool) and its latency is measured from the intended send time; the noisy
 * tenant runs a closed loop of {@code floodClients} clients, each request asking for 8 to 24
 * tokens (seeded), three times the pool's 8 slots by default. The flood runs from before the
 * quiet tenant's crowded phase to its end; its completions over that time are its throughput.
 */
public final class NoisyNeighbourBenchmark {
    static final String MODEL = "shared-model";
    private static final String QUIET_KEY = "quiet-key";
    private static final String NOISY_KEY = "noisy-key";
    private static final long PERIOD_MILLIS = 125;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** One mode's figures; latencies in ms. */
    record ModeResult(String mode, long aloneP50, long aloneP99, long crowdedP50, long crowdedP99, int quietRefused,
                      double noisyPerSecond, int noisyRefused) {
        double ratio() {
            return (double) crowdedP99 / aloneP99;
        }
    }

    /**
     * @param quietRequests the quiet tenant's requests in each phase
     * @param floodClients the noisy tenant's closed-loop clients
     */
    record Options(int quietRequests, int floodClients) {
        static Options smoke() {
            return new Options(16, 8);
        }
    }

    private NoisyNeighbourBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int quiet = 200;
        int flood = 24;
        Path report = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quiet-requests" -> quiet = Integer.parseInt(args[++i]);
                case "--flood-clients" -> flood = Integer.parseInt(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: NoisyNeighbourBenchmark [--quiet-requests N] [--flood-clients N] [--report FILE]");
                    System.exit(2);
                }
            }
        }
        List<ModeResult> results = run(new Options(quiet, flood), System.err::println);
        String table = markdown(results, new Options(quiet, flood));
        System.out.print(table);
        if (report != null) {
            FilterStack.writeResults(report, table);
        }
    }

    /** Runs both modes on one fleet, least request first. */
    static List<ModeResult> run(Options options, Consumer<String> progress) throws Exception {
        List<ModelSimServer> fleet = new ArrayList<>();
        Path dir = Files.createTempDirectory("aimesh-noisy-");
        try {
            for (int i = 0; i < 2; i++) {
                fleet.add(ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version("v1").speed(1)
                        .maxSeqs(4).kvTokens(1 << 20).seed(30 + i).build()));
            }
            List<ModeResult> results = new ArrayList<>();
            for (String mode : List.of("least-request", "aimesh")) {
                progress.accept(Instant.now() + " " + mode);
                results.add(runMode(mode, fleet, dir.resolve(mode), options));
            }
            return results;
        } finally {
            for (ModelSimServer sim : fleet) {
                sim.close();
            }
        }
    }

    private static ModeResult runMode(String mode, List<ModelSimServer> fleet, Path dir, Options options) throws Exception {
        try (FilterStack stack = FilterStack.start("noisy-" + mode, dir, filterPort -> policies(mode, fleet, filterPort), true)) {
            URI target = stack.uri("/v1/chat/completions");
            awaitAnswer(target);
            List<Long> alone = new ArrayList<>();
            int aloneRefused = trickle(target, options.quietRequests(), alone);
            AtomicBoolean flooding = new AtomicBoolean(true);
            ExecutorService noisy = Executors.newFixedThreadPool(options.floodClients());
            List<Future<int[]>> clients = new ArrayList<>();
            long floodStart = System.nanoTime();
            for (int c = 0; c < options.floodClients(); c++) {
                SplittableRandom lengths = new SplittableRandom(1_000 + c);
                clients.add(noisy.submit(() -> {
                    int[] counts = new int[2];
                    while (flooding.get()) {
                        HttpResponse<String> response = send(target, NOISY_KEY, 8 + lengths.nextInt(17));
                        counts[response.statusCode() == 200 ? 0 : 1]++;
                    }
                    return counts;
                }));
            }
            // A warm-up, not a synchronisation: the flood reaches its steady state (the pool full and, in a
            // plain mesh, the servers' queues long) before the quiet tenant's crowded phase starts.
            Thread.sleep(2_000);
            List<Long> crowded = new ArrayList<>();
            int crowdedRefused = trickle(target, options.quietRequests(), crowded);
            flooding.set(false);
            double seconds = (System.nanoTime() - floodStart) / 1e9;
            int served = 0;
            int refused = 0;
            for (Future<int[]> client : clients) {
                int[] counts = client.get(120, TimeUnit.SECONDS);
                served += counts[0];
                refused += counts[1];
            }
            noisy.shutdownNow();
            return new ModeResult(mode, percentile(alone, 0.50), percentile(alone, 0.99), percentile(crowded, 0.50),
                    percentile(crowded, 0.99), aloneRefused + crowdedRefused, served / seconds, refused);
        }
    }

    /** Sends {@code count} quiet requests on a fixed schedule; adds each latency (from its intended send time) in ms. */
    private static int trickle(URI target, int count, List<Long> latencies) throws Exception {
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(1);
        ExecutorService senders = Executors.newCachedThreadPool();
        try {
            List<CompletableFuture<Long>> pending = new ArrayList<>();
            long start = System.nanoTime() + 50_000_000;
            for (int i = 0; i < count; i++) {
                CompletableFuture<Long> latency = new CompletableFuture<>();
                pending.add(latency);
                long intended = start + i * PERIOD_MILLIS * 1_000_000;
                timer.schedule(() -> senders.execute(() -> {
                    HttpResponse<String> response = send(target, QUIET_KEY, 16);
                    latency.complete(response.statusCode() == 200 ? (System.nanoTime() - intended) / 1_000_000 : -1);
                }), intended - System.nanoTime(), TimeUnit.NANOSECONDS);
            }
            int refused = 0;
            for (CompletableFuture<Long> latency : pending) {
                long millis = latency.get(120, TimeUnit.SECONDS);
                if (millis < 0) {
                    refused++;
                } else {
                    latencies.add(millis);
                }
            }
            return refused;
        } finally {
            timer.shutdownNow();
            senders.shutdownNow();
        }
    }

    private static HttpResponse<String> send(URI target, String key, int maxTokens) {
        HttpRequest request = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(60))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":" + maxTokens
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say something about GPUs.\"}]}"))
                .build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void awaitAnswer(URI target) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            try {
                if (send(target, QUIET_KEY, 2).statusCode() == 200) {
                    return;
                }
            } catch (RuntimeException e) {
                // not up yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the stack did not answer at " + target);
    }

    static String policies(String mode, List<ModelSimServer> fleet, int filterPort) {
        String balancing = mode.equals("aimesh")
                ? "{mode: picker, metricsInterval: 50ms, maxInFlight: 4, whenSaturated: queue, queueSize: 256, queueTimeout: 60s}"
                : "{mode: least-request}";
        StringBuilder tenants = new StringBuilder();
        for (Map.Entry<String, String> tenant : Map.of("quiet", QUIET_KEY, "noisy", NOISY_KEY).entrySet()) {
            tenants.append("""
                    ---
                    apiVersion: aimesh.io/v1alpha1
                    kind: Tenant
                    metadata: {name: %s}
                    spec:
                      identity: {apiKeys: [{sha256: "sha256:%s"}]}
                    """.formatted(tenant.getKey(), FilterStack.apiKeyDigest(tenant.getValue())));
        }
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:%d", failureMode: closed, messageTimeout: 10s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: shared}
                spec:
                  endpoints: ["%s", "%s"]
                  balancing: %s
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: shared}
                spec:
                  model: %s
                  versions: [{name: v1, pool: shared, weight: 1}]
                  tokenizer: approximate
                """.formatted(filterPort, fleet.get(0).instanceName(), fleet.get(1).instanceName(), balancing, MODEL) + tenants;
    }

    static String markdown(List<ModeResult> results, Options options) {
        StringBuilder out = new StringBuilder();
        out.append("Quiet tenant: ").append(options.quietRequests()).append(" requests per phase at 8 req/s; noisy tenant: ")
                .append(options.floodClients()).append(" clients in a closed loop.\n\n");
        out.append("| pool | quiet alone p50 / p99 | quiet beside the flood p50 / p99 | p99 ratio | quiet refused "
                + "| noisy served / s | noisy refused |\n|---|---|---|---|---|---|---|\n");
        for (ModeResult r : results) {
            out.append(String.format("| %s | %d / %d ms | %d / %d ms | %.2f× | %d | %.1f | %d |%n", r.mode(), r.aloneP50(),
                    r.aloneP99(), r.crowdedP50(), r.crowdedP99(), r.ratio(), r.quietRefused(), r.noisyPerSecond(),
                    r.noisyRefused()));
        }
        return out.toString();
    }

    /** The nearest-rank percentile; 0 for no samples. */
    static long percentile(List<Long> samples, double p) {
        if (samples.isEmpty()) {
            return 0;
        }
        List<Long> sorted = new ArrayList<>(samples);
        Collections.sort(sorted);
        return sorted.get((int) Math.max(0, Math.ceil(p * sorted.size()) - 1));
    }
}
