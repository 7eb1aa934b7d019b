package io.aimesh.filter.extproc;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.config.RuntimeConfig.Priority;
import io.aimesh.picker.Pick;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
 * {@code whenSaturated: queue}), up to a size and a time per pool, in priority and fair-share order.
 *
 * <h2>Who goes next</h2>
 * Priority classes strictly: a critical request before any standard one, a standard before any
 * sheddable one. Within a class, tenants share the pool fairly by a <em>virtual token counter</em>
 * (VTC: Sheng et al., "Fairness in Serving Large Language Models", OSDI '24): each tenant has a
 * counter of the service it was released to, in estimated tokens divided by its policy {@code share},
 * and the next request released is the oldest of the waiting tenant whose counter is lowest. A tenant
 * that starts waiting has its counter lifted to the lowest counter of the tenants already waiting in
 * its class, so time spent idle earns no credit to burst with later (VTC's lift; deficit round robin,
 * Shreedhar and Varghese, SIGCOMM '95, has the same rule for an idle flow's deficit). Counters are
 * per pool and forgotten when its queue empties: fairness holds within a busy period, and memory is
 * bounded by the tenants waiting. Equal counters go to the tenant with fewer requests waiting, so a
 * tenant that has just started waiting beside a flooding one goes at the next free slot. Within a
 * tenant and class, first come first served.
 *
 * <h2>Who is refused</h2>
 * A request is refused when its wait is over, or when the queue is full and it is the one to go:
 * a newcomer takes the place of a waiter of a lower class (the newest request of the lowest class's
 * heaviest tenant), or of its own class when that tenant's counter, counting what it has waiting,
 * is above the newcomer's tenant's; otherwise the newcomer is refused. So under saturation sheddable
 * requests are refused first, then standard ones, and a critical request only when every place is
 * held by critical requests; and a tenant flooding a full queue displaces itself, not its neighbours.
 *
 * <h2>When</h2>
 * The waiters are looked at again when a request of the pool ends (an endpoint has a free slot) and
 * every {@value #TICK_MILLIS} ms (fresh metrics may show room; deadlines pass), releasing at most one
 * per wake: a pick's saturation test reads scraped queues, which do not yet show a request just
 * released, so releasing many on one free slot would overrun the pool. Nothing here blocks: a waiting
 * request holds no thread, only its ext_proc stream, whose answer is simply not sent yet.
 *
 * <p>Picks: every pick for a pool that queues happens under the pool's lock (a newcomer's in
 * {@link #tryStart}, a waiter's in a wake), and the pick function holds its endpoint's in-flight
 * count before it returns; so {@code maxInFlight} is exact, with no gap between two picks seeing the
 * same free slot.
 *
 * <p>Thread-safe: each pool's queue has its own lock. {@code resume} callbacks run outside it, on
 * the room's own thread, never on the caller's: a caller may hold its request's lock, and resuming
 * another request there could deadlock with that request resuming it.
 */
final class WaitingRoom implements AutoCloseable {
    static final long TICK_MILLIS = 10;
    private static final System.Logger LOG = System.getLogger(WaitingRoom.class.getName());
    private static final Priority[] CLASSES = Priority.values();

    private final Map<String, PoolQueue> queues = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private final ScheduledExecutorService timer;
    private final java.util.concurrent.Executor resumes;

    /**
     * Who is waiting or running: the tenant ({@code ""} for none), its class, its policy share, and
     * the request's cost in the fair share, its estimated tokens over the share.
     */
    record Ticket(String tenant, Priority priority, int share, double cost) {
        Ticket {
            requireNonNull(tenant, "tenant");
            requireNonNull(priority, "priority");
            if (share < 1) {
                throw new IllegalArgumentException("share: " + share + " (expected: >= 1)");
            }
        }
    }

    /** How a wait ended: with a pick, or refused ({@link Pick#SATURATED} and the reason). */
    record WaitEnd(Pick pick, ShedReason refusal) {
        boolean refused() {
            return refusal != null;
        }
    }

    /** A request waiting for an endpoint. */
    static final class Waiter {
        private final Ticket ticket;
        private final Supplier<Pick> pick;
        private final long deadlineNanos;
        private final Consumer<WaitEnd> resume;
        private PoolQueue queue; // guarded by queue; null once out of it

        private Waiter(Ticket ticket, Supplier<Pick> pick, long deadlineNanos, Consumer<WaitEnd> resume) {
            this.ticket = ticket;
            this.pick = pick;
            this.deadlineNanos = deadlineNanos;
            this.resume = resume;
        }

        /** The request went away: it leaves the queue and will not be resumed. */
        void cancel() {
            PoolQueue from = queue;
            if (from != null) {
                synchronized (from) {
                    if (queue != null) {
                        from.remove(this);
                    }
                }
            }
        }
    }

    /**
     * One pool's waiters, by class, then tenant, in arrival order; the tenants' counters; and the
     * requests each tenant has running in the pool, for the slot caps. Guarded by itself.
     */
    private static final class PoolQueue {
        final List<LinkedHashMap<String, ArrayDeque<Waiter>>> classes = new ArrayList<>();
        final Map<String, Double> counters = new HashMap<>();
        /** Tenant to {running requests, share}. */
        final Map<String, int[]> running = new HashMap<>();
        /** The pool's slots (maxInFlight times endpoints), 0 when unknown: no caps. */
        int slots;
        int size;

        PoolQueue() {
            for (int i = 0; i < CLASSES.length; i++) {
                classes.add(new LinkedHashMap<>());
            }
        }

        void add(Waiter waiter) {
            Map<String, ArrayDeque<Waiter>> tenants = classes.get(waiter.ticket.priority().ordinal());
            String tenant = waiter.ticket.tenant();
            if (!tenants.containsKey(tenant)) {
                double lowest = Double.POSITIVE_INFINITY;
                for (String other : tenants.keySet()) {
                    lowest = Math.min(lowest, counter(other));
                }
                if (lowest != Double.POSITIVE_INFINITY) {
                    counters.put(tenant, Math.max(counter(tenant), lowest));
                }
            }
            tenants.computeIfAbsent(tenant, t -> new ArrayDeque<>()).addLast(waiter);
            waiter.queue = this;
            size++;
        }

        void remove(Waiter waiter) {
            Map<String, ArrayDeque<Waiter>> tenants = classes.get(waiter.ticket.priority().ordinal());
            ArrayDeque<Waiter> waiting = tenants.get(waiter.ticket.tenant());
            if (waiting != null && waiting.remove(waiter)) {
                if (waiting.isEmpty()) {
                    tenants.remove(waiter.ticket.tenant());
                }
                waiter.queue = null;
                if (--size == 0) {
                    counters.clear(); // the busy period is over
                }
            }
        }

        double counter(String tenant) {
            return counters.getOrDefault(tenant, 0.0);
        }

        /** The tenant's counter as if everything it has waiting in {@code tenants} were served. */
        double projected(Map<String, ArrayDeque<Waiter>> tenants, String tenant) {
            double total = counter(tenant);
            ArrayDeque<Waiter> waiting = tenants.get(tenant);
            if (waiting != null) {
                for (Waiter waiter : waiting) {
                    total += waiter.ticket.cost();
                }
            }
            return total;
        }

        /**
         * The next to release: the most important class's least served tenant's oldest request,
         * among the tenants under their slot cap; null when there is none.
         */
        Waiter next() {
            for (int c = 0; c < classes.size(); c++) {
                Map<String, ArrayDeque<Waiter>> tenants = classes.get(c);
                Waiter best = null;
                double lowest = Double.POSITIVE_INFINITY;
                int fewest = Integer.MAX_VALUE;
                for (Map.Entry<String, ArrayDeque<Waiter>> entry : tenants.entrySet()) {
                    if (!underCap(entry.getValue().peekFirst().ticket)) {
                        continue;
                    }
                    double counter = counter(entry.getKey());
                    int waiting = entry.getValue().size();
                    // Equal counters (a tenant just lifted to another's) go to the shorter backlog.
                    if (counter < lowest || (counter == lowest && waiting < fewest)) {
                        lowest = counter;
                        fewest = waiting;
                        best = entry.getValue().peekFirst();
                    }
                }
                if (best != null) {
                    return best;
                }
            }
            return null;
        }

        /**
         * The waiter a newcomer with {@code ticket} displaces from a full queue, or {@code null} when
         * the newcomer is the one to refuse (see the class comment).
         */
        Waiter displaceable(Ticket ticket) {
            for (int c = CLASSES.length - 1; c >= ticket.priority().ordinal(); c--) {
                Map<String, ArrayDeque<Waiter>> tenants = classes.get(c);
                if (tenants.isEmpty()) {
                    continue;
                }
                String heaviest = null;
                double most = Double.NEGATIVE_INFINITY;
                for (String tenant : tenants.keySet()) {
                    double projected = projected(tenants, tenant);
                    if (projected > most) {
                        most = projected;
                        heaviest = tenant;
                    }
                }
                if (c > ticket.priority().ordinal()) {
                    return tenants.get(heaviest).peekLast();
                }
                double newcomer = Math.max(projected(tenants, ticket.tenant()), lowestCounter(tenants)) + ticket.cost();
                return !heaviest.equals(ticket.tenant()) && most > newcomer ? tenants.get(heaviest).peekLast() : null;
            }
            return null;
        }

        /**
         * Whether the ticket's tenant may start another request in the pool. Critical requests and
         * pools of unknown size are never capped, nor a tenant alone. Otherwise a tenant may use the
         * pool's slots but for a headroom kept for every other active tenant (one running or waiting
         * here): one slot above what that tenant runs, up to its fair share of the slots by policy
         * share. So a tenant arriving beside a flood finds a slot free at once, while the flood has
         * every slot nobody else can use; a tenant is never capped below its own fair share.
         */
        boolean underCap(Ticket ticket) {
            if (slots == 0 || ticket.priority() == Priority.CRITICAL) {
                return true;
            }
            Map<String, Integer> active = new HashMap<>();
            running.forEach((tenant, entry) -> active.put(tenant, entry[1]));
            for (Map<String, ArrayDeque<Waiter>> tenants : classes) {
                tenants.forEach((tenant, waiting) -> active.putIfAbsent(tenant, waiting.peekFirst().ticket.share()));
            }
            active.put(ticket.tenant(), ticket.share());
            if (active.size() == 1) {
                return true;
            }
            double shares = 0;
            for (int share : active.values()) {
                shares += share;
            }
            double reserved = 0;
            for (Map.Entry<String, Integer> other : active.entrySet()) {
                if (!other.getKey().equals(ticket.tenant())) {
                    int[] entry = running.get(other.getKey());
                    reserved += Math.min(slots * other.getValue() / shares, (entry == null ? 0 : entry[0]) + 1);
                }
            }
            int[] own = running.get(ticket.tenant());
            long cap = Math.max(1, (long) Math.floor(slots - reserved));
            return (own == null ? 0 : own[0]) < cap;
        }

        void started(Ticket ticket) {
            running.computeIfAbsent(ticket.tenant(), t -> new int[] {0, ticket.share()})[0]++;
        }

        void ended(Ticket ticket) {
            int[] entry = running.get(ticket.tenant());
            if (entry != null && --entry[0] <= 0) {
                running.remove(ticket.tenant());
            }
        }

        private double lowestCounter(Map<String, ArrayDeque<Waiter>> tenants) {
            double lowest = Double.POSITIVE_INFINITY;
            for (String tenant : tenants.keySet()) {
                lowest = Math.min(lowest, counter(tenant));
            }
            return lowest == Double.POSITIVE_INFINITY ? 0 : lowest;
        }
    }

    WaitingRoom(LongSupplier nanoClock) {
        this(nanoClock, TICK_MILLIS, null);
    }

    /**
     * @param tickMillis how often every queue is woken; 0 for never (a test then wakes them)
     * @param resumes where {@code resume} callbacks run; {@code null} for the room's own thread
     */
    WaitingRoom(LongSupplier nanoClock, long tickMillis, java.util.concurrent.Executor resumes) {
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "aimesh-waiting-room");
            thread.setDaemon(true);
            return thread;
        });
        this.resumes = resumes == null ? timer : resumes;
        if (tickMillis > 0) {
            timer.scheduleWithFixedDelay(this::wakeAll, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Queues a request of {@code pool} that found (or would find) every endpoint saturated. Does not
     * release anything: call {@link #wake} after, so the best waiter, perhaps this one, goes if there is room.
     *
     * @param ticket who waits, in what class, at what cost
     * @param pick picks for the request again and holds the endpoint's in-flight count (the pool's
     *     picker with the request's features); called under the pool's lock
     * @param resume called once: with the pick when it is not saturated (an endpoint's pick counts
     *     the request as running: call {@link #ended} when it leaves), or refused when
     *     {@code timeoutNanos} passed first or another request took its place
     * @return the waiter, to {@link Waiter#cancel} if the request goes away; {@code null} when the
     *     queue holds {@code capacity} requests none of which this one displaces (it is not queued)
     */
    Waiter enqueue(String pool, Ticket ticket, Supplier<Pick> pick, int capacity, long timeoutNanos, Consumer<WaitEnd> resume) {
        Waiter waiter = new Waiter(ticket, pick, nanoClock.getAsLong() + timeoutNanos, resume);
        PoolQueue queue = queues.computeIfAbsent(pool, p -> new PoolQueue());
        Waiter displaced = null;
        synchronized (queue) {
            if (queue.size >= capacity) {
                displaced = queue.displaceable(ticket);
                if (displaced == null) {
                    return null;
                }
                queue.remove(displaced);
            }
            queue.add(waiter);
        }
        if (displaced != null) {
            resume(displaced, new WaitEnd(Pick.SATURATED, ShedReason.DISPLACED));
        }
        return waiter;
    }

    /**
     * Picks for a request of {@code pool} that has not waited, if nobody waits and its tenant is
     * under its slot cap; else it must queue, behind the order of the room. A pick of an endpoint
     * counts the request as running: call {@link #ended} when it leaves.
     *
     * @param slots the pool's slots: its endpoints times their in-flight limit; 0 when it has none
     * @param pick picks for the request and holds the endpoint's in-flight count
     * @return the pick, or {@code null} when the request must queue
     */
    Pick tryStart(String pool, Ticket ticket, int slots, Supplier<Pick> pick) {
        PoolQueue queue = queues.computeIfAbsent(pool, p -> new PoolQueue());
        synchronized (queue) {
            queue.slots = slots;
            if (queue.size > 0 || !queue.underCap(ticket)) {
                return null;
            }
            Pick picked = pick.get();
            if (picked.outcome() == Pick.Outcome.PICKED) {
                queue.started(ticket);
            }
            return picked;
        }
    }

    /** A request of {@code pool} counted as running (a pick of an endpoint) left its endpoint. */
    void ended(String pool, Ticket ticket) {
        PoolQueue queue = queues.get(pool);
        if (queue != null) {
            synchronized (queue) {
                queue.ended(ticket);
            }
        }
    }

    /** Requests of {@code pool} waiting now. */
    int waiting(String pool) {
        PoolQueue queue = queues.get(pool);
        if (queue == null) {
            return 0;
        }
        synchronized (queue) {
            return queue.size;
        }
    }

    /** A request of {@code pool} ended or joined: the next waiter may now find an endpoint. */
    void wake(String pool) {
        PoolQueue queue = queues.get(pool);
        if (queue != null) {
            drain(queue);
        }
    }

    private void wakeAll() {
        // The timer must survive anything, or no deadline would fire again.
        for (PoolQueue queue : queues.values()) {
            try {
                drain(queue);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "waking a pool's queue failed", e);
            }
        }
    }

    /** Refuses the waiters whose time is up and releases at most one (see the class comment). */
    private void drain(PoolQueue queue) {
        List<Waiter> expired = new ArrayList<>();
        Waiter released = null;
        Pick pick = null;
        synchronized (queue) {
            if (queue.size == 0) {
                return;
            }
            long now = nanoClock.getAsLong();
            for (Map<String, ArrayDeque<Waiter>> tenants : queue.classes) {
                for (ArrayDeque<Waiter> waiting : tenants.values()) {
                    for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
                        Waiter waiter = it.next();
                        if (now - waiter.deadlineNanos >= 0) {
                            expired.add(waiter);
                        }
                    }
                }
            }
            expired.forEach(queue::remove);
            Waiter next = queue.next();
            if (next != null) {
                try {
                    pick = next.pick.get();
                } catch (RuntimeException e) {
                    // A bug in one pick must not stop the expired waiters' answers nor the others.
                    LOG.log(System.Logger.Level.ERROR, "picking for a queued request failed", e);
                    pick = Pick.SATURATED;
                }
                if (pick.outcome() != Pick.Outcome.SATURATED) {
                    released = next;
                    String tenant = next.ticket.tenant();
                    queue.counters.put(tenant, queue.counter(tenant) + next.ticket.cost());
                    queue.remove(next);
                    if (pick.outcome() == Pick.Outcome.PICKED) {
                        queue.started(next.ticket);
                    }
                }
            }
        }
        for (Waiter waiter : expired) {
            resume(waiter, new WaitEnd(Pick.SATURATED, ShedReason.QUEUE_TIMEOUT));
        }
        if (released != null) {
            resume(released, new WaitEnd(pick, null));
        }
    }

    private void resume(Waiter waiter, WaitEnd outcome) {
        resumes.execute(() -> {
            try {
                waiter.resume.accept(outcome);
            } catch (RuntimeException e) {
                // One request's answer failing (its client left mid-resume) must not stop the others.
                LOG.log(System.Logger.Level.WARNING, "resuming a queued request failed", e);
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
