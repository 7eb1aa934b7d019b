package io.aimesh.filter.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.aimesh.filter.api.Sha256;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.testing.AnswerUsage;
import io.aimesh.testing.GoTool;
import io.aimesh.testing.Mesh;
import io.aimesh.testing.RustWasmExample;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A proxy-wasm plugin in the ai-filter on the real path (Envoy, the filter, model-sim): the guard
 * plugin built from source (integration-tests/src/test/go/wasm-guard) named in the Gateway. It
 * rewrites a word in each request body before the filter reads it (the model server sees, and
 * bills, the rewritten prompt), and its own 403 reaches the client as OpenAI-style error JSON.
 */
class WasmPluginMeshIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Mesh mesh(String failureMode) throws Exception {
        return mesh(failureMode, "100ms");
    }

    /** @param timeout the plugin's time limit per call */
    private static Mesh mesh(String failureMode, String timeout) throws Exception {
        Optional<Path> built = GoTool.WASM_GUARD.locate();
        assumeThat(built).as(GoTool.WASM_GUARD.skipMessage()).isPresent();
        Path wasm = built.orElseThrow();
        String sha256 = Sha256.hex(Files.readAllBytes(wasm));
        return Mesh.builder().filter("closed").gatewaySpec("  plugins: [{name: guard, file: \"" + wasm + "\", sha256: \"sha256:"
                + sha256 + "\", configuration: \"tag=t1;word=secret\", failureMode: " + failureMode + ", timeout: " + timeout
                + "}]").start();
    }

    @Test
    void aTrappingPlugin_failsItsRequest_whenClosed_andIsSkipped_whenOpen() throws Exception {
        try (Mesh mesh = mesh("closed")) {
            HttpResponse<String> crashed = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of("x-guard-crash", "now"));
            assertThat(crashed.statusCode()).isEqualTo(500);
            assertThat(JSON.readTree(crashed.body()).path("error").path("code").asText()).isEqualTo("plugin_failure");
            assertThat(mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of()).statusCode()).as("the next request").isEqualTo(200);
            HttpResponse<String> spun = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of("x-guard-spin", "yes"));
            assertThat(spun.statusCode()).as("interrupted at its 100 ms, before Envoy's 200 ms message timeout").isEqualTo(500);
            assertThat(JSON.readTree(spun.body()).path("error").path("code").asText()).isEqualTo("plugin_failure");
            assertThat(mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of()).statusCode()).as("the next request").isEqualTo(200);
            HttpResponse<String> outgrown = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of("x-guard-grow", "100"));
            assertThat(outgrown.statusCode()).as("100 MiB more than its 64Mi memory limit").isEqualTo(500);
            assertThat(mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of("x-guard-grow", "1")).statusCode()).as("the next request")
                    .isEqualTo(200);
            assertThat(mesh.filterMetric("aimesh_filter_plugin_requests_total{outcome=\"failed\",plugin=\"guard\"}")).isEqualTo(3);
            assertThat(mesh.filterMetric("aimesh_filter_plugin_metric{metric=\"guard_requests_total\",plugin=\"guard\"}"))
                    .as("the plugin's own counter, exported").isGreaterThanOrEqualTo(2);
        }
        try (Mesh mesh = mesh("open")) {
            assertThat(mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of("x-guard-crash", "now")).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aChangedPlugin_takesOverLive_withoutFailingARequestInFlight() throws Exception {
        // Compiling the new module takes seconds of CPU on the machine's two cores, beside these
        // requests: a 100 ms limit per call would fail some of them for starvation, not for the swap.
        try (Mesh mesh = mesh("closed", "1s")) {
            String hidden = "{\"model\":\"" + Mesh.MODEL + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":"
                    + "\"a hidden hidden hidden hidden hidden\"}]}";
            long asSent = AnswerUsage.read(mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, hidden, Map.of()).body(), false)
                    .promptTokens();
            long asRedacted = AnswerUsage.read(mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY,
                    hidden.replace("hidden", "[redacted]"), Map.of()).body(), false).promptTokens();
            assertThat(asRedacted).isNotEqualTo(asSent);
            java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
            java.util.List<Thread> clients = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Thread client = new Thread(() -> {
                    while (running.get()) {
                        HttpResponse<String> answer = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of());
                        if (answer.statusCode() == 200) {
                            served.incrementAndGet();
                        } else {
                            failures.add(answer.statusCode() + " " + answer.body());
                        }
                    }
                });
                client.start();
                clients.add(client);
            }
            String before = mesh.filter().configVersion();
            Path gateway = mesh.policies().resolve("gateway.yaml");
            mesh.writePolicy("gateway.yaml", Files.readString(gateway).replace("word=secret", "word=hidden"));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> !mesh.filter().configVersion().equals(before));
            long atSwap = served.get();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> served.get() > atSwap + 10);
            running.set(false);
            for (Thread client : clients) {
                client.join();
            }

            assertThat(failures).as("requests across the swap").isEmpty();
            assertThat(AnswerUsage.read(mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, hidden, Map.of()).body(), false)
                    .promptTokens()).as("the new configuration rewrites the new word").isEqualTo(asRedacted);
        }
    }

    @Test
    void theGuardRewritesTheBody_andItsRefusalIsAnOpenAiError() throws Exception {
        try (Mesh mesh = mesh("closed")) {
            String secret = "{\"model\":\"" + Mesh.MODEL + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":"
                    + "\"a secret secret secret secret secret\"}]}";
            String redacted = secret.replace("secret", "[redacted]");

            HttpResponse<String> rewritten = mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, secret, Map.of());
            HttpResponse<String> asIfRedacted = mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, redacted, Map.of());

            assertThat(rewritten.statusCode()).as(rewritten.body()).isEqualTo(200);
            long promptTokens = AnswerUsage.read(rewritten.body(), false).promptTokens();
            assertThat(promptTokens).as("the model server read the plugin's body, not the client's")
                    .isEqualTo(AnswerUsage.read(asIfRedacted.body(), false).promptTokens())
                    .isGreaterThan(AnswerUsage.read(mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY,
                            secret.replace("secret", "x"), Map.of()).body(), false).promptTokens());

            HttpResponse<String> blocked = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of("x-guard-block", "policy-7"));
            assertThat(blocked.statusCode()).isEqualTo(403);
            assertThat(blocked.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(blocked.headers().firstValue("x-aimesh-decision")).hasValue("denied reason=plugin plugin=guard status=403");
            JsonNode error = JSON.readTree(blocked.body()).path("error");
            assertThat(error.path("message").asText()).isEqualTo("blocked by guard: policy-7");
            assertThat(error.path("code").asText()).isEqualTo("plugin_refused");

            assertThat(mesh.filterMetric("aimesh_filter_plugin_requests_total{outcome=\"passed\",plugin=\"guard\"}"))
                    .isGreaterThanOrEqualTo(3);
            assertThat(mesh.filterMetric("aimesh_filter_plugin_requests_total{outcome=\"answered\",plugin=\"guard\"}"))
                    .isEqualTo(1);
        }
    }

    @Test
    void responsePhases_rewriteTheAnswer_andScopedPluginsRunOnlyForTheirTenantsAndModels() throws Exception {
        Optional<Path> guard = GoTool.WASM_GUARD.locate();
        assumeThat(guard).as(GoTool.WASM_GUARD.skipMessage()).isPresent();
        Optional<Path> config = RustWasmExample.HTTP_CONFIG.locate();
        assumeThat(config).as(RustWasmExample.HTTP_CONFIG.skipMessage()).isPresent();
        String rust = "file: \"" + config.get() + "\", sha256: \"sha256:" + Sha256.hex(Files.readAllBytes(config.get())) + "\"";
        try (Mesh mesh = Mesh.builder().filter("closed").gatewaySpec("  plugins:\n"
                + "    - {name: guard, file: \"" + guard.get() + "\", sha256: \"sha256:" + Sha256.hex(Files.readAllBytes(guard.get()))
                + "\", configuration: \"tag=t1;respword=" + Mesh.MODEL + "\"}\n"
                + "    - {name: for-acme, " + rust + ", configuration: for-acme, phases: [responseHeaders], tenants: [acme]}\n"
                + "    - {name: for-dead, " + rust + ", configuration: for-dead, phases: [responseHeaders], models: ["
                + Mesh.DEAD_MODEL + "]}").start()) {
            HttpResponse<String> answer = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(answer.headers().firstValue("x-guard-tag")).hasValue("t1");
            assertThat(JSON.readTree(answer.body()).path("model").asText()).as("rewritten in the response body")
                    .isEqualTo("[redacted]");
            assertThat(AnswerUsage.read(answer.body(), false).completionTokens()).isEqualTo(4);
            assertThat(answer.headers().firstValue("custom-header")).as("for-acme is acme's, for-dead dead-model's").isEmpty();

            HttpResponse<String> streamed = mesh.chat(Mesh.GLOBEX_KEY, true, 4, Map.of());
            assertThat(streamed.statusCode()).isEqualTo(200);
            assertThat(streamed.body()).as("held whole, then rewritten").contains("\"model\":\"[redacted]\"")
                    .doesNotContain("\"model\":\"" + Mesh.MODEL + "\"").endsWith("data: [DONE]\n\n");

            HttpResponse<String> acme = mesh.chat(Mesh.ACME_KEY, false, 4, Map.of());
            assertThat(acme.statusCode()).isEqualTo(200);
            assertThat(acme.headers().firstValue("custom-header")).hasValue("for-acme");

            HttpResponse<String> before = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of());
            HttpResponse<String> dead = mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, "{\"model\":\"" + Mesh.DEAD_MODEL
                    + "\",\"max_tokens\":5000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Map.of());
            assertThat(dead.statusCode()).as("no endpoint answers: Envoy's own reply").isEqualTo(503);
            assertThat(dead.headers().firstValue("custom-header")).hasValue("for-dead");
            HttpResponse<String> after = mesh.chat(Mesh.GLOBEX_KEY, false, 4, Map.of());
            AnswerUsage used = AnswerUsage.read(before.body(), false);
            assertThat(remaining(before) - remaining(after))
                    .as("the 503 charged nothing (the filter read its status from the response headers): only the request before")
                    .isEqualTo(used.promptTokens() + used.completionTokens());
            assertThat(mesh.filterMetric("aimesh_filter_plugin_requests_total{outcome=\"passed\",plugin=\"for-acme\"}"))
                    .isEqualTo(1);
        }
    }

    private static long remaining(HttpResponse<String> answer) {
        return Long.parseLong(answer.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
    }
}
