package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

/**
 * The request path's handle on one picker pool: {@link #pick} an endpoint, then report the request's
 * {@link #started}, {@link #firstToken} and {@link #finished} so the pool's in-flight counts stay
 * true. Thread-safe and non-blocking, like the {@link Picker} and {@link PoolMonitor} it joins.
 */
public final class PoolPicker {
    private final PoolMonitor monitor;
    private final Picker picker;

    PoolPicker(PoolMonitor monitor, Picker picker) {
        this.monitor = requireNonNull(monitor, "monitor");
        this.picker = requireNonNull(picker, "picker");
    }

    /** The endpoint that should serve {@code request}, from the pool's load as last seen. */
    public Pick pick(RequestFeatures request) {
        return picker.pick(monitor.state(), request);
    }

    /** A request was sent to {@code endpoint}; call {@link #finished} once when it ends. */
    public void started(Endpoint endpoint) {
        monitor.started(endpoint);
    }

    /** The request sent to {@code endpoint} got its first response bytes after {@code nanos}. */
    public void firstToken(Endpoint endpoint, long nanos) {
        monitor.firstToken(endpoint, nanos);
    }

    /** The request sent to {@code endpoint} ended, whichever way. */
    public void finished(Endpoint endpoint) {
        monitor.finished(endpoint);
    }

    Picker picker() {
        return picker;
    }

    /** The pool's endpoints and their state, for the admin page and tests. */
    public PoolState state() {
        return monitor.state();
    }
}
