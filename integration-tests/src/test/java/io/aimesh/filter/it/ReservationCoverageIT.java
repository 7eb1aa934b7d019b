package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.testing.Mesh;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A reservation covers everything that multiplies output: with 600 tokens a minute, a request
 * whose worst case cannot fit is refused before it reaches a model server, and one that fits is
 * reserved at its worst case.
 */
class ReservationCoverageIT {

    @Test
    void maxCompletionTokens_onCompletions_isReservedEvenWithASmallerMaxTokens() throws Exception {
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(600).start()) {
            // The model server honours max_completion_tokens: 2,000 tokens can never fit in 600.
            HttpResponse<String> response = mesh.post("/v1/completions", Mesh.ACME_KEY,
                    "{\"model\":\"llama\",\"prompt\":\"Say hi\",\"max_tokens\":1,\"max_completion_tokens\":2000}", Map.of());

            assertThat(response.statusCode()).isEqualTo(429);
            assertThat(response.body()).contains("\"code\":\"rate_limit_exceeded\"").contains("too large");
            assertThat(response.headers().firstValue("retry-after")).isEmpty();
            // The refusing limit is named from the policy, the same in the decision as in the log line.
            assertThat(response.headers().firstValue("x-aimesh-decision").orElseThrow())
                    .contains("reason=too-large").contains(" limit=acme:*:tokens-per-minute:total");
        }
    }

    @Test
    void n_multipliesTheReservation_andAnNThatCannotFitIsRefused() throws Exception {
        try (Mesh mesh = Mesh.builder().filter("closed").acmeTokensPerMinute(600).start()) {
            String tooMany = "{\"model\":\"llama\",\"max_tokens\":100,\"n\":8,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}]}";
            HttpResponse<String> refused = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, tooMany, Map.of());
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.body()).contains("too large");

            String four = tooMany.replace("\"n\":8", "\"n\":4");
            HttpResponse<String> admitted = mesh.post("/v1/chat/completions", Mesh.ACME_KEY, four, Map.of());
            assertThat(admitted.statusCode()).isEqualTo(200);
            // 4 choices of up to 100 tokens, plus the prompt, were reserved out of 600.
            long remaining = Long.parseLong(admitted.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
            assertThat(remaining).isLessThanOrEqualTo(600 - 400);
        }
    }
}
