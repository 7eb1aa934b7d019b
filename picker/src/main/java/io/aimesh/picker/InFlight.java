package io.aimesh.picker;

/**
 * One request in flight to an endpoint, from {@link PoolPicker#started}: its first token and its
 * end are recorded on the endpoint it started on, even if the pool's endpoints change meanwhile
 * (looking the endpoint up again at the end would charge a re-added endpoint's new count).
 * Thread-safe; {@link #finished} counts once.
 */
public final class InFlight {
    /** Null when the endpoint had left the pool before the request started: nothing to record. */
    private final EndpointLoad load;
    private boolean finished;

    InFlight(EndpointLoad load) {
        this.load = load;
        if (load != null) {
            load.started();
        }
    }

    /** The request got its first response bytes {@code nanos} after it was sent, {@code >= 0}. */
    public void firstToken(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("nanos: " + nanos + " (expected: >= 0)");
        }
        if (load != null) {
            load.firstToken(nanos);
        }
    }

    /** The request ended, whichever way; later calls do nothing. */
    public synchronized void finished() {
        if (!finished && load != null) {
            load.finished();
        }
        finished = true;
    }
}
