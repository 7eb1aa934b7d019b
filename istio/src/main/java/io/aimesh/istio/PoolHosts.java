package io.aimesh.istio;

import io.aimesh.policy.Endpoint;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.ModelRoute;
import io.aimesh.policy.ModelVersion;
import io.aimesh.policy.PolicySet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each model version lives in Istio's service registry: a host, a port and a subset.
 *
 * <p>A pool with a {@code selector} is pods in the mesh: its endpoint names their Service, and the
 * selector is its subset's labels. A pool without one is outside the mesh: each route's external
 * pools are declared in one ServiceEntry of the route's own host, {@code ROUTE.NAMESPACE.aimesh.internal},
 * one WorkloadEntry per endpoint labelled with its pool, so a version is a subset there too. Subsets
 * are named after the pool (unique, and stable when a version is renamed).
 */
final class PoolHosts {
    /** The label that tells a ServiceEntry's endpoints' pools apart. */
    static final String POOL_LABEL = "aimesh.io/pool";
    static final String EXTERNAL_DOMAIN = "aimesh.internal";

    /** One version's place: {@code labels} select its endpoints within {@code host}. */
    record Target(String host, int port, String subset, Map<String, String> labels, InferencePool pool) {
    }

    /** A route's external pools: endpoints declared for the mesh. */
    record External(String host, int port, List<Endpoint> endpoints, Map<Endpoint, String> pools) {
    }

    private final Map<String, Map<String, Target>> targets = new LinkedHashMap<>();
    private final Map<String, External> externals = new LinkedHashMap<>();

    private PoolHosts() {
    }

    /** Every pool that cannot be placed (a selector with endpoints that are not one Service), one line each. */
    static List<String> problems(PolicySet policies) {
        List<String> errors = new ArrayList<>();
        for (InferencePool pool : policies.pools()) {
            if (!pool.selector().isEmpty()) {
                Set<Endpoint> distinct = new LinkedHashSet<>(pool.endpoints());
                Endpoint service = pool.endpoints().get(0);
                if (distinct.size() != 1 || service.host().matches("[0-9.]+") || service.host().contains(":")) {
                    errors.add("InferencePool/" + pool.name() + ": a pool with a selector has one endpoint, its pods' Service "
                            + "(name.namespace.svc.cluster.local:port), not " + pool.endpoints());
                }
            }
        }
        return errors;
    }

    /** The places of {@code policies}, which have no {@link #problems}. */
    static PoolHosts of(PolicySet policies, String namespace) {
        PoolHosts hosts = new PoolHosts();
        for (ModelRoute route : policies.routes()) {
            Map<String, Target> byVersion = new LinkedHashMap<>();
            List<Endpoint> external = new ArrayList<>();
            Map<Endpoint, String> externalPools = new LinkedHashMap<>();
            String externalHost = route.name() + "." + namespace + "." + EXTERNAL_DOMAIN;
            int externalPort = 0;
            for (ModelVersion version : route.versions()) {
                InferencePool pool = policies.pool(version.pool());
                if (!pool.selector().isEmpty()) {
                    Endpoint service = pool.endpoints().get(0);
                    byVersion.put(version.name(), new Target(service.host(), service.port(), pool.name(), pool.selector(), pool));
                    continue;
                }
                if (externalPort == 0) {
                    externalPort = pool.endpoints().get(0).port();
                }
                for (Endpoint endpoint : pool.endpoints()) {
                    if (externalPools.putIfAbsent(endpoint, pool.name()) == null) {
                        external.add(endpoint);
                    }
                }
                byVersion.put(version.name(), new Target(externalHost, externalPort, pool.name(),
                        Map.of(POOL_LABEL, pool.name()), pool));
            }
            hosts.targets.put(route.name(), byVersion);
            if (!external.isEmpty()) {
                hosts.externals.put(route.name(), new External(externalHost, externalPort, external, externalPools));
            }
        }
        return hosts;
    }

    /** The place of {@code version} of {@code route}. */
    Target target(ModelRoute route, ModelVersion version) {
        return targets.get(route.name()).get(version.name());
    }

    /** Every place, by host, each subset once. */
    Map<String, List<Target>> byHost() {
        Map<String, Map<String, Target>> hosts = new LinkedHashMap<>();
        for (Map<String, Target> route : targets.values()) {
            for (Target target : route.values()) {
                hosts.computeIfAbsent(target.host(), h -> new LinkedHashMap<>()).putIfAbsent(target.subset(), target);
            }
        }
        Map<String, List<Target>> result = new LinkedHashMap<>();
        hosts.forEach((host, subsets) -> result.put(host, List.copyOf(subsets.values())));
        return result;
    }

    /** The routes' external pools, by route name. */
    Map<String, External> externals() {
        return externals;
    }
}
