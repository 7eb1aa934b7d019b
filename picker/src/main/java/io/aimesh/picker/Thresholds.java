package io.aimesh.picker;

/**
 * When an endpoint counts as saturated, and when it is too busy to hold requests for affinity.
 * Judged on fresh metrics only: an endpoint whose metrics are stale or missing is never saturated.
 *
 * @param maxQueue an endpoint with more requests waiting than this is saturated, {@code >= 1}; also
 *     the queue length that scores as full
 * @param maxKvCacheUsage an endpoint using more of its KV cache than this fraction is saturated,
 *     above {@code 0} and at most {@code 1} ({@code 1} never saturates on the KV cache)
 * @param affinityMaxQueue an endpoint with more requests waiting than this gets no prefix or LoRA
 *     affinity bonus, {@code >= 0}; while its metrics are stale, one with more than this many
 *     requests in flight beyond the least busy healthy endpoint gets none either
 * @param maxInFlight an endpoint with this many requests in flight from this picker is saturated,
 *     whatever its metrics say; {@code 0} for no such limit. The one saturation signal with no scrape
 *     lag: set to the server's batch size, requests wait in the filter (where priorities and fair
 *     share order them) instead of in the server's queue
 */
public record Thresholds(int maxQueue, double maxKvCacheUsage, int affinityMaxQueue, int maxInFlight) {
    /**
     * Queue 5 and KV cache 0.8, the saturation detector defaults of the Gateway API Inference
     * Extension; affinity up to 2 waiting.
     */
    public static final Thresholds DEFAULT = new Thresholds(5, 0.8, 2);

    /** Thresholds with no in-flight limit. */
    public Thresholds(int maxQueue, double maxKvCacheUsage, int affinityMaxQueue) {
        this(maxQueue, maxKvCacheUsage, affinityMaxQueue, 0);
    }

    public Thresholds {
        if (maxQueue < 1) {
            throw new IllegalArgumentException("maxQueue: " + maxQueue + " (expected: >= 1)");
        }
        if (!(maxKvCacheUsage > 0 && maxKvCacheUsage <= 1)) {
            throw new IllegalArgumentException("maxKvCacheUsage: " + maxKvCacheUsage + " (expected: above 0, at most 1)");
        }
        if (affinityMaxQueue < 0) {
            throw new IllegalArgumentException("affinityMaxQueue: " + affinityMaxQueue + " (expected: >= 0)");
        }
        if (maxInFlight < 0) {
            throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 0)");
        }
    }
}
