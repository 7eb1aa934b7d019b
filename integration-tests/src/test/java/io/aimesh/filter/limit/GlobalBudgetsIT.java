package io.aimesh.filter.limit;

import io.aimesh.testing.RedisServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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

/** Budgets shared by replicas through a real Redis: the stated bound, a dead replica, Redis going away and back. */
class GlobalBudgetsIT {
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final long LEASE = 500;
    private static final long LIMIT = 20_000;

    private final AtomicLong clock = new AtomicLong(60_000L * 29_000_000);
    private final List<GlobalBudgets> replicas = new ArrayList<>();
    private RedisServer redis;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        replicas.forEach(GlobalBudgets::close);
        redis.close();
    }

    @Test
    void threeReplicas_admitWithinLimitPlusReplicasTimesLease_windowAfterWindow_andEveryAdmissionIsCounted() throws Exception {
        for (int i = 0; i < 3; i++) {
            replica(GlobalBudgets.WhenDown.CLOSED);
        }
        for (int window = 0; window < 3; window++) {
            long admitted = hammer("tenant-a");
            // limit + N * lease: each replica admits no more than its lease beyond what Redis has counted.
            assertThat(admitted).isLessThanOrEqualTo(LIMIT + 3 * LEASE);
            assertThat(admitted).isGreaterThan(LIMIT - 3 * LEASE); // and the budget is used, not wasted
            String key = "aimesh:budget:tenant-a:" + clock.get() / MINUTE.toMillis();
            await().atMost(Duration.ofSeconds(5)).until(() -> redis.get(key) == admitted); // nothing lost
            clock.addAndGet(MINUTE.toMillis()); // the next window starts afresh
        }
    }

    @Test
    void aDeadReplica_losesAtMostItsLease_theOthersKeepTheLimit_andARestartedOneRejoins() throws Exception {
        GlobalBudgets doomed = replica(GlobalBudgets.WhenDown.CLOSED);
        GlobalBudgets survivor = replica(GlobalBudgets.WhenDown.CLOSED);
        long beforeDeath = 0;
        for (int i = 0; i < 40; i++) {
            if (doomed.tryAcquire("tenant-b", LIMIT, MINUTE, 100) == GlobalBudgets.Outcome.ADMITTED) {
                beforeDeath += 100;
            }
        }
        doomed.abandon();
        replicas.remove(doomed);
        String key = "aimesh:budget:tenant-b:" + clock.get() / MINUTE.toMillis();
        long reportedByDoomed = redis.get(key);
        assertThat(beforeDeath - reportedByDoomed).as("tokens lost with the dead replica").isBetween(0L, LEASE);

        long afterDeath = drain(survivor, "tenant-b");
        await().atMost(Duration.ofSeconds(5)).until(() -> redis.get(key) == reportedByDoomed + afterDeath);
        assertThat(reportedByDoomed + afterDeath).isLessThanOrEqualTo(LIMIT + 2 * LEASE).isGreaterThan(LIMIT - 2 * LEASE);

        GlobalBudgets reborn = replica(GlobalBudgets.WhenDown.CLOSED);
        long rebornAdmitted = drain(reborn, "tenant-b");
        assertThat(rebornAdmitted).isLessThanOrEqualTo(LEASE); // it learns the budget is spent at its first report
        await().atMost(Duration.ofSeconds(5)).until(() -> reborn.used("tenant-b", MINUTE) >= LIMIT - LEASE);
    }

    @Test
    void redisGone_failClosed_refuses_andRecoversWithoutARestart() throws Exception {
        GlobalBudgets replica = replica(GlobalBudgets.WhenDown.CLOSED);
        assertThat(replica.tryAcquire("tenant-c", LIMIT, MINUTE, 10)).isEqualTo(GlobalBudgets.Outcome.ADMITTED);

        redis.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> replica.tryAcquire("tenant-c", LIMIT, MINUTE, 10)
                == GlobalBudgets.Outcome.REDIS_DOWN && !replica.redisUp());
        assertThat(replica.tryAcquire("tenant-c", LIMIT, MINUTE, 10)).isEqualTo(GlobalBudgets.Outcome.REDIS_DOWN);

        redis.startAgain();
        await().atMost(Duration.ofSeconds(10)).until(() -> replica.tryAcquire("tenant-c", LIMIT, MINUTE, 10)
                == GlobalBudgets.Outcome.ADMITTED);
        assertThat(replica.redisUp()).isTrue();
    }

    @Test
    void redisGone_failOpen_admitsUpToTheLocalCap_andReportsThemWhenBack() throws Exception {
        GlobalBudgets replica = replica(GlobalBudgets.WhenDown.OPEN);
        redis.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            replica.tryAcquire("tenant-d", LIMIT, MINUTE, 1); // activity makes the replica report, and fail
            return !replica.redisUp();
        });
        long local = replica.used("tenant-d", MINUTE);
        long duringOutage = 0;
        for (int i = 0; i < 100; i++) {
            if (replica.tryAcquire("tenant-d", LIMIT, MINUTE, 50) == GlobalBudgets.Outcome.ADMITTED) {
                duringOutage += 50;
            }
        }
        assertThat(local + duringOutage).isLessThanOrEqualTo(1_000).isGreaterThan(1_000 - 50);

        redis.startAgain();
        String key = "aimesh:budget:tenant-d:" + clock.get() / MINUTE.toMillis();
        long expected = local + duringOutage;
        await().atMost(Duration.ofSeconds(10)).until(() -> replica.redisUp() && redis.get(key) == expected);
    }

    private GlobalBudgets replica(GlobalBudgets.WhenDown whenDown) {
        GlobalBudgets replica = GlobalBudgets.connect(redis.uri(), new GlobalBudgets.Policy(LEASE, Duration.ofMillis(5),
                whenDown, 1_000, Duration.ofMillis(300)), clock::get);
        replicas.add(replica);
        return replica;
    }

    /**
     * Every replica sends requests of 1 to 200 tokens (seeded), concurrently, until its own view of
     * the budget is full; the tokens admitted. (A replica refused only because its lease is out
     * keeps trying: its report will come back.)
     */
    private long hammer(String budget) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size());
        try {
            List<Future<Long>> admitted = new ArrayList<>();
            for (int r = 0; r < replicas.size(); r++) {
                GlobalBudgets replica = replicas.get(r);
                SplittableRandom random = new SplittableRandom(7 + r);
                admitted.add(pool.submit(() -> {
                    long total = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (replica.used(budget, MINUTE) + 200 <= LIMIT && System.nanoTime() < deadline) {
                        long cost = 1 + random.nextInt(200);
                        if (replica.tryAcquire(budget, LIMIT, MINUTE, cost) == GlobalBudgets.Outcome.ADMITTED) {
                            total += cost;
                        }
                        LockSupport.parkNanos(20_000); // requests arrive over time: reports happen in between
                    }
                    return total;
                }));
            }
            long total = 0;
            for (Future<Long> part : admitted) {
                total += part.get(60, TimeUnit.SECONDS);
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Sends 100-token requests to {@code replica} until its view of the budget, read back from Redis,
     * is full; the tokens admitted.
     */
    private static long drain(GlobalBudgets replica, String budget) {
        long admitted = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (replica.tryAcquire(budget, LIMIT, MINUTE, 100) == GlobalBudgets.Outcome.ADMITTED) {
                admitted += 100;
            } else if (replica.used(budget, MINUTE) + 100 > LIMIT) {
                return admitted;
            }
            LockSupport.parkNanos(100_000);
        }
        return admitted;
    }
}
