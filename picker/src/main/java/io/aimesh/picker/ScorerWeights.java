package io.aimesh.picker;

/**
 * How much each scorer counts in the {@link Picker}'s cost of an endpoint. Each term is in
 * {@code [0, 1]} before it is weighed, so the weights compare directly: with the defaults, a prompt
 * whose whole prefix an endpoint served (affinity 1, weight 2) outweighs the largest difference any
 * one load term can make (weight 1), but not two of them together.
 *
 * @param queue weight of the server's waiting queue, as a fraction of {@link Thresholds#maxQueue()}
 * @param kvCache weight of the server's KV-cache use, a fraction
 * @param inFlight weight of this filter's requests in flight to the endpoint, as a fraction of the
 *     most in flight to any healthy endpoint of the pool
 * @param prefixAffinity weight of the bonus for the fraction of the prompt's prefix blocks the
 *     endpoint served last
 * @param loraAffinity weight of the bonus for holding the requested adapter (1) or a free adapter
 *     slot (0.5)
 */
public record ScorerWeights(double queue, double kvCache, double inFlight, double prefixAffinity, double loraAffinity) {
    /** The largest weight. */
    public static final double MAX_WEIGHT = 1000;

    /** Load terms 1 each, prefix affinity 2, LoRA affinity 1. */
    public static final ScorerWeights DEFAULT = new ScorerWeights(1, 1, 1, 2, 1);

    public ScorerWeights {
        check("queue", queue);
        check("kvCache", kvCache);
        check("inFlight", inFlight);
        check("prefixAffinity", prefixAffinity);
        check("loraAffinity", loraAffinity);
    }

    private static void check(String name, double weight) {
        if (!(weight >= 0 && weight <= MAX_WEIGHT)) {
            throw new IllegalArgumentException(name + ": " + weight + " (expected: 0 to " + MAX_WEIGHT + ")");
        }
    }
}
