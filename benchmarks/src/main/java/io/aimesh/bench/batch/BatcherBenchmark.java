package io.aimesh.bench.batch;

import io.aimesh.bench.AbstractMicrobenchmark;
import io.aimesh.filter.batch.Batcher;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The batching core against one flush per item. Each operation is one work item, from its offer to
 * the end of the flush that carried it (the producer waits for that, as a request waits for its
 * Redis reply): the {@code sample} mode's p50 and p99 are the added latency, and threads divided by
 * the average time the throughput.
 *
 * <p>A flush costs {@value #FLUSH_NANOS} ns plus {@value #ITEM_NANOS} ns per item, spun on the
 * flushing thread: about a pipelined round trip to a local Redis and its per-command cost. One
 * resource is flushed to (one connection), so flushes never overlap.
 * <ul>
 *   <li>{@code naive}: each producer flushes its own item, one at a time (a lock around the
 *       resource): one round trip per item.</li>
 *   <li>{@code batchN}: {@link Batcher} with {@code maxBatch} N and no linger.</li>
 *   <li>{@code batch64-linger50us}: the same, lingering up to 50 µs for a busy batch to fill.</li>
 * </ul>
 * {@code oneProducer}, {@code fourProducers} and {@code eightProducers} run 1, 4 and 8 producer
 * threads (on top of the batcher's consumer).
 *
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main BatcherBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
public class BatcherBenchmark extends AbstractMicrobenchmark {
    static final long FLUSH_NANOS = 20_000;
    static final long ITEM_NANOS = 200;

    @Param({"naive", "batch16", "batch64", "batch64-linger50us"})
    public String config;

    private Batcher<Work> batcher;
    private final Object resource = new Object();

    /** A work item; its producer waits until it is flushed. */
    static final class Work {
        final Thread producer = Thread.currentThread();
        final long offeredNanos = System.nanoTime();
        volatile boolean done;
    }

    /** Offer to end of flush, as the flusher sees it: without the producer's wake-up. The consumer alone records. */
    private static final org.HdrHistogram.Histogram OFFER_TO_FLUSH = new org.HdrHistogram.Histogram(1, 60_000_000_000L, 3);

    @Setup(Level.Trial)
    public void start() {
        if (!config.equals("naive")) {
            int maxBatch = config.startsWith("batch16") ? 16 : 64;
            Duration linger = config.endsWith("linger50us") ? Duration.ofNanos(50_000) : Duration.ZERO;
            batcher = Batcher.start("bench", new Batcher.Policy(maxBatch, linger, 4096), BatcherBenchmark::flush);
        }
    }

    @Setup(Level.Iteration)
    public void resetHistogram() {
        synchronized (OFFER_TO_FLUSH) {
            OFFER_TO_FLUSH.reset();
        }
    }

    /** Prints the flusher's view of the last iteration (JMH's own sample also counts the producer's wake-up). */
    @TearDown(Level.Iteration)
    public void printHistogram() {
        if (batcher != null) {
            synchronized (OFFER_TO_FLUSH) {
                System.out.printf("%n[offer-to-flush %s] p50 %d ns, p99 %d ns, mean batch %.1f%n", config,
                        OFFER_TO_FLUSH.getValueAtPercentile(50), OFFER_TO_FLUSH.getValueAtPercentile(99),
                        (double) batcher.flushed() / Math.max(1, batcher.flushes()));
            }
        }
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (batcher != null) {
            batcher.close();
        }
    }

    @Benchmark
    @Threads(1)
    public void oneProducer() {
        offerAndAwait();
    }

    @Benchmark
    @Threads(4)
    public void fourProducers() {
        offerAndAwait();
    }

    @Benchmark
    @Threads(8)
    public void eightProducers() {
        offerAndAwait();
    }

    private void offerAndAwait() {
        if (batcher == null) {
            synchronized (resource) {
                spin(FLUSH_NANOS + ITEM_NANOS);
            }
            return;
        }
        Work work = new Work();
        while (!batcher.offer(work)) {
            Thread.onSpinWait(); // the ring is full: a real caller would shed; here it waits its turn
        }
        while (!work.done) {
            LockSupport.park(this);
        }
    }

    private static void flush(List<Work> batch) {
        spin(FLUSH_NANOS + ITEM_NANOS * batch.size());
        long end = System.nanoTime();
        synchronized (OFFER_TO_FLUSH) {
            for (Work work : batch) {
                OFFER_TO_FLUSH.recordValue(Math.max(1, end - work.offeredNanos));
            }
        }
        for (Work work : batch) {
            work.done = true;
            LockSupport.unpark(work.producer);
        }
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
