package io.aimesh.filter.api;

/**
 * The buckets of a {@link Histogram}: log-linear in microseconds, each 5 % wider than the one
 * before, so a quantile read from merged counts is within 5 % of the true one whatever the
 * scale, and replicas' histograms merge by adding counts (percentiles cannot be averaged).
 * Values past about 17 minutes fall in the last bucket.
 */
public final class LatencyBuckets {
    /** Number of buckets; indexes are {@code 0 .. COUNT - 1}. */
    public static final int COUNT = 426;
    private static final double LOG_GROWTH = Math.log(1.05);

    private LatencyBuckets() {
    }

    /** The bucket of {@code micros}, {@code >= 0}. */
    public static int index(long micros) {
        if (micros <= 1) {
            return 0;
        }
        int index = (int) Math.ceil(Math.log(micros) / LOG_GROWTH);
        return Math.min(index, COUNT - 1);
    }

    /** The largest value of bucket {@code index}, in microseconds. */
    public static double upperMicros(int index) {
        return Math.exp(index * LOG_GROWTH);
    }
}
