package io.aimesh.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends chat completions through Envoy and counts who served them. Either a fixed batch
 * ({@link #send}) or a steady background load ({@link #start}) until {@link #stop}. The counts
 * may be read from any thread while requests are in flight.
 */
public final class Traffic {
    /** A chat completion for a model (format argument) asking for two tokens: what {@link #once} sends. */
    public static final String BODY = "{\"model\":\"%s\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final int port;
    private final String model;
    private final String body;
    private final Map<String, LongAdder> byVersion = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> byInstance = new ConcurrentHashMap<>();
    private final LongAdder ok = new LongAdder();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong sent = new AtomicLong();

    /** Traffic to Envoy's listener on {@code 127.0.0.1:port}, for {@code model}, asking for two tokens ({@link #BODY}). */
    public Traffic(int port, String model) {
        this(port, model, 2);
    }

    /**
     * Traffic asking for {@code maxTokens} tokens a request, {@code >= 1}: more make a slow server's
     * queue show (a picker then sends it less).
     */
    public Traffic(int port, String model, int maxTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens + " (expected: >= 1)");
        }
        this.port = port;
        this.model = model;
        this.body = BODY.formatted(model).replace("\"max_tokens\":2,", "\"max_tokens\":" + maxTokens + ",");
    }

    /** Sends one request; returns the serving version, or records a failure and returns {@code null}. */
    public String once(Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .header("x-aimesh-model", model)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        sent.incrementAndGet();
        try {
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                failures.add(response.statusCode() + " " + response.body());
                return null;
            }
            String version = response.headers().firstValue("x-model-sim-version").orElse("?");
            byVersion.computeIfAbsent(version, v -> new LongAdder()).increment();
            byInstance.computeIfAbsent(response.headers().firstValue("x-model-sim-instance").orElse("?"),
                    v -> new LongAdder()).increment();
            ok.increment();
            return version;
        } catch (java.io.IOException e) {
            failures.add(e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Sends {@code count} requests from {@code concurrency} threads and waits for all. */
    public Traffic send(int count, int concurrency, Map<String, String> headers) throws InterruptedException {
        AtomicLong left = new AtomicLong(count);
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(() -> {
                while (left.getAndDecrement() > 0) {
                    once(headers);
                }
            });
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) {
            t.join();
        }
        return this;
    }

    /** Starts a steady load from {@code concurrency} threads. */
    public Traffic start(int concurrency) {
        running.set(true);
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(() -> {
                while (running.get()) {
                    once(Map.of());
                }
            }, "traffic-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        return this;
    }

    public void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join();
        }
    }

    /** Answers 200 so far. */
    public long ok() {
        return ok.sum();
    }

    /** What went wrong so far: a status and body, or an exception, per failed request. */
    public Collection<String> failures() {
        return failures;
    }

    /** Answers 200 so far per serving instance ({@code x-model-sim-instance}). */
    public Map<String, Long> byInstance() {
        Map<String, Long> counts = new TreeMap<>();
        byInstance.forEach((instance, count) -> counts.put(instance, count.sum()));
        return counts;
    }

    /** Answers 200 so far from {@code version} ({@code x-model-sim-version}). */
    public long count(String version) {
        LongAdder adder = byVersion.get(version);
        return adder == null ? 0 : adder.sum();
    }

    /** Requests sent so far. */
    public long sent() {
        return sent.get();
    }
}
