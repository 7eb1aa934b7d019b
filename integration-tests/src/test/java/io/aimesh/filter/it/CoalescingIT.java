package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Embeddings requests coalesced by the ai-filter on the real path: every client gets exactly what
 * the model server answers for its inputs alone, while the server gets fewer, larger calls.
 */
class CoalescingIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "embed-model";

    @Test
    void coalescedAnswers_areTheSameAsUncoalescedOnes() throws Exception {
        try (ModelSimServer sim = ModelSimServer.start(ModelSimConfig.builder().port(0).model(MODEL).version("v1").speed(1)
                .seed(3).build());
             Mesh mesh = Mesh.builder().filter("closed").defaultMaxTokens(64).extraPolicies("""
                     apiVersion: aimesh.io/v1alpha1
                     kind: InferencePool
                     metadata: {name: embed-pool}
                     spec:
                       endpoints: ["%s"]
                     ---
                     apiVersion: aimesh.io/v1alpha1
                     kind: ModelRoute
                     metadata: {name: embed}
                     spec:
                       model: %s
                       versions: [{name: v1, pool: embed-pool, weight: 1}]
                       tokenizer: approximate
                       coalesce: {maxBatch: 16, maxInFlight: 1}
                     """.formatted(sim.instanceName(), MODEL)).start()) {
            ExecutorService clients = Executors.newFixedThreadPool(24);
            try {
                List<List<String>> inputs = new ArrayList<>();
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    List<String> mine = i % 6 == 0 ? List.of("first " + i, "second " + i, "third " + i) : List.of("text " + i);
                    inputs.add(mine);
                    answers.add(clients.submit(() -> mesh.post("/v1/embeddings", Mesh.GLOBEX_KEY, body(mine), Map.of())));
                }
                int largestCall = 0;
                for (int i = 0; i < answers.size(); i++) {
                    HttpResponse<String> answer = answers.get(i).get(30, TimeUnit.SECONDS);
                    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                    String decision = answer.headers().firstValue("x-aimesh-decision").orElseThrow();
                    assertThat(decision).startsWith("admitted rule=coalesced");
                    largestCall = Math.max(largestCall, Integer.parseInt(decision.replaceAll(".*call_requests=(\\d+).*", "$1")));
                    JsonNode coalesced = JSON.readTree(answer.body());
                    JsonNode alone = direct(mesh, sim, inputs.get(i));
                    assertThat(coalesced.get("data")).as("request %d's vectors", i).isEqualTo(alone.get("data"));
                    assertThat(coalesced.at("/usage/prompt_tokens").asLong()).isPositive();
                }
                assertThat(largestCall).as("requests in the largest shared call").isGreaterThan(1);
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /** The model server's own answer for {@code inputs}, asked directly. */
    private static JsonNode direct(Mesh mesh, ModelSimServer sim, List<String> inputs) throws Exception {
        HttpResponse<String> response = mesh.http().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + sim.port() + "/v1/embeddings"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body(inputs))).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body());
    }

    private static String body(List<String> inputs) {
        try {
            return JSON.writeValueAsString(Map.of("model", MODEL, "input", inputs));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
