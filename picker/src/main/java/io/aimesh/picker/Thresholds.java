package io.aimesh.picker;

/**
 * When an endpoint counts as saturated, and when it is too busy to hold requests for affinity.
 * Judged on fresh metrics only: an endpoint whose metrics are stale or missing is never saturated.
 *
 * @param maxQueue an endpoint with more requests waiting than this is saturated, {@code >= 1}; also
 *     the queue length that scores as full
 * @param maxKvCacheUsage an endpoint using more of its KV cache than this fraction is saturated,
 *     above {@code 0} and at most {@code 1} ({@code 1} never saturates on the KV cache)
 * @param prefixMaxQueue an endpoint with more requests waiting than this gets no prefix-affinity
 *     bonus, {@code >= 0}; while its metrics are stale, one with more than this many requests in
 *     flight beyond the least busy healthy endpoint gets none either
 * @param loraMaxQueue the same bound for the LoRA-affinity bonus, {@code >= 0}
 * @param maxInFlight an endpoint with this many requests in flight from this picker is saturated,
 *     whatever its metrics say; {@code 0} for no such limit. The one saturation signal with no scrape
 *     lag: set to the server's batch size, requests wait in the filter (where priorities and fair
 *     share order them) instead of in the server's queue
 */
public record Thresholds(int maxQueue, double maxKvCacheUsage, int prefixMaxQueue, int loraMaxQueue, int maxInFlight) {
    /**
     * Queue 5 and KV cache 0.8, the saturation detector defaults of the Gateway API Inference
     * Extension; prefix affinity only where nothing waits, LoRA affinity up to 2 waiting.
     *
     * <p>The two bounds differ because what affinity saves differs. A cached prefix saves its
     * prefill, a tenth of a millisecond per token in model-sim's timing of an 8B model on an
     * A100-class GPU (120 ms for a 1,200-token system prompt at full speed), while joining a queue costs the wait for a batch slot, a share of
     * a whole request's decode: one request waiting costs about what the prefix saves. A resident
     * adapter saves its load and, when the server's slots are full of busy adapters, the wait for one
     * to drain, which can be seconds. The routing benchmark measured both (docs/benchmarks/
     * routing-affinity.md, "What changed after the first look"): both bounds at 0 instead of 2 took
     * the picker's p99 time to first token on multi-turn chat from 171 and 105 ms to 105 ms at 80 and
     * 90 % load (least request 254 and 465 ms in the same run), and on the adapter mix from 253 and
     * 338 ms to 416 and 671 ms (least request 1,570 and 1,269 ms).
     */
    public static final Thresholds DEFAULT = new Thresholds(5, 0.8, 0, 2);

    /** Thresholds with no in-flight limit. */
    public Thresholds(int maxQueue, double maxKvCacheUsage, int prefixMaxQueue, int loraMaxQueue) {
        this(maxQueue, maxKvCacheUsage, prefixMaxQueue, loraMaxQueue, 0);
    }

    public Thresholds {
        if (maxQueue < 1) {
            throw new IllegalArgumentException("maxQueue: " + maxQueue + " (expected: >= 1)");
        }
        if (!(maxKvCacheUsage > 0 && maxKvCacheUsage <= 1)) {
            throw new IllegalArgumentException("maxKvCacheUsage: " + maxKvCacheUsage + " (expected: above 0, at most 1)");
        }
        if (prefixMaxQueue < 0) {
            throw new IllegalArgumentException("prefixMaxQueue: " + prefixMaxQueue + " (expected: >= 0)");
        }
        if (loraMaxQueue < 0) {
            throw new IllegalArgumentException("loraMaxQueue: " + loraMaxQueue + " (expected: >= 0)");
        }
        if (maxInFlight < 0) {
            throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 0)");
        }
    }
}
