package io.aimesh.bench.routing;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Open-loop load of streaming requests: arrivals of a Poisson process at a fixed rate, each sent at
 * its time whatever the earlier ones are doing, and timed from that intended time (so a slow path
 * cannot slow its own offered load, and queueing anywhere shows in the latency). Records per
 * request the time to the first content token and to the end, and the output tokens from the
 * final usage event. Each request runs on a thread of its own, blocked on its stream.
 */
final class StreamingLoad {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * What one run measured.
     *
     * @param ttft microseconds from each request's intended send time to its first content token
     * @param e2e microseconds from the intended send time to the end of the stream
     * @param sent requests sent
     * @param completed of those, answered in full (however late)
     * @param completedInWindow requests that ended within the measured window: the throughput
     * @param tokensInWindow output tokens of those
     * @param seconds the measured window
     * @param byInstance completed requests per model-sim instance
     */
    record Result(Histogram ttft, Histogram e2e, long sent, long completed, long completedInWindow, long tokensInWindow,
                  long errors, String firstError, double seconds, Map<String, Integer> byInstance) {
    }

    private StreamingLoad() {
    }

    /**
     * Sends {@code requests} in order at {@code rate} per second (exponential gaps from {@code seed})
     * to {@code target}, for at most {@code duration}, and waits for the answers (at most
     * {@code drain} more).
     */
    static Result run(Function<Workload.Request, URI> route, List<Workload.Request> requests, double rate, Duration duration,
                      Duration drain, long seed) throws InterruptedException {
        Recorder ttft = new Recorder(3);
        Recorder e2e = new Recorder(3);
        AtomicLong completed = new AtomicLong();
        AtomicLong inWindow = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        ConcurrentHashMap<String, AtomicInteger> byInstance = new ConcurrentHashMap<>();
        String[] firstError = new String[1];
        ExecutorService senders = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "routing-load");
            thread.setDaemon(true);
            return thread;
        });
        Random gaps = new Random(seed);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long next = start;
        int sent = 0;
        for (Workload.Request request : requests) {
            next += (long) (-Math.log(1 - gaps.nextDouble()) / rate * 1e9);
            if (next >= end) {
                break;
            }
            long intended = next;
            LockSupport.parkNanos(intended - System.nanoTime());
            sent++;
            senders.execute(() -> {
                try {
                    Outcome outcome = send(route.apply(request), request);
                    long done = System.nanoTime();
                    if (outcome.status != 200 || outcome.firstTokenNanos == 0) {
                        fail(errors, firstError, "status " + outcome.status + ": " + outcome.error);
                        return;
                    }
                    ttft.recordValue(Math.max(1, (outcome.firstTokenNanos - intended) / 1000));
                    e2e.recordValue(Math.max(1, (done - intended) / 1000));
                    completed.incrementAndGet();
                    if (done <= end) {
                        inWindow.incrementAndGet();
                        tokens.addAndGet(outcome.outputTokens);
                    }
                    if (outcome.instance != null) {
                        byInstance.computeIfAbsent(outcome.instance, k -> new AtomicInteger()).incrementAndGet();
                    }
                } catch (IOException | RuntimeException e) {
                    fail(errors, firstError, e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        LockSupport.parkNanos(end - System.nanoTime());
        double seconds = (end - start) / 1e9;
        senders.shutdown();
        if (!senders.awaitTermination(drain.toMillis(), TimeUnit.MILLISECONDS)) {
            senders.shutdownNow();
        }
        long unfinished = sent - completed.get() - errors.get();
        if (unfinished > 0) {
            errors.addAndGet(unfinished);
            synchronized (firstError) {
                if (firstError[0] == null) {
                    firstError[0] = unfinished + " unfinished after the drain";
                }
            }
        }
        Map<String, Integer> instances = new TreeMap<>();
        byInstance.forEach((instance, count) -> instances.put(instance, count.get()));
        return new Result(ttft.getIntervalHistogram(), e2e.getIntervalHistogram(), sent, completed.get(), inWindow.get(),
                tokens.get(), errors.get(), firstError[0], seconds, instances);
    }

    private static void fail(AtomicLong errors, String[] firstError, String error) {
        errors.incrementAndGet();
        synchronized (firstError) {
            if (firstError[0] == null) {
                firstError[0] = error;
            }
        }
    }

    record Outcome(int status, long firstTokenNanos, long outputTokens, String instance, String error) {
    }

    /** Sends one request and reads its stream: the first event with content is the first token. */
    static Outcome send(URI target, Workload.Request request) throws IOException, InterruptedException {
        HttpRequest http = HttpRequest.newBuilder(target)
                .timeout(Duration.ofMinutes(2))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.body()))
                .build();
        HttpResponse<InputStream> response = HTTP.send(http, HttpResponse.BodyHandlers.ofInputStream());
        String instance = response.headers().firstValue("x-model-sim-instance").orElse(null);
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                return new Outcome(response.statusCode(), 0, 0, instance,
                        new String(body.readNBytes(300), StandardCharsets.UTF_8));
            }
            long firstToken = 0;
            long outputTokens = 0;
            StringBuilder line = new StringBuilder();
            byte[] buffer = new byte[8192];
            for (int n; (n = body.read(buffer)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    char c = (char) (buffer[i] & 0xff);
                    if (c != '\n') {
                        line.append(c);
                        continue;
                    }
                    if (firstToken == 0 && line.indexOf("\"content\":\"") >= 0 && line.indexOf("\"content\":\"\"") < 0) {
                        firstToken = System.nanoTime();
                    }
                    int usage = line.indexOf("\"completion_tokens\":");
                    if (usage >= 0) {
                        int from = usage + "\"completion_tokens\":".length();
                        int to = from;
                        while (to < line.length() && Character.isDigit(line.charAt(to))) {
                            to++;
                        }
                        outputTokens = Long.parseLong(line.substring(from, to));
                    }
                    line.setLength(0);
                }
            }
            return new Outcome(200, firstToken, outputTokens, instance, firstToken == 0 ? "no content token" : null);
        }
    }
}
