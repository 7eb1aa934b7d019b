package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How an {@link InferencePool} spreads requests over its endpoints.
 *
 * @param mode who chooses the endpoint
 * @param metricsPath where each endpoint serves its Prometheus metrics (vLLM's names), for {@link Mode#PICKER}
 * @param metricsInterval how often the ai-filter scrapes them
 * @param scorers how much each signal counts in the picker's choice
 * @param maxQueue an endpoint with more requests waiting than this is saturated
 * @param maxKvCachePercent an endpoint using more of its KV cache than this is saturated (100: never on the KV cache)
 * @param maxInFlight an endpoint with this many requests in flight from one filter replica is saturated; 0 for no limit
 * @param retryAfter what a request refused because the whole pool is saturated is told to wait
 * @param queueWhenSaturated whether such a request first waits in the ai-filter (picker pools)
 * @param queueSize how many requests may wait per pool and filter replica
 * @param queueTimeout how long one may wait before it is refused
 */
public record Balancing(Mode mode, String metricsPath, Duration metricsInterval, Scorers scorers, int maxQueue,
                        int maxKvCachePercent, int maxInFlight, Duration retryAfter, boolean queueWhenSaturated, int queueSize,
                        Duration queueTimeout) {
    /** Envoy's round robin over the pool, the behaviour without a {@code balancing} section. */
    public static final Balancing DEFAULT = new Balancing(Mode.ROUND_ROBIN, "/metrics", Duration.ofMillis(200),
            Scorers.DEFAULT, 5, 80, 0, Duration.ofSeconds(1), false, 100, Duration.ofSeconds(5));

    public Balancing {
        requireNonNull(mode, "mode");
        requireNonNull(metricsPath, "metricsPath");
        requireNonNull(metricsInterval, "metricsInterval");
        requireNonNull(scorers, "scorers");
        requireNonNull(retryAfter, "retryAfter");
        requireNonNull(queueTimeout, "queueTimeout");
    }

    /** Who chooses a request's endpoint. */
    public enum Mode {
        /** Envoy, in turn. */
        ROUND_ROBIN("round-robin"),
        /** Envoy, the endpoint with the fewest active requests of two drawn at random. */
        LEAST_REQUEST("least-request"),
        /** The ai-filter, per request, from each endpoint's scraped load and the request's prompt. */
        PICKER("picker"),
        /**
         * Envoy, by client-side weighted round robin: each endpoint weighted by the request rate it
         * serves over its utilization, from the ORCA load report it sends in the
         * {@code endpoint-load-metrics} response header. No per-request hop.
         */
        ORCA("orca"),
        /**
         * Envoy's weighted round robin, on weights the control plane sets in EDS from the endpoints'
         * scraped load: no per-request hop, no change to the model servers.
         */
        EDS_WEIGHTS("eds-weights");

        private final String policyName;

        Mode(String policyName) {
            this.policyName = policyName;
        }

        /** The name in policy files. */
        public String policyName() {
            return policyName;
        }

        static Mode of(String policyName) {
            for (Mode mode : values()) {
                if (mode.policyName.equals(policyName)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("mode: " + policyName);
        }
    }

    /**
     * The picker's scorer weights, 0 to 1000 each; 0 turns a scorer off.
     *
     * @param queue the endpoint's waiting requests
     * @param kvCache its KV-cache use
     * @param inFlight the requests the filter has in flight to it
     * @param prefixAffinity the bonus for having served the prompt's prefix recently
     * @param loraAffinity the bonus for holding the requested LoRA adapter
     */
    public record Scorers(int queue, int kvCache, int inFlight, int prefixAffinity, int loraAffinity) {
        public static final Scorers DEFAULT = new Scorers(1, 1, 1, 2, 1);
    }
}
