package io.aimesh.istio;

/**
 * Route weights as the percentages Istio's VirtualService takes (they must total 100): each
 * rounded down, and the points left over given to the largest remainders (Hamilton's method), so
 * 90/10 stays 90/10 and 1/1/1 becomes 34/33/33 rather than an error or a total of 99.
 */
final class Weights {
    private Weights() {
    }

    /** @param weights at least one, each {@code >= 0}, not all zero */
    static int[] percents(int[] weights) {
        long total = 0;
        for (int w : weights) {
            total += w;
        }
        int[] percents = new int[weights.length];
        long[] remainders = new long[weights.length];
        int given = 0;
        for (int i = 0; i < weights.length; i++) {
            percents[i] = (int) (100L * weights[i] / total);
            remainders[i] = 100L * weights[i] % total;
            given += percents[i];
        }
        for (int left = 100 - given; left > 0; left--) {
            int best = 0;
            for (int i = 1; i < weights.length; i++) {
                if (remainders[i] > remainders[best]) {
                    best = i;
                }
            }
            percents[best]++;
            remainders[best] = -1;
        }
        return percents;
    }
}
