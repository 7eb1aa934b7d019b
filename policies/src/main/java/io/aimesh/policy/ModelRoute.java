package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * Routes requests for one model name, as clients send it in the request's {@code model}
 * field, across that model's versions.
 *
 * @param name the route's {@code metadata.name}
 * @param model the model name clients send
 * @param versions at least one version; their weights are not all zero
 * @param overrides header overrides, checked in order before the weighted split
 * @param timeout the upstream request timeout; {@link Duration#ZERO} disables it
 * @param tokenizer the encoding prompt tokens are counted with, e.g. {@code cl100k_base}, or {@code approximate}
 * @param defaultMaxTokens output tokens reserved for a request without max_tokens, {@code > 0}
 * @param coalesce how the ai-filter coalesces this model's embeddings requests, or {@code null} for not at all
 * @param stickiness what keeps a client on one version while the weights stand, or {@code null} for a fresh draw per request
 * @param mirror the version that gets a discarded copy of some requests, or {@code null} for none
 * @param rollout the automated rollout of a canary version, or {@code null} for none
 * @param pricing what the model's tokens cost, or {@code null} for nothing (a version may have its own)
 */
public record ModelRoute(String name, String model, List<ModelVersion> versions,
                         List<HeaderOverride> overrides, Duration timeout, String tokenizer, int defaultMaxTokens,
                         Coalesce coalesce, Stickiness stickiness, Mirror mirror, Rollout rollout, Pricing pricing) {
    /**
     * Embeddings requests gathered into shared backend calls by the ai-filter.
     *
     * @param maxBatch the most inputs in one backend call, {@code >= 2}
     * @param maxInFlight the most backend calls in flight per filter replica; while they are, new requests gather
     */
    public record Coalesce(int maxBatch, int maxInFlight) {
    }

    /**
     * The key that keeps a client on one version: the same key gets the same version while the
     * weights stand, and when they move only the keys that must move do.
     *
     * @param by where the key comes from
     * @param name the header name ({@link By#HEADER}) or the dotted claim path ({@link By#JWT_CLAIM}); {@code null} for {@link By#TENANT}
     */
    public record Stickiness(By by, String name) {
        /** Where a stickiness key comes from. */
        public enum By { TENANT, HEADER, JWT_CLAIM }

        public Stickiness {
            requireNonNull(by, "by");
            if ((by == By.TENANT) != (name == null)) {
                throw new IllegalArgumentException("name: " + name + " (expected: null exactly when by is TENANT)");
            }
        }
    }

    /**
     * A copy of {@code percent} % of the route's requests goes to {@code version}; its answer is discarded.
     *
     * @param version the name of a {@link ModelVersion} of the route
     * @param percent 1 to 100
     * @param maxInFlight the most copies in flight per filter replica, {@code >= 1}
     */
    public record Mirror(String version, int percent, int maxInFlight) {
        public Mirror {
            requireNonNull(version, "version");
            if (percent < 1 || percent > 100) {
                throw new IllegalArgumentException("percent: " + percent + " (expected: 1..100)");
            }
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 1)");
            }
        }
    }

    public ModelRoute {
        requireNonNull(name, "name");
        requireNonNull(model, "model");
        versions = List.copyOf(versions);
        overrides = List.copyOf(overrides);
        requireNonNull(timeout, "timeout");
        requireNonNull(tokenizer, "tokenizer");
        if (defaultMaxTokens <= 0) {
            throw new IllegalArgumentException("defaultMaxTokens: " + defaultMaxTokens + " (expected: > 0)");
        }
        if (versions.isEmpty()) {
            throw new IllegalArgumentException("versions: empty (expected: at least one)");
        }
    }

    /**
     * This route with other weights: each version's weight from {@code weights} (by version name),
     * 0 for a version not in it. Used by a running rollout, which owns the weights.
     */
    public ModelRoute withWeights(java.util.Map<String, Integer> weights) {
        List<ModelVersion> weighted = versions.stream()
                .map(v -> new ModelVersion(v.name(), v.pool(), weights.getOrDefault(v.name(), 0), v.pricing())).toList();
        return new ModelRoute(name, model, weighted, overrides, timeout, tokenizer, defaultMaxTokens, coalesce, stickiness,
                mirror, rollout, pricing);
    }

    /** The prices of {@code version}: its own, else the route's; {@code null} when it has none. */
    public Pricing pricing(ModelVersion version) {
        return version.pricing() != null ? version.pricing() : pricing;
    }

    /** Whether some version has prices of its own (the filter must then know each request's version). */
    public boolean pricedByVersion() {
        return versions.stream().anyMatch(v -> v.pricing() != null);
    }

    /** Returns the version called {@code name}, or {@code null}. */
    public ModelVersion version(String versionName) {
        for (ModelVersion v : versions) {
            if (v.name().equals(versionName)) {
                return v;
            }
        }
        return null;
    }
}
