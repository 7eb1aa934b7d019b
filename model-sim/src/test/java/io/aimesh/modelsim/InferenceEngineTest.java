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
        Sequence alone = engine(10, 4, 100_000).submit(100, 20);
        alone.awaitTermination();

        InferenceEngine loaded = engine(10, 4, 100_000);
        List<Sequence> crowd = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            crowd.add(loaded.submit(100, 20));
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
        Sequence big = engine.submit(10, 80);
        Sequence blocked = engine.submit(10, 20); // 90 + 30 > 100 although a slot is free

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
            seqs.add(engine.submit(10, 30));
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
        Sequence slow = engine(1, 4, 10_000).submit(10, 20);
        Sequence fast = engine(4, 4, 10_000).submit(10, 20);
        slow.awaitTermination();
        fast.awaitTermination();

        assertThat(e2e(fast)).isLessThan(e2e(slow) / 2);
        assertThat(ttft(fast)).isLessThan(ttft(slow));
    }

    @Test
    void decode_paysPrefillForLongPrompts() throws InterruptedException {
        InferenceEngine engine = engine(10, 4, 100_000);
        Sequence shortPrompt = engine.submit(1, 1);
        shortPrompt.awaitTermination();
        Sequence longPrompt = engine.submit(5_000, 1); // 50 ms of prefill at speed 10
        longPrompt.awaitTermination();

        assertThat(ttft(longPrompt)).isGreaterThan(ttft(shortPrompt) + Duration.ofMillis(40).toNanos());
    }

    @Test
    void cancel_freesSlotForTheNextSequence() throws InterruptedException {
        InferenceEngine engine = engine(10, 1, 100_000);
        Sequence endless = engine.submit(10, 50_000);
        Sequence next = engine.submit(10, 5);
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
        Sequence running = engine.submit(10, 200);
        Sequence waiting = engine.submit(10, 5);
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
        Sequence running = engine.submit(10, 50_000);
        Sequence waiting = engine.submit(10, 5);
        awaitFast().until(() -> running.generated() > 0);

        engine.close();

        assertThat(running.awaitTermination()).isEqualTo(Sequence.State.FAILED);
        assertThat(waiting.awaitTermination()).isEqualTo(Sequence.State.FAILED);
        assertThat(engine.submit(1, 1).state()).isEqualTo(Sequence.State.FAILED);
        assertThat(engine.numRunning()).isZero();
        assertThat(engine.numWaiting()).isZero();
    }

    @Test
    void submit_rejectsSequenceLargerThanKvCache() {
        InferenceEngine engine = engine(1, 1, 100);

        assertThatThrownBy(() -> engine.submit(60, 41))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("promptTokens + outputTokens: 60 + 41 (expected: each >= 1, sum <= 100)");
    }

    @Test
    void idleEngine_parksUntilWorkArrives() throws InterruptedException {
        InferenceEngine engine = start(new InferenceEngine(GpuProfile.DEFAULT, 10, 1, 100, new VllmMetrics("m"),
                "engine-test-idle"));
        Thread engineThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("engine-test-idle")).findFirst().orElseThrow();
        awaitFast().until(() -> engineThread.getState() == Thread.State.WAITING);

        Sequence seq = engine.submit(1, 3);

        assertThat(seq.awaitTermination()).isEqualTo(Sequence.State.FINISHED);
        awaitFast().until(() -> engineThread.getState() == Thread.State.WAITING);
    }

    private InferenceEngine engine(double speed, int maxSeqs, int kvTokens) {
        return start(new InferenceEngine(GpuProfile.DEFAULT, speed, maxSeqs, kvTokens, new VllmMetrics("m"),
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
