package io.aimesh.xds.translate;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;

/**
 * The EDS {@code load_balancing_weight} of endpoints, by pool and endpoint address ({@code ip:port},
 * an IPv6 address in brackets). An endpoint without a weight gets none in EDS (Envoy weighs it 1).
 * Immutable.
 */
public final class EndpointWeights {
    /** No weights at all. */
    public static final EndpointWeights NONE = new EndpointWeights(Map.of());

    private final Map<String, Map<String, Integer>> byPool;

    private EndpointWeights(Map<String, Map<String, Integer>> byPool) {
        this.byPool = byPool;
    }

    /** @param byPool pool name to address to weight, each weight 1 to 128 (Envoy's limit is larger) */
    public static EndpointWeights of(Map<String, Map<String, Integer>> byPool) {
        Map<String, Map<String, Integer>> copy = new HashMap<>();
        byPool.forEach((pool, weights) -> {
            weights.forEach((address, weight) -> {
                if (weight < 1 || weight > 128) {
                    throw new IllegalArgumentException("weight of " + address + " in " + pool + ": " + weight
                            + " (expected: 1 to 128)");
                }
            });
            copy.put(requireNonNull(pool, "pool"), Map.copyOf(weights));
        });
        return new EndpointWeights(Map.copyOf(copy));
    }

    /** The weight of {@code address} in {@code pool}, or 0 when it has none. */
    int weight(String pool, String address) {
        Map<String, Integer> weights = byPool.get(pool);
        Integer weight = weights == null ? null : weights.get(address);
        return weight == null ? 0 : weight;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof EndpointWeights that && byPool.equals(that.byPool);
    }

    @Override
    public int hashCode() {
        return byPool.hashCode();
    }

    @Override
    public String toString() {
        return byPool.toString();
    }
}
