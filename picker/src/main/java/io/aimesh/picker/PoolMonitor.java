package io.aimesh.picker;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Watches the endpoints of one pool: scrapes each endpoint's Prometheus metrics on an interval,
 * tracks which endpoints answer, and keeps this filter's own count of requests in flight to each.
 * {@link #state()} hands the result to {@link Picker#pick}.
 *
 * <h2>Why the filter scrapes</h2>
 * Each filter replica scrapes the pool itself rather than receiving load from the control plane: it
 * alone knows its requests in flight and their time to first token, the pick happens on its request
 * path, and a relay through the control plane would add a push interval to the age of every figure.
 * The control plane only names the pools and their endpoints.
 *
 * <h2>Scraping</h2>
 * Every {@link MonitorOptions#interval()} a round starts an asynchronous GET of each endpoint's
 * {@link MonitorOptions#metricsPath()} on the shared {@link HttpClient}, except where the previous
 * scrape of that endpoint is still running. A scrape fails on a connection error, a status other
 * than 2xx, a body over {@value #MAX_BODY_BYTES} bytes, or when it takes longer than
 * {@link MonitorOptions#timeout()} (the request timeout covers the headers; a deadline on the
 * scheduler cancels a body that stalls). A response whose body lacks the vLLM metrics is a success:
 * the server answers, and the picker goes by in-flight counts for it.
 *
 * <h2>Health</h2>
 * An endpoint is unhealthy after {@link MonitorOptions#failuresToEject()} failed scrapes in a row and
 * healthy again after one success, like Envoy's consecutive-5xx outlier detection but judged on
 * scrapes, which continue while the endpoint is out. Until its first scrape an endpoint is presumed
 * healthy. Ejections and recoveries are logged.
 *
 * <h2>Threads</h2>
 * Nothing here blocks a caller. {@link #state()} is a volatile read; {@link #begin} and its
 * {@link InFlight} are a hash lookup and atomic updates, from any thread.
 * Scrape rounds run on the given scheduler and scrape completions on the HTTP client's executor; a
 * completion replaces its endpoint's {@link EndpointState} with one volatile write, and at most one
 * scrape per endpoint runs at a time. {@link #update} and {@link #close} may be called from any
 * thread.
 */
public final class PoolMonitor implements AutoCloseable {
    /** The largest metrics body read: vLLM's with dozens of models and LoRA adapters stays far below. */
    static final int MAX_BODY_BYTES = 8 << 20;

    private static final System.Logger LOG = System.getLogger(PoolMonitor.class.getName());
    /** Asks for the classic text format, which vLLM's Python client serves unless OpenMetrics is asked for. */
    private static final String ACCEPT = "text/plain; version=0.0.4";

    private final MonitorOptions options;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoClock;
    /** Serializes {@link #update}s; readers need no lock, {@link #state} being volatile and immutable in its list. */
    private final Object updateLock = new Object();
    private volatile PoolState state;
    private volatile ScheduledFuture<?> rounds;
    private volatile boolean closed;

    private PoolMonitor(List<Endpoint> endpoints, MonitorOptions options, HttpClient http,
            ScheduledExecutorService scheduler, LongSupplier nanoClock) {
        this.options = requireNonNull(options, "options");
        this.http = requireNonNull(http, "http");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.state = poolOf(endpoints, Map.of());
    }

    /**
     * Starts watching a pool; the first scrape round starts at once.
     *
     * @param endpoints the pool's endpoints, distinct, possibly none
     * @param options how to scrape, such as {@link MonitorOptions#DEFAULT}
     * @param http the client to scrape with, shared by the pools and not closed by the monitor; HTTP/1.1
     *     suits model servers (vLLM's server does not speak cleartext HTTP/2)
     * @param scheduler runs the scrape rounds and scrape deadlines; shared by the pools, short tasks
     *     only, and not shut down by the monitor
     */
    public static PoolMonitor start(List<Endpoint> endpoints, MonitorOptions options, HttpClient http,
            ScheduledExecutorService scheduler) {
        return start(endpoints, options, http, scheduler, System::nanoTime);
    }

    static PoolMonitor start(List<Endpoint> endpoints, MonitorOptions options, HttpClient http,
            ScheduledExecutorService scheduler, LongSupplier nanoClock) {
        PoolMonitor monitor = new PoolMonitor(endpoints, options, http, scheduler, nanoClock);
        monitor.rounds = scheduler.scheduleWithFixedDelay(monitor::scrapeRound, 0,
                options.interval().toNanos(), TimeUnit.NANOSECONDS);
        return monitor;
    }

    /** The pool as it is now; the same instance until {@link #update} changes the endpoints. Never null. */
    public PoolState state() {
        return state;
    }

    /**
     * Replaces the pool's endpoints. An endpoint that stays keeps its state and its in-flight count; a
     * new one starts unknown and presumed healthy, and is scraped from the next round.
     *
     * @param endpoints the pool's endpoints, distinct, possibly none
     */
    public void update(List<Endpoint> endpoints) {
        synchronized (updateLock) {
            Map<Endpoint, PoolMember> current = new HashMap<>();
            for (PoolMember member : state.members()) {
                current.put(member.endpoint, member);
            }
            state = poolOf(endpoints, current);
        }
    }

    /**
     * Counts a request as sent to {@code endpoint} and returns its handle, which records its first
     * token and its end on this same member (an endpoint not in the pool: a handle that records
     * nothing).
     */
    InFlight begin(Endpoint endpoint) {
        PoolMember member = state.member(requireNonNull(endpoint, "endpoint"));
        return new InFlight(member == null ? null : member.load);
    }

    /**
     * Stops scraping. Scrapes already running may still complete; {@link #state()} keeps answering,
     * and its metrics go stale.
     */
    @Override
    public void close() {
        closed = true;
        ScheduledFuture<?> scheduled = rounds;
        if (scheduled != null) {
            scheduled.cancel(false);
        }
    }

    private PoolState poolOf(List<Endpoint> endpoints, Map<Endpoint, PoolMember> current) {
        requireNonNull(endpoints, "endpoints");
        List<PoolMember> members = new ArrayList<>(endpoints.size());
        for (Endpoint endpoint : endpoints) {
            PoolMember kept = current.get(requireNonNull(endpoint, "endpoints[" + members.size() + "]"));
            members.add(kept != null ? kept : new PoolMember(endpoint));
        }
        return new PoolState(members, nanoClock, options.staleAfter().toNanos());
    }

    private void scrapeRound() {
        if (closed) {
            return;
        }
        PoolState pool = state;
        for (int i = 0; i < pool.size(); i++) {
            PoolMember member = pool.member(i);
            if (!member.tryStartScrape()) {
                continue;
            }
            try {
                scrape(member);
            } catch (RuntimeException e) {
                // A periodic task that throws is never run again, and the whole pool would go stale:
                // count it against this endpoint and carry on with the others.
                LOG.log(Level.ERROR, "cannot scrape " + member.endpoint, e);
                recordFailure(member, e.toString());
                member.endScrape();
            }
        }
    }

    /** Starts one scrape of {@code member}, whose scrape flag the caller holds. */
    private void scrape(PoolMember member) {
        URI uri = URI.create("http://" + member.endpoint.authority() + options.metricsPath());
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(options.timeout())
                .header("Accept", ACCEPT)
                .GET()
                .build();
        CompletableFuture<HttpResponse<String>> response = http.sendAsync(request,
                info -> info.statusCode() / 100 == 2 ? new CappedBody(MAX_BODY_BYTES)
                        : HttpResponse.BodySubscribers.replacing(null));
        ScheduledFuture<?> deadline = deadline(response);
        response.whenComplete((received, error) -> {
            if (deadline != null) {
                deadline.cancel(false);
            }
            try {
                complete(member, uri, received, error);
            } catch (RuntimeException e) {
                // Nothing observes this future: log rather than lose it.
                LOG.log(Level.ERROR, "cannot record the scrape of " + uri, e);
            } finally {
                member.endScrape();
            }
        });
    }

    /** Cancels {@code response} after the timeout; null when the scheduler is shutting down. */
    private ScheduledFuture<?> deadline(CompletableFuture<?> response) {
        try {
            return scheduler.schedule(() -> response.cancel(true), options.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // The scheduler is being shut down, so this is the last round: the request timeout still
            // bounds the wait for the headers.
            LOG.log(Level.DEBUG, () -> "no scrape deadline, the scheduler is shut down: " + e);
            return null;
        }
    }

    private void complete(PoolMember member, URI uri, HttpResponse<String> response, Throwable error) {
        if (error != null) {
            Throwable cause = unwrap(error);
            if (!(cause instanceof IOException || cause instanceof CancellationException)) {
                LOG.log(Level.WARNING, "unexpected failure scraping " + uri, cause);
            }
            recordFailure(member, cause instanceof CancellationException ? "timed out after " + options.timeout()
                    : cause.toString());
        } else if (response.statusCode() / 100 != 2) {
            recordFailure(member, "status " + response.statusCode());
        } else {
            recordSuccess(member, uri, VllmMetricsParser.parse(response.body()));
        }
    }

    private void recordSuccess(PoolMember member, URI uri, VllmMetrics metrics) {
        EndpointState before = member.state();
        member.state(before.scraped(metrics, nanoClock.getAsLong()));
        if (!before.healthy()) {
            LOG.log(Level.INFO, "{0} is healthy again after {1} failed scrapes", member.endpoint,
                    before.consecutiveFailures());
        }
        if (!metrics.problems().isEmpty()) {
            LOG.log(Level.DEBUG, () -> "problems in " + uri + ": " + metrics.problems());
        }
    }

    private void recordFailure(PoolMember member, String reason) {
        EndpointState before = member.state();
        EndpointState after = before.failed(options.failuresToEject());
        member.state(after);
        if (before.healthy() && !after.healthy()) {
            LOG.log(Level.WARNING, "{0} is unhealthy after {1} failed scrapes, the last: {2}", member.endpoint,
                    after.consecutiveFailures(), reason);
        } else {
            LOG.log(Level.DEBUG, () -> "scrape of " + member.endpoint + " failed: " + reason);
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
