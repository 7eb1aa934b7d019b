package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.util.Set;

/**
 * What the last scrapes of one endpoint's metrics said: its load as the model server reported it,
 * when, and whether the endpoint answers. Immutable; {@link PoolMonitor} replaces it after every
 * scrape.
 *
 * <p>Load values are those of the last successful scrape and are kept when later scrapes fail; the
 * picker ignores them once they are older than {@link MonitorOptions#staleAfter()}. {@code NaN}
 * means the server did not report the value.
 *
 * @param waiting requests waiting at the server ({@code vllm:num_requests_waiting}), {@code NaN}
 *     or a finite {@code >= 0}
 * @param running requests running at the server ({@code vllm:num_requests_running}), {@code NaN}
 *     or a finite {@code >= 0}
 * @param kvCacheUsage fraction of the KV cache in use, {@code NaN} or {@code 0} to {@code 1}
 * @param runningLoras LoRA adapters in the running batch, not null
 * @param waitingLoras LoRA adapters that waiting requests ask for, not null
 * @param maxLoras adapters the server holds at once, {@code 0} when not reported
 * @param scrapedAtNanos when the last successful scrape completed, on the monitor's
 *     {@link System#nanoTime}-like clock; meaningless while no scrape has succeeded (all values
 *     {@code NaN})
 * @param consecutiveFailures scrapes failed since the last success, {@code >= 0}
 * @param healthy false once {@link MonitorOptions#failuresToEject()} scrapes in a row have failed,
 *     true again after one success; an endpoint not yet scraped is presumed healthy, so that a new
 *     pool serves at once, on in-flight counts
 */
public record EndpointState(double waiting, double running, double kvCacheUsage, Set<String> runningLoras,
        Set<String> waitingLoras, int maxLoras, long scrapedAtNanos, int consecutiveFailures, boolean healthy) {

    /** The state of an endpoint before its first scrape. */
    static final EndpointState UNKNOWN = new EndpointState(Double.NaN, Double.NaN, Double.NaN, Set.of(), Set.of(), 0,
            0, 0, true);

    public EndpointState {
        checkCount("waiting", waiting);
        checkCount("running", running);
        checkFraction("kvCacheUsage", kvCacheUsage);
        runningLoras = Set.copyOf(requireNonNull(runningLoras, "runningLoras"));
        waitingLoras = Set.copyOf(requireNonNull(waitingLoras, "waitingLoras"));
        if (maxLoras < 0) {
            throw new IllegalArgumentException("maxLoras: " + maxLoras + " (expected: >= 0)");
        }
        if (consecutiveFailures < 0) {
            throw new IllegalArgumentException("consecutiveFailures: " + consecutiveFailures + " (expected: >= 0)");
        }
    }

    /** The state after a successful scrape at {@code nowNanos} that read {@code metrics}: healthy, no failures. */
    EndpointState scraped(VllmMetrics metrics, long nowNanos) {
        return new EndpointState(metrics.waiting(), metrics.running(), metrics.kvCacheUsage(), metrics.runningLoras(),
                metrics.waitingLoras(), metrics.maxLoras(), nowNanos, 0, true);
    }

    /**
     * The state after a failed scrape: one more failure, unhealthy from the {@code failuresToEject}th in
     * a row; the load values and their time are kept, to go stale.
     */
    EndpointState failed(int failuresToEject) {
        int failures = consecutiveFailures == Integer.MAX_VALUE ? consecutiveFailures : consecutiveFailures + 1;
        return new EndpointState(waiting, running, kvCacheUsage, runningLoras, waitingLoras, maxLoras, scrapedAtNanos,
                failures, healthy && failures < failuresToEject);
    }

    static void checkCount(String name, double value) {
        if (value < 0 || Double.isInfinite(value)) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: NaN or a finite value >= 0)");
        }
    }

    static void checkFraction(String name, double value) {
        if (value < 0 || value > 1) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: NaN or 0 to 1)");
        }
    }
}
