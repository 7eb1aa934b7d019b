package io.aimesh.policy;

/**
 * Policies the route-level tests build on: a Gateway with the ai-filter, pools p1 and p2, and
 * ModelRoute r for model m with v1 (weight 100) on p1 and v2 (weight 0) on p2, its spec left open
 * at the end so a test appends its own fields.
 */
final class TwoVersionRoute {
    static final String POLICIES = """
            apiVersion: aimesh.io/v1alpha1
            kind: Gateway
            metadata: {name: g}
            spec: {filter: {address: "127.0.0.1:9001"}}
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata: {name: p1}
            spec: {endpoints: ["10.0.0.1:8000"]}
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: InferencePool
            metadata: {name: p2}
            spec: {endpoints: ["10.0.0.2:8000"]}
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: ModelRoute
            metadata: {name: r}
            spec:
              model: m
              versions: [{name: v1, pool: p1, weight: 100}, {name: v2, pool: p2, weight: 0}]
            """;

    private TwoVersionRoute() {
    }
}
