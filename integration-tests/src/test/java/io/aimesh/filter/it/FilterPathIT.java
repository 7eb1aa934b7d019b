package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The filter on the real path (Envoy → ai-filter → model-sim): identity, errors, headers, usage. */
class FilterPathIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Mesh mesh;

    @BeforeAll
    static void start() throws Exception {
        mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(1_000_000).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void unknownOrMissingKey_gets401() throws Exception {
        HttpResponse<String> missing = mesh.chat(null, false, 2, Map.of());
        HttpResponse<String> wrong = mesh.chat("not-a-key", false, 2, Map.of());

        assertError(missing, 401, "invalid_api_key");
        assertError(wrong, 401, "invalid_api_key");
        assertThat(missing.headers().firstValue("x-aimesh-decision")).hasValue("denied reason=unknown-tenant");
    }

    @Test
    void modelNotAllowedForTenant_gets403_andUnknownModel_gets404() throws Exception {
        HttpResponse<String> notAllowed = mesh.chat(null, false, 2, Map.of("x-tenant", "initech"));
        HttpResponse<String> unknown = mesh.post("/v1/chat/completions", Mesh.ACME_KEY,
                "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Map.of());

        assertError(notAllowed, 403, "model_not_allowed");
        assertThat(notAllowed.headers().firstValue("x-aimesh-decision"))
                .hasValue("denied reason=model-not-allowed tenant=initech model=llama");
        assertError(unknown, 404, "model_not_found");
    }

    @Test
    void badBodies_getOpenAiErrors_andOthersAreUnaffected() throws Exception {
        assertError(mesh.post("/v1/chat/completions", Mesh.ACME_KEY, "{\"model\": \"llama\", ", Map.of()), 400, null);
        assertError(mesh.post("/v1/chat/completions", Mesh.ACME_KEY, "{\"messages\": []}", Map.of()), 400, null);
        assertError(mesh.post("/v1/chat/completions", Mesh.ACME_KEY,
                "{\"model\":\"llama\",\"max_tokens\":\"ten\",\"messages\":[]}", Map.of()), 400, null);
        assertError(mesh.post("/v1/chat/completions", Mesh.ACME_KEY,
                "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(70_000) + "\"}]}",
                Map.of()), 413, null);
        assertError(mesh.post("/v1/chat/completions", Mesh.ACME_KEY, "model=llama", Map.of("content-type", "text/plain")),
                415, null);

        assertThat(mesh.chat(Mesh.ACME_KEY, false, 2, Map.of()).statusCode()).isEqualTo(200);
    }

    @Test
    void spoofedModelHeader_isIgnored() throws Exception {
        HttpResponse<String> response = mesh.chat(Mesh.ACME_KEY, false, 2, Map.of("x-aimesh-model", "other-model"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).path("model").asText()).isEqualTo(Mesh.MODEL);
    }

    @Test
    void remainingTokens_goesDownByTheReconciledUsage() throws Exception {
        // No max_tokens: the filter reserves the prompt estimate plus defaultMaxTokens (256); the model's
        // length differs; the next response's remaining shows the first charged at its real usage.
        for (int attempt = 0; attempt < 3; attempt++) {
            HttpResponse<String> first = mesh.chat(Mesh.ACME_KEY, false, 0, Map.of());
            HttpResponse<String> second = mesh.chat(Mesh.ACME_KEY, false, 0, Map.of());
            long firstRemaining = header(first, "x-ratelimit-remaining-tokens");
            long secondRemaining = header(second, "x-ratelimit-remaining-tokens");
            if (secondRemaining > firstRemaining) {
                continue; // the minute rolled over between the two requests
            }
            long used = JSON.readTree(first.body()).at("/usage/total_tokens").asLong();
            assertThat(header(first, "x-ratelimit-limit-tokens")).isEqualTo(1_000_000);
            assertThat(first.headers().firstValue("x-ratelimit-reset-tokens").orElseThrow()).matches("[0-9.]+m?s|[0-9]+m[0-9.]+s");
            assertThat(firstRemaining - secondRemaining).isEqualTo(used);
            return;
        }
        throw new AssertionError("three minute rollovers in a row");
    }

    @Test
    void failedUpstream_chargesNothing() throws Exception {
        // Envoy answers 503 itself (nothing listens on the dead model's endpoint); the filter learns
        // the status from the response.code attribute and releases the reservation, so the two
        // identical llama requests around it differ by the first one's usage only.
        String dead = "{\"model\":\"" + Mesh.DEAD_MODEL + "\",\"max_tokens\":5000,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Anyone there?\"}]}";
        for (int attempt = 0; attempt < 3; attempt++) {
            HttpResponse<String> first = mesh.chat(Mesh.ACME_KEY, false, 0, Map.of());
            HttpResponse<String> failed = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, dead, Map.of());
            HttpResponse<String> second = mesh.chat(Mesh.ACME_KEY, false, 0, Map.of());
            assertThat(failed.statusCode()).isEqualTo(503);
            long firstRemaining = header(first, "x-ratelimit-remaining-tokens");
            long secondRemaining = header(second, "x-ratelimit-remaining-tokens");
            if (secondRemaining > firstRemaining) {
                continue; // window rollover
            }
            assertThat(firstRemaining - secondRemaining).isEqualTo(JSON.readTree(first.body()).at("/usage/total_tokens").asLong());
            return;
        }
        throw new AssertionError("three minute rollovers in a row");
    }

    @Test
    void streamedUsage_isCountedAndHiddenFromAClientThatDidNotAskForIt() throws Exception {
        String withUsage = "{\"model\":\"llama\",\"stream\":true,\"max_tokens\":8,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Count to eight.\"}]}";
        String without = "{\"model\":\"llama\",\"stream\":true,\"max_tokens\":8,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Count to eight.\"}]}";
        for (int attempt = 0; attempt < 3; attempt++) {
            HttpResponse<String> asked = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, withUsage, Map.of());
            HttpResponse<String> first = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, without, Map.of());
            HttpResponse<String> second = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, without, Map.of());

            assertThat(asked.body()).contains("\"usage\"").endsWith("data: [DONE]\n\n");
            for (HttpResponse<String> response : java.util.List.of(first, second)) {
                assertThat(response.statusCode()).isEqualTo(200);
                // Chunks may carry "usage":null (the backend was asked for usage); the usage event itself is gone.
                assertThat(response.body()).doesNotContain("\"usage\":{").contains("\"delta\"").endsWith("data: [DONE]\n\n");
            }
            long firstRemaining = header(first, "x-ratelimit-remaining-tokens");
            long secondRemaining = header(second, "x-ratelimit-remaining-tokens");
            if (secondRemaining > firstRemaining) {
                continue; // window rollover
            }
            // Same request twice: the difference is what the first really used, which the filter
            // learnt from the usage event it asked for and then hid.
            assertThat(firstRemaining - secondRemaining).isEqualTo(usageOf(asked.body()).path("total_tokens").asLong());
            return;
        }
        throw new AssertionError("three minute rollovers in a row");
    }

    @Test
    void metrics_countTokensAndOutcomesWithGenAiNames() throws Exception {
        mesh.chat(Mesh.ACME_KEY, false, 3, Map.of());
        mesh.chat("not-a-key", false, 3, Map.of());

        String metrics = mesh.http().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + mesh.filter().adminPort() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();

        assertThat(metrics)
                .contains("gen_ai_client_token_usage_tokens_bucket{gen_ai_request_model=\"llama\",gen_ai_token_type=\"output\",tenant=\"acme\"")
                .contains("aimesh_filter_tokens_total{model=\"llama\",tenant=\"acme\",type=\"input\"}")
                .contains("aimesh_filter_requests_total{model=\"llama\",outcome=\"admitted\",tenant=\"acme\"}")
                .contains("aimesh_filter_requests_total{model=\"\",outcome=\"denied\",tenant=\"\"}")
                .contains("gen_ai_server_time_to_first_token_seconds_bucket{gen_ai_request_model=\"llama\"")
                .contains("gen_ai_client_operation_duration_seconds_count{gen_ai_request_model=\"llama\"}")
                .containsPattern("aimesh_filter_reservations_outstanding 0(\\.0)?\\n");
    }

    private static JsonNode usageOf(String sse) throws Exception {
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {") && line.contains("\"usage\"")) {
                JsonNode usage = JSON.readTree(line.substring(6)).path("usage");
                if (!usage.isNull() && !usage.isMissingNode()) {
                    return usage;
                }
            }
        }
        throw new AssertionError("no usage in " + sse);
    }

    private static long header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name).map(Long::parseLong).orElse(0L);
    }

    private static void assertError(HttpResponse<String> response, int status, String code) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode error = JSON.readTree(response.body()).path("error");
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(error.has("type")).isTrue();
        if (code != null) {
            assertThat(error.path("code").asText()).isEqualTo(code);
        }
    }
}
