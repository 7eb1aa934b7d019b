package io.aimesh.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control plane's own {@code aimesh_xds_push_latency_seconds} histogram for one resource
 * type, as cumulative bucket counts scraped from its {@code /metrics}. The control plane
 * measures from publishing a snapshot (after the debounce and the reload) to receiving the
 * ACK, on its own clock. Immutable.
 *
 * @param cumulative bucket upper bound in seconds ({@code +Inf} included) to the count of observations at or below it
 */
record PushLatencyBuckets(Map<Double, Long> cumulative) {
    private static final Pattern BUCKET = Pattern.compile("^aimesh_xds_push_latency_seconds_bucket\\{([^}]*)} (\\S+)",
            Pattern.MULTILINE);
    private static final Pattern LE = Pattern.compile("le=\"([^\"]+)\"");

    PushLatencyBuckets {
        cumulative = new TreeMap<>(cumulative);
    }

    /** Parses the buckets labelled {@code type="type"} from a Prometheus text exposition. */
    static PushLatencyBuckets parse(String metrics, String type) {
        Map<Double, Long> cumulative = new TreeMap<>();
        Matcher bucket = BUCKET.matcher(metrics);
        while (bucket.find()) {
            String labels = bucket.group(1);
            Matcher le = LE.matcher(labels);
            if (labels.contains("type=\"" + type + "\"") && le.find()) {
                double bound = le.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1));
                cumulative.put(bound, (long) Double.parseDouble(bucket.group(2)));
            }
        }
        return new PushLatencyBuckets(cumulative);
    }

    /** The observations made after {@code earlier} was scraped. */
    PushLatencyBuckets minus(PushLatencyBuckets earlier) {
        Map<Double, Long> diff = new TreeMap<>();
        cumulative.forEach((bound, count) -> diff.put(bound, count - earlier.cumulative.getOrDefault(bound, 0L)));
        return new PushLatencyBuckets(diff);
    }

    long count() {
        return cumulative.getOrDefault(Double.POSITIVE_INFINITY, 0L);
    }

    /** The upper bound (seconds) of the bucket holding quantile {@code q}; NaN when empty. */
    double quantileUpperBound(double q) {
        long rank = (long) Math.ceil(q * count());
        for (Map.Entry<Double, Long> bucket : cumulative.entrySet()) {
            if (bucket.getValue() >= Math.max(1, rank)) {
                return bucket.getKey();
            }
        }
        return Double.NaN;
    }
}
