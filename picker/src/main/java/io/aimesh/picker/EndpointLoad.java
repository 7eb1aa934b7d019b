package io.aimesh.picker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What this filter itself knows of one endpoint's load, which no scrape shows: the requests it has
 * in flight there, and an exponentially weighted moving average of their recent time to first
 * token.
 *
 * <p>Thread-safe and lock-free: the request path of any thread updates it with one atomic add
 * ({@link #started}) or a compare-and-set loop ({@link #finished}, {@link #firstToken}), on fields
 * of this object rather than on {@code Atomic*} objects it would point to.
 *
 * <p>The average weighs each new sample by {@link #SMOOTHING}, so a sample's weight halves after
 * about three more: recent enough to follow a server slowing down within a second at a few requests
 * a second, smooth enough that one long prompt does not swing it. It is per sample, not per unit of
 * time, so an endpoint that gets no traffic keeps its last average; that is one reason the picker
 * does not yet score on it (see {@link Picker}).
 */
final class EndpointLoad {
    /** The weight of a new time-to-first-token sample in the moving average. */
    static final double SMOOTHING = 0.2;

    private static final VarHandle IN_FLIGHT;
    private static final VarHandle TTFT_BITS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            IN_FLIGHT = lookup.findVarHandle(EndpointLoad.class, "inFlight", long.class);
            TTFT_BITS = lookup.findVarHandle(EndpointLoad.class, "ttftBits", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final long NO_SAMPLE = Double.doubleToRawLongBits(Double.NaN);

    @SuppressWarnings("unused") // through IN_FLIGHT
    private volatile long inFlight;
    @SuppressWarnings("unused") // through TTFT_BITS
    private volatile long ttftBits = NO_SAMPLE;

    /** A request was sent to the endpoint. */
    void started() {
        IN_FLIGHT.getAndAdd(this, 1L);
    }

    /**
     * A request to the endpoint ended, however it ended. Never goes below zero: a finish without its
     * start (an endpoint that left and rejoined the pool meanwhile) is dropped.
     */
    void finished() {
        long current;
        do {
            current = (long) IN_FLIGHT.getVolatile(this);
            if (current <= 0) {
                return;
            }
        } while (!IN_FLIGHT.compareAndSet(this, current, current - 1));
    }

    /** Adds a time-to-first-token sample, {@code >= 0} nanoseconds, to the moving average. */
    void firstToken(long nanos) {
        long currentBits;
        long nextBits;
        do {
            currentBits = (long) TTFT_BITS.getVolatile(this);
            double current = Double.longBitsToDouble(currentBits);
            double next = Double.isNaN(current) ? nanos : current + SMOOTHING * (nanos - current);
            nextBits = Double.doubleToRawLongBits(next);
        } while (!TTFT_BITS.compareAndSet(this, currentBits, nextBits));
    }

    /** Requests in flight to the endpoint, {@code >= 0}. */
    long inFlight() {
        return (long) IN_FLIGHT.getVolatile(this);
    }

    /** The moving average of time to first token in nanoseconds, {@code NaN} before the first sample. */
    double timeToFirstTokenNanos() {
        return Double.longBitsToDouble((long) TTFT_BITS.getVolatile(this));
    }
}
