package io.aimesh.bench.e2e;

/**
 * The two policy sets the benchmark serves, identical but for one document: the filter path's
 * has a Gateway that puts the ai-filter in Envoy's path, the baseline's has none, so its Envoy
 * routes on the model that its own json_to_metadata filter reads from the body. Both hold the
 * same tenant, whose budget (10<sup>11</sup> tokens a minute; the filter refuses more than
 * 2<sup>39</sup>) is far above any load here (1,000 req/s of 1,000 tokens is 6 * 10<sup>7</sup>), so
 * that on the filter path identity is required and every request is admitted.
 */
final class MeshPolicies {
    /** Every path gets it; LiteLLM's proxy takes it as its master key (it wants keys that start with sk-). */
    static final String API_KEY = "sk-aimesh-bench-key";
    static final String TENANT = "bench";
    static final long TOKENS_PER_MINUTE = 100_000_000_000L;

    private MeshPolicies() {
    }

    /** The baseline's policies: a pool on {@code simPort}, a route for {@link ChatRequest#MODEL}, the tenant. */
    static String baseline(int simPort, String tokenizer) {
        return """
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: bench-v1}
                spec:
                  endpoints: ["127.0.0.1:%1$d"]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: bench}
                spec:
                  model: %2$s
                  versions: [{name: v1, pool: bench-v1, weight: 1}]
                  tokenizer: %3$s
                  defaultMaxTokens: 16
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: %4$s}
                spec:
                  identity:
                    apiKeys: [{sha256: "sha256:%5$s"}]
                  limits:
                    - {window: 1m, tokens: %6$d, count: total}
                """.formatted(simPort, ChatRequest.MODEL, tokenizer, TENANT, io.aimesh.bench.FilterStack.apiKeyDigest(API_KEY), TOKENS_PER_MINUTE);
    }

    /** The baseline's policies plus a Gateway with the ai-filter at {@code 127.0.0.1:filterPort}, failing closed. */
    static String withFilter(int simPort, String tokenizer, int filterPort) {
        return baseline(simPort, tokenizer) + """
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: bench}
                spec:
                  filter:
                    address: 127.0.0.1:%d
                    failureMode: closed
                    messageTimeout: 2s
                """.formatted(filterPort);
    }
}
