package io.aimesh.bench.e2e;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What a load run observed: each successful request's latency from its <em>intended</em> send
 * time (so a stall anywhere, the generator included, is charged to the requests it delayed,
 * with no coordinated omission), the generator's own send lag (actual minus intended send
 * time), and counts. Values in nanoseconds.
 *
 * <p>Not thread-safe: each connection's reader thread records into its own instance, and the
 * instances are {@link #add merged} once those threads have ended.
 */
final class LoadStats {
    private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(120);

    private final Histogram latency = new Histogram(1_000, HIGHEST_NANOS, 3);
    private final Histogram sendLag = new Histogram(1_000, HIGHEST_NANOS, 3);
    private long ok;
    private long errors;
    private long marked;
    private long lastCompletionNanos = Long.MIN_VALUE;
    private String firstError;

    /** A 200 response completed at {@code now}, for a request intended at {@code intended} and written at {@code sent}. */
    void success(long intended, long sent, long now, boolean markerSeen) {
        latency.recordValue(Math.min(HIGHEST_NANOS, Math.max(0, now - intended)));
        sendLag.recordValue(Math.min(HIGHEST_NANOS, Math.max(0, sent - intended)));
        ok++;
        if (markerSeen) {
            marked++;
        }
        lastCompletionNanos = Math.max(lastCompletionNanos, now);
    }

    /** A request failed: a non-200 status, an I/O error, or no answer in time. */
    void error(String description) {
        errors++;
        if (firstError == null) {
            firstError = description;
        }
    }

    void add(LoadStats other) {
        latency.add(other.latency);
        sendLag.add(other.sendLag);
        ok += other.ok;
        errors += other.errors;
        marked += other.marked;
        lastCompletionNanos = Math.max(lastCompletionNanos, other.lastCompletionNanos);
        if (firstError == null) {
            firstError = other.firstError;
        }
    }

    /** Latency from the intended send time to the last byte of the response, of the 200s. */
    Histogram latency() {
        return latency;
    }

    /** How late the generator wrote each request, of the 200s. */
    Histogram sendLag() {
        return sendLag;
    }

    long ok() {
        return ok;
    }

    long errors() {
        return errors;
    }

    /** How many 200 responses carried the marker header. */
    long marked() {
        return marked;
    }

    /** {@link System#nanoTime()} of the last successful completion, or {@link Long#MIN_VALUE} if none. */
    long lastCompletionNanos() {
        return lastCompletionNanos;
    }

    /** The first error seen, or {@code null}. */
    String firstError() {
        return firstError;
    }
}
