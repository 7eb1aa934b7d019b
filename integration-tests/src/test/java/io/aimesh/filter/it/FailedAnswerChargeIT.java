package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.testing.Mesh;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a failed answer may have generated is still charged: Envoy's own 504, when the model server
 * outlives the route's timeout, keeps the whole reservation charged (the model may have generated
 * up to it), where a refund would make every timed-out request free.
 */
class FailedAnswerChargeIT {
    private static final long LIMIT = 10_000;

    @Test
    void envoysUpstreamTimeout_keepsTheReservationCharged() throws Exception {
        try (ModelSimServer slow = ModelSimServer.start(ModelSimConfig.builder().port(0).model("slow-model").version("v1")
                .speed(20).maxSeqs(8).kvTokens(1 << 20).seed(7).extraLatencyMs(3_000).build());
             Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(LIMIT).defaultMaxTokens(256).extraPolicies(slowModel(slow.port())).start()) {
            String body = "{\"model\":\"slow-model\",\"max_tokens\":2000,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Write a long story.\"}]}";
            HttpResponse<String> timedOut = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, body, Map.of());
            assertThat(timedOut.statusCode()).isEqualTo(504);

            HttpResponse<String> next = mesh.chat(Mesh.ACME_KEY, false, 1, Map.of());
            assertThat(next.statusCode()).isEqualTo(200);
            long remaining = Long.parseLong(next.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
            // The timed-out request's 2,000 reserved output tokens stay charged.
            assertThat(remaining).isLessThanOrEqualTo(LIMIT - 2_000);
        }
    }

    private static String slowModel(int port) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: slow}
                spec:
                  endpoints: ["127.0.0.1:%d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: slow}
                spec:
                  model: slow-model
                  versions: [{name: v1, pool: slow, weight: 1}]
                  tokenizer: approximate
                  timeout: 1s
                """.formatted(port);
    }
}
