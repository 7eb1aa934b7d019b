package io.aimesh.modelsim;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * The ORCA load report a model-sim puts on every API response, in the {@code endpoint-load-metrics}
 * header that Envoy's client-side weighted round robin reads
 * ({@code TEXT application_utilization=0.750, rps_fractional=12.500}): utilization is the engine's
 * running and waiting sequences over its batch size (above 1 when requests queue), and the rate is
 * the API requests that arrived over the last {@value #WINDOW_MILLIS} ms. Envoy weighs each
 * endpoint by rate over utilization, so an endpoint that serves the same rate with a longer queue,
 * a slower one, gets less.
 *
 * <p>Thread-safe: arrivals are counted in 100 ms buckets of an atomic ring. An arrival racing the
 * reset of its slot may be lost: the rate is a load signal, not a bill.
 */
final class LoadReport {
    static final String HEADER = "endpoint-load-metrics";
    static final int WINDOW_MILLIS = 2_000;
    private static final int BUCKET_MILLIS = 100;
    private static final int BUCKETS = WINDOW_MILLIS / BUCKET_MILLIS;

    private final InferenceEngine engine;
    private final int maxSeqs;
    private final LongSupplier clockMillis;
    /** Per slot: which 100 ms bucket (time / 100 ms) it counts now, and its count. */
    private final AtomicLongArray epochs = new AtomicLongArray(BUCKETS);
    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

    LoadReport(InferenceEngine engine, int maxSeqs, LongSupplier clockMillis) {
        this.engine = engine;
        this.maxSeqs = maxSeqs;
        this.clockMillis = clockMillis;
    }

    /** Counts one API request arriving now. */
    void arrived() {
        long epoch = clockMillis.getAsLong() / BUCKET_MILLIS;
        int slot = (int) (epoch % BUCKETS);
        long seen = epochs.get(slot);
        if (seen != epoch && epochs.compareAndSet(slot, seen, epoch)) {
            counts.set(slot, 0);
        }
        counts.incrementAndGet(slot);
    }

    /** The header's value now. */
    String value() {
        long now = clockMillis.getAsLong() / BUCKET_MILLIS;
        long arrivals = 0;
        for (int i = 0; i < BUCKETS; i++) {
            if (now - epochs.get(i) < BUCKETS) {
                arrivals += counts.get(i);
            }
        }
        double rps = arrivals * 1000.0 / WINDOW_MILLIS;
        // Never 0: Envoy ignores a report whose utilization or rate is 0 and weighs the endpoint as average.
        double utilization = Math.max(0.01, (engine.numRunning() + engine.numWaiting()) / (double) maxSeqs);
        return String.format(Locale.ROOT, "TEXT application_utilization=%.3f, rps_fractional=%.3f", utilization,
                Math.max(0.001, rps));
    }
}
