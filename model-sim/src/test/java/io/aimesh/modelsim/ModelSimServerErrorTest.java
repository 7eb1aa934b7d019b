package io.aimesh.modelsim;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every rejected request gets an OpenAI error object and leaves the server serving. */
class ModelSimServerErrorTest {

    private static final String CHAT = "/v1/chat/completions";
    private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    private static ModelSimServer server;
    private static SimClient client;

    @BeforeAll
    static void startServer() throws IOException {
        server = ModelSimServer.start(ModelSimConfig.builder().speed(50).kvTokens(1000).seed(3).build());
        client = new SimClient(server.port());
    }

    @AfterAll
    static void closeServer() {
        server.close();
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of(CHAT, "", 400, null, "request body: empty"),
                Arguments.of(CHAT, "{\"model\":", 400, null, "request body: malformed JSON at line 1"),
                Arguments.of(CHAT, "[1,2]", 400, null, "request body: an array (expected: a JSON object)"),
                Arguments.of(CHAT, "{" + MESSAGES + "}", 400, "model", "model: missing"),
                Arguments.of(CHAT, "{\"model\":\"sim-model\"}", 400, "messages", "messages: missing"),
                Arguments.of(CHAT, "{\"model\":\"sim-model\",\"messages\":{}}", 400, "messages",
                        "messages: an object (expected: a non-empty array"),
                Arguments.of(CHAT, "{\"model\":\"sim-model\"," + MESSAGES + ",\"max_tokens\":\"ten\"}", 400,
                        "max_tokens", "max_tokens: \"ten\" (expected: an integer >= 1)"),
                Arguments.of(CHAT, "{\"model\":\"sim-model\"," + MESSAGES + ",\"max_tokens\":-3}", 400,
                        "max_tokens", "max_tokens: -3 (expected: an integer >= 1)"),
                Arguments.of(CHAT, "{\"model\":\"sim-model\"," + MESSAGES + ",\"stream\":\"yes\"}", 400,
                        "stream", "stream: \"yes\" (expected: a boolean)"),
                Arguments.of("/v1/completions", "{\"model\":\"sim-model\",\"prompt\":7}", 400, "prompt",
                        "prompt: 7 (expected: a string"),
                Arguments.of("/v1/completions", "{\"model\":\"sim-model\",\"prompt\":\"" + "x".repeat(4000) + "\"}",
                        400, "prompt", "prompt: 1000 tokens (expected: <= 999;"),
                Arguments.of(CHAT, "{\"model\":\"sim-model\"," + MESSAGES + ",\"max_tokens\":1000}", 400,
                        "max_tokens", "max_tokens: 1000 with a 1-token prompt (expected: prompt + max_tokens <= 1000"),
                Arguments.of(CHAT, "{\"model\":\"gpt-4o\"," + MESSAGES + "}", 404, "model",
                        "The model `gpt-4o` does not exist."));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badRequests")
    void badRequest_getsOpenAiErrorAndServerKeepsServing(String path, String body, int status, String param,
            String messageStart) {
        HttpResponse<String> response = client.post(path, body);

        assertThat(response.statusCode()).isEqualTo(status);
        JsonNode error = SimClient.json(response.body()).get("error");
        assertThat(error.get("message").asText()).startsWith(messageStart);
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").isNull() ? null : error.get("param").asText()).isEqualTo(param);
        assertThat(error.has("code")).isTrue();
        assertServing();
    }

    @Test
    void unknownModel_hasCodeModelNotFound() {
        JsonNode error = SimClient.json(client.post(CHAT, "{\"model\":\"other\"," + MESSAGES + "}").body())
                .get("error");

        assertThat(error.get("code").asText()).isEqualTo("model_not_found");
    }

    @Test
    void contextOverflow_hasCodeContextLengthExceeded() {
        JsonNode error = SimClient.json(client.post(CHAT,
                "{\"model\":\"sim-model\"," + MESSAGES + ",\"max_tokens\":5000}").body()).get("error");

        assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
    }

    @Test
    void bodyOverTheLimit_gets413() {
        String huge = "{\"model\":\"sim-model\",\"prompt\":\"" + "x".repeat(CompletionHandler.MAX_BODY_BYTES) + "\"}";

        HttpResponse<String> response = client.post("/v1/completions", huge);

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(SimClient.json(response.body()).get("error").get("message").asText())
                .isEqualTo("request body: " + huge.length() + " bytes (expected: <= " + CompletionHandler.MAX_BODY_BYTES + " bytes)");
        assertServing();
    }

    @Test
    void chunkedBodyOverTheLimit_gets413() {
        byte[] huge = ("{\"prompt\":\"" + "x".repeat(CompletionHandler.MAX_BODY_BYTES + (1 << 20)) + "\"}").getBytes(UTF_8);

        HttpResponse<String> response = client.send("POST", "/v1/completions", // no length: chunked
                BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge)));

        assertThat(response.statusCode()).isEqualTo(413);
        assertServing();
    }

    @Test
    void unknownPath_gets404AndWrongMethod405() {
        HttpResponse<String> unknown = client.get("/v2/everything");
        HttpResponse<String> wrongMethod = client.get(CHAT);

        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(SimClient.json(unknown.body()).get("error").get("message").asText())
                .isEqualTo("path /v2/everything: not found");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("allow")).hasValue("POST");
        assertThat(SimClient.json(wrongMethod.body()).get("error").get("type").asText())
                .isEqualTo("invalid_request_error");
    }

    @Test
    void failRateOne_failsEveryRequestWith500() throws IOException {
        try (ModelSimServer failing = ModelSimServer.start(ModelSimConfig.builder().failRate(1.0).build())) {
            SimClient failingClient = new SimClient(failing.port());
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> response = failingClient.post(CHAT,
                        "{\"model\":\"sim-model\"," + MESSAGES + ",\"stream\":true}");

                assertThat(response.statusCode()).isEqualTo(500);
                assertThat(SimClient.json(response.body()).get("error").get("type").asText())
                        .isEqualTo("server_error");
            }
            assertThat(failingClient.get("/metrics").body())
                    .contains("vllm:request_success_total{model_name=\"sim-model\"} 0.0");
        }
    }

    private static void assertServing() {
        HttpResponse<String> response = client.post(CHAT, "{\"model\":\"sim-model\"," + MESSAGES
                + ",\"max_tokens\":2}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(SimClient.json(response.body()).get("usage").get("completion_tokens").asInt()).isEqualTo(2);
    }
}
