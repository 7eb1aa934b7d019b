package io.aimesh.picker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One endpoint of a monitored pool, with what is known of it: the last {@link EndpointState}, which
 * the monitor's scrapes replace, and the {@link EndpointLoad} that the request path updates. A member
 * outlives pool updates that keep its endpoint, so its load carries over.
 *
 * <p>Thread-safe: the state is a volatile reference written only by the completion of this member's
 * scrape, of which at most one runs at a time ({@link #tryStartScrape}).
 */
final class PoolMember {
    private static final VarHandle SCRAPING;

    static {
        try {
            SCRAPING = MethodHandles.lookup().findVarHandle(PoolMember.class, "scraping", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Endpoint endpoint;
    final EndpointLoad load = new EndpointLoad();
    /** The answer that picks this member, made once so that a pick allocates none. */
    final Pick picked;

    private volatile EndpointState state;
    @SuppressWarnings("unused") // through SCRAPING
    private volatile boolean scraping;

    PoolMember(Endpoint endpoint) {
        this(endpoint, EndpointState.UNKNOWN);
    }

    PoolMember(Endpoint endpoint, EndpointState state) {
        this.endpoint = endpoint;
        this.picked = Pick.of(endpoint);
        this.state = state;
    }

    EndpointState state() {
        return state;
    }

    void state(EndpointState state) {
        this.state = state;
    }

    /** Claims the next scrape of this member; false while one is still running. */
    boolean tryStartScrape() {
        return SCRAPING.compareAndSet(this, false, true);
    }

    void endScrape() {
        scraping = false;
    }
}
