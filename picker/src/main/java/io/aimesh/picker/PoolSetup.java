package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How one pool is watched and picked from, as its policy says.
 *
 * @param endpoints the pool's endpoints, distinct
 * @param monitor how its metrics are scraped
 * @param weights the picker's scorer weights
 * @param thresholds when an endpoint is saturated
 */
public record PoolSetup(List<Endpoint> endpoints, MonitorOptions monitor, ScorerWeights weights, Thresholds thresholds) {
    public PoolSetup {
        endpoints = List.copyOf(endpoints);
        if (endpoints.stream().distinct().count() != endpoints.size()) {
            throw new IllegalArgumentException("endpoints: " + endpoints + " (expected: distinct)");
        }
        requireNonNull(monitor, "monitor");
        requireNonNull(weights, "weights");
        requireNonNull(thresholds, "thresholds");
    }
}
