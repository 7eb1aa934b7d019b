package io.aimesh.bench.spend;

import io.aimesh.testing.AnswerUsage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Excess demand on one budget: {@code clients} closed-loop clients (every other one streaming)
 * send requests of seeded lengths through a gateway until each has been refused
 * {@value #REFUSALS_TO_STOP} times in a row. What was spent is summed from the usage of every
 * answer the clients received, at the benchmark's prices: what the model servers did, whatever
 * the gateway's own books say.
 */
final class SpendRace {
    static final String MODEL = "llama";
    private static final int REFUSALS_TO_STOP = 3;
    private static final String[] WORDS = {"budget", "month", "team", "tokens", "model", "cost", "limit", "answer",
        "stream", "request", "policy", "usage", "price", "ledger", "period", "spend"};

    /**
     * @param spentMicros the cost of every answer's usage
     * @param answers answers with a usage (200)
     * @param refusals refusals (429)
     * @param errors any other outcome, or a 200 without usage
     */
    record Result(long spentMicros, int answers, int refusals, int errors, double seconds) {
    }

    private SpendRace() {
    }

    /**
     * @param target the gateway's chat completions URI
     * @param apiKey sent as a bearer token
     * @param seed the clients' lengths: client {@code i} draws from {@code seed + i}
     */
    static Result run(URI target, String apiKey, int clients, long seed, Prices prices, Duration limit)
            throws InterruptedException, IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        AtomicLong spent = new AtomicLong();
        AtomicInteger answers = new AtomicInteger();
        AtomicInteger refusals = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        long deadline = System.nanoTime() + limit.toNanos();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                boolean stream = c % 2 == 1;
                SplittableRandom random = new SplittableRandom(seed + c);
                running.add(pool.submit(() -> {
                    int inARow = 0;
                    while (inARow < REFUSALS_TO_STOP && System.nanoTime() < deadline) {
                        HttpRequest request = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                                .header("content-type", "application/json").header("authorization", "Bearer " + apiKey)
                                .POST(HttpRequest.BodyPublishers.ofString(body(random, stream))).build();
                        HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
                        if (answer.statusCode() == 429) {
                            refusals.incrementAndGet();
                            inARow++;
                            continue;
                        }
                        inARow = 0;
                        AnswerUsage usage = answer.statusCode() == 200 ? AnswerUsage.read(answer.body(), stream) : null;
                        if (usage == null) {
                            errors.incrementAndGet();
                        } else {
                            answers.incrementAndGet();
                            spent.addAndGet(prices.cost(usage.promptTokens(), usage.completionTokens()));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> client : running) {
                client.get();
            }
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("a client failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return new Result(spent.get(), answers.get(), refusals.get(), errors.get(), (System.nanoTime() - start) / 1e9);
    }

    /** A chat request of 5 to 40 words asking for 8 to 64 tokens. */
    static String body(SplittableRandom random, boolean stream) {
        StringBuilder prompt = new StringBuilder();
        int words = 5 + random.nextInt(36);
        for (int i = 0; i < words; i++) {
            prompt.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        return "{\"model\":\"" + MODEL + "\",\"max_tokens\":" + (8 + random.nextInt(57))
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "")
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
    }
}
