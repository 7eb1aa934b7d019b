package io.aimesh.internal;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP endpoints: {@code /healthz}, {@code /readyz}, {@code /metrics} and any JSON
 * pages the owner adds. Binds where it is told; the callers default to loopback, because
 * these pages show the whole configuration.
 */
public final class AdminServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());

    private final HttpServer server;
    private final ExecutorService executor;
    /** When set, what every page but the probes and metrics requires; see {@link #requireToken}. */
    private volatile String token;

    /**
     * @param ready whether {@code /readyz} answers 200
     * @param jsonPages path to a supplier of a JSON document, rendered on each GET
     */
    public AdminServer(InetSocketAddress address, PrometheusRegistry registry, BooleanSupplier ready,
                       Map<String, Supplier<String>> jsonPages) throws IOException {
        requireNonNull(address, "address");
        server = HttpServer.create(address, 16);
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "aimesh-admin");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/healthz", ex -> respond(ex, 200, "text/plain", "ok\n"));
        server.createContext("/readyz", ex -> {
            boolean ok = ready.getAsBoolean();
            respond(ex, ok ? 200 : 503, "text/plain", ok ? "ready\n" : "not ready: no valid policy loaded yet\n");
        });
        server.createContext("/metrics", ex -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
            respond(ex, 200, PrometheusTextFormatWriter.CONTENT_TYPE, out.toString(StandardCharsets.UTF_8));
        });
        jsonPages.forEach((path, page) -> server.createContext(path, ex -> {
            if (allowed(ex)) {
                respond(ex, 200, "application/json", page.get());
            }
        }));
        server.start();
    }

    /** An admin endpoint's answer: a status, a body and its content type. */
    public record Reply(int status, String body, String contentType) {
        /** A JSON answer. */
        public Reply(int status, String json) {
            this(status, json, "application/json");
        }
    }

    /**
     * From now on every page but {@code /healthz}, {@code /readyz} and {@code /metrics} answers
     * 401 unless the request carries {@code token}: as {@code authorization: Bearer …} or, for a
     * browser, {@code ?token=…}. For an admin server bound off loopback.
     */
    public void requireToken(String token) {
        requireNonNull(token, "token");
        if (token.isBlank()) {
            throw new IllegalArgumentException("token: blank");
        }
        this.token = token.strip();
    }

    /** Whether the exchange may see a guarded page; if not, it has been answered 401. */
    private boolean allowed(HttpExchange exchange) throws IOException {
        String required = token;
        if (required == null) {
            return true;
        }
        String header = String.valueOf(exchange.getRequestHeaders().getFirst("authorization"));
        String query = exchange.getRequestURI().getRawQuery();
        boolean ok = header.equals("Bearer " + required);
        if (!ok && query != null) {
            for (String part : query.split("&")) {
                ok |= part.equals("token=" + java.net.URLEncoder.encode(required, StandardCharsets.UTF_8));
            }
        }
        if (!ok) {
            respond(exchange, 401, "application/json", "{\"error\": \"this admin page needs the admin token (authorization: Bearer, or"
                    + " ?token=)\"}\n");
        }
        return ok;
    }

    /**
     * Serves {@code prefix} and every path under it with {@code handler}, given the method and the
     * decoded path. GET and HEAD read. POST acts, and only with a JSON content type: a web page of
     * another origin cannot send one without the browser asking first, so a page an operator
     * happens to open cannot command the control plane on loopback. Other methods get 405.
     */
    public void route(String prefix, java.util.function.BiFunction<String, String, Reply> handler) {
        server.createContext(prefix, exchange -> {
            if (!allowed(exchange)) {
                return;
            }
            try (exchange) {
                String method = exchange.getRequestMethod();
                Reply reply;
                if (method.equals("POST") && !String.valueOf(exchange.getRequestHeaders().getFirst("content-type"))
                        .toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
                    reply = new Reply(415, "{\"error\": \"an action needs content-type: application/json\"}\n");
                } else if (method.equals("GET") || method.equals("HEAD") || method.equals("POST")) {
                    reply = handler.apply(method.equals("HEAD") ? "GET" : method, exchange.getRequestURI().getPath());
                } else {
                    reply = new Reply(405, "{\"error\": \"method not allowed\"}\n");
                }
                byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("content-type", reply.contentType());
                if (method.equals("HEAD")) {
                    exchange.sendResponseHeaders(reply.status(), -1);
                    return;
                }
                exchange.sendResponseHeaders(reply.status(), bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "admin endpoint " + exchange.getRequestURI() + " failed", e);
                throw e;
            }
        });
    }

    /** Serves {@code path} to GET and HEAD with {@code page}, given the request's URI with its query. */
    public void page(String path, java.util.function.Function<java.net.URI, Reply> page) {
        server.createContext(path, exchange -> {
            if (!allowed(exchange)) {
                return;
            }
            try (exchange) {
                String method = exchange.getRequestMethod();
                Reply reply = method.equals("GET") || method.equals("HEAD") ? page.apply(exchange.getRequestURI())
                        : new Reply(405, "{\"error\": \"method not allowed\"}\n");
                byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("content-type", reply.contentType());
                exchange.sendResponseHeaders(reply.status(), method.equals("HEAD") ? -1 : bytes.length);
                if (!method.equals("HEAD")) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(bytes);
                    }
                }
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "admin page " + exchange.getRequestURI() + " failed", e);
                throw e;
            }
        });
    }

    /** A request URI's query parameters, decoded, each name with its values in order; empty without a query. */
    public static Map<String, java.util.List<String>> query(java.net.URI uri) {
        Map<String, java.util.List<String>> query = new java.util.HashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return query;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                query.computeIfAbsent(java.net.URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        k -> new java.util.ArrayList<>()).add(java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return query;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                status = 405;
                body = "method not allowed\n";
                contentType = "text/plain";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", contentType);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "admin page " + exchange.getRequestURI() + " failed", e);
            throw e;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
