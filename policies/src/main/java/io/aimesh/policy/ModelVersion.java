package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

/**
 * One version of a model in a {@link ModelRoute}.
 *
 * @param name the version's name, e.g. {@code v2}
 * @param pool the {@link InferencePool} that serves it
 * @param weight share of traffic relative to the route's other versions; {@code >= 0}
 * @param pricing the version's own prices, or {@code null} for the route's
 */
public record ModelVersion(String name, String pool, int weight, Pricing pricing) {
    public ModelVersion {
        requireNonNull(name, "name");
        requireNonNull(pool, "pool");
        if (weight < 0) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
        }
    }

    /** A version without prices of its own. */
    public ModelVersion(String name, String pool, int weight) {
        this(name, pool, weight, null);
    }
}
