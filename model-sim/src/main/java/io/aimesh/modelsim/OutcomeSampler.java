package io.aimesh.modelsim;

import java.util.SplittableRandom;

/**
 * Draws, from one seeded stream, what happens to each accepted request: whether it fails, how long
 * its answer would naturally be, and the seed of its text. Every draw consumes the same three values,
 * so the n-th request's outcome depends only on the seed and n, never on timing or on the shape of
 * earlier requests.
 *
 * <p>Natural output length is lognormal with median {@value #MEDIAN_TOKENS} tokens and σ = 0.8
 * (p10 ≈ 46, p90 ≈ 357), clamped to {@code [1, }{@value #MAX_NATURAL_TOKENS}{@code ]}: chat answers
 * are right-skewed, mostly short with a long tail.
 *
 * <p>Thread-safe: {@link #next()} is synchronized; it is called once per request.
 */
final class OutcomeSampler {

    static final int MEDIAN_TOKENS = 128;
    static final int MAX_NATURAL_TOKENS = 2048;
    private static final double SIGMA = 0.8;

    /**
     * @param fail whether the request fails with a server error
     * @param naturalTokens output length when the request sets no limit, in {@code [1, MAX_NATURAL_TOKENS]}
     * @param textSeed seeds the request's {@link PseudoText} and its response id
     */
    record Outcome(boolean fail, int naturalTokens, long textSeed) {}

    private final SplittableRandom random;
    /** Changed at run time by {@link ModelSimServer#injectFaults}. */
    private double failRate;

    /** @param failRate probability in {@code [0, 1]} that an outcome fails */
    OutcomeSampler(long seed, double failRate) {
        this.random = new SplittableRandom(seed);
        this.failRate = failRate;
    }

    synchronized void failRate(double rate) {
        failRate = rate;
    }

    synchronized Outcome next() {
        boolean fail = random.nextDouble() < failRate;
        double lognormal = MEDIAN_TOKENS * Math.exp(SIGMA * random.nextGaussian());
        int naturalTokens = (int) Math.max(1, Math.min(MAX_NATURAL_TOKENS, Math.round(lognormal)));
        return new Outcome(fail, naturalTokens, random.nextLong());
    }
}
