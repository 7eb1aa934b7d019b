package io.aimesh.modelsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Queueing behaviour of the engine. Timing assertions compare scenarios whose modeled times differ
 * by large factors, so scheduling noise on a loaded machine cannot flip them.
 */
class InferenceEngineTest {

    private static final AtomicInteger ENGINES = new AtomicInteger();
    private final List<InferenceEngine> engines = new ArrayList<>();

    @AfterEach
    void closeEngines() {
        engines.forEach(InferenceEngine::close);
    }

    @Test
    void timeToFirstTokenAndLatency_growWithConcurrentLoad() throws InterruptedException {
        Sequence alone = engine(10, 4, 100_000).submit(100, 20, PromptBlocks.NONE, null);
        alone.awaitTermination();

        InferenceEngine loaded = engine(10, 4, 100_000);
        List<Sequence> crowd = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            crowd.add(loaded.submit(100, 20, PromptBlocks.NONE, null));
        }
        for (Sequence seq : crowd) {
            assertThat(seq.awaitTermination()).isEqualTo(Sequence.State.FINISHED);
        }

        double crowdTtft = crowd.stream().mapToLong(InferenceEngineTest::ttft).average().orElseThrow();
        double crowdE2e = crowd.stream().mapToLong(InferenceEngineTest::e2e).average().orElseThrow();
        assertThat(crowdTtft).isGreaterThan(3.0 * ttft(alone));
        assertThat(crowdE2e).isGreaterThan(1.5 * e2e(alone));
    }

    @Test
    void submit_waitsWhenKvCacheFull_thenRunsAfterAnotherCompletes() throws InterruptedException {
        InferenceEngine engine = engine(10, 8, 100);
        Sequence big = engine.submit(10, 80, PromptBlocks.NONE, null);
        Sequence blocked = engine.submit(10, 20, PromptBlocks.NONE, null); // 90 + 30 > 100 although a slot is free

        awaitFast().until(() -> engine.numRunning() == 1 && engine.numWaiting() == 1);
        assertThat(engine.kvCacheUsage()).isEqualTo(0.9);
        assertThat(blocked.state()).isEqualTo(Sequence.State.WAITING);

        assertThat(blocked.awaitTermination()).isEqualTo(Sequence.State.FINISHED);
        assertThat(big.state()).isEqualTo(Sequence.State.FINISHED);
        assertThat(blocked.admitNanos()).isGreaterThanOrEqualTo(big.endNanos());
        assertThat(engine.numWaiting()).isZero();
        assertThat(engine.kvCacheUsage()).isZero();
    }

    @Test
    void maxSeqs_boundsTheRunningBatch() throws InterruptedException {
        InferenceEngine engine = engine(10, 3, 100_000);
        List<Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            seqs.add(engine.submit(10, 30, PromptBlocks.NONE, null));
        }

        awaitFast().until(() -> engine.numRunning() == 3 && engine.numWaiting() == 7);
        for (Sequence seq : seqs) {
            seq.awaitTermination();
        }

        assertThat(maxOverlap(seqs)).isEqualTo(3);
        assertThat(seqs).allMatch(seq -> seq.generated() == 30);
    }

    @Test
    void higherSpeed_finishesSooner() throws InterruptedException {
        Sequence slow = engine(1, 4, 10_000).submit(10, 20, PromptBlocks.NONE, null);
        Sequence fast = engine(4, 4, 10_000).submit(10, 20, PromptBlocks.NONE, null);
        slow.awaitTermination();
        fast.awaitTermination();

        assertThat(e2e(fast)).isLessThan(e2e(slow) / 2);
        assertThat(ttft(fast)).isLessThan(ttft(slow));
    }

    @Test
    void decode_paysPrefillForLongPrompts() throws InterruptedException {
        InferenceEngine engine = engine(10, 4, 100_000);
        Sequence shortPrompt = engine.submit(1, 1, PromptBlocks.NONE, null);
        shortPrompt.awaitTermination();
        Sequence longPrompt = engine.submit(5_000, 1, PromptBlocks.NONE, null); // 50 ms of prefill at speed 10
        longPrompt.awaitTermination();

        assertThat(ttft(longPrompt)).isGreaterThan(ttft(shortPrompt) + Duration.ofMillis(40).toNanos());
    }

    @Test
    void cancel_freesSlotForTheNextSequence() throws InterruptedException {
        InferenceEngine engine = engine(10, 1, 100_000);
        Sequence endless = engine.submit(10, 50_000, PromptBlocks.NONE, null);
        Sequence next = engine.submit(10, 5, PromptBlocks.NONE, null);
        awaitFast().until(() -> endless.generated() > 0);

        engine.cancel(endless);

        assertThat(next.awaitTermination()).isEqualTo(Sequence.State.FINISHED);
        assertThat(endless.state()).isEqualTo(Sequence.State.CANCELLED);
        assertThat(endless.generated()).isLessThan(50_000);
        awaitFast().until(() -> engine.numRunning() == 0 && engine.kvCacheUsage() == 0);
    }

    @Test
    void cancel_dropsWaitingSequence() throws InterruptedException {
        InferenceEngine engine = engine(10, 1, 100_000);
        Sequence running = engine.submit(10, 200, PromptBlocks.NONE, null);
        Sequence waiting = engine.submit(10, 5, PromptBlocks.NONE, null);
        awaitFast().until(() -> engine.numWaiting() == 1 && running.generated() > 0);

        engine.cancel(waiting);

        assertThat(waiting.awaitTermination()).isEqualTo(Sequence.State.CANCELLED);
        assertThat(engine.numWaiting()).isZero();
        assertThat(waiting.generated()).isZero();
        assertThat(running.state()).isEqualTo(Sequence.State.RUNNING);
    }

    @Test
    void close_failsRunningAndWaitingSequencesAndLaterSubmissions() throws InterruptedException {
        InferenceEngine engine = engine(10, 1, 100_000);
        Sequence running = engine.submit(10, 50_000, PromptBlocks.NONE, null);
        Sequence waiting = engine.submit(10, 5, PromptBlocks.NONE, null);
        awaitFast().until(() -> running.generated() > 0);

        engine.close();

        assertThat(running.awaitTermination()).isEqualTo(Sequence.State.FAILED);
        assertThat(waiting.awaitTermination()).isEqualTo(Sequence.State.FAILED);
        assertThat(engine.submit(1, 1, PromptBlocks.NONE, null).state()).isEqualTo(Sequence.State.FAILED);
        assertThat(engine.numRunning()).isZero();
        assertThat(engine.numWaiting()).isZero();
    }

    @Test
    void submit_rejectsSequenceLargerThanKvCache() {
        InferenceEngine engine = engine(1, 1, 100);

        assertThatThrownBy(() -> engine.submit(60, 41, PromptBlocks.NONE, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("promptTokens + outputTokens: 60 + 41 (expected: each >= 1, sum <= 100)");
    }

    @Test
    void aPromptWhosePrefixIsCached_skipsItsPrefill_andTheMetricsCountTheHit() throws InterruptedException {
        VllmMetrics metrics = new VllmMetrics("m");
        InferenceEngine engine = start(new InferenceEngine(GpuProfile.DEFAULT, 10, 4, new KvCache(100_000, 16, true), new LoraSlots(1, 0), metrics,
                "engine-test-" + ENGINES.incrementAndGet()));
        PromptBlocks document = PromptBlocks.builder("m", 16).text("lorem ipsum ".repeat(1_700)).build(); // 20,400 chars
        int promptTokens = 5_100; // 51 ms of prefill at speed 10

        Sequence cold = engine.submit(promptTokens, 1, document, null);
        cold.awaitTermination();
        Sequence warm = engine.submit(promptTokens, 1, document, null);
        warm.awaitTermination();

        // All 318 full blocks hit (318 * 16 = 5,088 tokens); the partial last block, 12 tokens, is prefilled.
        assertThat(ttft(cold)).isGreaterThan(Duration.ofMillis(45).toNanos());
        assertThat(ttft(warm)).isLessThan(ttft(cold) - Duration.ofMillis(40).toNanos());
        assertThat(new String(metrics.scrape(), java.nio.charset.StandardCharsets.UTF_8)).contains(
                "vllm:prefix_cache_queries_total{model_name=\"m\"} 10200.0\n",
                "vllm:prefix_cache_hits_total{model_name=\"m\"} 5088.0\n");
    }

    @Test
    void aSequenceWhoseAdapterHasNoSlot_waits_whileThoseBehindItRun() throws InterruptedException {
        // One slot, 300 ms loads at speed 10: 30 ms per load.
        InferenceEngine engine = start(new InferenceEngine(GpuProfile.DEFAULT, 10, 4, new KvCache(10_000, 16, true),
                new LoraSlots(1, 300_000_000L), new VllmMetrics("m"), "engine-test-" + ENGINES.incrementAndGet()));

        Sequence first = engine.submit(10, 20, PromptBlocks.NONE, "a");
        Sequence other = engine.submit(10, 5, PromptBlocks.NONE, "b");
        Sequence base = engine.submit(10, 5, PromptBlocks.NONE, null);
        awaitFast().until(() -> engine.numRunning() == 2 && engine.numWaiting() == 1);
        assertThat(engine.runningAdapters()).isEqualTo("a");
        assertThat(engine.waitingAdapters()).isEqualTo("b");
        for (Sequence seq : List.of(first, other, base)) {
            assertThat(seq.awaitTermination()).isEqualTo(Sequence.State.FINISHED);
        }

        assertThat(ttft(first)).isGreaterThanOrEqualTo(Duration.ofMillis(30).toNanos()); // the load
        assertThat(base.admitNanos()).isLessThan(first.endNanos()); // the base model skipped past b
        assertThat(other.admitNanos()).isGreaterThanOrEqualTo(first.endNanos()); // b waited for a's slot
        assertThat(ttft(other)).isGreaterThanOrEqualTo(Duration.ofMillis(30).toNanos()); // and loaded
    }

    @Test
    void idleEngine_parksUntilWorkArrives() throws InterruptedException {
        InferenceEngine engine = start(new InferenceEngine(GpuProfile.DEFAULT, 10, 1, new KvCache(100, 1, false), new LoraSlots(1, 0), new VllmMetrics("m"),
                "engine-test-idle"));
        Thread engineThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("engine-test-idle")).findFirst().orElseThrow();
        awaitFast().until(() -> engineThread.getState() == Thread.State.WAITING);

        Sequence seq = engine.submit(1, 3, PromptBlocks.NONE, null);

        assertThat(seq.awaitTermination()).isEqualTo(Sequence.State.FINISHED);
        awaitFast().until(() -> engineThread.getState() == Thread.State.WAITING);
    }

    private InferenceEngine engine(double speed, int maxSeqs, int kvTokens) {
        return start(new InferenceEngine(GpuProfile.DEFAULT, speed, maxSeqs, new KvCache(kvTokens, 1, false), new LoraSlots(1, 0), new VllmMetrics("m"),
                "engine-test-" + ENGINES.incrementAndGet()));
    }

    private InferenceEngine start(InferenceEngine engine) {
        engines.add(engine);
        engine.start();
        return engine;
    }

    private static ConditionFactory awaitFast() {
        return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1));
    }

    private static long ttft(Sequence seq) {
        return seq.firstTokenNanos() - seq.submitNanos();
    }

    private static long e2e(Sequence seq) {
        return seq.endNanos() - seq.submitNanos();
    }

    /** Most sequences running at once, from their [admit, end) intervals. */
    private static int maxOverlap(List<Sequence> seqs) {
        int max = 0;
        for (Sequence probe : seqs) {
            long at = probe.admitNanos();
            int running = (int) seqs.stream().filter(s -> s.admitNanos() <= at && at < s.endNanos()).count();
            max = Math.max(max, running);
        }
        return max;
    }
}
