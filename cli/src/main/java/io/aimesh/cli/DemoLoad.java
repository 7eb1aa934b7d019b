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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * The demo's client: closed loops of chat completions through Envoy, one group of threads
 * per tenant, with a summary of who served what and how fast (per model version and per
 * instance) and what each tenant got (served, rate limited, tokens left). Threads record
 * into the shared tallies under this object's lock; the printer swaps them out.
 */
final class DemoLoad implements AutoCloseable {
    private static final long MAX_BACK_OFF_SECONDS = 5;
    private static final String BODY = "{\"model\":\"%s\",\"max_tokens\":%d,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Summarize the plot of a short story about GPUs.\"}]}";

    /** A tenant's share of the load: its API key ({@code null} for none) and how many threads send for it. */
    record Client(String tenant, String apiKey, int concurrency, int maxTokens) {
    }

    /** Requests and latencies for one version or instance over one interval. */
    private static final class Tally {
        long requests;
        final Histogram latencyMicros = new Histogram(60_000_000L, 2);
    }

    /** What one tenant got over the whole run. */
    private static final class TenantTally {
        long ok;
        long limited;
        String remainingTokens = "-";
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final URI uri;
    private final String model;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private Map<String, Tally> byVersion = new TreeMap<>();
    private Map<String, Tally> byInstance = new TreeMap<>();
    private final Map<String, TenantTally> byTenant = new TreeMap<>();
    private final Map<String, Long> errors = new TreeMap<>();
    private long totalOk;
    private long totalErrors;

    DemoLoad(int listenerPort, String model, List<Client> clients) {
        this.uri = URI.create("http://127.0.0.1:" + listenerPort + "/v1/chat/completions");
        this.model = model;
        for (Client c : clients) {
            byTenant.put(c.tenant(), new TenantTally());
            for (int i = 0; i < c.concurrency(); i++) {
                Thread t = new Thread(() -> loop(c), "demo-load-" + c.tenant() + "-" + i);
                t.setDaemon(true);
                threads.add(t);
            }
        }
    }

    private HttpRequest request(Client c, int maxTokens) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(60))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY.formatted(model, maxTokens)));
        if (c.apiKey() != null) {
            request.header("authorization", "Bearer " + c.apiKey());
        }
        return request.build();
    }

    /** Sends one request as {@code c}; true when it succeeded. */
    boolean probe(Client c) {
        try {
            return client.send(request(c, 1), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
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

    private void loop(Client c) {
        HttpRequest request = request(c, c.maxTokens());
        while (running.get()) {
            long start = System.nanoTime();
            try {
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                long micros = (System.nanoTime() - start) / 1000;
                record(c.tenant(), response, micros);
                if (response.statusCode() == 429) {
                    backOff(response);
                }
            } catch (IOException e) {
                error(e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Waits as a well-behaved OpenAI client does after a 429: the {@code retry-after} seconds, at
     * most {@value #MAX_BACK_OFF_SECONDS} so the demo stays lively. Without it a limited tenant's
     * clients would spin, sending thousands of refused requests a second.
     */
    private static void backOff(HttpResponse<String> response) throws InterruptedException {
        long seconds = response.headers().firstValue("retry-after").map(value -> {
            try {
                return Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                return 1L;
            }
        }).orElse(1L);
        TimeUnit.SECONDS.sleep(Math.max(1, Math.min(MAX_BACK_OFF_SECONDS, seconds)));
    }

    private synchronized void record(String tenant, HttpResponse<String> response, long micros) {
        TenantTally t = byTenant.get(tenant);
        response.headers().firstValue("x-ratelimit-remaining-tokens").ifPresent(r -> t.remainingTokens = r);
        if (response.statusCode() == 429) {
            t.limited++;
            return;
        }
        if (response.statusCode() != 200) {
            errors.merge("HTTP " + response.statusCode(), 1L, Long::sum);
            totalErrors++;
            return;
        }
        String version = response.headers().firstValue("x-model-sim-version").orElse("?");
        String instance = response.headers().firstValue("x-model-sim-instance").orElse("?");
        for (Tally tally : List.of(byVersion.computeIfAbsent(version, v -> new Tally()),
                byInstance.computeIfAbsent(instance + " (" + version + ")", v -> new Tally()))) {
            tally.requests++;
            tally.latencyMicros.recordValue(Math.min(micros, 60_000_000L));
        }
        t.ok++;
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
        StringBuilder tenants = new StringBuilder();
        long ok;
        long failed;
        synchronized (this) {
            versions = byVersion;
            instances = byInstance;
            byVersion = new TreeMap<>();
            byInstance = new TreeMap<>();
            ok = totalOk;
            failed = totalErrors;
            byTenant.forEach((name, t) -> tenants.append(String.format("   %-28s %8d %8d %14s%n", name, t.ok, t.limited,
                    t.remainingTokens)));
        }
        long interval = versions.values().stream().mapToLong(t -> t.requests).sum();
        out.printf("%n-- last %.0f s: %d served, %.1f req/s | total served %d, failed %d%s%n", seconds, interval,
                interval / seconds, ok, failed, failed == 0 ? "" : " " + errors);
        table(out, "version", versions, interval);
        table(out, "instance", instances, interval);
        out.printf("   %-28s %8s %8s %14s%n", "tenant (whole run)", "served", "429", "tokens left");
        out.print(tenants);
    }

    private static void table(PrintStream out, String title, Map<String, Tally> rows, long interval) {
        out.printf("   %-28s %8s %7s %9s %9s%n", title, "requests", "share", "p50 ms", "p99 ms");
        rows.forEach((name, t) -> out.printf("   %-28s %8d %6.1f%% %9.1f %9.1f%n", name, t.requests,
                100.0 * t.requests / Math.max(1, interval), t.latencyMicros.getValueAtPercentile(50) / 1000.0,
                t.latencyMicros.getValueAtPercentile(99) / 1000.0));
    }

    /** Requests that failed (429s are the limiter doing its job, not failures). */
    synchronized long failed() {
        return totalErrors;
    }

    synchronized long succeeded() {
        return totalOk;
    }

    synchronized long limited() {
        return byTenant.values().stream().mapToLong(t -> t.limited).sum();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(70).toMillis());
        }
    }
}
