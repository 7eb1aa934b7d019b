package io.aimesh.picker;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Builds a {@link PoolState} from constructed endpoint states and in-flight counts, on a fixed clock. */
final class TestPool {
    /** The clock of every pool built here. */
    static final long NOW = 1_000_000_000_000L;
    /** Metrics older than this are stale. */
    static final long STALE_AFTER = 600_000_000L;
    /** A scrape time whose metrics are stale at {@link #NOW}. */
    static final long LONG_AGO = NOW - 10 * STALE_AFTER;

    private final List<PoolMember> members = new ArrayList<>();

    static Endpoint endpoint(int port) {
        return new Endpoint("127.0.0.1", port);
    }

    /** Fresh metrics: {@code waiting} requests waiting and {@code kv} of the KV cache in use. */
    static EndpointState fresh(double waiting, double kv) {
        return new EndpointState(waiting, 0, kv, Set.of(), Set.of(), 0, NOW, 0, true);
    }

    /** Metrics scraped long ago, still healthy. */
    static EndpointState stale(double waiting, double kv) {
        return new EndpointState(waiting, 0, kv, Set.of(), Set.of(), 0, LONG_AGO, 0, true);
    }

    /** Fresh metrics with LoRA adapters. */
    static EndpointState withLoras(Set<String> running, Set<String> waiting, int maxLoras) {
        return new EndpointState(0, 0, 0.3, running, waiting, maxLoras, NOW, 0, true);
    }

    /** An endpoint whose last scrapes failed, with otherwise attractive metrics. */
    static EndpointState unhealthy() {
        return new EndpointState(0, 0, 0, Set.of(), Set.of(), 0, NOW, 3, false);
    }

    TestPool add(Endpoint endpoint, EndpointState state) {
        return add(endpoint, state, 0);
    }

    TestPool add(Endpoint endpoint, EndpointState state, long inFlight) {
        PoolMember member = new PoolMember(endpoint, state);
        for (long i = 0; i < inFlight; i++) {
            member.load.started();
        }
        members.add(member);
        return this;
    }

    PoolState build() {
        return new PoolState(members, () -> NOW, STALE_AFTER);
    }
}
