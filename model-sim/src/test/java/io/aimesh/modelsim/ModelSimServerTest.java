package io.aimesh.modelsim;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible HTTP surface, on real sockets. */
class ModelSimServerTest {

    private static final String CHAT = "/v1/chat/completions";
    private static final String HELLO = "[{\"role\":\"user\",\"content\":\"Say hello to the mesh\"}]"; // 21 chars
    private final List<ModelSimServer> servers = new ArrayList<>();

    @AfterEach
    void closeServers() {
        servers.forEach(ModelSimServer::close);
    }

    @Test
    void chat_answersWithOpenAiCompletionAndUsage() {
        SimClient client = client(start(config()));

        HttpResponse<String> response = client.post(CHAT,
                "{\"model\":\"sim-model\",\"messages\":" + HELLO + ",\"max_tokens\":12}");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode body = SimClient.json(response.body());
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("model").asText()).isEqualTo("sim-model");
        assertThat(body.get("created").asLong()).isPositive();
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asText()).isNotBlank();
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(body.get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":6,\"completion_tokens\":12,\"total_tokens\":18}");
    }

    @Test
    void completions_answersTextCompletionWithSampledLengthWhenNoLimitGiven() {
        SimClient client = client(start(config()));

        JsonNode body = SimClient.json(client.post("/v1/completions",
                "{\"model\":\"sim-model\",\"prompt\":\"Once upon a time\"}").body());

        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("id").asText()).startsWith("cmpl-");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("text").asText()).isNotBlank();
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        JsonNode usage = body.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(4);
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, OutcomeSampler.MAX_NATURAL_TOKENS);
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(4 + usage.get("completion_tokens").asInt());
    }

    @Test
    void stream_sendsOneChunkPerTokenThenFinishAndDone() {
        SimClient client = client(start(config()));

        HttpResponse<String> response = client.post(CHAT,
                "{\"model\":\"sim-model\",\"messages\":" + HELLO + ",\"max_tokens\":5,\"stream\":true}");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream");
        List<String> events = SimClient.events(response.body());
        assertThat(events).hasSize(5 + 2).last().isEqualTo("[DONE]");
        List<JsonNode> chunks = events.subList(0, 6).stream().map(SimClient::json).collect(Collectors.toList());
        assertThat(chunks).allSatisfy(chunk -> {
            assertThat(chunk.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.has("usage")).isFalse();
        });
        assertThat(chunks.get(0).get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        assertThat(chunks.subList(0, 5)).allSatisfy(chunk ->
                assertThat(chunk.get("choices").get(0).get("delta").get("content").asText()).isNotEmpty());
        assertThat(chunks.get(5).get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
    }

    @Test
    void stream_endsWithUsageChunkOnlyWhenIncludeUsageIsTrue() {
        SimClient client = client(start(config()));
        String request = "{\"model\":\"sim-model\",\"prompt\":\"12345678\",\"max_tokens\":3,\"stream\":true";

        List<String> withUsage = SimClient.events(client.post("/v1/completions",
                request + ",\"stream_options\":{\"include_usage\":true}}").body());
        List<String> withoutUsage = SimClient.events(client.post("/v1/completions",
                request + ",\"stream_options\":{\"include_usage\":false}}").body());

        assertThat(withUsage).hasSize(3 + 3).last().isEqualTo("[DONE]");
        JsonNode usageChunk = SimClient.json(withUsage.get(4));
        assertThat(usageChunk.get("choices")).isEmpty();
        assertThat(usageChunk.get("usage").toString())
                .isEqualTo("{\"prompt_tokens\":2,\"completion_tokens\":3,\"total_tokens\":5}");
        assertThat(withoutUsage).hasSize(3 + 2).noneMatch(event -> event.contains("\"usage\""));
        assertThat(SimClient.json(withoutUsage.get(0)).get("choices").get(0).get("text").asText()).isNotEmpty();
    }

    @Test
    void stream_deliversFirstTokenWhileGenerationContinues() throws IOException {
        ModelSimServer server = start(config().speed(1));
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            BufferedReader reader = postRaw(socket, "{\"model\":\"sim-model\",\"messages\":" + HELLO
                    + ",\"max_tokens\":400,\"stream\":true}"); // 5 s of decoding at speed 1

            assertThat(firstDataLine(reader)).contains("\"role\":\"assistant\"");
            assertThat(metrics(server)).contains("vllm:num_requests_running{model_name=\"sim-model\"} 1.0");
        }
    }

    @Test
    void clientDisconnect_cancelsItsSequence() throws IOException {
        ModelSimServer server = start(config().speed(1));
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            firstDataLine(postRaw(socket, "{\"model\":\"sim-model\",\"messages\":" + HELLO
                    + ",\"max_tokens\":400,\"stream\":true}"));
        }

        awaitFast().atMost(Duration.ofSeconds(3)).until(() ->
                metrics(server).contains("vllm:num_requests_running{model_name=\"sim-model\"} 0.0"));
        assertThat(metrics(server)).contains("vllm:request_success_total{model_name=\"sim-model\"} 0.0",
                "vllm:kv_cache_usage_perc{model_name=\"sim-model\"} 0.0");
    }

    @Test
    void everyResponse_carriesInstanceAndVersionHeaders() {
        ModelSimServer named = start(config().instanceName("gpu-7").version("v2"));
        ModelSimServer unnamed = start(config());
        SimClient client = client(named);

        List<HttpResponse<String>> responses = List.of(client.get("/health"), client.get("/metrics"),
                client.get("/v1/models"), client.get("/nope"), client.post(CHAT, "{"),
                client.post(CHAT, "{\"model\":\"sim-model\",\"messages\":" + HELLO + ",\"max_tokens\":1}"));

        assertThat(responses).allSatisfy(response -> {
            assertThat(response.headers().firstValue("x-model-sim-instance")).hasValue("gpu-7");
            assertThat(response.headers().firstValue("x-model-sim-version")).hasValue("v2");
        });
        assertThat(unnamed.instanceName()).isEqualTo("127.0.0.1:" + unnamed.port());
        assertThat(client(unnamed).get("/health").headers().firstValue("x-model-sim-instance"))
                .hasValue(unnamed.instanceName());
    }

    @Test
    void models_health_andMetrics_answerGet() {
        ModelSimServer server = start(config().model("llama-3-8b"));
        SimClient client = client(server);

        JsonNode models = SimClient.json(client.get("/v1/models").body());
        HttpResponse<String> health = client.get("/health");
        HttpResponse<String> metrics = client.get("/metrics");

        assertThat(models.get("object").asText()).isEqualTo("list");
        assertThat(models.get("data")).hasSize(1);
        assertThat(models.get("data").get(0).get("id").asText()).isEqualTo("llama-3-8b");
        assertThat(models.get("data").get(0).get("object").asText()).isEqualTo("model");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("content-type")).hasValue(VllmMetrics.CONTENT_TYPE);
        assertThat(metrics.body()).contains("vllm:num_requests_running{model_name=\"llama-3-8b\"} 0.0",
                "vllm:num_requests_waiting{model_name=", "vllm:kv_cache_usage_perc{model_name=",
                "vllm:gpu_cache_usage_perc{model_name=", "vllm:time_to_first_token_seconds_bucket{",
                "vllm:e2e_request_latency_seconds_bucket{", "vllm:prompt_tokens_total{",
                "vllm:generation_tokens_total{", "vllm:request_success_total{");
    }

    @Test
    void loraAdapters_areListed_served_andReported() {
        ModelSimServer server = start(config().model("llama-3-8b").loraAdapters(List.of("sql-lora", "chat-lora")).maxLoras(2));
        SimClient client = client(server);

        JsonNode models = SimClient.json(client.get("/v1/models").body());
        HttpResponse<String> adapter = client.post("/v1/chat/completions",
                "{\"model\":\"sql-lora\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        HttpResponse<String> unknown = client.post("/v1/chat/completions",
                "{\"model\":\"other-lora\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertThat(models.get("data")).extracting(m -> m.get("id").asText()).containsExactly("llama-3-8b", "sql-lora", "chat-lora");
        assertThat(models.get("data").get(1).get("parent").asText()).isEqualTo("llama-3-8b");
        assertThat(adapter.statusCode()).isEqualTo(200);
        assertThat(SimClient.json(adapter.body()).get("model").asText()).isEqualTo("sql-lora");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(client.get("/metrics").body()).containsPattern(
                "vllm:lora_requests_info\\{max_lora=\"2\",running_lora_adapters=\"\",waiting_lora_adapters=\"\"} \\d");
    }

    @Test
    void sameSeed_givesIdenticalAnswersForTheSameRequestSequence() {
        List<String> first = answers(start(config().seed(99)));
        List<String> second = answers(start(config().seed(99)));
        List<String> other = answers(start(config().seed(100)));

        assertThat(first).isEqualTo(second);
        assertThat(first).isNotEqualTo(other);
    }

    @Test
    void extraLatency_delaysTheAnswer() {
        SimClient client = client(start(config().extraLatencyMs(300)));

        long start = System.nanoTime();
        HttpResponse<String> response = client.post(CHAT,
                "{\"model\":\"sim-model\",\"messages\":" + HELLO + ",\"max_tokens\":1}");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
    }

    @Test
    void close_failsInFlightStreamAndPendingRequestJoinsEngineAndFreesPort() throws IOException {
        ModelSimServer server = start(config().speed(1).maxSeqs(1));
        int port = server.port();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            BufferedReader stream = postRaw(socket, "{\"model\":\"sim-model\",\"messages\":" + HELLO
                    + ",\"max_tokens\":4000,\"stream\":true}");
            firstDataLine(stream);
            CompletableFuture<HttpResponse<String>> queued = CompletableFuture.supplyAsync(() -> client(server)
                    .post(CHAT, "{\"model\":\"sim-model\",\"messages\":" + HELLO + ",\"max_tokens\":5}"));
            awaitFast().until(() ->
                    metrics(server).contains("vllm:num_requests_waiting{model_name=\"sim-model\"} 1.0"));

            server.close();

            String rest = stream.lines().collect(Collectors.joining("\n"));
            assertThat(rest).contains("\"type\":\"server_error\"").doesNotContain("[DONE]");
            assertThat(queued.join().statusCode()).isEqualTo(503);
            assertThat(Thread.getAllStackTraces().keySet())
                    .noneMatch(thread -> thread.getName().equals("model-sim-engine-" + server.instanceName()));
        }
        try (ServerSocket rebound = new ServerSocket(port)) {
            assertThat(rebound.getLocalPort()).isEqualTo(port);
        }
    }

    private List<String> answers(ModelSimServer server) {
        SimClient client = client(server);
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JsonNode body = SimClient.json(client.post(CHAT,
                    "{\"model\":\"sim-model\",\"messages\":" + HELLO + "}").body());
            answers.add(body.get("id").asText() + body.get("choices") + body.get("usage"));
        }
        return answers;
    }

    private static ModelSimConfigBuilder config() {
        return ModelSimConfig.builder().speed(50).seed(7);
    }

    private ModelSimServer start(ModelSimConfigBuilder config) {
        try {
            ModelSimServer server = ModelSimServer.start(config.build());
            servers.add(server);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SimClient client(ModelSimServer server) {
        return new SimClient(server.port());
    }

    private static String metrics(ModelSimServer server) {
        return client(server).get("/metrics").body();
    }

    private static ConditionFactory awaitFast() {
        return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5));
    }

    /** Sends a chat request by hand so the test controls when the connection closes. */
    private static BufferedReader postRaw(Socket socket, String json) throws IOException {
        socket.setSoTimeout(10_000); // a hung server fails the test instead of hanging it
        byte[] body = json.getBytes(US_ASCII);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + CHAT + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(US_ASCII));
        out.write(body);
        out.flush();
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), US_ASCII));
    }

    private static String firstDataLine(BufferedReader reader) throws IOException {
        for (String line; (line = reader.readLine()) != null; ) {
            if (line.startsWith("data: ")) {
                return line;
            }
        }
        throw new AssertionError("stream ended before its first event");
    }
}
