package io.aimesh.picker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A pool's endpoints and what is known of each, as {@link PoolMonitor#state()} hands it to
 * {@link Picker#pick}. The endpoint list is fixed; each endpoint's scraped state and in-flight count
 * are live, read when asked, so one instance serves every request until the pool's endpoints change.
 *
 * <p>Thread-safe.
 */
public final class PoolState {
    private final PoolMember[] members;
    private final Map<Endpoint, Integer> indexes;
    private final List<Endpoint> endpoints;
    private final LongSupplier nanoClock;
    private final long staleAfterNanos;

    /** @param members distinct endpoints, in the order the pool lists them */
    PoolState(List<PoolMember> members, LongSupplier nanoClock, long staleAfterNanos) {
        this.members = members.toArray(new PoolMember[0]);
        Map<Endpoint, Integer> indexes = new HashMap<>();
        List<Endpoint> endpoints = new ArrayList<>(members.size());
        for (int i = 0; i < this.members.length; i++) {
            Endpoint endpoint = this.members[i].endpoint;
            if (indexes.put(endpoint, i) != null) {
                throw new IllegalArgumentException("endpoints: " + endpoint + " twice (expected: distinct endpoints)");
            }
            endpoints.add(endpoint);
        }
        this.indexes = indexes;
        this.endpoints = Collections.unmodifiableList(endpoints);
        this.nanoClock = nanoClock;
        this.staleAfterNanos = staleAfterNanos;
    }

    /** The pool's endpoints, in the order given to the monitor; unmodifiable. */
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /** The last scraped state of {@code endpoint}, or empty when it is not in this pool. */
    public Optional<EndpointState> state(Endpoint endpoint) {
        PoolMember member = member(endpoint);
        return member == null ? Optional.empty() : Optional.of(member.state());
    }

    /** This process's requests in flight to {@code endpoint}; 0 when it is not in this pool. */
    public long inFlight(Endpoint endpoint) {
        PoolMember member = member(endpoint);
        return member == null ? 0 : member.load.inFlight();
    }

    /**
     * The last scraped state of {@code endpoint} if it is recent enough to use (see
     * {@link MonitorOptions#staleAfter()}); empty when it is stale, never scraped or not in this pool.
     */
    public Optional<EndpointState> freshState(Endpoint endpoint) {
        PoolMember member = member(endpoint);
        if (member == null) {
            return Optional.empty();
        }
        EndpointState state = member.state();
        return fresh(state, nanoClock.getAsLong()) ? Optional.of(state) : Optional.empty();
    }

    int size() {
        return members.length;
    }

    PoolMember member(int index) {
        return members[index];
    }

    /** The member for {@code endpoint}, or null when it is not in this pool. */
    PoolMember member(Endpoint endpoint) {
        Integer index = indexes.get(endpoint);
        return index == null ? null : members[index];
    }

    /** The index of {@code endpoint} in {@link #endpoints()}, or -1 when it is not in this pool. */
    int indexOf(Endpoint endpoint) {
        Integer index = indexes.get(endpoint);
        return index == null ? -1 : index;
    }

    List<PoolMember> members() {
        return List.of(members);
    }

    long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** Whether metrics scraped at {@code state.scrapedAtNanos()} may still be used at {@code nowNanos}. */
    boolean fresh(EndpointState state, long nowNanos) {
        return nowNanos - state.scrapedAtNanos() <= staleAfterNanos;
    }
}
