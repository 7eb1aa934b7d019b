package io.aimesh.filter.body;

/**
 * The token counts a backend reports in a response's {@code usage} object.
 *
 * @param promptTokens {@code prompt_tokens}, >= 0
 * @param completionTokens {@code completion_tokens}, >= 0; 0 when absent (embeddings)
 * @param totalTokens {@code total_tokens}, >= 0; the sum of the other two when absent
 * @param cachedTokens {@code prompt_tokens_details.cached_tokens}: prompt tokens served from the
 *     server's prefix cache, {@code 0..promptTokens}; 0 when absent
 */
public record Usage(long promptTokens, long completionTokens, long totalTokens, long cachedTokens) {
    public Usage {
        if (promptTokens < 0 || completionTokens < 0 || totalTokens < 0 || cachedTokens < 0 || cachedTokens > promptTokens) {
            throw new IllegalArgumentException("promptTokens, completionTokens, totalTokens, cachedTokens: " + promptTokens
                    + ", " + completionTokens + ", " + totalTokens + ", " + cachedTokens
                    + " (expected: >= 0, cached at most the prompt)");
        }
    }

    /** Usage without cached prompt tokens. */
    public Usage(long promptTokens, long completionTokens, long totalTokens) {
        this(promptTokens, completionTokens, totalTokens, 0);
    }
}
