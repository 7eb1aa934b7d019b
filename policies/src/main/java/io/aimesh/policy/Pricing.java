package io.aimesh.policy;

/**
 * What a model version's tokens cost, in micro-units of the Gateway's currency per million tokens
 * ({@link io.aimesh.filter.api.Money}).
 *
 * @param inputMicros per million prompt tokens not served from the model server's cache, {@code >= 0}
 * @param cachedInputMicros per million prompt tokens served from its cache, {@code >= 0}
 * @param outputMicros per million output tokens, {@code >= 0}
 */
public record Pricing(long inputMicros, long cachedInputMicros, long outputMicros) {
    public Pricing {
        if (inputMicros < 0 || cachedInputMicros < 0 || outputMicros < 0) {
            throw new IllegalArgumentException("prices: " + inputMicros + ", " + cachedInputMicros + ", " + outputMicros
                    + " (expected: >= 0)");
        }
    }
}
