package io.aimesh.filter.limit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One token limit of a tenant: at most {@code tokens} of {@code cost} per fixed {@code window},
 * with {@code burst} extra that may be borrowed from the next window.
 *
 * @param id names the limit in denials and metrics; unique within a tenant, not blank and not
 *     {@link Denial#REQUESTS}
 * @param models {@code ["*"]} for one budget shared by every model, or model names for one budget
 *     per listed model, each allowed the full {@code tokens}; not empty, no duplicates, and
 *     {@code "*"} only alone
 * @param window one minute, one hour or one day
 * @param tokens cost allowed per window, {@code 1} to {@link #MAX_TOKENS}
 * @param cost how a request's input and output tokens are counted
 * @param burst cost that may be admitted above {@code tokens} in a window and is then taken off
 *     the next window's allowance, {@code >= 0}, with {@code tokens + burst <= MAX_TOKENS}
 */
public record LimitRule(String id, List<String> models, Duration window, long tokens, Cost cost, long burst) {
    /** The model list that means one budget for all models together. */
    public static final String ALL_MODELS = "*";

    /**
     * The largest {@code tokens + burst}: 2<sup>39</sup>, about 5.5 * 10<sup>11</sup>. A budget keeps
     * its usage in 40 bits, so usage can run up to twice this (reconciled overshoots) before it saturates.
     */
    public static final long MAX_TOKENS = 1L << 39;

    private static final List<Duration> WINDOWS = List.of(Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofDays(1));

    public LimitRule {
        requireNonNull(id, "id");
        if (id.isBlank() || id.equals(Denial.REQUESTS)) {
            throw new IllegalArgumentException("id: \"" + id + "\" (expected: not blank and not \"" + Denial.REQUESTS + "\")");
        }
        models = List.copyOf(requireNonNull(models, "models"));
        checkModels(models);
        requireNonNull(window, "window");
        if (!WINDOWS.contains(window)) {
            throw new IllegalArgumentException("window: " + window + " (expected: PT1M, PT1H or P1D)");
        }
        requireNonNull(cost, "cost");
        if (tokens <= 0 || tokens > MAX_TOKENS) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: 1 to " + MAX_TOKENS + ")");
        }
        if (burst < 0 || burst > MAX_TOKENS - tokens) {
            throw new IllegalArgumentException("burst: " + burst + " (expected: >= 0 and tokens + burst <= " + MAX_TOKENS + ")");
        }
    }

    /** Whether one budget is shared by all models, rather than one budget per listed model. */
    boolean shared() {
        return models.get(0).equals(ALL_MODELS);
    }

    private static void checkModels(List<String> models) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("models: [] (expected: [\"*\"] or model names)");
        }
        Set<String> seen = new HashSet<>();
        for (String model : models) {
            if (model.isBlank() || !seen.add(model) || (model.equals(ALL_MODELS) && models.size() > 1)) {
                throw new IllegalArgumentException("models: " + models + " (expected: [\"*\"] alone, or distinct model names)");
            }
        }
    }

    /**
     * What a request costs against a limit: {@code input * inputWeight + output * outputWeight}.
     *
     * @param inputWeight cost of one input (prompt) token, {@code 0} to {@code 1000}
     * @param outputWeight cost of one output (completion) token, {@code 0} to {@code 1000}
     */
    public record Cost(int inputWeight, int outputWeight) {
        /** Counts input tokens. */
        public static final Cost INPUT = new Cost(1, 0);
        /** Counts output tokens. */
        public static final Cost OUTPUT = new Cost(0, 1);
        /** Counts input and output tokens. */
        public static final Cost TOTAL = new Cost(1, 1);

        static final int MAX_WEIGHT = 1000;

        public Cost {
            checkWeight("inputWeight", inputWeight);
            checkWeight("outputWeight", outputWeight);
        }

        private static void checkWeight(String name, int weight) {
            if (weight < 0 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException(name + ": " + weight + " (expected: 0 to " + MAX_WEIGHT + ")");
            }
        }
    }
}
