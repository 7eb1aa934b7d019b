package io.aimesh.filter.it;

import io.aimesh.testing.Mesh;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A stream that outruns its tenant's budget is ended at the limit when the policy says {@code cut}. */
class StreamOverrunIT {

    @Test
    void cut_endsAStreamAtTheBudgetWithAnErrorEventAndDone() throws Exception {
        // 40 tokens a minute; no max_tokens, so the filter reserves the prompt (~20) + 8 and the
        // model-sim draws a length of ~128: the stream may produce 8 plus what was left.
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(40).streamOverrun("cut").defaultMaxTokens(8).start()) {
            String body = "{\"model\":\"llama\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Tell a long story.\"}]}";
            HttpResponse<String> response = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, body, Map.of());

            assertThat(response.statusCode()).isEqualTo(200);
            long allowance = 8 + Long.parseLong(response.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
            long deltas = response.body().lines().filter(line -> line.contains("\"content\":\"")).count();
            assertThat(deltas).isPositive().isLessThanOrEqualTo(allowance);
            assertThat(response.body()).contains("\"code\":\"rate_limit_exceeded\"").endsWith("data: [DONE]\n\n");
            assertThat(response.body().indexOf("data: [DONE]")).isEqualTo(response.body().lastIndexOf("data: [DONE]"));
        }
    }
}
