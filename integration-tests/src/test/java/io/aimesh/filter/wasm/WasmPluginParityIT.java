package io.aimesh.filter.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.GoTool;
import io.aimesh.testing.Ports;
import io.aimesh.testing.WasmEnvoy;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The same proxy-wasm plugin, built here from source with the proxy-wasm Go SDK and stock Go
 * (integration-tests/src/test/go/wasm-guard), run in Envoy's own wasm filter (V8) and in the
 * ai-filter's host ({@link WasmPlugin}, Chicory, interpreted and compiled): the same requests have the
 * same effect in both. It tags a request, rewrites a word in its body, and refuses one that carries
 * {@code x-guard-block} with a 403 of its own; it counts requests in a metric it defines.
 */
class WasmPluginParityIT {
    private static final String CONFIG = "tag=t1;word=secret";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Path wasm;
    private static HttpServer echo;
    private static Envoy envoy;
    private static int listener;

    @BeforeAll
    static void start() throws Exception {
        Optional<Path> built = GoTool.WASM_GUARD.locate();
        assumeThat(built).as(GoTool.WASM_GUARD.skipMessage()).isPresent();
        wasm = built.orElseThrow();
        // The upstream answers with what reached it: the tag header and the body.
        echo = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        echo.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            byte[] answer = ("tag=" + exchange.getRequestHeaders().getFirst("x-guard-tag") + "\n"
                    + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        echo.start();
        Ports.Held port = Ports.hold();
        listener = port.port();
        port.release();
        envoy = Envoy.start(WasmEnvoy.bootstrap(listener, echo.getAddress().getPort(), wasm, CONFIG), Path.of("target", "envoy-wasm-parity.log")
                .toAbsolutePath(), 1, "info");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> send(Map.of(), "ping").statusCode() == 200);
    }

    @AfterAll
    static void stop() throws Exception {
        if (envoy != null) {
            envoy.close();
        }
        if (echo != null) {
            echo.stop(0);
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void aRequestIsTaggedAndItsBodyRewritten_asEnvoyDoes(WasmPlugin.Engine engine) throws Exception {
        String body = "{\"messages\":[{\"content\":\"my secret is a secret\"}]}";
        HttpResponse<String> throughEnvoy = send(Map.of(), body);
        java.util.List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(WasmPlugin.class.getName());
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), CONFIG, engine)) {
            WasmPlugin.RequestResult result = plugin.onRequest(headers(Map.of(), body), body.getBytes(StandardCharsets.UTF_8));
            assertThat(logged).as("the plugin's log, under its name").contains("plugin guard: guard started: tag t1");

            assertThat(throughEnvoy.statusCode()).isEqualTo(200);
            assertThat(result.reply()).isNull();
            String rewritten = new String(result.body(), StandardCharsets.UTF_8);
            assertThat(throughEnvoy.body()).isEqualTo("tag=" + header(result, "x-guard-tag") + "\n" + rewritten);
            assertThat(rewritten).isEqualTo("{\"messages\":[{\"content\":\"my [redacted] is a [redacted]\"}]}");
            assertThat(header(result, "content-length")).as("dropped: the body changed length").isNull();
            assertThat(plugin.metric("guard_requests_total")).isEqualTo(1);
        } finally {
            log.removeHandler(capture);
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void aBlockedRequest_getsThePluginsOwnAnswer_asFromEnvoy(WasmPlugin.Engine engine) throws Exception {
        HttpResponse<String> throughEnvoy = send(Map.of("x-guard-block", "too-many-secrets"), "{}");
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), CONFIG, engine)) {
            WasmPlugin.RequestResult result = plugin.onRequest(headers(Map.of("x-guard-block", "too-many-secrets"), "{}"),
                    "{}".getBytes(StandardCharsets.UTF_8));

            assertThat(result.reply()).isNotNull();
            assertThat(result.reply().status()).isEqualTo(throughEnvoy.statusCode()).isEqualTo(403);
            assertThat(new String(result.reply().body(), StandardCharsets.UTF_8)).isEqualTo(throughEnvoy.body())
                    .isEqualTo("blocked by guard: too-many-secrets");
            assertThat(result.reply().headers()).contains(Map.entry("content-type", "text/plain"));
            assertThat(throughEnvoy.headers().firstValue("content-type")).hasValue("text/plain");
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void eachThreadRunsAnInstanceOfItsOwn_andTheMetricAddsThemUp(WasmPlugin.Engine engine) throws Exception {
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), CONFIG, engine)) {
            Runnable requests = () -> {
                for (int i = 0; i < 20; i++) {
                    assertThat(plugin.onRequest(headers(Map.of(), "x"), "x".getBytes(StandardCharsets.UTF_8)).reply()).isNull();
                }
            };
            Thread other = new Thread(requests);
            other.start();
            requests.run();
            other.join();
            assertThat(plugin.metric("guard_requests_total")).isEqualTo(40);
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void aTrap_failsOnlyItsRequest_andTheThreadGetsAFreshInstance(WasmPlugin.Engine engine) throws Exception {
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), CONFIG, engine)) {
            assertThat(plugin.onRequest(headers(Map.of(), "x"), "x".getBytes(StandardCharsets.UTF_8)).reply()).isNull();

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> plugin.onRequest(headers(Map.of("x-guard-crash", "now"), "x"),
                    "x".getBytes(StandardCharsets.UTF_8))).isInstanceOf(WasmPluginException.class).hasMessageStartingWith("plugin guard failed");

            WasmPlugin.RequestResult next = plugin.onRequest(headers(Map.of(), "a secret"), "a secret".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(next.body(), StandardCharsets.UTF_8)).isEqualTo("a [redacted]");
            assertThat(plugin.metrics()).containsEntry("guard_requests_total", 3L);
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void aPluginThatNeverReturns_isInterruptedAtItsTimeout_andTheThreadServesOn(WasmPlugin.Engine engine) throws Exception {
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), CONFIG, engine, Duration.ofMillis(200),
                WasmPlugin.DEFAULT_MEMORY_BYTES)) {
            assertThat(plugin.onRequest(headers(Map.of(), "x"), "x".getBytes(StandardCharsets.UTF_8)).reply()).isNull();
            long started = System.nanoTime();

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> plugin.onRequest(headers(Map.of("x-guard-spin", "yes"), "x"),
                    "x".getBytes(StandardCharsets.UTF_8))).isInstanceOf(WasmPluginException.class)
                    .hasMessage("plugin guard ran past its 200 ms");

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            assertThat(Thread.currentThread().isInterrupted()).as("no interrupt left for the thread's next work").isFalse();
            assertThat(plugin.onRequest(headers(Map.of(), "x"), "x".getBytes(StandardCharsets.UTF_8)).reply()).isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void aPluginThatOutgrowsItsMemoryLimit_trapsOnItsRequestAlone(WasmPlugin.Engine engine) throws Exception {
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), CONFIG, engine, Duration.ZERO, 16L << 20)) {
            assertThat(plugin.onRequest(headers(Map.of("x-guard-grow", "4"), "x"), "x".getBytes(StandardCharsets.UTF_8)).reply())
                    .as("4 MiB more fits in 16").isNull();

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> plugin.onRequest(headers(Map.of("x-guard-grow", "64"), "x"),
                    "x".getBytes(StandardCharsets.UTF_8))).isInstanceOf(WasmPluginException.class)
                    .hasMessageStartingWith("plugin guard failed");

            assertThat(plugin.onRequest(headers(Map.of(), "x"), "x".getBytes(StandardCharsets.UTF_8)).reply())
                    .as("a fresh instance for the thread").isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void theResponsePhases_tagAndRewriteTheAnswer_asEnvoyDoes(WasmPlugin.Engine engine) throws Exception {
        String config = "tag=t2;respword=tag";
        Ports.Held port = Ports.hold();
        int own = port.port();
        port.release();
        try (Envoy withResponse = Envoy.start(WasmEnvoy.bootstrap(own, echo.getAddress().getPort(), wasm, config),
                Path.of("target", "envoy-wasm-parity-response.log").toAbsolutePath(), 1, "info");
             WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), config, engine)) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + own + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build();
            HttpResponse<String> throughEnvoy = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> HTTP.send(request, HttpResponse.BodyHandlers.ofString()), r -> r.statusCode() == 200);

            byte[] answer = "tag=t2\n{}".getBytes(StandardCharsets.UTF_8);
            try (WasmPlugin.Stream stream = plugin.open(headers(Map.of(), "{}"))) {
                stream.request("{}".getBytes(StandardCharsets.UTF_8), true, true);
                WasmPlugin.ResponseHeadersResult headers = stream.responseHeaders(List.of(Map.entry(":status", "200"),
                        Map.entry("content-length", Integer.toString(answer.length))), false);
                byte[] held = stream.responseBody(java.util.Arrays.copyOf(answer, 4), false);
                byte[] rest = stream.responseBody(java.util.Arrays.copyOfRange(answer, 4, answer.length), true);

                assertThat(headers.headers()).contains(Map.entry("x-guard-tag", "t2"))
                        .noneMatch(h -> h.getKey().equals("content-length"));
                assertThat(throughEnvoy.headers().firstValue("x-guard-tag")).hasValue("t2");
                assertThat(held).as("held until the body is whole").isEmpty();
                assertThat(new String(rest, StandardCharsets.UTF_8)).isEqualTo(throughEnvoy.body()).isEqualTo("[redacted]=t2\n{}");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void requestsOpenAtOnceOnOneInstance_eachReachItsOwnHeaders(WasmPlugin.Engine engine) throws Exception {
        try (WasmPlugin plugin = WasmPlugin.load("guard", Files.readAllBytes(wasm), "tag=t3", engine)) {
            WasmPlugin.Stream first = plugin.open(headers(Map.of(), "{}"));
            WasmPlugin.Stream second = plugin.open(headers(Map.of(), "{}"));
            first.request("{}".getBytes(StandardCharsets.UTF_8), true, true);
            second.request("{}".getBytes(StandardCharsets.UTF_8), true, true);
            WasmPlugin.ResponseHeadersResult secondAnswer = second.responseHeaders(List.of(Map.entry(":status", "201")), false);
            second.close(); // the instance's host had made the latest context the active one, then none

            WasmPlugin.ResponseHeadersResult firstAnswer = first.responseHeaders(List.of(Map.entry(":status", "200")), false);
            first.close();

            assertThat(firstAnswer.headers()).containsExactly(Map.entry(":status", "200"), Map.entry("x-guard-tag", "t3"));
            assertThat(secondAnswer.headers()).containsExactly(Map.entry(":status", "201"), Map.entry("x-guard-tag", "t3"));
        }
    }

    private static String header(WasmPlugin.RequestResult result, String name) {
        return result.headers().stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst()
                .orElse(null);
    }

    /** The headers Envoy hands a plugin for the same request. */
    private static List<Map.Entry<String, String>> headers(Map<String, String> extra, String body) {
        List<Map.Entry<String, String>> headers = new java.util.ArrayList<>(List.of(Map.entry(":authority", "127.0.0.1"),
                Map.entry(":path", "/v1/chat/completions"), Map.entry(":method", "POST"), Map.entry(":scheme", "http"),
                Map.entry("content-type", "application/json"),
                Map.entry("content-length", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))));
        extra.forEach((k, v) -> headers.add(Map.entry(k, v)));
        return headers;
    }

    private static HttpResponse<String> send(Map<String, String> headers, String body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listener + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
