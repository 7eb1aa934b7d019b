package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /v1/embeddings: vectors that depend on the input alone, and a batch far cheaper than its singles. */
class EmbeddingsTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private ModelSimServer server;

    @BeforeEach
    void start() throws Exception {
        server = ModelSimServer.start(ModelSimConfig.builder().port(0).model("embed").version("v1").speed(1).seed(5).build());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void anInputGetsTheSameVector_aloneOrInABatch() throws Exception {
        JsonNode alone = post("{\"model\":\"embed\",\"input\":\"hello\"}");
        JsonNode batch = post("{\"model\":\"embed\",\"input\":[\"a\",\"hello\",\"b\"]}");

        assertThat(alone.at("/data/0/embedding")).hasSize(EmbeddingHandler.DIMENSIONS);
        assertThat(batch.at("/data")).hasSize(3);
        assertThat(batch.at("/data/1/index").asInt()).isEqualTo(1);
        assertThat(batch.at("/data/1/embedding")).isEqualTo(alone.at("/data/0/embedding"));
        assertThat(batch.at("/data/0/embedding")).isNotEqualTo(alone.at("/data/0/embedding"));
        assertThat(batch.at("/usage/prompt_tokens").asLong()).isEqualTo(3);
    }

    @Test
    void aBatch_costsFarLessThanItsInputsOneByOne() throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < 8; i++) {
            post("{\"model\":\"embed\",\"input\":\"item " + i + "\"}");
        }
        long oneByOne = System.nanoTime() - start;
        start = System.nanoTime();
        post("{\"model\":\"embed\",\"input\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\"]}");
        long together = System.nanoTime() - start;

        // 8 x 20.5 ms against 24 ms by the cost model; a third leaves room for a busy machine.
        assertThat(together).isLessThan(oneByOne / 3);
    }

    @Test
    void badRequests_getOpenAiErrors() throws Exception {
        assertThat(status("{\"model\":\"other\",\"input\":\"x\"}")).isEqualTo(404);
        assertThat(status("{\"model\":\"embed\",\"input\":[]}")).isEqualTo(400);
        assertThat(status("{\"model\":\"embed\",\"input\":[1,2]}")).isEqualTo(400);
        assertThat(status("not json")).isEqualTo(400);
    }

    private JsonNode post(String body) throws Exception {
        HttpResponse<String> response = send(body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.MAPPER.readTree(response.body());
    }

    private int status(String body) throws Exception {
        return send(body).statusCode();
    }

    private HttpResponse<String> send(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/embeddings"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
