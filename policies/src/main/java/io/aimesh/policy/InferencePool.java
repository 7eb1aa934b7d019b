package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A set of model-server endpoints that serve one model version.
 *
 * @param name the pool's {@code metadata.name}
 * @param endpoints at least one endpoint, no duplicates
 * @param connectTimeout how long Envoy waits to connect to an endpoint
 * @param balancing how requests are spread over the endpoints
 * @param dedicatedTenants the tenants the pool is reserved for ({@code dedicatedTo}, tiers resolved); empty when shared
 * @param selector on Kubernetes, the labels of the pool's pods; empty when its endpoints are outside the mesh
 */
public record InferencePool(String name, List<Endpoint> endpoints, Duration connectTimeout, Balancing balancing,
                            Set<String> dedicatedTenants, Map<String, String> selector) {
    public InferencePool {
        requireNonNull(name, "name");
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints: empty (expected: at least one)");
        }
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(balancing, "balancing");
        dedicatedTenants = Set.copyOf(dedicatedTenants);
        selector = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(selector));
    }

    /** A pool with no pod selector. */
    public InferencePool(String name, List<Endpoint> endpoints, Duration connectTimeout, Balancing balancing,
                         Set<String> dedicatedTenants) {
        this(name, endpoints, connectTimeout, balancing, dedicatedTenants, Map.of());
    }

    /** Whether the pool is reserved for some tenants. */
    public boolean dedicated() {
        return !dedicatedTenants.isEmpty();
    }

    /** A pool balanced the default way (Envoy's round robin). */
    public InferencePool(String name, List<Endpoint> endpoints, Duration connectTimeout) {
        this(name, endpoints, connectTimeout, Balancing.DEFAULT, Set.of());
    }
}
