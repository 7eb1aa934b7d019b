package io.aimesh.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A complete, validated set of policies: every reference resolves and every invariant holds.
 * Immutable and safe to share between threads.
 */
public final class PolicySet {
    private final Map<String, InferencePool> pools;
    private final Map<String, ModelRoute> routes;
    private final Map<String, Tenant> tenants;
    private final Gateway gateway;

    PolicySet(List<InferencePool> pools, List<ModelRoute> routes, List<Tenant> tenants, Gateway gateway) {
        this.gateway = gateway;
        this.pools = index(pools, InferencePool::name);
        this.routes = index(routes, ModelRoute::name);
        this.tenants = index(tenants, Tenant::name);
    }

    /** An empty set, the state before any policy has loaded. */
    public static PolicySet empty() {
        return new PolicySet(List.of(), List.of(), List.of(), null);
    }

    public List<InferencePool> pools() {
        return List.copyOf(pools.values());
    }

    public List<ModelRoute> routes() {
        return List.copyOf(routes.values());
    }

    public List<Tenant> tenants() {
        return List.copyOf(tenants.values());
    }

    /** The data-plane settings, or {@code null} when no Gateway is defined. */
    public Gateway gateway() {
        return gateway;
    }

    /** Returns the pool called {@code name}, or {@code null}. */
    public InferencePool pool(String name) {
        return pools.get(name);
    }

    @Override
    public String toString() {
        return pools.size() + " InferencePool, " + routes.size() + " ModelRoute, " + tenants.size() + " Tenant"
                + (gateway == null ? "" : ", 1 Gateway");
    }

    private static <T> Map<String, T> index(List<T> items, java.util.function.Function<T, String> name) {
        Map<String, T> byName = new LinkedHashMap<>();
        for (T item : items) {
            byName.put(name.apply(item), item);
        }
        return java.util.Collections.unmodifiableMap(byName);
    }
}
