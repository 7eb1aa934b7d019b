package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The filter's picker pools, kept in step with its configuration: {@link #configure} starts a
 * monitor for a new pool, hands a changed endpoint list to the running monitor (endpoints that stay
 * keep their state and in-flight counts), restarts it when its scrape settings change, and stops
 * the monitors of pools that are gone. Pickers keep their prefix memory unless the pool's weights or
 * thresholds change.
 *
 * <p>Thread-safe: {@link #get} is one volatile read; {@link #configure} and {@link #close} are
 * serialized. Owns one scheduler thread and one HTTP client for all pools.
 */
public final class PoolPickers implements AutoCloseable {
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final Object lock = new Object();
    private volatile Map<String, Entry> pools = Map.of();
    private boolean closed;

    private record Entry(PoolSetup setup, PoolMonitor monitor, PoolPicker picker) {
    }

    public PoolPickers() {
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "aimesh-pool-monitor");
            thread.setDaemon(true);
            return thread;
        });
        // HTTP/1.1: vLLM's server does not speak cleartext HTTP/2. The client's own executor runs
        // the scrape completions, off the request path.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
    }

    /** The picker of pool {@code name}, or {@code null} when it is not a picker pool. */
    public PoolPicker get(String name) {
        Entry entry = pools.get(name);
        return entry == null ? null : entry.picker();
    }

    /** Every picker pool's state as last seen, by pool name, for the dashboard's report. */
    public Map<String, PoolState> states() {
        Map<String, PoolState> states = new java.util.TreeMap<>();
        pools.forEach((name, entry) -> states.put(name, entry.monitor().state()));
        return states;
    }

    /** Makes the running pools those of {@code setups}, by pool name. */
    public void configure(Map<String, PoolSetup> setups) {
        requireNonNull(setups, "setups");
        synchronized (lock) {
            if (closed) {
                return;
            }
            Map<String, Entry> next = new HashMap<>();
            Map<String, Entry> old = new HashMap<>(pools);
            setups.forEach((name, setup) -> {
                Entry current = old.remove(name);
                if (current != null && current.setup().monitor().equals(setup.monitor())) {
                    current.monitor().update(setup.endpoints());
                    Picker picker = current.setup().weights().equals(setup.weights())
                            && current.setup().thresholds().equals(setup.thresholds())
                            ? current.picker().picker() : newPicker(setup);
                    next.put(name, new Entry(setup, current.monitor(), new PoolPicker(current.monitor(), picker)));
                    return;
                }
                if (current != null) {
                    current.monitor().close();
                }
                PoolMonitor monitor = PoolMonitor.start(setup.endpoints(), setup.monitor(), http, scheduler);
                next.put(name, new Entry(setup, monitor, new PoolPicker(monitor, newPicker(setup))));
            });
            pools = Map.copyOf(next);
            old.values().forEach(entry -> entry.monitor().close());
        }
    }

    private static Picker newPicker(PoolSetup setup) {
        return Picker.of(setup.weights(), setup.thresholds(), ThreadLocalRandom.current());
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            pools.values().forEach(entry -> entry.monitor().close());
            pools = Map.of();
        }
        scheduler.shutdownNow();
    }
}
