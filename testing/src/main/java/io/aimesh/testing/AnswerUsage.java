package io.aimesh.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * The usage an OpenAI-style answer reports: a completion's {@code usage}, or a stream's last usage
 * event ({@code stream_options.include_usage}). What tests and benchmarks price an answer by, apart
 * from what the gateway's books say.
 *
 * @param cachedTokens {@code prompt_tokens_details.cached_tokens}, 0 when absent; part of {@code promptTokens}
 */
public record AnswerUsage(long promptTokens, long cachedTokens, long completionTokens) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The answer's usage, or {@code null} when it reports none (an error, a stream without a usage event). */
    public static AnswerUsage read(String body, boolean stream) throws IOException {
        JsonNode usage = null;
        if (stream) {
            for (String line : body.split("\n")) {
                if (line.startsWith("data: {") && line.contains("\"usage\"")) {
                    JsonNode event = JSON.readTree(line.substring(6)).path("usage");
                    usage = event.isObject() ? event : usage;
                }
            }
        } else {
            usage = JSON.readTree(body).path("usage");
        }
        if (usage == null || !usage.path("prompt_tokens").isNumber()) {
            return null;
        }
        return new AnswerUsage(usage.path("prompt_tokens").asLong(),
                usage.path("prompt_tokens_details").path("cached_tokens").asLong(0), usage.path("completion_tokens").asLong());
    }
}
