package io.aimesh.filter.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.aimesh.testing.Envoy;
import io.aimesh.testing.Ports;
import io.aimesh.testing.RustWasmExample;
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
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Plugins no one in this project wrote: the proxy-wasm Rust SDK's own examples, built here from the
 * crate crates.io publishes ({@link RustWasmExample}), each run in Envoy's wasm filter (V8) and in the
 * ai-filter's host ({@link WasmPlugin}, interpreted and compiled) on the same request and response:
 * the same effect in both. They cover what the Go guard does not: a local answer with headers of its
 * own, a response body held whole and replaced, a response header from the configuration.
 */
class WasmSdkExamplesParityIT {
    private static final String CONFIG = "parity-check";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Map<RustWasmExample, Envoy> ENVOYS = new EnumMap<>(RustWasmExample.class);
    private static final Map<RustWasmExample, Integer> PORTS = new EnumMap<>(RustWasmExample.class);
    private static final Map<RustWasmExample, Path> MODULES = new EnumMap<>(RustWasmExample.class);
    private static HttpServer echo;

    @BeforeAll
    static void start() throws Exception {
        for (RustWasmExample example : RustWasmExample.values()) {
            Optional<Path> built = example.locate();
            assumeThat(built).as(example.skipMessage()).isPresent();
            MODULES.put(example, built.orElseThrow());
        }
        // The upstream answers with the request body, as text with its length.
        echo = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        echo.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("content-type", "text/plain");
            exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        echo.start();
        for (RustWasmExample example : RustWasmExample.values()) {
            Ports.Held port = Ports.hold();
            PORTS.put(example, port.port());
            port.release();
            ENVOYS.put(example, Envoy.start(WasmEnvoy.bootstrap(port.port(), echo.getAddress().getPort(), MODULES.get(example), CONFIG),
                    Path.of("target", "envoy-wasm-sdk-" + example.name().toLowerCase(java.util.Locale.ROOT) + ".log").toAbsolutePath(),
                    1, "info"));
        }
        for (RustWasmExample example : RustWasmExample.values()) {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> send(example, "POST", "/ping", "x").statusCode() == 200);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (Envoy envoy : ENVOYS.values()) {
            envoy.close();
        }
        if (echo != null) {
            echo.stop(0);
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void httpHeaders_answersHelloItself_withItsOwnHeaders_asInEnvoy(WasmPlugin.Engine engine) throws Exception {
        HttpResponse<String> throughEnvoy = send(RustWasmExample.HTTP_HEADERS, "GET", "/hello", "");
        HttpResponse<String> passedByEnvoy = send(RustWasmExample.HTTP_HEADERS, "POST", "/v1/chat/completions", "{}");
        try (WasmPlugin plugin = load(RustWasmExample.HTTP_HEADERS, engine)) {
            WasmPlugin.RequestResult hello = plugin.onRequest(requestHeaders("GET", "/hello", ""), new byte[0]);
            WasmPlugin.RequestResult passed = plugin.onRequest(requestHeaders("POST", "/v1/chat/completions", "{}"),
                    "{}".getBytes(StandardCharsets.UTF_8));

            assertThat(hello.reply()).isNotNull();
            assertThat(hello.reply().status()).isEqualTo(throughEnvoy.statusCode()).isEqualTo(200);
            assertThat(new String(hello.reply().body(), StandardCharsets.UTF_8)).isEqualTo(throughEnvoy.body())
                    .isEqualTo("Hello, World!\n");
            assertThat(hello.reply().headers()).contains(Map.entry("Hello", "World"), Map.entry("Powered-By", "proxy-wasm"));
            assertThat(throughEnvoy.headers().firstValue("hello")).hasValue("World");
            assertThat(throughEnvoy.headers().firstValue("powered-by")).hasValue("proxy-wasm");
            assertThat(passed.reply()).isNull();
            assertThat(passedByEnvoy.body()).isEqualTo(new String(passed.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void httpBody_holdsTheResponseWhole_andReplacesOneWithASecret_asInEnvoy(WasmPlugin.Engine engine) throws Exception {
        String secret = "my secret, in two chunks";
        HttpResponse<String> throughEnvoy = send(RustWasmExample.HTTP_BODY, "POST", "/v1/chat/completions", secret);
        HttpResponse<String> plainByEnvoy = send(RustWasmExample.HTTP_BODY, "POST", "/v1/chat/completions", "nothing to hide");
        try (WasmPlugin plugin = load(RustWasmExample.HTTP_BODY, engine)) {
            Answer redacted = respond(plugin, secret, 2);
            Answer plain = respond(plugin, "nothing to hide", 1);

            assertThat(redacted.body()).isEqualTo(throughEnvoy.body())
                    .isEqualTo("Original message body (" + secret.length() + " bytes) redacted.");
            assertThat(redacted.firstChunk()).as("held back until the body is whole").isEmpty();
            assertThat(header(redacted.headers(), "content-length")).as("dropped by the plugin").isNull();
            assertThat(throughEnvoy.headers().firstValue("content-length")).isEmpty();
            assertThat(plain.body()).isEqualTo(plainByEnvoy.body()).isEqualTo("nothing to hide");
        }
    }

    @ParameterizedTest
    @EnumSource(WasmPlugin.Engine.class)
    void httpConfig_addsItsConfigurationAsAResponseHeader_asInEnvoy(WasmPlugin.Engine engine) throws Exception {
        HttpResponse<String> throughEnvoy = send(RustWasmExample.HTTP_CONFIG, "POST", "/v1/chat/completions", "{}");
        try (WasmPlugin plugin = load(RustWasmExample.HTTP_CONFIG, engine)) {
            Answer answer = respond(plugin, "{}", 1);

            assertThat(throughEnvoy.headers().firstValue("custom-header")).hasValue(CONFIG);
            assertThat(header(answer.headers(), "custom-header")).isEqualTo(CONFIG);
            assertThat(answer.body()).isEqualTo(throughEnvoy.body()).isEqualTo("{}");
        }
    }

    /** What the plugin made of the echo's answer to {@code body}, sent back in {@code chunks} pieces. */
    private record Answer(List<Map.Entry<String, String>> headers, String firstChunk, String body) {
    }

    private static Answer respond(WasmPlugin plugin, String body, int chunks) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (WasmPlugin.Stream stream = plugin.open(requestHeaders("POST", "/v1/chat/completions", body))) {
            assertThat(stream.request(bytes, true, true).reply()).isNull();
            WasmPlugin.ResponseHeadersResult headers = stream.responseHeaders(List.of(Map.entry(":status", "200"),
                    Map.entry("content-type", "text/plain"), Map.entry("content-length", Integer.toString(bytes.length))), false);
            assertThat(headers.reply()).isNull();
            StringBuilder out = new StringBuilder();
            String first = null;
            int step = (bytes.length + chunks - 1) / chunks;
            for (int from = 0; from < bytes.length; from += step) {
                int to = Math.min(bytes.length, from + step);
                String sent = new String(stream.responseBody(java.util.Arrays.copyOfRange(bytes, from, to), to == bytes.length),
                        StandardCharsets.UTF_8);
                first = first == null ? sent : first;
                out.append(sent);
            }
            return new Answer(headers.headers(), first, out.toString());
        }
    }

    private static WasmPlugin load(RustWasmExample example, WasmPlugin.Engine engine) throws IOException {
        return WasmPlugin.load(example.name().toLowerCase(java.util.Locale.ROOT), Files.readAllBytes(MODULES.get(example)), CONFIG,
                engine);
    }

    private static String header(List<Map.Entry<String, String>> headers, String name) {
        return headers.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst().orElse(null);
    }

    /** The headers Envoy hands a plugin for the same request. */
    private static List<Map.Entry<String, String>> requestHeaders(String method, String path, String body) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(List.of(Map.entry(":authority", "127.0.0.1"),
                Map.entry(":path", path), Map.entry(":method", method), Map.entry(":scheme", "http")));
        if (!body.isEmpty()) {
            headers.add(Map.entry("content-type", "text/plain"));
            headers.add(Map.entry("content-length", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length)));
        }
        return headers;
    }

    private static HttpResponse<String> send(RustWasmExample example, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORTS.get(example) + path))
                .timeout(Duration.ofSeconds(10));
        request = body.isEmpty() ? request.method(method, HttpRequest.BodyPublishers.noBody())
                : request.header("content-type", "text/plain").method(method, HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
