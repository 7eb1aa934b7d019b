package io.aimesh.xds;

import static java.util.Objects.requireNonNull;

import io.aimesh.picker.Endpoint;
import io.aimesh.picker.EndpointState;
import io.aimesh.picker.MonitorOptions;
import io.aimesh.picker.PoolMonitor;
import io.aimesh.picker.PoolState;
import io.aimesh.policy.Balancing;
import io.aimesh.policy.InferencePool;
import io.aimesh.policy.PolicySet;
import io.aimesh.xds.translate.EndpointWeights;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Weighs the endpoints of {@code eds-weights} pools by their scraped load and hands the weights to
 * the control plane for EDS: Envoy's weighted round robin then spreads requests with no
 * per-request hop and no change to the model servers.
 *
 * <h2>Weights</h2>
 * An endpoint's load is its running requests plus twice its waiting ones (waiting is latency
 * already), smoothed over the ticks by halves; its weight is {@value #MAX_WEIGHT} / (1 + load),
 * at least 1. So an idle endpoint weighs 100, one with 9 requests 10: a slow endpoint, whose
 * requests pile up, loses traffic until its load comes down. An endpoint that failed
 * {@link MonitorOptions#failuresToEject()} scrapes in a row weighs 1; one whose metrics are stale
 * keeps its weight.
 *
 * <h2>Pushes</h2>
 * Weights are computed once every {@value #PERIOD_MILLIS} ms at most, and pushed only when an
 * endpoint's weight moved by more than {@value #HYSTERESIS_PERCENT}% and by at least {@value #MIN_STEP}
 * from the weight last pushed (or the endpoints changed): a steady pool causes no EDS traffic, and weights do not flap on
 * scrape noise. Each push changes only the EDS resources of the pools whose weights moved.
 *
 * <p>Thread-safe: {@link #configure} runs on the policy watcher's thread, ticks on the weigher's
 * own; both hold one lock. Scrapes run on the shared HTTP client's executor.
 */
final class LoadWeigher implements AutoCloseable {
    static final int MAX_WEIGHT = 100;
    static final long PERIOD_MILLIS = 1_000;
    static final int HYSTERESIS_PERCENT = 25;
    /** The smallest change of a weight worth a push, whatever its ratio. */
    static final int MIN_STEP = 2;
    private static final System.Logger LOG = System.getLogger(LoadWeigher.class.getName());

    private final Consumer<EndpointWeights> publish;
    private final ScheduledExecutorService scheduler;
    private final HttpClient http;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private Map<String, Watched> pools = Map.of();
    /** Guarded by {@link #lock}: pool to address to the weight last pushed. */
    private Map<String, Map<String, Integer>> published = Map.of();
    private boolean closed;

    private record Watched(MonitorOptions options, PoolMonitor monitor, Map<Endpoint, Double> smoothedLoad) {
    }

    /** @param publish receives every change of weights; called on the weigher's thread */
    LoadWeigher(Consumer<EndpointWeights> publish) {
        this.publish = requireNonNull(publish, "publish");
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "aimesh-load-weigher");
            thread.setDaemon(true);
            return thread;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1)).build();
        scheduler.scheduleWithFixedDelay(this::tick, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Watches the {@code eds-weights} pools of {@code policies}, and stops watching the others. */
    void configure(PolicySet policies) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            Map<String, Watched> next = new HashMap<>();
            Map<String, Watched> old = new HashMap<>(pools);
            for (InferencePool pool : policies.pools()) {
                Balancing balancing = pool.balancing();
                if (balancing.mode() != Balancing.Mode.EDS_WEIGHTS) {
                    continue;
                }
                List<Endpoint> endpoints = endpoints(pool);
                MonitorOptions options = MonitorOptions.of(balancing.metricsInterval()).withMetricsPath(balancing.metricsPath());
                Watched current = old.remove(pool.name());
                if (current != null && current.options().equals(options)) {
                    current.monitor().update(endpoints);
                    next.put(pool.name(), current);
                } else {
                    if (current != null) {
                        current.monitor().close();
                    }
                    next.put(pool.name(), new Watched(options, PoolMonitor.start(endpoints, options, http, scheduler),
                            new HashMap<>()));
                }
            }
            old.values().forEach(watched -> watched.monitor().close());
            pools = next;
        }
    }

    /** Recomputes the weights and publishes them when they moved enough. */
    void tick() {
        EndpointWeights changed;
        synchronized (lock) {
            if (closed) {
                return;
            }
            Map<String, Map<String, Integer>> weights = new HashMap<>();
            pools.forEach((pool, watched) -> weights.put(pool, weigh(watched, published.getOrDefault(pool, Map.of()))));
            if (!moved(published, weights)) {
                return;
            }
            published = weights;
            changed = EndpointWeights.of(weights);
        }
        LOG.log(Level.DEBUG, () -> "EDS weights: " + changed);
        publish.accept(changed);
    }

    private static Map<String, Integer> weigh(Watched watched, Map<String, Integer> previous) {
        PoolState state = watched.monitor().state();
        Map<String, Integer> weights = new HashMap<>();
        for (Endpoint endpoint : state.endpoints()) {
            String address = endpoint.authority();
            Optional<EndpointState> known = state.state(endpoint);
            if (known.isPresent() && !known.get().healthy()) {
                weights.put(address, 1);
                continue;
            }
            Optional<EndpointState> fresh = state.freshState(endpoint);
            double load = fresh.map(s -> s.running() + 2 * s.waiting()).orElse(Double.NaN);
            if (Double.isNaN(load)) {
                weights.put(address, previous.getOrDefault(address, MAX_WEIGHT));
                continue;
            }
            double smoothed = watched.smoothedLoad().merge(endpoint, load, (old, now) -> (old + now) / 2);
            weights.put(address, weight(smoothed));
        }
        return weights;
    }

    /** {@value #MAX_WEIGHT} / (1 + load), rounded, at least 1. */
    static int weight(double load) {
        return (int) Math.max(1, Math.min(MAX_WEIGHT, Math.round(MAX_WEIGHT / (1 + Math.max(0, load)))));
    }

    /** Whether {@code next} differs from {@code published} in its endpoints or by more than the hysteresis in a weight. */
    static boolean moved(Map<String, Map<String, Integer>> published, Map<String, Map<String, Integer>> next) {
        if (!published.keySet().equals(next.keySet())) {
            return true;
        }
        for (Map.Entry<String, Map<String, Integer>> pool : next.entrySet()) {
            Map<String, Integer> before = published.get(pool.getKey());
            if (!before.keySet().equals(pool.getValue().keySet())) {
                return true;
            }
            for (Map.Entry<String, Integer> weight : pool.getValue().entrySet()) {
                int old = before.get(weight.getKey());
                int step = Math.abs(weight.getValue() - old);
                // Both relative and absolute: near weight 1 to 4, a step of 1 is 25 to 100% and is scrape noise.
                if (step * 100 > HYSTERESIS_PERCENT * old && step >= MIN_STEP) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The pool's endpoints as addresses, resolved as the translator resolves them for EDS. */
    private static List<Endpoint> endpoints(InferencePool pool) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (io.aimesh.policy.Endpoint endpoint : pool.endpoints()) {
            try {
                String ip = InetAddress.getByName(endpoint.host()).getHostAddress();
                Endpoint resolved = new Endpoint(ip, endpoint.port());
                if (!endpoints.contains(resolved)) {
                    endpoints.add(resolved);
                }
            } catch (UnknownHostException e) {
                // The translation of the same policies failed on it already; nothing to weigh.
                LOG.log(Level.WARNING, "InferencePool/" + pool.name() + ": cannot resolve " + endpoint.host());
            }
        }
        return endpoints;
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            pools.values().forEach(watched -> watched.monitor().close());
            pools = Map.of();
        }
        scheduler.shutdownNow();
    }
}
