package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

/**
 * The request path's handle on one picker pool: {@link #pick} an endpoint, then {@link #started}
 * gives the request's {@link InFlight}, on which its first token and its end are recorded, so the
 * pool's in-flight counts stay true. Thread-safe and non-blocking, like the {@link Picker} and
 * {@link PoolMonitor} it joins.
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

    /** A request is sent to {@code endpoint}; call {@link InFlight#finished} when it ends. */
    public InFlight started(Endpoint endpoint) {
        return monitor.begin(endpoint);
    }

    /** What each endpoint scores for {@code request} now, lowest first; picks nothing (see {@link Picker#explain}). */
    public java.util.List<Picker.Scored> explain(RequestFeatures request) {
        return picker.explain(monitor.state(), request);
    }

    Picker picker() {
        return picker;
    }

}
