package io.aimesh.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop clients sending one fixed request for a while: at a few clients the latency a
 * request pays, at many the throughput a path saturates at. Client {@code i} sends to
 * {@code targets[i % targets.size()]} (several for the direct path, one per model server).
 */
public final class ClosedLoop {
    /** What a run measured; latencies in microseconds. */
    public record Load(long ok, long errors, double seconds, Histogram latency) {
        public double perSecond() {
            return ok / seconds;
        }

        public Load plus(Load other) {
            Histogram merged = latency.copy();
            merged.add(other.latency);
            return new Load(ok + other.ok, errors + other.errors, seconds + other.seconds, merged);
        }
    }

    private ClosedLoop() {
    }

    /** @param apiKey sent as a bearer token, or {@code null} for none */
    public static Load run(List<URI> targets, String apiKey, String body, int clients, Duration duration)
            throws InterruptedException, IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Future<Load>> running = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            URI target = targets.get(c % targets.size());
            running.add(pool.submit(() -> {
                Histogram latency = new Histogram(60_000_000L, 3);
                long ok = 0;
                long errors = 0;
                HttpRequest.Builder builder = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
                if (apiKey != null) {
                    builder.header("authorization", "Bearer " + apiKey);
                }
                HttpRequest request = builder.build();
                while (System.nanoTime() < end) {
                    long sent = System.nanoTime();
                    HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
                    if (answer.statusCode() == 200) {
                        ok++;
                        latency.recordValue(Math.min((System.nanoTime() - sent) / 1_000, 60_000_000L));
                    } else {
                        errors++;
                    }
                }
                return new Load(ok, errors, 0, latency);
            }));
        }
        try {
            Load total = new Load(0, 0, 0, new Histogram(60_000_000L, 3));
            for (Future<Load> client : running) {
                total = total.plus(client.get());
            }
            return new Load(total.ok(), total.errors(), (System.nanoTime() - start) / 1e9, total.latency());
        } catch (ExecutionException e) {
            throw new IOException("a client failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
