package io.aimesh.modelsim;

/**
 * Time one engine step takes on the simulated GPU.
 *
 * <h2>Design</h2>
 * An iteration-level scheduler (Orca, OSDI '22; vLLM, SOSP '23) runs one forward pass per step over
 * the whole batch. Decode is memory-bandwidth bound: every step streams the weights once (a fixed
 * cost) and each sequence's KV cache (a per-sequence cost), so step time is affine in the batch size
 * and aggregate throughput grows sublinearly with it. Prefill is compute bound and costs in
 * proportion to the prompt tokens admitted in that step; the running sequences wait for it, as they
 * do in vLLM without chunked prefill.
 *
 * <pre>
 *   step = (prefillMillisPerToken * prefillTokens + baseStepMillis + perSequenceStepMillis * batch) / speed
 * </pre>
 *
 * <p>{@link #DEFAULT} approximates an 8B fp16 model on one A100-class GPU: 12 ms base (16 GB of
 * weights at ~1.5 TB/s plus overhead), 0.5 ms per sequence, 0.1 ms per prompt token (10k prompt
 * tokens/s). At speed 1.0 that is, per sequence and in aggregate:
 * <pre>
 *   batch  1: 12.5 ms/step, 80 tok/s
 *   batch  8: 16.0 ms/step, 62 tok/s/seq,  500 tok/s
 *   batch 32: 28.0 ms/step, 36 tok/s/seq, 1143 tok/s
 * </pre>
 *
 * @param baseStepMillis fixed cost of one decode step, {@code >= 0}
 * @param perSequenceStepMillis added per running sequence, {@code >= 0}
 * @param prefillMillisPerToken prefill cost per prompt token, {@code >= 0}
 */
record GpuProfile(double baseStepMillis, double perSequenceStepMillis, double prefillMillisPerToken) {

    static final GpuProfile DEFAULT = new GpuProfile(12.0, 0.5, 0.1);

    GpuProfile {
        requireNonNegative(baseStepMillis, "baseStepMillis");
        requireNonNegative(perSequenceStepMillis, "perSequenceStepMillis");
        requireNonNegative(prefillMillisPerToken, "prefillMillisPerToken");
    }

    /**
     * Returns the duration in nanoseconds of a step decoding {@code batchSize >= 1} sequences after
     * prefilling {@code prefillTokens >= 0} prompt tokens, on a GPU {@code speed > 0} times as fast.
     */
    long stepNanos(int batchSize, int prefillTokens, double speed) {
        double millis = prefillMillisPerToken * prefillTokens + baseStepMillis + perSequenceStepMillis * batchSize;
        return Math.max(1, Math.round(millis * 1_000_000 / speed));
    }

    private static void requireNonNegative(double value, String name) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: >= 0)");
        }
    }
}
