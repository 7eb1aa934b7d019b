package io.aimesh.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * The demo's client: a closed loop of chat completions through Envoy from a few threads,
 * with a summary per model version and per instance of who served what, and how fast.
 * Threads record into the shared tallies under their lock; the printer swaps them out.
 */
final class DemoLoad implements AutoCloseable {
    private static final String BODY = "{\"model\":\"%s\",\"max_tokens\":%d,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Summarize the plot of a short story about GPUs.\"}]}";

    /** Requests and latencies for one version or instance over one interval. */
    private static final class Tally {
        long requests;
        final Histogram latencyMicros = new Histogram(60_000_000L, 2);
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final URI uri;
    private final String body;
    private final String model;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private Map<String, Tally> byVersion = new TreeMap<>();
    private Map<String, Tally> byInstance = new TreeMap<>();
    private final Map<String, Long> errors = new TreeMap<>();
    private long totalOk;
    private long totalErrors;

    DemoLoad(int listenerPort, String model, int maxTokens, int concurrency) {
        this.uri = URI.create("http://127.0.0.1:" + listenerPort + "/v1/chat/completions");
        this.body = BODY.formatted(model, maxTokens);
        this.model = model;
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(this::loop, "demo-load-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    /** Sends one request; true when it succeeded. */
    boolean probe() {
        try {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                    .header("content-type", "application/json")
                .header("x-aimesh-model", model)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    void start() {
        threads.forEach(Thread::start);
    }

    private void loop() {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(60))
                .header("content-type", "application/json")
                .header("x-aimesh-model", model)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        while (running.get()) {
            long start = System.nanoTime();
            try {
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                long micros = (System.nanoTime() - start) / 1000;
                if (response.statusCode() == 200) {
                    record(response.headers().firstValue("x-model-sim-version").orElse("?"),
                            response.headers().firstValue("x-model-sim-instance").orElse("?"), micros);
                } else {
                    error("HTTP " + response.statusCode());
                }
            } catch (IOException e) {
                error(e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void record(String version, String instance, long micros) {
        for (Tally tally : List.of(byVersion.computeIfAbsent(version, v -> new Tally()),
                byInstance.computeIfAbsent(instance + " (" + version + ")", v -> new Tally()))) {
            tally.requests++;
            tally.latencyMicros.recordValue(Math.min(micros, 60_000_000L));
        }
        totalOk++;
    }

    private synchronized void error(String kind) {
        errors.merge(kind, 1L, Long::sum);
        totalErrors++;
    }

    /** Prints the interval's summary and starts a new interval. */
    void printSummary(PrintStream out, double seconds) {
        Map<String, Tally> versions;
        Map<String, Tally> instances;
        long ok;
        long failed;
        synchronized (this) {
            versions = byVersion;
            instances = byInstance;
            byVersion = new TreeMap<>();
            byInstance = new TreeMap<>();
            ok = totalOk;
            failed = totalErrors;
        }
        long interval = versions.values().stream().mapToLong(t -> t.requests).sum();
        out.printf("%n-- last %.0f s: %d requests, %.1f req/s | total ok %d, failed %d%s%n", seconds, interval,
                interval / seconds, ok, failed, failed == 0 ? "" : " " + errors);
        out.printf("   %-28s %8s %7s %9s %9s%n", "version", "requests", "share", "p50 ms", "p99 ms");
        versions.forEach((name, t) -> out.printf("   %-28s %8d %6.1f%% %9.1f %9.1f%n", name, t.requests,
                100.0 * t.requests / Math.max(1, interval), t.latencyMicros.getValueAtPercentile(50) / 1000.0,
                t.latencyMicros.getValueAtPercentile(99) / 1000.0));
        out.printf("   %-28s %8s %7s %9s %9s%n", "instance", "requests", "share", "p50 ms", "p99 ms");
        instances.forEach((name, t) -> out.printf("   %-28s %8d %6.1f%% %9.1f %9.1f%n", name, t.requests,
                100.0 * t.requests / Math.max(1, interval), t.latencyMicros.getValueAtPercentile(50) / 1000.0,
                t.latencyMicros.getValueAtPercentile(99) / 1000.0));
    }

    synchronized long failed() {
        return totalErrors;
    }

    synchronized long succeeded() {
        return totalOk;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(70).toMillis());
        }
    }
}
