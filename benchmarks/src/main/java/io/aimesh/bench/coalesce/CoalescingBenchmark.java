package io.aimesh.bench.coalesce;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * Embeddings coalescing at saturation: a closed loop of clients sends single-input
 * {@code /v1/embeddings} requests through real Envoy and the ai-filter to one model-sim (its GPU runs
 * one batch at a time: 20 ms plus 0.5 ms per input), once with the route's {@code coalesce} and once
 * without. Throughput and p95 from each request's send to its answer.
 *
 * <pre>
 * benchmarks/scripts/coalescing.sh [--clients 32] [--seconds 10]
 * </pre>
 */
public final class CoalescingBenchmark {
    static final String MODEL = "embed-model";

    record Result(String mode, double perSecond, long p50Millis, long p95Millis, long errors) {
    }

    private CoalescingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int clients = 32;
        int seconds = 10;
        Path report = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--report" -> report = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: CoalescingBenchmark [--clients N] [--seconds N] [--report FILE]");
                    System.exit(2);
                }
            }
        }
        List<Result> results = run(clients, seconds);
        String table = markdown(results, clients, seconds);
        System.out.print(table);
        if (report != null) {
            FilterStack.writeResults(report, table);
        }
    }

    static List<Result> run(int clients, int seconds) throws Exception {
        Path dir = Files.createTempDirectory("aimesh-coalesce-");
        List<Result> results = new ArrayList<>();
        try (ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version("v1").speed(1)
                .seed(9).build())) {
            for (String mode : List.of("uncoalesced", "coalesced")) {
                results.add(runMode(mode, sim, dir.resolve(mode), clients, seconds));
            }
        }
        return results;
    }

    private static Result runMode(String mode, ModelSimServer sim, Path dir, int clients, int seconds) throws Exception {
        String coalesce = mode.equals("coalesced") ? "  coalesce: {maxBatch: 32, maxInFlight: 1}\n" : "";
        try (FilterStack stack = FilterStack.start("coalesce-" + mode, dir, filterPort -> """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: edge}
                spec:
                  filter: {address: "127.0.0.1:%d", messageTimeout: 10s}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: embed}
                spec:
                  endpoints: ["%s"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: embed}
                spec:
                  model: %s
                  versions: [{name: v1, pool: embed, weight: 1}]
                  tokenizer: approximate
                %s""".formatted(filterPort, sim.instanceName(), MODEL, coalesce), true)) {
            URI target = stack.uri("/v1/embeddings");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 300 && send(http, target, "warm-up " + i) != 200; i++) {
                Thread.sleep(100); // a benchmark's setup: wait until the stack answers
            }
            Histogram latency = new Histogram(1, TimeUnit.MINUTES.toNanos(1), 3);
            AtomicBoolean measuring = new AtomicBoolean();
            AtomicBoolean running = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<long[]>> parts = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                parts.add(pool.submit(() -> {
                    long[] counts = new long[2]; // served while measuring, errors
                    for (int i = 0; running.get(); i++) {
                        long start = System.nanoTime();
                        int status = send(http, target, "client " + client + " text " + i);
                        if (measuring.get()) {
                            if (status == 200) {
                                counts[0]++;
                                synchronized (latency) {
                                    latency.recordValue(System.nanoTime() - start);
                                }
                            } else {
                                counts[1]++;
                            }
                        }
                    }
                    return counts;
                }));
            }
            Thread.sleep(3_000); // warm-up under load
            measuring.set(true);
            long start = System.nanoTime();
            Thread.sleep(seconds * 1_000L);
            measuring.set(false);
            double elapsed = (System.nanoTime() - start) / 1e9;
            running.set(false);
            long served = 0;
            long errors = 0;
            for (Future<long[]> part : parts) {
                long[] counts = part.get(60, TimeUnit.SECONDS);
                served += counts[0];
                errors += counts[1];
            }
            pool.shutdownNow();
            synchronized (latency) {
                return new Result(mode, served / elapsed, latency.getValueAtPercentile(50) / 1_000_000,
                        latency.getValueAtPercentile(95) / 1_000_000, errors);
            }
        }
    }

    private static int send(HttpClient http, URI target, String text) {
        try {
            return http.send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(60))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"input\":\"" + text + "\"}")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 599;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 599;
        }
    }

    static String markdown(List<Result> results, int clients, int seconds) {
        StringBuilder out = new StringBuilder();
        out.append(clients).append(" clients in a closed loop, ").append(seconds).append(" s measured after 3 s under load.\n\n");
        out.append("| route | requests/s | p50 | p95 | errors |\n|---|---:|---:|---:|---:|\n");
        for (Result r : results) {
            out.append(String.format("| %s | %.1f | %d ms | %d ms | %d |%n", r.mode(), r.perSecond(), r.p50Millis(),
                    r.p95Millis(), r.errors()));
        }
        Result plain = results.get(0);
        Result coalesced = results.get(1);
        out.append(String.format("%ncoalesced / uncoalesced: %.1f× the requests/s, p95 %.2f×%n",
                coalesced.perSecond() / plain.perSecond(), (double) coalesced.p95Millis() / Math.max(1, plain.p95Millis())));
        return out.toString();
    }
}
