package io.aimesh.modelsim;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Routes every request of a {@link ModelSimServer} by path and method, stamps the instance and
 * version headers on every response, and turns unexpected failures into a 500 JSON error so one
 * bad request never affects another.
 *
 * <p>Threading: {@link #handle} runs on many HTTP executor threads at once; it shares only immutable
 * state and the in-flight {@link Phaser} that {@link #awaitInFlight} uses during shutdown.
 */
final class ApiRouter implements HttpHandler {

    private static final System.Logger LOGGER = System.getLogger(ApiRouter.class.getName());
    private static final byte[] HEALTHY = "{\"status\":\"ok\"}".getBytes(UTF_8);

    private final String instanceName;
    private final String version;
    private final CompletionHandler completions;
    private final EmbeddingHandler embeddings;
    private final VllmMetrics metrics;
    private final LoadReport load;
    private final byte[] models;
    /** The headers of the last request, names in lower case; for tests that check what a proxy forwards. */
    private volatile Map<String, List<String>> lastRequestHeaders = Map.of();
    /** API requests received, and of them those marked as shadow copies ({@code x-aimesh-shadow: true}). */
    private final java.util.concurrent.atomic.LongAdder apiRequests = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder shadowRequests = new java.util.concurrent.atomic.LongAdder();
    /** One party per exchange in flight plus one for the closer, which arrives in awaitInFlight. */
    private final Phaser inFlight = new Phaser(1);

    CompletionHandler completions() {
        return completions;
    }

    ApiRouter(String instanceName, String version, String model, List<String> adapters, int contextTokens,
            CompletionHandler completions,
            EmbeddingHandler embeddings, VllmMetrics metrics, LoadReport load) {
        this.embeddings = embeddings;
        this.load = load;
        this.instanceName = instanceName;
        this.version = version;
        this.completions = completions;
        this.metrics = metrics;
        this.models = modelList(model, adapters, contextTokens);
    }

    @Override
    public void handle(HttpExchange exchange) {
        inFlight.register();
        try {
            exchange.getResponseHeaders().set("x-model-sim-instance", instanceName);
            exchange.getResponseHeaders().set("x-model-sim-version", version);
            if (exchange.getRequestURI().getPath().startsWith("/v1/")) {
                // API requests only: a picker's metrics scrapes would otherwise hide what a proxy forwarded.
                Map<String, List<String>> headers = new TreeMap<>();
                exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), List.copyOf(values)));
                lastRequestHeaders = Collections.unmodifiableMap(headers);
                apiRequests.increment();
                if (List.of("true").equals(headers.get("x-aimesh-shadow"))) {
                    shadowRequests.increment();
                }
                load.arrived();
                exchange.getResponseHeaders().set(LoadReport.HEADER, load.value());
            }
            route(exchange);
        } catch (IOException e) {
            // The client went away or the server is closing its connections; nothing left to tell it.
            LOGGER.log(Level.DEBUG, "exchange " + exchange.getRequestURI() + " ended early", e);
        } catch (RuntimeException e) {
            LOGGER.log(Level.WARNING, "failed to handle " + exchange.getRequestMethod() + " "
                    + exchange.getRequestURI(), e);
            sendInternalError(exchange);
        } finally {
            exchange.close();
            inFlight.arriveAndDeregister();
        }
    }

    Map<String, List<String>> lastRequestHeaders() {
        return lastRequestHeaders;
    }

    long apiRequests() {
        return apiRequests.sum();
    }

    long shadowRequests() {
        return shadowRequests.sum();
    }

    /** Waits up to {@code timeoutNanos} for the exchanges in flight to end; call once, when closing. */
    boolean awaitInFlight(long timeoutNanos) throws InterruptedException {
        int phase = inFlight.arriveAndDeregister();
        try {
            inFlight.awaitAdvanceInterruptibly(phase, timeoutNanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/v1/chat/completions":
                if (allow(exchange, "POST")) {
                    completions.handle(exchange, CompletionRequest.Kind.CHAT);
                }
                break;
            case "/v1/completions":
                if (allow(exchange, "POST")) {
                    completions.handle(exchange, CompletionRequest.Kind.TEXT);
                }
                break;
            case "/v1/embeddings":
                if (allow(exchange, "POST")) {
                    embeddings.handle(exchange);
                }
                break;
            case "/v1/models":
                if (allow(exchange, "GET")) {
                    Responses.send(exchange, 200, Responses.JSON, models);
                }
                break;
            case "/health":
                if (allow(exchange, "GET")) {
                    Responses.send(exchange, 200, Responses.JSON, HEALTHY);
                }
                break;
            case "/metrics":
                if (allow(exchange, "GET")) {
                    Responses.send(exchange, 200, VllmMetrics.CONTENT_TYPE, metrics.scrape());
                }
                break;
            default:
                Responses.sendError(exchange, ApiError.notFound(path));
        }
    }

    private static boolean allow(HttpExchange exchange, String method) throws IOException {
        if (exchange.getRequestMethod().equals(method)) {
            return true;
        }
        exchange.getResponseHeaders().set("Allow", method);
        Responses.sendError(exchange, ApiError.methodNotAllowed(exchange.getRequestMethod(),
                exchange.getRequestURI().getPath(), method));
        return false;
    }

    private static void sendInternalError(HttpExchange exchange) {
        if (exchange.getResponseCode() != -1) {
            return; // headers already sent: closing the exchange is all that is left
        }
        try {
            Responses.sendError(exchange, ApiError.internal());
        } catch (IOException e) {
            LOGGER.log(Level.DEBUG, "could not send 500 for " + exchange.getRequestURI(), e);
        }
    }

    /** The base model, then each adapter with the base as its parent, as vLLM lists LoRA modules. */
    private static byte[] modelList(String model, List<String> adapters, int contextTokens) {
        ObjectNode root = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = root.putArray("data");
        long created = System.currentTimeMillis() / 1000;
        data.addObject().put("id", model).put("object", "model").put("created", created).put("owned_by", "model-sim")
                .put("root", model).put("max_model_len", contextTokens);
        for (String adapter : adapters) {
            data.addObject().put("id", adapter).put("object", "model").put("created", created).put("owned_by", "model-sim")
                    .put("root", adapter).put("parent", model).put("max_model_len", contextTokens);
        }
        return Json.bytes(root);
    }
}
