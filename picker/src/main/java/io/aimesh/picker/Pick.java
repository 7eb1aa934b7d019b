package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

/**
 * The answer of {@link Picker#pick}: the endpoint to send the request to, or why there is none.
 *
 * @param outcome what the picker decided
 * @param endpoint the endpoint picked, a member of the pool, when {@code outcome} is
 *     {@link Outcome#PICKED}; else {@code null}
 */
public record Pick(Outcome outcome, Endpoint endpoint) {
    /** No healthy endpoint has room: every one is over a {@link Thresholds saturation threshold}. */
    public static final Pick SATURATED = new Pick(Outcome.SATURATED, null);
    /** The pool is empty, or every endpoint failed its last scrapes. */
    public static final Pick NONE_HEALTHY = new Pick(Outcome.NONE_HEALTHY, null);

    /** What the picker decided. */
    public enum Outcome {
        /** Send the request to {@link #endpoint()}. */
        PICKED,
        /**
         * Healthy endpoints exist but all are over the queue or KV-cache threshold: queue the request
         * or reject it with 429 or 503 and {@code retry-after}, as the pool's policy says.
         */
        SATURATED,
        /** Nothing in the pool can serve: answer 503. */
        NONE_HEALTHY
    }

    public Pick {
        requireNonNull(outcome, "outcome");
        if ((outcome == Outcome.PICKED) != (endpoint != null)) {
            throw new IllegalArgumentException("endpoint: " + endpoint + " (expected: an endpoint exactly when "
                    + Outcome.PICKED + ", was " + outcome + ")");
        }
    }

    /** A pick of {@code endpoint}. */
    public static Pick of(Endpoint endpoint) {
        return new Pick(Outcome.PICKED, requireNonNull(endpoint, "endpoint"));
    }

    /** Whether an endpoint was picked. */
    public boolean picked() {
        return outcome == Outcome.PICKED;
    }
}
