package io.aimesh.xds.rollout;

import io.aimesh.filter.api.Histogram;
import io.aimesh.filter.api.LatencyBuckets;
import java.util.Arrays;

/**
 * Counts per {@link LatencyBuckets} bucket, merged from any number of filter replicas by adding:
 * the quantiles of the merge are those of all the samples (to the buckets' 5 %), which an average
 * of the replicas' own percentiles is not. Not thread-safe.
 */
final class LatencyHistogram {
    /** Allocated at the first sample: most of a window's slots hold none of some version. */
    private long[] counts;
    private long total;

    void add(Histogram histogram) {
        histogram.getCountsMap().forEach((index, count) -> {
            if (index >= 0 && index < LatencyBuckets.COUNT && count > 0) {
                counts();
                counts[index] += count;
                total += count;
            }
        });
    }

    void add(LatencyHistogram other) {
        if (other.total == 0) {
            return;
        }
        counts();
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
    }

    /** Adds one value, in microseconds (for tests and simulations). */
    void record(long micros) {
        counts()[LatencyBuckets.index(micros)]++;
        total++;
    }

    long total() {
        return total;
    }

    /**
     * The {@code q} quantile in microseconds (the upper end of the bucket holding it): the smallest
     * bucket bound with at least {@code q} of the samples at or below it; NaN when empty.
     */
    double quantile(double q) {
        if (total == 0) {
            return Double.NaN;
        }
        long rank = Math.max(1, (long) Math.ceil(q * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return LatencyBuckets.upperMicros(i);
            }
        }
        return LatencyBuckets.upperMicros(counts.length - 1);
    }

    /** Samples certainly above {@code micros}: those in buckets wholly above it. */
    long countAbove(double micros) {
        int from = LatencyBuckets.index((long) Math.ceil(micros)) + 1;
        long above = 0;
        if (total == 0) {
            return 0;
        }
        for (int i = from; i < counts.length; i++) {
            above += counts[i];
        }
        return above;
    }

    void clear() {
        if (counts != null) {
            Arrays.fill(counts, 0);
        }
        total = 0;
    }

    private long[] counts() {
        if (counts == null) {
            counts = new long[LatencyBuckets.COUNT];
        }
        return counts;
    }
}
