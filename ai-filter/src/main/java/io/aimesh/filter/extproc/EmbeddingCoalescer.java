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
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
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
 * <p>A slice keeps the backend's vectors in the request's order, re-indexed from 0; the call's
 * {@code usage} is shared in proportion to the inputs' characters. A failed call answers every
 * request of it with the backend's status and error (502 when there was no answer).
 *
 * <p>Thread-safe.
 */
final class EmbeddingCoalescer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EmbeddingCoalescer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    /** A request's answer: the status, the JSON body, the prompt tokens it is charged, the call's size in requests. */
    record Slice(int status, byte[] body, long promptTokens, int callRequests) {
    }

    private record Pending(List<String> inputs, Consumer<Slice> answer) {
    }

    /** One model's batcher, with the settings it was made for. */
    private record Lane(CoalesceInfo settings, Batcher<Pending> batcher) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();

    /**
     * Queues a request's inputs for {@code model}'s next call; {@code answer} is called once, on
     * another thread, with its slice.
     *
     * @return {@code false} when the model's queue is full: the request is not taken
     */
    boolean submit(String model, CoalesceInfo settings, List<String> inputs, Consumer<Slice> answer) {
        Lane lane = lanes.get(model);
        if (lane == null || !lane.settings().equals(settings)) {
            lane = replace(model, settings);
        }
        return lane.batcher().offer(new Pending(List.copyOf(inputs), answer));
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
        ObjectNode body = JSON.createObjectNode().put("model", model);
        ArrayNode input = body.putArray("input");
        call.forEach(pending -> pending.inputs().forEach(input::add));
        String target = target(settings);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + target + "/v1/embeddings"))
                .timeout(CALL_TIMEOUT)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toString().getBytes(StandardCharsets.UTF_8)))
                .build();
        http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((response, failure) -> {
            permits.release();
            try {
                answer(call, response, failure);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "answering a coalesced embeddings call failed", e);
                call.forEach(pending -> pending.answer().accept(error(502, "The model server's answer could not be read.")));
            }
        });
    }

    private static void answer(List<Pending> call, HttpResponse<byte[]> response, Throwable failure) {
        if (failure != null || response == null) {
            LOG.log(Level.WARNING, "a coalesced embeddings call failed: " + failure);
            call.forEach(pending -> pending.answer().accept(error(502, "The model server could not be reached.")));
            return;
        }
        if (response.statusCode() != 200) {
            call.forEach(pending -> pending.answer().accept(new Slice(response.statusCode(), response.body(), 0, call.size())));
            return;
        }
        JsonNode whole;
        try {
            whole = JSON.readTree(response.body());
        } catch (java.io.IOException e) {
            call.forEach(pending -> pending.answer().accept(error(502, "The model server's answer is not JSON.")));
            return;
        }
        JsonNode data = whole.path("data");
        long tokens = whole.path("usage").path("prompt_tokens").asLong(0);
        long characters = 0;
        for (Pending pending : call) {
            for (String text : pending.inputs()) {
                characters += Math.max(1, text.length());
            }
        }
        int offset = 0;
        long charged = 0;
        for (int p = 0; p < call.size(); p++) {
            Pending pending = call.get(p);
            ObjectNode slice = JSON.createObjectNode().put("object", "list");
            ArrayNode items = slice.putArray("data");
            long mine = 0;
            for (int i = 0; i < pending.inputs().size(); i++) {
                JsonNode item = data.get(offset + i);
                ObjectNode copy = item == null ? JSON.createObjectNode() : ((ObjectNode) item).deepCopy();
                copy.put("index", i);
                items.add(copy);
                mine += Math.max(1, pending.inputs().get(i).length());
            }
            offset += pending.inputs().size();
            long share = p == call.size() - 1 ? tokens - charged : Math.round((double) tokens * mine / characters);
            charged += share;
            slice.set("model", whole.path("model"));
            slice.putObject("usage").put("prompt_tokens", share).put("total_tokens", share);
            pending.answer().accept(new Slice(200, slice.toString().getBytes(StandardCharsets.UTF_8), share, call.size()));
        }
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
    }
}
