package io.aimesh.picker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class EndpointLoadTest {
    private final EndpointLoad load = new EndpointLoad();

    @Test
    void inFlight_countsFromStartToFinish() {
        load.started();
        load.started();
        load.finished();

        assertThat(load.inFlight()).isEqualTo(1);
    }

    @Test
    void finished_neverGoesBelowZero() {
        load.finished();
        load.started();
        load.finished();
        load.finished();

        assertThat(load.inFlight()).isZero();
    }

    @Test
    void firstToken_startsAtTheFirstSampleThenMovesByTheSmoothingWeight() {
        assertThat(load.timeToFirstTokenNanos()).isNaN();

        load.firstToken(100_000_000);
        assertThat(load.timeToFirstTokenNanos()).isEqualTo(100_000_000);

        load.firstToken(200_000_000);
        assertThat(load.timeToFirstTokenNanos()).isEqualTo(100_000_000 + EndpointLoad.SMOOTHING * 100_000_000);
    }

    @Test
    void inFlight_losesNoUpdateUnderConcurrentStartsAndFinishes() throws Exception {
        int threads = 4;
        int requests = 50_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < requests; i++) {
                        load.started();
                        load.started();
                        load.finished();
                        load.firstToken(1_000);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(load.inFlight()).isEqualTo((long) threads * requests);
        assertThat(load.timeToFirstTokenNanos()).isEqualTo(1_000);
    }
}
