package io.aimesh.filter.batch;

import static java.util.Objects.requireNonNull;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The hot-path batching core: work items offered from many threads are handed, in batches, to
 * one consumer thread that flushes them (a pipelined Redis round trip, a coalesced inference call).
 *
 * <h2>Design</h2>
 * <ul>
 *   <li><b>A bounded lock-free ring, many producers, one consumer.</b> Producers claim a slot with
 *       one compare-and-set on the tail and publish it with a per-slot sequence number (Vyukov's
 *       bounded queue, as in JCTools' {@code MpscArrayQueue}); the consumer reads in slot order with
 *       plain reads of its own head. No producer ever waits for another or for the consumer: a full
 *       ring refuses the item ({@link #offer} returns {@code false}), which is the backpressure.
 *       Caffeine's read and write buffers make the same trade: lossless only up to a bound, never a
 *       lock on the caller's path.</li>
 *   <li><b>Batches form by themselves under load</b> (Martin Thompson's "smart batching", the
 *       group commit of databases): the consumer takes everything waiting, up to
 *       {@link Policy#maxBatch()}, flushes it, and takes again; items that arrive during a flush
 *       make the next batch. So batch size follows load, with no timer.</li>
 *   <li><b>An idle system adds no wait</b> (Nagle's rule, RFC 896: hold back only while something
 *       is outstanding). A lone item is flushed at once. Only when the consumer is busy, that is,
 *       items arrived while it flushed, does it linger up to {@link Policy#maxLinger()} for the batch
 *       to fill, as Triton's dynamic batcher waits up to {@code max_queue_delay_microseconds} for
 *       a preferred batch size, and only while items keep coming (a quarter of the linger without
 *       one ends it). It spins then, as it does briefly after a flush before it parks: waking a
 *       parked thread costs more than the microseconds it waits. With {@code maxLinger} 0 it never
 *       lingers.</li>
 *   <li><b>Shutdown loses nothing.</b> {@link #close} refuses new items, waits for offers already
 *       under way to publish, and flushes everything in the ring before the consumer stops.</li>
 * </ul>
 *
 * <p>Order: items are flushed in the order their offers claimed slots, so the items of one
 * producer thread keep their order. Every offered item is flushed exactly once, unless the flusher
 * throws; then that batch is logged and dropped, and the next one is flushed as usual.
 *
 * <p>Thread-safe: {@link #offer} from any thread; the flusher runs on the consumer thread only.
 *
 * @param <T> the work item
 */
public final class Batcher<T> implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Batcher.class.getName());
    /**
     * How long the consumer spins on an empty ring before it parks. Waking a parked thread costs
     * 20 to 50 µs on a virtual machine (measured: a lone item's offer-to-flush went from 44 µs to a
     * few with a spin); a request arriving within the spin is taken at once. Spent only after a
     * flush, so an idle batcher costs nothing.
     */
    private static final long SPIN_NANOS = 20_000;

    /**
     * @param maxBatch the most items in one flush, {@code >= 1}
     * @param maxLinger how long a busy consumer may wait for a batch to fill; {@code 0} never
     * @param capacity the most items waiting, rounded up to a power of two, {@code >= maxBatch}
     */
    public record Policy(int maxBatch, Duration maxLinger, int capacity) {
        public Policy {
            if (maxBatch < 1) {
                throw new IllegalArgumentException("maxBatch: " + maxBatch + " (expected: >= 1)");
            }
            requireNonNull(maxLinger, "maxLinger");
            if (maxLinger.isNegative()) {
                throw new IllegalArgumentException("maxLinger: " + maxLinger + " (expected: >= 0)");
            }
            if (capacity < maxBatch || capacity > 1 << 30) {
                throw new IllegalArgumentException("capacity: " + capacity + " (expected: maxBatch.." + (1 << 30) + ")");
            }
        }
    }

    private final String name;
    private final int maxBatch;
    private final long lingerNanos;
    private final int mask;
    private final AtomicReferenceArray<T> items;
    /** Per slot: equal to a position when the slot is free for it, position + 1 once an item is published there. */
    private final AtomicLongArray sequences;
    private final AtomicLong tail = new AtomicLong();
    /** Only the consumer reads and writes it. */
    private long head;
    private final Consumer<List<T>> flusher;
    private final Thread consumer;
    /** Set by the consumer before it parks on an empty ring; cleared by the producer that wakes it. */
    private final AtomicBoolean parked = new AtomicBoolean();
    private final AtomicInteger offering = new AtomicInteger();
    private volatile boolean closed;
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong flushed = new AtomicLong();

    private Batcher(String name, Policy policy, Consumer<List<T>> flusher) {
        this.name = requireNonNull(name, "name");
        this.maxBatch = policy.maxBatch();
        this.lingerNanos = policy.maxLinger().toNanos();
        int size = Integer.highestOneBit(policy.capacity() - 1) << 1;
        size = Math.max(size, policy.capacity());
        this.mask = size - 1;
        this.items = new AtomicReferenceArray<>(size);
        this.sequences = new AtomicLongArray(size);
        for (int i = 0; i < size; i++) {
            sequences.set(i, i);
        }
        this.flusher = requireNonNull(flusher, "flusher");
        this.consumer = new Thread(this::consume, "aimesh-batcher-" + name);
        consumer.setDaemon(true);
    }

    /** Starts a batcher whose consumer thread hands each batch to {@code flusher}. */
    public static <T> Batcher<T> start(String name, Policy policy, Consumer<List<T>> flusher) {
        Batcher<T> batcher = new Batcher<>(name, requireNonNull(policy, "policy"), flusher);
        batcher.consumer.start();
        return batcher;
    }

    /**
     * Hands {@code item} to the consumer; never blocks.
     *
     * @return {@code false} when the ring is full or the batcher closed: the item is not taken
     */
    public boolean offer(T item) {
        requireNonNull(item, "item");
        offering.incrementAndGet();
        try {
            if (closed) {
                return false;
            }
            while (true) {
                long position = tail.get();
                int slot = (int) position & mask;
                long difference = sequences.get(slot) - position;
                if (difference == 0) {
                    if (tail.compareAndSet(position, position + 1)) {
                        items.lazySet(slot, item);
                        sequences.set(slot, position + 1); // publishes the item
                        break;
                    }
                } else if (difference < 0) {
                    return false; // the consumer has not freed this slot: the ring is full
                }
                // else another producer took this position: try the next
            }
        } finally {
            offering.decrementAndGet();
        }
        if (parked.get() && parked.compareAndSet(true, false)) {
            LockSupport.unpark(consumer);
        }
        return true;
    }

    /** Batches flushed so far. */
    public long flushes() {
        return flushes.get();
    }

    /** Items flushed so far. */
    public long flushed() {
        return flushed.get();
    }

    /** Refuses new items, flushes every item taken, and waits for the consumer to stop. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(consumer);
        boolean interrupted = false;
        while (consumer.isAlive()) {
            try {
                consumer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void consume() {
        List<T> batch = new ArrayList<>(maxBatch);
        boolean busy = false;
        boolean justFlushed = false;
        while (true) {
            drain(batch);
            if (batch.isEmpty()) {
                if (closed && offering.get() == 0 && isEmpty()) {
                    return; // every offer that got past the closed check has published, and all is flushed
                }
                if (!(justFlushed && spinUntilNotEmpty(SPIN_NANOS))) {
                    park();
                }
                justFlushed = false;
                busy = false;
                continue;
            }
            if (busy && lingerNanos > 0 && batch.size() < maxBatch) {
                linger(batch);
            }
            flush(batch);
            justFlushed = true;
            busy = !isEmpty(); // items came while it flushed: the next batch may wait to fill
        }
    }

    /**
     * Waits, spinning, for a busy batch to fill: until it is full, {@link Policy#maxLinger()} has
     * passed, or no item came for a quarter of it (the burst is over: waiting longer only delays).
     */
    private void linger(List<T> batch) {
        long start = System.nanoTime();
        long quietGap = Math.max(1, lingerNanos / 4);
        long lastArrival = start;
        while (batch.size() < maxBatch && !closed) {
            long now = System.nanoTime();
            if (now - start >= lingerNanos || now - lastArrival >= quietGap) {
                return;
            }
            int before = batch.size();
            drain(batch);
            if (batch.size() > before) {
                lastArrival = System.nanoTime();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** Spins up to {@code nanos} for an item; whether one came. */
    private boolean spinUntilNotEmpty(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            if (!isEmpty() || closed) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    /** Moves waiting items into {@code batch}, up to {@link Policy#maxBatch()}. */
    private void drain(List<T> batch) {
        while (batch.size() < maxBatch) {
            int slot = (int) head & mask;
            if (sequences.get(slot) != head + 1) {
                return;
            }
            batch.add(items.get(slot));
            items.lazySet(slot, null);
            sequences.set(slot, head + mask + 1); // frees the slot for the position one lap later
            head++;
        }
    }

    private boolean isEmpty() {
        return sequences.get((int) head & mask) != head + 1;
    }

    /** Parks until an offer (or {@link #close}) wakes the consumer. */
    private void park() {
        parked.set(true);
        if (!isEmpty() || closed) { // an offer published between the last look and the flag: don't sleep
            parked.set(false);
            return;
        }
        LockSupport.park(this);
        parked.set(false);
    }

    private void flush(List<T> batch) {
        try {
            flusher.accept(List.copyOf(batch));
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) { // the consumer must outlive a flusher's bug, or offered items would be stranded
            LOG.log(Level.ERROR, "batcher " + name + ": a flush of " + batch.size() + " items failed; they are dropped", e);
        }
        flushes.incrementAndGet();
        flushed.addAndGet(batch.size());
        batch.clear();
    }
}
