package io.aimesh.bench.e2e;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop HTTP/1.1 load generator: sends one request every {@code 1/rate} seconds whether
 * or not earlier ones have been answered, and times each from the moment the schedule
 * <em>intended</em> to send it, so a slow response delays no later request and hides no
 * latency (Gil Tene's "coordinated omission"; wrk2 and vegeta schedule the same way).
 *
 * <h2>Design</h2>
 * One pacer thread (the caller's) parks until each intended send time and writes the request on
 * an idle keep-alive connection, opening another when none is idle (at most
 * {@value #MAX_CONNECTIONS}; past that it waits for one, and the wait counts in the latency).
 * Each connection has a reader thread blocked on its socket, which records the response and
 * returns the connection to a LIFO stack of idle ones, so the same few warm connections carry
 * the load. A request thus costs the generator one thread wake-up (the reader's) beside the
 * pacer's own, and one small allocation (the idle stack's node). {@code LockSupport.parkNanos}
 * wakes some tens of microseconds late on Linux (timer slack); that lateness is inside every
 * latency, and reported on its own as the send lag.
 *
 * <p>Not thread-safe: one {@link #run} per instance, from one thread.
 */
final class OpenLoopLoad {
    static final int MAX_CONNECTIONS = 1_024;
    /** How long the run waits for the last responses after the last send. */
    private static final Duration DRAIN = Duration.ofSeconds(60);
    private static final int SEND_ATTEMPTS = 3;

    private final InetSocketAddress target;
    private final String markerHeader;
    private final String name;
    private final ConcurrentLinkedDeque<LoadConnection> idle = new ConcurrentLinkedDeque<>();
    /** Every connection opened, for closing and merging; pacer thread only. */
    private final List<LoadConnection> all = new ArrayList<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Errors seen by the pacer (failed connects and writes); pacer thread only. */
    private final LoadStats pacerStats = new LoadStats();

    /**
     * @param target where to send, e.g. Envoy's listener
     * @param markerHeader a lower-case response header whose presence is counted ({@link LoadStats#marked()})
     * @param name names the reader threads
     */
    OpenLoopLoad(InetSocketAddress target, String markerHeader, String name) {
        this.target = requireNonNull(target, "target");
        this.markerHeader = requireNonNull(markerHeader, "markerHeader");
        this.name = requireNonNull(name, "name");
    }

    /**
     * Sends {@code request} at {@code rate} per second for {@code duration}, then waits up to a
     * minute for the last answers, and closes every connection.
     *
     * @param request a complete HTTP/1.1 request, e.g. from {@link ChatRequest#http}
     * @param rate requests per second, {@code >= 1}
     * @param warmConnections connections opened before the first send, so that none pays a connect
     */
    LoadRun run(byte[] request, int rate, Duration duration, int warmConnections) throws IOException {
        if (rate < 1) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: >= 1)");
        }
        for (int i = 0; i < warmConnections; i++) {
            idle.offerFirst(connect());
        }
        long count = Math.max(1, Math.round(rate * (duration.toNanos() / 1e9)));
        double periodNanos = 1e9 / rate;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
        for (long i = 0; i < count; i++) {
            long intended = start + (long) (i * periodNanos);
            for (long wait; (wait = intended - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(wait);
            }
            dispatch(request, intended);
        }
        long deadline = System.nanoTime() + DRAIN.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
        }
        int unanswered = inFlight.get();
        for (LoadConnection connection : all) {
            connection.close();
        }
        LoadStats stats = new LoadStats();
        stats.add(pacerStats);
        all.forEach(connection -> stats.add(connection.stats()));
        for (int i = 0; i < unanswered; i++) {
            stats.error("no response within " + DRAIN.toSeconds() + " s of the last send");
        }
        long end = stats.lastCompletionNanos() == Long.MIN_VALUE ? System.nanoTime() : stats.lastCompletionNanos();
        return new LoadRun(stats, count, end - start, all.size());
    }

    /** Called by a reader thread when its outstanding request ended; {@code reusable} returns the connection. */
    void answered(LoadConnection connection, boolean reusable) {
        if (reusable) {
            idle.offerFirst(connection);
        } else {
            open.decrementAndGet();
        }
        inFlight.decrementAndGet();
    }

    /** Called by a reader thread whose idle connection the server closed. */
    void lost(LoadConnection connection) {
        idle.remove(connection);
        open.decrementAndGet();
    }

    private void dispatch(byte[] request, long intended) {
        for (int attempt = 1; ; attempt++) {
            LoadConnection connection = idle.pollFirst();
            try {
                if (connection == null) {
                    connection = awaitIdleOrConnect();
                }
            } catch (IOException e) {
                pacerStats.error("connect to " + target + ": " + e);
                return;
            }
            inFlight.incrementAndGet();
            if (connection.send(request, intended)) {
                return;
            }
            inFlight.decrementAndGet();
            open.decrementAndGet();
            if (attempt == SEND_ATTEMPTS) {
                pacerStats.error("write to " + target + " failed " + SEND_ATTEMPTS + " times");
                return;
            }
        }
    }

    private LoadConnection connect() throws IOException {
        LoadConnection connection = LoadConnection.open(this, target, markerHeader, name + "-" + all.size());
        all.add(connection);
        open.incrementAndGet();
        return connection;
    }

    /** A new connection, or past {@value #MAX_CONNECTIONS} open ones the next to become idle. */
    private LoadConnection awaitIdleOrConnect() throws IOException {
        for (LoadConnection connection; ; ) {
            if (open.get() < MAX_CONNECTIONS) {
                return connect();
            }
            if ((connection = idle.pollFirst()) != null) {
                return connection;
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
        }
    }

    /**
     * One run's outcome.
     *
     * @param stats the merged observations, pacer errors and unanswered requests included
     * @param scheduled requests the schedule called for
     * @param wallNanos from the first intended send to the last successful response
     * @param connections connections opened, the warm ones included
     */
    record LoadRun(LoadStats stats, long scheduled, long wallNanos, int connections) {
    }
}
