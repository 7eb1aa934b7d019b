package io.aimesh.filter.extproc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aimesh.filter.batch.Batcher;
import io.aimesh.filter.config.RuntimeConfig.CoalesceInfo;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Gathers concurrent {@code /v1/embeddings} requests of one model into shared calls to a model
 * server, and answers each request with its own slice of the result: OpenAI's embeddings API takes a
 * list of inputs, and an embedding model's batch costs little more than one input.
 *
 * <p>Per model, requests go through a {@link Batcher}: under load it hands over everything waiting
 * at once. A call holds one of {@code maxInFlight} permits until its answer is in; while none is
 * free the batcher's consumer waits, and the requests arriving meanwhile make the next call, so calls
 * grow with load and a lone request is sent at once (the rule Nagle gave TCP). Calls carry at most
 * {@code maxBatch} inputs (a request with more goes alone), to an endpoint of the model's shared
 * versions drawn by weight. The filter calls the model server itself, not through Envoy.
 *
 * <p>A slice holds the request's vectors, taken from the answer by their {@code index} (never by
 * position: a reordered or short answer must not hand one client another's vectors; a short one
 * fails the call), re-indexed from 0. The call's {@code usage} is shared by the inputs' characters.
 * A failed call answers every request of it with a generic error, never the backend's body, which
 * may quote another tenant's input. Every request is answered exactly once: by its call, or with 504
 * at its deadline, before Envoy stops waiting for the filter.
 *
 * <p>Thread-safe.
 */
final class EmbeddingCoalescer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EmbeddingCoalescer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A request's answer: the status, the JSON body, the prompt tokens it is charged ({@code -1} when
     * the backend reported none: the request's estimate stands), the call's size in requests.
     */
    record Slice(int status, byte[] body, long promptTokens, int callRequests) {
    }

    /** A request in a call: its inputs, and its answer, given once (by the call, or by its deadline). */
    static final class Pending {
        private final List<String> inputs;
        private final Consumer<Slice> answer;
        private final AtomicBoolean answered = new AtomicBoolean();
        /** When its answer is due at the latest, in System.nanoTime(). */
        private final long deadlineNanos;

        Pending(List<String> inputs, Consumer<Slice> answer, long deadlineNanos) {
            this.inputs = List.copyOf(inputs);
            this.answer = answer;
            this.deadlineNanos = deadlineNanos;
        }

        List<String> inputs() {
            return inputs;
        }

        void answer(Slice slice) {
            if (answered.compareAndSet(false, true)) {
                try {
                    answer.accept(slice);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "answering a coalesced request failed", e);
                }
            }
        }
    }

    /** One model's batcher, with the settings it was made for. */
    private record Lane(CoalesceInfo settings, Batcher<Pending> batcher) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "aimesh-coalesce-deadlines");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * Queues a request's inputs for {@code model}'s next call; {@code answer} is called once, on
     * another thread, with its slice, or with 504 when {@code waitNanos} pass first.
     *
     * @return {@code false} when the model's queue is full: the request is not taken
     */
    boolean submit(String model, CoalesceInfo settings, List<String> inputs, long waitNanos, Consumer<Slice> answer) {
        Lane lane = lanes.get(model);
        if (lane == null || !lane.settings().equals(settings)) {
            lane = replace(model, settings);
        }
        Pending pending = new Pending(inputs, answer, System.nanoTime() + waitNanos);
        if (!lane.batcher().offer(pending)) {
            return false;
        }
        deadlines.schedule(() -> pending.answer(error(504, "The model server did not answer in time.")), waitNanos,
                TimeUnit.NANOSECONDS);
        return true;
    }

    /** A lane for {@code model} with {@code settings}; the one it replaces (a new config) still sends what it took. */
    private synchronized Lane replace(String model, CoalesceInfo settings) {
        Lane current = lanes.get(model);
        if (current != null && current.settings().equals(settings)) {
            return current;
        }
        Semaphore permits = new Semaphore(settings.maxInFlight());
        Lane fresh = new Lane(settings, Batcher.start("coalesce-" + model,
                new Batcher.Policy(settings.maxBatch(), Duration.ZERO, 4_096), batch -> send(model, settings, permits, batch)));
        lanes.put(model, fresh);
        if (current != null) {
            Thread closer = new Thread(current.batcher()::close, "aimesh-coalesce-close");
            closer.setDaemon(true);
            closer.start();
        }
        return fresh;
    }

    /** Splits a batch into calls of at most {@code maxBatch} inputs and sends each. On the batcher's thread. */
    private void send(String model, CoalesceInfo settings, Semaphore permits, List<Pending> batch) {
        List<Pending> call = new ArrayList<>();
        int inputs = 0;
        for (Pending pending : batch) {
            if (!call.isEmpty() && inputs + pending.inputs().size() > settings.maxBatch()) {
                call(model, settings, permits, call);
                call = new ArrayList<>();
                inputs = 0;
            }
            call.add(pending);
            inputs += pending.inputs().size();
        }
        call(model, settings, permits, call);
    }

    private void call(String model, CoalesceInfo settings, Semaphore permits, List<Pending> call) {
        permits.acquireUninterruptibly(); // while all calls are out, the next requests gather in the batcher
        try {
            ObjectNode body = JSON.createObjectNode().put("model", model);
            ArrayNode input = body.putArray("input");
            call.forEach(pending -> pending.inputs().forEach(input::add));
            // No longer than its requests can wait: past that they have had their 504, and the permit is needed.
            long latest = call.stream().mapToLong(pending -> pending.deadlineNanos).max().orElse(System.nanoTime());
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + target(settings) + "/v1/embeddings"))
                    .timeout(Duration.ofNanos(Math.max(1_000_000, latest - System.nanoTime())))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.toString().getBytes(StandardCharsets.UTF_8)))
                    .build();
            http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((response, failure) -> {
                permits.release();
                try {
                    answer(call, response, failure);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "answering a coalesced embeddings call failed", e);
                    call.forEach(pending -> pending.answer(error(502, "The model server's answer could not be read.")));
                }
            });
        } catch (RuntimeException e) {
            // The call could not even be made: every request of it is answered, and the permit returned.
            permits.release();
            LOG.log(Level.ERROR, "a coalesced embeddings call could not be sent", e);
            call.forEach(pending -> pending.answer(error(502, "The model server could not be called.")));
        }
    }

    private static void answer(List<Pending> call, HttpResponse<byte[]> response, Throwable failure) {
        if (failure != null || response == null) {
            LOG.log(Level.WARNING, "a coalesced embeddings call failed: " + failure);
            call.forEach(pending -> pending.answer(error(502, "The model server could not be reached.")));
            return;
        }
        if (response.statusCode() != 200) {
            LOG.log(Level.WARNING, "a coalesced embeddings call got " + response.statusCode());
            call.forEach(pending -> pending.answer(error(response.statusCode() >= 500 ? 502 : response.statusCode(),
                    "The model server refused a shared embeddings call (status " + response.statusCode() + ").")));
            return;
        }
        JsonNode whole;
        try {
            whole = JSON.readTree(response.body());
        } catch (java.io.IOException e) {
            call.forEach(pending -> pending.answer(error(502, "The model server's answer is not JSON.")));
            return;
        }
        int total = 0;
        for (Pending pending : call) {
            total += pending.inputs().size();
        }
        JsonNode[] byIndex = new JsonNode[total];
        for (JsonNode item : whole.path("data")) {
            int index = item.path("index").asInt(-1);
            if (index >= 0 && index < total && item.isObject()) {
                byIndex[index] = item;
            }
        }
        for (JsonNode item : byIndex) {
            if (item == null) {
                call.forEach(pending -> pending.answer(error(502, "The model server's answer lacks some inputs.")));
                return;
            }
        }
        JsonNode usage = whole.path("usage").path("prompt_tokens");
        long[] shares = usage.isIntegralNumber() ? shares(call, usage.asLong()) : null;
        int offset = 0;
        for (int p = 0; p < call.size(); p++) {
            Pending pending = call.get(p);
            ObjectNode slice = JSON.createObjectNode().put("object", "list");
            ArrayNode items = slice.putArray("data");
            for (int i = 0; i < pending.inputs().size(); i++) {
                ObjectNode copy = ((ObjectNode) byIndex[offset + i]).deepCopy();
                copy.put("index", i);
                items.add(copy);
            }
            offset += pending.inputs().size();
            slice.set("model", whole.path("model"));
            long share = shares == null ? -1 : shares[p];
            if (share >= 0) {
                slice.putObject("usage").put("prompt_tokens", share).put("total_tokens", share);
            }
            pending.answer(new Slice(200, slice.toString().getBytes(StandardCharsets.UTF_8), share, call.size()));
        }
    }

    /** {@code tokens} shared by the requests' characters, by largest remainder: never negative, summing to {@code tokens}. */
    static long[] shares(List<Pending> call, long tokens) {
        long total = Math.max(0, tokens);
        long[] characters = new long[call.size()];
        long all = 0;
        for (int p = 0; p < call.size(); p++) {
            for (String text : call.get(p).inputs()) {
                characters[p] += Math.max(1, text.length());
            }
            all += characters[p];
        }
        long[] shares = new long[call.size()];
        double[] remainders = new double[call.size()];
        long given = 0;
        for (int p = 0; p < call.size(); p++) {
            double exact = (double) total * characters[p] / all;
            shares[p] = (long) Math.floor(exact);
            remainders[p] = exact - shares[p];
            given += shares[p];
        }
        for (long left = total - given; left > 0; left--) {
            int best = 0;
            for (int p = 1; p < call.size(); p++) {
                if (remainders[p] > remainders[best]) {
                    best = p;
                }
            }
            shares[best]++;
            remainders[best] = -1;
        }
        return shares;
    }

    private static Slice error(int status, String message) {
        ObjectNode error = JSON.createObjectNode();
        error.putObject("error").put("message", message).put("type", "server_error").putNull("param").putNull("code");
        return new Slice(status, error.toString().getBytes(StandardCharsets.UTF_8), 0, 1);
    }

    /** An endpoint of the shared versions, drawn by weight. */
    private static String target(CoalesceInfo settings) {
        long total = 0;
        for (int weight : settings.weights()) {
            total += weight;
        }
        long point = ThreadLocalRandom.current().nextLong(total);
        for (int i = 0; i < settings.targets().size(); i++) {
            point -= settings.weights().get(i);
            if (point < 0) {
                return settings.targets().get(i);
            }
        }
        return settings.targets().get(settings.targets().size() - 1);
    }

    @Override
    public void close() {
        lanes.values().forEach(lane -> lane.batcher().close());
        lanes.clear();
        deadlines.shutdownNow();
    }
}
