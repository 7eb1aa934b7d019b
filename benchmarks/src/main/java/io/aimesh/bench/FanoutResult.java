package io.aimesh.bench;

import java.time.Instant;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * What one {@link AdsFanoutBenchmark} run measured. Latencies are nanoseconds from the
 * policy file's atomic replacement to a client sending its ACK; sizes are KiB.
 *
 * @param allAcked per change: until the last client's ACK
 * @param changes the same, in edit order
 * @param eachClient per change and client: until that client's ACK
 * @param heapBeforeKb the control plane's live heap (after a full GC) before any client connected
 * @param heapAfterKb the same with every client connected and in sync
 * @param rssBeforeKb the control plane's resident set before any client connected, or -1 when unknown
 * @param rssAfterKb the same with every client connected, or -1
 * @param pushLatency the control plane's own route push latency histogram over the changes
 */
record FanoutResult(FanoutOptions options, Instant date, Histogram allAcked, List<Long> changes, Histogram eachClient,
                    long heapBeforeKb, long heapAfterKb, long rssBeforeKb, long rssAfterKb,
                    PushLatencyBuckets pushLatency) {
    FanoutResult {
        changes = List.copyOf(changes);
    }

    double heapPerClientKb() {
        return (heapAfterKb - heapBeforeKb) / (double) options.clients();
    }

    /** Resident set growth per client in KiB, or NaN when the resident set is unknown. */
    double rssPerClientKb() {
        return rssBeforeKb < 0 || rssAfterKb < 0 ? Double.NaN : (rssAfterKb - rssBeforeKb) / (double) options.clients();
    }
}
