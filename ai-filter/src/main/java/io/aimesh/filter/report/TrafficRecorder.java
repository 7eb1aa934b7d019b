package io.aimesh.filter.report;

import io.aimesh.filter.api.EndpointSample;
import io.aimesh.filter.api.TenantSample;
import io.aimesh.picker.Endpoint;
import io.aimesh.picker.EndpointState;
import io.aimesh.picker.PoolState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this replica saw per tenant and model, and of each picker endpoint, since the last
 * {@link #drainTenants} / {@link #endpoints}: the control plane's dashboard adds up the replicas'
 * reports. Thread-safe and lock-free on the request path, as {@link VersionRecorder}: counts are
 * taken out with {@code getAndSet(0)}.
 */
public final class TrafficRecorder {
    /** Outcomes by name, as {@code aimesh_filter_requests_total} labels them. */
    private final ConcurrentHashMap<Key, Cell> tenants = new ConcurrentHashMap<>();
    /** Picks by pool then endpoint authority. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, AtomicLong>> picks = new ConcurrentHashMap<>();

    private record Key(String tenant, String model) {
    }

    private static final class Cell {
        /** When a request of this tenant and model last ended, {@link System#currentTimeMillis}. */
        volatile long seenAtMillis;
        final ConcurrentHashMap<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
        final AtomicLong input = new AtomicLong();
        final AtomicLong output = new AtomicLong();
    }

    /** A request of {@code tenant} (empty when unknown) for {@code model} ended with {@code outcome}. */
    public void outcome(String tenant, String model, String outcome) {
        Cell cell = cell(tenant, model);
        cell.outcomes.computeIfAbsent(outcome, o -> new AtomicLong()).incrementAndGet();
        cell.seenAtMillis = System.currentTimeMillis();
    }

    /** The tenants (identified) with a request since {@code sinceMillis}, each with the models it asked for. */
    public Map<String, java.util.Set<String>> activeTenants(long sinceMillis) {
        Map<String, java.util.Set<String>> active = new java.util.TreeMap<>();
        tenants.forEach((key, cell) -> {
            if (!key.tenant().isEmpty() && !key.model().isEmpty() && cell.seenAtMillis >= sinceMillis) {
                active.computeIfAbsent(key.tenant(), t -> new java.util.TreeSet<>()).add(key.model());
            }
        });
        return active;
    }

    /** The usage of an answer. */
    public void usage(String tenant, String model, long input, long output) {
        Cell cell = cell(tenant, model);
        cell.input.addAndGet(Math.max(0, input));
        cell.output.addAndGet(Math.max(0, output));
    }

    /** The picker chose {@code endpoint} (ip:port) of {@code pool}. */
    public void picked(String pool, String endpoint) {
        picks.computeIfAbsent(pool, p -> new ConcurrentHashMap<>()).computeIfAbsent(endpoint, e -> new AtomicLong())
                .incrementAndGet();
    }

    private Cell cell(String tenant, String model) {
        return tenants.computeIfAbsent(new Key(tenant == null ? "" : tenant, model == null ? "" : model), k -> new Cell());
    }

    /** Takes out every tenant's counts since the last drain; tenants with nothing new are left out. */
    public List<TenantSample> drainTenants() {
        List<TenantSample> samples = new ArrayList<>();
        tenants.forEach((key, cell) -> {
            TenantSample.Builder sample = TenantSample.newBuilder().setTenant(key.tenant()).setModel(key.model());
            boolean any = false;
            for (Map.Entry<String, AtomicLong> outcome : cell.outcomes.entrySet()) {
                long count = outcome.getValue().getAndSet(0);
                if (count > 0) {
                    sample.putOutcomes(outcome.getKey(), count);
                    any = true;
                }
            }
            long input = cell.input.getAndSet(0);
            long output = cell.output.getAndSet(0);
            if (any || input > 0 || output > 0) {
                samples.add(sample.setInputTokens(input).setOutputTokens(output).build());
            }
        });
        return samples;
    }

    /** Every picker endpoint as this replica sees it now, with the picks since the last call. */
    public List<EndpointSample> endpoints(Map<String, PoolState> pools) {
        List<EndpointSample> samples = new ArrayList<>();
        pools.forEach((pool, state) -> {
            Map<String, AtomicLong> counted = picks.get(pool);
            for (Endpoint endpoint : state.endpoints()) {
                EndpointState seen = state.state(endpoint).orElseThrow();
                AtomicLong picked = counted == null ? null : counted.get(endpoint.authority());
                samples.add(EndpointSample.newBuilder().setPool(pool).setEndpoint(endpoint.authority())
                        .setPicks(picked == null ? 0 : picked.getAndSet(0)).setInFlight(state.inFlight(endpoint))
                        .setWaiting(seen.waiting()).setRunning(seen.running()).setKvCacheUsage(seen.kvCacheUsage())
                        .setHealthy(seen.healthy()).setFresh(state.freshState(endpoint).isPresent()).build());
            }
        });
        return samples;
    }
}
