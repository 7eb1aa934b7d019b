package io.aimesh.filter.limit;

import io.aimesh.testing.RedisServer;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three filter replicas' token limiters sharing one tenant limit through a real Redis: over
 * several windows the tokens they admit together stay within limit + replicas × lease, where each
 * replica alone would have admitted the whole limit.
 */
class SharedLimitIT {
    private static final long LIMIT = 30_000;
    private static final long LEASE = 600;
    private static final TenantLimits ACME = new TenantLimits("acme",
            List.of(new LimitRule("0", List.of("*"), Duration.ofMinutes(1), LIMIT, LimitRule.Cost.TOTAL, 0)), 0);

    private final AtomicLong clock = new AtomicLong(60_000L * 29_000_000);
    private final List<GlobalBudgets> shared = new ArrayList<>();
    private RedisServer redis;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        shared.forEach(GlobalBudgets::close);
        redis.close();
    }

    @Test
    void threeReplicas_admitTogetherWithinTheStatedBound_windowAfterWindow() throws Exception {
        List<TokenLimiter> limiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            limiters.add(new TokenLimiter(clock::get, 1_000));
            shared.add(GlobalBudgets.connect(redis.uri(), new GlobalBudgets.Policy(LEASE, Duration.ofMillis(5),
                    GlobalBudgets.WhenDown.CLOSED, 0, Duration.ofMillis(500)), clock::get));
        }
        for (int window = 0; window < 3; window++) {
            long admitted = run(limiters);
            assertThat(admitted).as("window %d", window).isLessThanOrEqualTo(LIMIT + 3 * LEASE)
                    .isGreaterThan(LIMIT - 3 * LEASE);
            clock.addAndGet(60_000);
        }
    }

    @Test
    void rateLimitHeaders_showWhatAllReplicasTogetherHaveLeft() throws Exception {
        TokenLimiter first = new TokenLimiter(clock::get, 1_000);
        TokenLimiter second = new TokenLimiter(clock::get, 1_000);
        GlobalBudgets firstShare = GlobalBudgets.connect(redis.uri(), new GlobalBudgets.Policy(LEASE, Duration.ofMillis(5),
                GlobalBudgets.WhenDown.CLOSED, 0, Duration.ofMillis(500)), clock::get);
        GlobalBudgets secondShare = GlobalBudgets.connect(redis.uri(), new GlobalBudgets.Policy(LEASE, Duration.ofMillis(5),
                GlobalBudgets.WhenDown.CLOSED, 0, Duration.ofMillis(500)), clock::get);
        shared.add(firstShare);
        shared.add(secondShare);
        for (int i = 0; i < 20; i++) { // 2,000 tokens; a request refused while the lease is out is sent again
            Admission admitted = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> first.admit(ACME, "llama", 100, 0, firstShare), Admission::admitted);
            admitted.reservation().reconcile(100, 0);
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> redis.get("aimesh:budget:acme/0/*:" + clock.get() / 60_000) == 2_000);
        secondShare.tryAcquire("acme/0/*", LIMIT, Duration.ofMinutes(1), 0); // makes the second replica read the count
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> secondShare.used("acme/0/*", Duration.ofMinutes(1)) >= 2_000);

        Admission admission = second.admit(ACME, "llama", 100, 0, secondShare);

        // Its own budget has 29,900 left; all replicas together 27,900.
        assertThat(admission.headers().remainingTokens()).isEqualTo(LIMIT - 2_100);
    }

    /** Each replica admits and settles requests (its usage as estimated) until it refuses 50 in a row; the tokens admitted. */
    private long run(List<TokenLimiter> limiters) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(limiters.size());
        try {
            List<Future<Long>> parts = new ArrayList<>();
            for (int r = 0; r < limiters.size(); r++) {
                TokenLimiter limiter = limiters.get(r);
                GlobalBudgets global = shared.get(r);
                SplittableRandom random = new SplittableRandom(11 + r);
                parts.add(pool.submit(() -> {
                    long total = 0;
                    int refusedInARow = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (System.nanoTime() < deadline) {
                        long output = 1 + random.nextInt(150);
                        Admission admission = limiter.admit(ACME, "llama", 50, output, global);
                        if (admission.admitted()) {
                            admission.reservation().reconcile(50, output);
                            total += 50 + output;
                            refusedInARow = 0;
                        } else if (global.used("acme/0/*", Duration.ofMinutes(1)) + 200 > LIMIT && ++refusedInARow >= 50) {
                            break; // this replica sees the shared budget spent
                        }
                        LockSupport.parkNanos(20_000);
                    }
                    return total;
                }));
            }
            long total = 0;
            for (Future<Long> part : parts) {
                total += part.get(60, TimeUnit.SECONDS);
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }
}
