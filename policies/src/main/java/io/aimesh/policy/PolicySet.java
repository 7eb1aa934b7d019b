package io.aimesh.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A complete, validated set of policies: every reference resolves and every invariant holds.
 * Resources may be in namespaces, the config scopes of the nodes: {@link #scope} is the set of
 * one namespace, which references nothing outside it. Immutable and safe to share between threads.
 */
public final class PolicySet {
    /** The namespace of resources that name none. */
    public static final String DEFAULT_NAMESPACE = "";

    private final Map<String, InferencePool> pools;
    private final Map<String, ModelRoute> routes;
    private final Map<String, Tenant> tenants;
    private final Map<String, Gateway> gateways;
    private final Map<String, Organization> organizations;
    private final Map<String, Team> teams;
    /** Kind/name to namespace. */
    private final Map<String, String> namespaces;

    PolicySet(List<InferencePool> pools, List<ModelRoute> routes, List<Tenant> tenants, Map<String, Gateway> gateways,
              Map<String, String> namespaces, List<Organization> organizations, List<Team> teams) {
        this.gateways = Map.copyOf(gateways);
        this.organizations = index(organizations, Organization::name);
        this.teams = index(teams, Team::name);
        this.namespaces = Map.copyOf(namespaces);
        this.pools = index(pools, InferencePool::name);
        this.routes = index(routes, ModelRoute::name);
        this.tenants = index(tenants, Tenant::name);
    }

    /** An empty set, the state before any policy has loaded. */
    public static PolicySet empty() {
        return new PolicySet(List.of(), List.of(), List.of(), Map.of(), Map.of(), List.of(), List.of());
    }

    /** The namespaces in use, sorted; just the default one when no resource names a namespace. */
    public java.util.SortedSet<String> namespaces() {
        java.util.SortedSet<String> used = new java.util.TreeSet<>(namespaces.values());
        if (used.isEmpty()) {
            used.add(DEFAULT_NAMESPACE);
        }
        return java.util.Collections.unmodifiableSortedSet(used);
    }

    /** The resources of {@code namespace} alone, with its Gateway. */
    public PolicySet scope(String namespace) {
        java.util.function.Predicate<String> in = resource -> namespaces.getOrDefault(resource, DEFAULT_NAMESPACE).equals(namespace);
        Map<String, String> scoped = new java.util.HashMap<>();
        namespaces.forEach((resource, ns) -> {
            if (ns.equals(namespace)) {
                scoped.put(resource, ns);
            }
        });
        Gateway gateway = gateways.get(namespace);
        return new PolicySet(
                this.pools.values().stream().filter(p -> in.test(Kinds.INFERENCE_POOL + "/" + p.name())).toList(),
                this.routes.values().stream().filter(r -> in.test(Kinds.MODEL_ROUTE + "/" + r.name())).toList(),
                this.tenants.values().stream().filter(t -> in.test(Kinds.TENANT + "/" + t.name())).toList(),
                gateway == null ? Map.of() : Map.of(namespace, gateway), scoped,
                this.organizations.values().stream().filter(o -> in.test(Kinds.ORGANIZATION + "/" + o.name())).toList(),
                this.teams.values().stream().filter(t -> in.test(Kinds.TEAM + "/" + t.name())).toList());
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

    /** The organisations of the spend hierarchy. */
    public List<Organization> organizations() {
        return List.copyOf(organizations.values());
    }

    /** The teams of the spend hierarchy. */
    public List<Team> teams() {
        return List.copyOf(teams.values());
    }

    /**
     * The data-plane settings, or {@code null} when no Gateway is defined: of the default namespace,
     * or of the only namespace with a Gateway (as in a {@link #scope}).
     */
    public Gateway gateway() {
        Gateway gateway = gateways.get(DEFAULT_NAMESPACE);
        if (gateway == null && gateways.size() == 1) {
            return gateways.values().iterator().next();
        }
        return gateway;
    }

    /** This set with {@code route} in place of the route of the same name, which must exist. */
    public PolicySet withRoute(ModelRoute route) {
        if (!routes.containsKey(route.name())) {
            throw new IllegalArgumentException("route: " + route.name() + " (expected: a route of this set)");
        }
        Map<String, ModelRoute> replaced = new LinkedHashMap<>(routes);
        replaced.put(route.name(), route);
        return new PolicySet(List.copyOf(pools.values()), List.copyOf(replaced.values()), List.copyOf(tenants.values()),
                gateways, namespaces, List.copyOf(organizations.values()), List.copyOf(teams.values()));
    }

    /** The namespace of {@code route}, a route of this set. */
    public String namespaceOf(ModelRoute route) {
        return namespaces.getOrDefault(Kinds.MODEL_ROUTE + "/" + route.name(), DEFAULT_NAMESPACE);
    }

    /** Returns the pool called {@code name}, or {@code null}. */
    public InferencePool pool(String name) {
        return pools.get(name);
    }

    /**
     * Whether the ai-filter chooses {@code route}'s version (Envoy then routes on the pool it names):
     * when a pool of it is a picker pool (the filter picks the endpoint too) or a dedicated pool (only
     * the filter knows the tenant), when it is sticky (only the filter knows the key), when a
     * rollout watches it (the filter must know each request's version to measure it), when it is
     * mirrored (a copy never goes to the version that serves the request itself), or when a version
     * has prices of its own (the filter charges each request at its version's).
     */
    public boolean filterRouted(ModelRoute route) {
        if (route.stickiness() != null || route.rollout() != null || route.mirror() != null || route.pricedByVersion()) {
            return true;
        }
        for (ModelVersion version : route.versions()) {
            InferencePool pool = pool(version.pool());
            if (pool.balancing().mode() == Balancing.Mode.PICKER || pool.dedicated()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return pools.size() + " InferencePool, " + routes.size() + " ModelRoute, " + tenants.size() + " Tenant"
                + (gateways.isEmpty() ? "" : ", " + gateways.size() + " Gateway")
                + (namespaces().size() > 1 ? " in " + namespaces().size() + " namespaces" : "");
    }

    private static <T> Map<String, T> index(List<T> items, java.util.function.Function<T, String> name) {
        Map<String, T> byName = new LinkedHashMap<>();
        for (T item : items) {
            byName.put(name.apply(item), item);
        }
        return java.util.Collections.unmodifiableMap(byName);
    }
}
