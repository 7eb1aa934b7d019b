package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How a {@link PoolMonitor} scrapes its endpoints.
 *
 * @param interval time between the starts of two scrape rounds, at least 1 ms
 * @param timeout how long one scrape may take before it counts as failed, above zero. It may exceed
 *     {@code interval}: a busy server can be slow to serve {@code /metrics} without being down, and
 *     a round skips an endpoint whose previous scrape is still running.
 * @param failuresToEject consecutive failed scrapes after which an endpoint is unhealthy, {@code >= 1}
 * @param staleAfter how old the last successful scrape of an endpoint may be before its metrics are
 *     ignored and the picker falls back to in-flight counts for it, at least {@code interval}
 * @param metricsPath the path of the metrics on each endpoint's address, starting with {@code /}
 */
public record MonitorOptions(Duration interval, Duration timeout, int failuresToEject, Duration staleAfter,
        String metricsPath) {
    /** The defaults: see {@link #of(Duration)} with an interval of 200 ms. */
    public static final MonitorOptions DEFAULT = of(Duration.ofMillis(200));

    public MonitorOptions {
        requireNonNull(interval, "interval");
        requireNonNull(timeout, "timeout");
        requireNonNull(staleAfter, "staleAfter");
        requireNonNull(metricsPath, "metricsPath");
        if (interval.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("interval: " + interval + " (expected: >= 1 ms)");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        if (failuresToEject < 1) {
            throw new IllegalArgumentException("failuresToEject: " + failuresToEject + " (expected: >= 1)");
        }
        if (staleAfter.compareTo(interval) < 0) {
            throw new IllegalArgumentException("staleAfter: " + staleAfter + " (expected: >= interval " + interval + ")");
        }
        if (!metricsPath.startsWith("/") || metricsPath.chars().anyMatch(c -> c <= ' ' || c == '#')) {
            throw new IllegalArgumentException("metricsPath: \"" + metricsPath + "\" (expected: a path starting with /)");
        }
    }

    /**
     * Scrapes every {@code interval} with a timeout of two intervals, ejects after 3 failures in a
     * row, and ignores metrics older than three intervals, from {@code /metrics}. Three intervals
     * let one slow or lost scrape pass without dropping to in-flight counts.
     */
    public static MonitorOptions of(Duration interval) {
        requireNonNull(interval, "interval");
        return new MonitorOptions(interval, interval.multipliedBy(2), 3, interval.multipliedBy(3), "/metrics");
    }

    /** These options, scraping {@code path} instead. */
    public MonitorOptions withMetricsPath(String path) {
        return new MonitorOptions(interval, timeout, failuresToEject, staleAfter, path);
    }
}
