package io.aimesh.filter.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** Exactly once, in order per producer, bounded, prompt when idle, and nothing left at shutdown. */
class BatcherTest {
    /** An item: its producer and its number in that producer's sequence. */
    private record Item(int producer, int sequence) {
    }

    @Test
    void concurrentProducers_everyItemFlushedExactlyOnce_inOrderPerProducer() throws Exception {
        int producers = 4;
        int perProducer = 50_000;
        List<List<Item>> batches = new ArrayList<>();
        Batcher<Item> batcher = Batcher.start("stress", new Batcher.Policy(64, Duration.ofNanos(20_000), 1024),
                batch -> {
                    batches.add(batch); // the consumer thread alone
                    if (batch.size() % 7 == 0) {
                        LockSupport.parkNanos(5_000); // a slow flush now and then lets batches grow
                    }
                });
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        CyclicBarrier start = new CyclicBarrier(producers);
        List<Future<Integer>> refusals = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            refusals.add(pool.submit(() -> {
                SplittableRandom random = new SplittableRandom(42 + producer);
                start.await();
                int refused = 0;
                for (int i = 0; i < perProducer; i++) {
                    while (!batcher.offer(new Item(producer, i))) {
                        refused++; // backpressure: the ring is full, try again
                        Thread.onSpinWait();
                    }
                    if (random.nextInt(1_000) == 0) {
                        LockSupport.parkNanos(random.nextInt(50_000));
                    }
                }
                return refused;
            }));
        }
        for (Future<Integer> refused : refusals) {
            refused.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        batcher.close();

        int[] next = new int[producers];
        long total = 0;
        for (List<Item> batch : batches) {
            assertThat(batch.size()).isBetween(1, 64);
            for (Item item : batch) {
                assertThat(item.sequence()).as("producer %d's next item", item.producer()).isEqualTo(next[item.producer()]);
                next[item.producer()]++;
                total++;
            }
        }
        assertThat(next).containsOnly(perProducer);
        assertThat(total).isEqualTo((long) producers * perProducer);
        assertThat(batcher.flushed()).isEqualTo(total);
        assertThat(batcher.flushes()).isEqualTo(batches.size()).isLessThan(total); // some batching happened
    }

    @Test
    void aLoneItem_isFlushedAtOnce_notAfterTheLinger() {
        ConcurrentLinkedQueue<Integer> flushed = new ConcurrentLinkedQueue<>();
        try (Batcher<Integer> batcher = Batcher.start("idle", new Batcher.Policy(64, Duration.ofSeconds(30), 64), flushed::addAll)) {
            assertThat(batcher.offer(1)).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> flushed.contains(1)); // far less than the 30 s linger
        }
    }

    @Test
    void aFullRing_refusesItems_andTakesThemAgainOnceDrained() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger seen = new AtomicInteger();
        try (Batcher<Integer> batcher = Batcher.start("full", new Batcher.Policy(4, Duration.ZERO, 8), batch -> {
            seen.addAndGet(batch.size());
            try {
                release.await(); // the first flush holds the consumer
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            assertThat(batcher.offer(0)).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> seen.get() == 1); // the consumer is stuck in its first flush
            for (int i = 1; i <= 8; i++) {
                assertThat(batcher.offer(i)).as("item %d fits the ring of 8", i).isTrue();
            }
            assertThat(batcher.offer(9)).isFalse();
            release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> seen.get() == 9);
            assertThat(batcher.offer(9)).isTrue();
        }
    }

    @Test
    void close_flushesEverythingTaken_andRefusesMore() {
        List<Integer> flushed = new ArrayList<>();
        Batcher<Integer> batcher = Batcher.start("close", new Batcher.Policy(3, Duration.ofSeconds(30), 128), flushed::addAll);
        for (int i = 0; i < 100; i++) {
            assertThat(batcher.offer(i)).isTrue();
        }
        batcher.close();

        assertThat(flushed).hasSize(100).isSorted();
        assertThat(batcher.offer(100)).isFalse();
    }

    @Test
    void aFailingFlush_dropsItsBatchOnly() {
        List<Integer> flushed = new ArrayList<>();
        try (Batcher<Integer> batcher = Batcher.start("failing", new Batcher.Policy(1, Duration.ZERO, 8), batch -> {
            if (batch.get(0) == 1) {
                throw new IllegalStateException("boom");
            }
            flushed.addAll(batch);
        })) {
            for (int i = 0; i < 3; i++) {
                batcher.offer(i);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> batcher.flushes() == 3);
        }
        assertThat(flushed).containsExactly(0, 2);
    }
}
