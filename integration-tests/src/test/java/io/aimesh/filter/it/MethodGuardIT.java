package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Only POST on an inference path reaches a pool, and only in the one spelling the filter sees: any
 * other method gets the gateway's own 405, even while a fail-open filter is down, and a path spelled
 * another way is normalized (then identified like any other) or refused. Regression: PUT, PATCH and
 * GET on /v1/chat/completions with a JSON body and no key reached the model server.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MethodGuardIT {
    private static final String BODY = "{\"model\":\"" + Mesh.MODEL + "\",\"max_tokens\":2,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static Mesh mesh;

    @BeforeAll
    static void start() throws IOException {
        mesh = Mesh.builder().filter("open").acmeTokensPerMinute(1_000_000).start();
    }

    @AfterAll
    static void stop() throws IOException {
        mesh.close();
    }

    @Order(1)
    @ParameterizedTest
    @ValueSource(strings = {"PUT", "PATCH", "GET", "DELETE", "OPTIONS", "HEAD"})
    void otherMethods_onAnInferencePath_getTheGatewaysOwn405(String method) {
        for (String path : new String[] {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"}) {
            assertMethodNotAllowed(method, path);
        }
    }

    @Order(2)
    @Test
    void pathSpellings_areNormalizedBeforeTheFilter_orRefused() {
        assertThat(mesh.post("/v1/chat/completions", null, BODY, java.util.Map.of()).statusCode()).isEqualTo(401);
        // Merged and resolved to the inference path, so the filter identifies them like it.
        assertThat(mesh.post("//v1//chat/completions", null, BODY, java.util.Map.of()).statusCode()).isEqualTo(401);
        assertThat(mesh.post("/v1/embeddings/../chat/completions", null, BODY, java.util.Map.of()).statusCode())
                .isEqualTo(401);
        // Another path: no model route, whatever the body says.
        HttpResponse<String> trailing = mesh.post("/v1/chat/completions/", null, BODY, java.util.Map.of());
        assertThat(trailing.statusCode()).isEqualTo(404);
        assertThat(trailing.headers().firstValue("x-model-sim-instance")).isEmpty();
        // An escaped slash, which a backend might decode into a path of its own, is refused outright.
        assertThat(raw("POST /v1/chat%2Fcompletions HTTP/1.1")).startsWith("HTTP/1.1 400");
        assertThat(raw("POST /v1%2fchat/completions HTTP/1.1")).startsWith("HTTP/1.1 400");
    }

    @Order(3)
    @Test
    void connect_neverReachesAPool() {
        String status = raw("CONNECT 127.0.0.1:" + mesh.sims().get(0).port() + " HTTP/1.1");
        assertThat(status).doesNotStartWith("HTTP/1.1 2").doesNotContain("x-model-sim-instance");
    }

    /** Last: with the filter gone, nothing but Envoy's own routes stands between a client and the pools. */
    @Order(4)
    @ParameterizedTest
    @ValueSource(strings = {"PUT", "PATCH", "GET"})
    void otherMethods_getThe405_whileAFailOpenFilterIsDown(String method) {
        if (mesh.filter() != null) {
            mesh.stopFilter();
        }
        assertMethodNotAllowed(method, "/v1/chat/completions");
    }

    private static void assertMethodNotAllowed(String method, String path) {
        HttpResponse<String> response = send(method, path);
        assertThat(response.statusCode()).as("%s %s", method, path).isEqualTo(405);
        assertThat(response.headers().firstValue("allow")).as("%s %s", method, path).contains("POST");
        assertThat(response.headers().firstValue("x-model-sim-instance")).as("%s %s", method, path).isEmpty();
        if (!method.equals("HEAD")) {
            assertThat(response.body()).contains("\"code\":\"method_not_allowed\"");
        }
    }

    private static HttpResponse<String> send(String method, String path) {
        HttpRequest.BodyPublisher body = method.equals("HEAD") ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(BODY);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.listenerPort() + path))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .method(method, body)
                .build();
        try {
            return mesh.http().send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code requestLine} as is (HttpClient would encode or refuse it) and returns the response head. */
    private static String raw(String requestLine) {
        try (Socket socket = new Socket("127.0.0.1", mesh.listenerPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write((requestLine + "\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: "
                    + BODY.length() + "\r\nconnection: close\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            int end = response.indexOf("\r\n\r\n");
            return end < 0 ? response : response.substring(0, end);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
