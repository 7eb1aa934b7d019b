package io.aimesh.filter.config;

/**
 * The rule that sent a request where it went, as {@code x-aimesh-decision} names it
 * ({@code admitted rule=weight}). The filter's own version choice ({@link RuntimeConfig.ModelInfo#choose})
 * gives the first six; the filter's path adds the last two.
 */
public enum RouteRule {
    /** A client override header named the version. */
    OVERRIDE("override"),
    /** Drawn by weight among the shared versions. */
    WEIGHT("weight"),
    /** Placed by the request's stickiness key among the shared versions, by weight ({@link StickyDraw}). */
    STICKY("sticky"),
    /** Drawn among the versions whose pools are dedicated to the tenant. */
    DEDICATED("dedicated"),
    /** Every eligible version has weight 0 and no override applies: Envoy's route decides. */
    ALL_WEIGHTS_ZERO("all-weights-zero"),
    /** Every version is served by pools dedicated to other tenants: the request is refused. */
    NO_ELIGIBLE_POOL("no-eligible-pool"),
    /** The model has no versions the filter chooses: Envoy's weighted split decides. */
    ENVOY_SPLIT("envoy-split"),
    /** An embeddings request answered from a call shared with others. */
    COALESCED("coalesced");

    private final String label;

    RouteRule(String label) {
        this.label = label;
    }

    /** The lower-case name in decisions. */
    public String label() {
        return label;
    }
}
