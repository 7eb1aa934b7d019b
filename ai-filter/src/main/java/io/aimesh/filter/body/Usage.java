package io.aimesh.filter.body;

/**
 * The token counts a backend reports in a response's {@code usage} object.
 *
 * @param promptTokens {@code prompt_tokens}, >= 0
 * @param completionTokens {@code completion_tokens}, >= 0; 0 when absent (embeddings)
 * @param totalTokens {@code total_tokens}, >= 0; the sum of the other two when absent
 */
public record Usage(long promptTokens, long completionTokens, long totalTokens) {
    public Usage {
        if (promptTokens < 0 || completionTokens < 0 || totalTokens < 0) {
            throw new IllegalArgumentException("promptTokens, completionTokens, totalTokens: " + promptTokens + ", "
                    + completionTokens + ", " + totalTokens + " (expected: >= 0)");
        }
    }
}
