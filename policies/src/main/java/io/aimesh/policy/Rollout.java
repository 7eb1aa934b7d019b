package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * The automated rollout of a route's canary version: its weight raised step by step while live
 * numbers compare it with the baseline version, promoted after the last step, rolled back at
 * once when a rule fails.
 *
 * @param baseline the version the canary is compared with, which gives up the weight
 * @param canary the version rolled out
 * @param steps the canary's weights in order, each held until its minimums are met and the rules pass
 * @param analysis what is compared and when
 */
public record Rollout(String baseline, String canary, List<Step> steps, Analysis analysis) {
    public Rollout {
        requireNonNull(baseline, "baseline");
        requireNonNull(canary, "canary");
        steps = List.copyOf(steps);
        requireNonNull(analysis, "analysis");
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("steps: empty (expected: at least one)");
        }
    }

    /**
     * One step: the canary gets {@code weight} % of the route's traffic (the baseline the rest) for at
     * least {@code minDuration} and {@code minRequests} canary requests.
     */
    public record Step(int weight, Duration minDuration, long minRequests) {
        public Step {
            if (weight < 0 || weight > 100) {
                throw new IllegalArgumentException("weight: " + weight + " (expected: 0..100)");
            }
            requireNonNull(minDuration, "minDuration");
        }
    }

    /**
     * @param minSamples canary requests (in the window) before any rule judges
     * @param window how far back a rule looks for a failure
     * @param rules what must hold
     */
    public record Analysis(long minSamples, Duration window, List<Rule> rules) {
        public Analysis {
            requireNonNull(window, "window");
            rules = List.copyOf(rules);
        }
    }

    /** What a rule measures. */
    public enum Metric {
        TTFT_P50("ttftP50", 0.50), TTFT_P99("ttftP99", 0.99), TPOT_P50("tpotP50", 0.50), TPOT_P99("tpotP99", 0.99),
        ERROR_RATE("errorRate", 0), OVERLOAD_RATE("overloadRate", 0), OUTPUT_LENGTH_DRIFT("outputLengthDrift", 0);

        private final String field;
        private final double quantile;

        Metric(String field, double quantile) {
            this.field = field;
            this.quantile = quantile;
        }

        /** The rule's field name in the policy, e.g. {@code ttftP99}. */
        public String field() {
            return field;
        }

        /** The quantile a latency rule compares ({@code 0.5}, {@code 0.99}); 0 for the others. */
        public double quantile() {
            return quantile;
        }
    }

    /**
     * A rule: a latency quantile at most {@code limit} times the baseline's ({@code 1.3x}); a rate at
     * most {@code limit} above the baseline's, as a fraction ({@code +1%} is 0.01); the mean output
     * length within {@code limit} of the baseline's, as a fraction either way ({@code 20%}).
     */
    public record Rule(Metric metric, double limit) {
        public Rule {
            requireNonNull(metric, "metric");
        }
    }
}
