package io.aimesh.filter.extproc;

import static java.util.Objects.requireNonNull;

import io.aimesh.picker.Pick;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Where requests wait while every endpoint of their pool is saturated (a pool whose policy says
 * {@code whenSaturated: queue}), first come first served, up to a size and a time per pool.
 *
 * <p>A waiting request is picked for again when a request of its pool ends (an endpoint has a
 * free slot) and every {@value #TICK_MILLIS} ms (fresh metrics may show room; deadlines pass),
 * one request per wake. The head is picked for first; while it finds every endpoint saturated,
 * the others wait behind it, so no request overtakes an older one. A request whose time is up is answered with
 * {@link Pick#SATURATED}; a request that went away is dropped. Nothing here blocks: a waiting
 * request holds no thread, only its ext_proc stream, whose answer is simply not sent yet.
 *
 * <p>Thread-safe: each pool's queue has its own lock; {@code resume} callbacks run outside it,
 * on the thread that freed the slot or on the room's timer thread.
 */
final class WaitingRoom implements AutoCloseable {
    static final long TICK_MILLIS = 10;
    private static final System.Logger LOG = System.getLogger(WaitingRoom.class.getName());

    private final Map<String, PoolQueue> queues = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private final ScheduledExecutorService timer;

    /** A request waiting for an endpoint. */
    static final class Waiter {
        private final Supplier<Pick> pick;
        private final long deadlineNanos;
        private final Consumer<Pick> resume;
        private volatile boolean cancelled;

        private Waiter(Supplier<Pick> pick, long deadlineNanos, Consumer<Pick> resume) {
            this.pick = pick;
            this.deadlineNanos = deadlineNanos;
            this.resume = resume;
        }

        /** The request went away: it will not be picked for or resumed. */
        void cancel() {
            cancelled = true;
        }
    }

    private static final class PoolQueue {
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    }

    WaitingRoom(LongSupplier nanoClock) {
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "aimesh-waiting-room");
            thread.setDaemon(true);
            return thread;
        });
        timer.scheduleWithFixedDelay(this::wakeAll, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Queues a request of {@code pool} whose pick found every endpoint saturated.
     *
     * @param pick picks for the request again (the pool's picker with the request's features)
     * @param resume called once with the pick when it is not saturated, or with
     *     {@link Pick#SATURATED} when {@code timeoutNanos} passed first
     * @return the waiter, to {@link Waiter#cancel} if the request goes away; {@code null} when the
     *     queue holds {@code capacity} requests already (the request is not queued)
     */
    Waiter enqueue(String pool, Supplier<Pick> pick, int capacity, long timeoutNanos, Consumer<Pick> resume) {
        Waiter waiter = new Waiter(pick, nanoClock.getAsLong() + timeoutNanos, resume);
        PoolQueue queue = queues.computeIfAbsent(pool, p -> new PoolQueue());
        synchronized (queue) {
            queue.waiters.removeIf(w -> w.cancelled);
            if (queue.waiters.size() >= capacity) {
                return null;
            }
            queue.waiters.addLast(waiter);
        }
        return waiter;
    }

    /** Requests of {@code pool} waiting now, cancelled ones included until they are dropped. */
    int waiting(String pool) {
        PoolQueue queue = queues.get(pool);
        if (queue == null) {
            return 0;
        }
        synchronized (queue) {
            return queue.waiters.size();
        }
    }

    /** A request of {@code pool} ended: the head of its queue may now find an endpoint. */
    void wake(String pool) {
        PoolQueue queue = queues.get(pool);
        if (queue != null) {
            drain(queue);
        }
    }

    private void wakeAll() {
        // The timer must survive anything a resume throws, or no deadline would fire again.
        queues.values().forEach(this::drain);
    }

    /**
     * Answers the waiters whose time is up and releases at most one waiter to an endpoint: a
     * pick's saturation test reads scraped queues, which do not yet show the requests just
     * released, so releasing the whole queue on one free slot would overrun the pool. The next
     * wake (a request ending, or the timer) releases the next.
     */
    private void drain(PoolQueue queue) {
        List<Runnable> resumes = new ArrayList<>();
        synchronized (queue) {
            long now = nanoClock.getAsLong();
            while (!queue.waiters.isEmpty()) {
                Waiter head = queue.waiters.peekFirst();
                if (head.cancelled) {
                    queue.waiters.pollFirst();
                    continue;
                }
                if (now - head.deadlineNanos >= 0) {
                    queue.waiters.pollFirst();
                    resumes.add(() -> head.resume.accept(Pick.SATURATED));
                    continue;
                }
                Pick pick = head.pick.get();
                if (pick.outcome() != Pick.Outcome.SATURATED) {
                    queue.waiters.pollFirst();
                    resumes.add(() -> head.resume.accept(pick));
                }
                break; // the others wait behind the head, or for the next wake
            }
        }
        for (Runnable resume : resumes) {
            try {
                resume.run();
            } catch (RuntimeException e) {
                // One request's answer failing (its client left mid-resume) must not stop the others.
                LOG.log(System.Logger.Level.WARNING, "resuming a queued request failed", e);
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
