package io.aimesh.modelsim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * OpenAI's {@code POST /v1/embeddings} on a simulated GPU that runs one batch at a time.
 *
 * <h2>Cost model</h2>
 * An embedding model's forward pass over a batch is one pass over the weights (a fixed cost) plus
 * a small cost per input, as for a decode step ({@link GpuProfile}): so a request of {@code n}
 * inputs takes
 * <pre>{@code   (BASE_MILLIS + PER_INPUT_MILLIS * n) / speed}</pre>
 * on the GPU, and requests take turns on it, first come first served. At speed 1 one input alone
 * costs 20.5 ms and 32 inputs together 36 ms: batching 32 small requests into one call does the
 * same work in a seventeenth of the time. The vectors are a function of the input text and the
 * seed only, so the same input always gets the same vector, alone or in a batch.
 *
 * <p>Thread-safe: the GPU's timeline is one atomic; each exchange waits on its own thread for its
 * turn to end (the simulated compute).
 */
final class EmbeddingHandler {
    static final double BASE_MILLIS = 20;
    static final double PER_INPUT_MILLIS = 0.5;
    static final int DIMENSIONS = 8;

    private final String model;
    private final double speed;
    private final long seed;
    /** When the simulated GPU is free again, in System.nanoTime(). */
    private final AtomicLong busyUntil = new AtomicLong(System.nanoTime());
    private final AtomicLong batches = new AtomicLong();

    EmbeddingHandler(String model, double speed, long seed) {
        this.model = model;
        this.speed = speed;
        this.seed = seed;
    }

    /** Embedding calls (batches) served so far. */
    long batches() {
        return batches.get();
    }

    void handle(HttpExchange exchange) throws IOException {
        byte[] body = CompletionHandler.readBody(exchange);
        if (body == null) {
            return;
        }
        JsonNode request;
        try {
            request = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            Responses.sendError(exchange, new ApiError(400, ApiError.INVALID_REQUEST, "the body is not JSON", null, null));
            return;
        }
        String requested = request.path("model").asText("");
        if (!requested.equals(model)) {
            Responses.sendError(exchange, ApiError.modelNotFound(requested));
            return;
        }
        List<String> inputs = new ArrayList<>();
        JsonNode input = request.path("input");
        if (input.isTextual()) {
            inputs.add(input.asText());
        } else if (input.isArray() && !input.isEmpty()) {
            for (JsonNode item : input) {
                if (!item.isTextual()) {
                    Responses.sendError(exchange, new ApiError(400, ApiError.INVALID_REQUEST,
                            "input: only strings are supported", "input", null));
                    return;
                }
                inputs.add(item.asText());
            }
        } else {
            Responses.sendError(exchange, new ApiError(400, ApiError.INVALID_REQUEST,
                    "input: expected a string or a non-empty list of strings", "input", null));
            return;
        }
        long cost = Math.round((BASE_MILLIS + PER_INPUT_MILLIS * inputs.size()) * 1_000_000 / speed);
        long done = busyUntil.accumulateAndGet(0, (until, ignored) -> Math.max(until, System.nanoTime()) + cost);
        batches.incrementAndGet();
        for (long left; (left = done - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left); // the simulated compute: this batch's turn on the GPU
        }
        ObjectNode response = Json.MAPPER.createObjectNode();
        response.put("object", "list");
        ArrayNode data = response.putArray("data");
        long tokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            ArrayNode vector = item.putArray("embedding");
            for (double value : vector(inputs.get(i))) {
                vector.add(value);
            }
            tokens += Math.max(1, inputs.get(i).length() / 4);
        }
        response.put("model", model);
        response.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        Responses.send(exchange, 200, Responses.JSON, Json.bytes(response));
    }

    /** The input's vector: unit length, a function of the text and the seed. */
    double[] vector(String text) {
        long hash = seed;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash = hash * 31 + b;
        }
        SplittableRandom random = new SplittableRandom(hash);
        double[] vector = new double[DIMENSIONS];
        double norm = 0;
        for (int i = 0; i < DIMENSIONS; i++) {
            vector[i] = random.nextDouble(-1, 1);
            norm += vector[i] * vector[i];
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < DIMENSIONS; i++) {
            vector[i] = Math.round(vector[i] / norm * 1e6) / 1e6;
        }
        return vector;
    }
}
