package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * A tenant with 10,000 tokens per minute, sending far more (some of it streamed), over at
 * least two whole minutes: every window admits no more than the limit plus one request's
 * reservation and at least 95% of it; another tenant is never limited.
 */
class TokenBudgetIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long LIMIT = 10_000;
    /** Above any one request's reservation here: a ~15-token prompt plus max_tokens 40. */
    private static final long ONE_RESERVATION = 256;

    @Test
    void tokenBudget_holdsInEveryWindow_andAnotherTenantIsUnaffected() throws Exception {
        Map<Long, LongAdder> admittedByWindow = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        LongAdder limited = new LongAdder();
        LongAdder otherTenantOk = new LongAdder();
        long firstWindow;
        ScheduledExecutorService load = Executors.newScheduledThreadPool(8);
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(LIMIT).start()) {
            firstWindow = System.currentTimeMillis() / 60_000 + 1; // the first whole minute
            // acme offers ~2,400 tokens/s (40 requests/s of ~60 tokens), far above 10,000/min.
            for (int i = 0; i < 4; i++) {
                boolean stream = i == 0;
                load.scheduleAtFixedRate(() -> {
                    HttpResponse<String> response = stream
                            ? mesh.post("/v1/chat/completions", Mesh.ACME_KEY, streamBody(), Map.of())
                            : mesh.chat(Mesh.ACME_KEY, false, 40, Map.of());
                    record(response, stream, admittedByWindow, limited, problems);
                }, i * 7, 100, TimeUnit.MILLISECONDS);
            }
            load.scheduleAtFixedRate(() -> {
                HttpResponse<String> response = mesh.chat(Mesh.GLOBEX_KEY, false, 40, Map.of());
                if (response.statusCode() == 200) {
                    otherTenantOk.increment();
                } else {
                    problems.add("globex got " + response.statusCode() + " " + response.body());
                }
            }, 3, 200, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> System.currentTimeMillis() / 60_000 >= firstWindow + 2);
            load.shutdown();
            load.awaitTermination(30, TimeUnit.SECONDS);
        } finally {
            load.shutdownNow();
        }

        Map<Long, Long> whole = new TreeMap<>();
        for (long window = firstWindow; window < firstWindow + 2; window++) {
            LongAdder admitted = admittedByWindow.get(window);
            whole.put(window, admitted == null ? 0 : admitted.sum());
        }
        System.out.printf("FIGURE token-budget admitted per whole window %s (limit %d), 429s %d%n", whole, LIMIT, limited.sum());
        assertThat(problems).isEmpty();
        assertThat(limited.sum()).isPositive();
        assertThat(otherTenantOk.sum()).isPositive();
        assertThat(whole.values()).allSatisfy(admitted -> assertThat(admitted)
                .isLessThanOrEqualTo(LIMIT + ONE_RESERVATION)
                .isGreaterThanOrEqualTo((long) (LIMIT * 0.95)));
    }

    private static String streamBody() {
        return "{\"model\":\"llama\",\"stream\":true,\"max_tokens\":40,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Write a haiku about rate limits and GPUs.\"}]}";
    }

    /** Charges an admitted response's real usage to the window its reservation was taken in. */
    private static void record(HttpResponse<String> response, boolean stream, Map<Long, LongAdder> admittedByWindow,
                               LongAdder limited, ConcurrentLinkedQueue<String> problems) {
        try {
            if (response.statusCode() == 429) {
                JsonNode error = JSON.readTree(response.body()).path("error");
                if (!error.path("code").asText().equals("rate_limit_exceeded")
                        || response.headers().firstValue("retry-after").isEmpty()
                        || response.headers().firstValue("x-ratelimit-remaining-tokens").isEmpty()) {
                    problems.add("malformed 429: " + response.headers().map() + " " + response.body());
                }
                limited.increment();
                return;
            }
            if (response.statusCode() != 200) {
                problems.add("acme got " + response.statusCode() + " " + response.body());
                return;
            }
            long resetMillis = resetMillis(response.headers().firstValue("x-ratelimit-reset-tokens").orElseThrow());
            long window = Math.round((System.currentTimeMillis() + resetMillis) / 1000.0) * 1000 / 60_000 - 1;
            long tokens = stream ? streamedUsage(response.body()) : JSON.readTree(response.body()).at("/usage/total_tokens").asLong();
            admittedByWindow.computeIfAbsent(window, w -> new LongAdder()).add(tokens);
        } catch (Exception e) {
            problems.add(e.toString());
        }
    }

    private static long streamedUsage(String sse) throws Exception {
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {") && line.contains("\"usage\"")) {
                JsonNode usage = JSON.readTree(line.substring(6)).path("usage");
                if (usage.has("total_tokens")) {
                    return usage.path("total_tokens").asLong();
                }
            }
        }
        throw new IllegalStateException("no usage in stream");
    }

    /** Parses OpenAI's reset durations: {@code 250ms}, {@code 12.5s}, {@code 1m3s}. */
    static long resetMillis(String text) {
        if (text.endsWith("ms")) {
            return Long.parseLong(text.substring(0, text.length() - 2));
        }
        long millis = 0;
        int m = text.indexOf('m');
        if (m > 0) {
            millis += Long.parseLong(text.substring(0, m)) * 60_000;
            text = text.substring(m + 1);
        }
        return millis + Math.round(Double.parseDouble(text.substring(0, text.length() - 1)) * 1000);
    }
}
