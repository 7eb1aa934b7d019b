package io.aimesh.filter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.testing.Mesh;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A body of exactly the Gateway's {@code maxRequestBytes} (8 MiB, twice gRPC's default message
 * limit) is identified and served like any other, and one byte more is refused with 413, in both
 * failure modes. Regression: above 4 MiB the filter's gRPC server failed the stream, so fail-closed
 * answered 500 and fail-open skipped identity and limits.
 */
class LargeBodyIT {
    private static final int MAX = 8 << 20;

    @ParameterizedTest
    @ValueSource(strings = {"closed", "open"})
    void aBodyAtTheLimit_isIdentified_andOneByteMoreIsRefused(String failureMode) throws IOException {
        try (Mesh mesh = Mesh.builder().filter(failureMode).maxRequestBytes(MAX).start()) {
            String atLimit = body(MAX);

            HttpResponse<String> served = mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, atLimit, Map.of());
            assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
            assertThat(mesh.post("/v1/chat/completions", null, atLimit, Map.of()).statusCode())
                    .as("no key, at the limit: the filter still identifies").isEqualTo(401);

            String over = body(MAX + 1);
            HttpResponse<String> refused = mesh.post("/v1/chat/completions", Mesh.GLOBEX_KEY, over, Map.of());
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
            assertThat(refused.headers().firstValue("x-model-sim-instance")).isEmpty();
            assertThat(mesh.post("/v1/chat/completions", null, over, Map.of()).statusCode())
                    .as("no key, over the limit: refused, never served").isIn(401, 413);
        }
    }

    /**
     * A chat request of exactly {@code bytes} bytes. The padding is in {@code user}, which neither the
     * filter nor the model server counts as prompt, so the request stays small in tokens.
     */
    private static String body(int bytes) {
        String head = "{\"model\":\"" + Mesh.MODEL + "\",\"max_tokens\":2,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"user\":\"";
        String tail = "\"}";
        String body = head + "u".repeat(bytes - head.length() - tail.length()) + tail;
        assertThat(body.getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
        return body;
    }
}
