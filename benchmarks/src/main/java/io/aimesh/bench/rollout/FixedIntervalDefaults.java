package io.aimesh.bench.rollout;

import java.util.List;

/**
 * The peers' analyses as their documentation sets them up (sources in
 * docs/benchmarks/rollout-detection.md).
 */
final class FixedIntervalDefaults {
    /**
     * Flagger: {@code analysis.interval: 1m} (its default schedule interval), {@code threshold: 5}
     * failed checks, the builtin {@code request-success-rate} (min 99 %) and {@code request-duration}
     * (p99 max 500 ms), each over {@code interval: 1m}.
     */
    static final FixedIntervalAnalysis FLAGGER = new FixedIntervalAnalysis("Flagger", 60, 60, 0.99, 0.5, 5);

    /**
     * Argo Rollouts: the success-rate AnalysisTemplate of its documentation, {@code interval: 5m},
     * {@code successCondition: result[0] >= 0.95} on a {@code [5m]} rate, {@code failureLimit: 3}
     * (the rollout aborts on the fourth failed measurement); no latency metric.
     */
    static final FixedIntervalAnalysis ARGO = new FixedIntervalAnalysis("Argo", 300, 300, 0.95, Double.POSITIVE_INFINITY, 4);

    static final List<FixedIntervalAnalysis> ALL = List.of(FLAGGER, ARGO);

    private FixedIntervalDefaults() {
    }
}
