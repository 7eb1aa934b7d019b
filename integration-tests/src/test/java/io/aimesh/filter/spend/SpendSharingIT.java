package io.aimesh.filter.spend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.testing.ManualClock;
import io.aimesh.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Spend budgets shared by three filter replicas through a real Redis (with an append-only file),
 * each replica its own journal, driven by 50 concurrent clients: every level stays within its
 * amount plus the documented bound (a lease per replica), the tightest budget is used, nothing is
 * lost when a replica is killed and restarted or Redis restarts, and a month boundary resets the
 * monthly budgets only. The replicas' ledgers are driven directly; the request path in front of a
 * ledger (pricing, reservation, settlement of streams and answers) is SpendBudgetIT's, through Envoy.
 */
class SpendSharingIT {
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final long LEASE = 20_000; // 0.02 per replica
    private static final int CLIENTS = 50;
    private static final SpendRule TEAM = rule(Level.TEAM, "search", 30_000_000, Period.MONTH);
    private static final SpendRule ORG = rule(Level.ORGANIZATION, "acme-corp", 1_000_000_000, Period.ROLLING_30D);
    private static final List<SpendRule> TENANTS = List.of(rule(Level.TENANT, "prod", 20_000_000, Period.MONTH),
            rule(Level.TENANT, "dev", 20_000_000, Period.MONTH));

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-30T10:00:00Z"));
    private final List<Replica> replicas = new ArrayList<>();
    private RedisServer redis;
    /** What the clients were charged, by account: the truth the ledgers must agree with. */
    private final Map<String, AtomicLong> charged = new ConcurrentHashMap<>();

    private static SpendRule rule(Level level, String account, long micros, Period period) {
        return new SpendRule(level, account, SpendRule.key(level, account, period, UTC), micros, period, UTC, List.of(80));
    }

    /** One filter replica's spend: its journal in its own directory, its ledger, its sharing. */
    private final class Replica {
        final Path directory;
        SpendJournal journal;
        SpendLedger ledger;
        SpendSharing sharing;

        Replica(Path directory) throws Exception {
            this.directory = directory;
            start();
        }

        void start() throws Exception {
            journal = SpendJournal.open(directory, 1 << 20, 50);
            ledger = new SpendLedger(clock, journal, alert -> { });
            sharing = SpendSharing.start(ledger, redis.uri(), journal.replica(), LEASE, Duration.ofMillis(5),
                    Duration.ofMillis(500), clock);
        }

        /** What a killed process leaves: its journal as written, nothing more reported. */
        void kill() {
            sharing.abandon();
            journal.close();
        }

        void close() {
            sharing.close();
            journal.close();
        }
    }

    @AfterEach
    void stop() throws Exception {
        replicas.forEach(Replica::close);
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void threeReplicas_fiftyClients_threeLevels_twoMonths_aKilledReplica_andARestartedRedis() throws Exception {
        redis = RedisServer.startPersistent();
        for (int i = 0; i < 3; i++) {
            replicas.add(new Replica(Files.createTempDirectory("aimesh-spend-" + i + "-")));
        }
        long bound = 3 * LEASE; // one lease per replica

        // November (its last day): half the demand, then a replica dies and comes back, then the rest.
        hammer(1, 0.5);
        replicas.get(0).kill();
        replicas.get(0).start(); // the same directory: the same replica id, its journal replayed
        hammer(2, 1.0);
        assertWithinBudgets(bound);
        converged("2026-11");
        long november = charged("team/search");
        System.out.printf("SpendSharingIT: November: team spent %.6f of %.2f (bound +%.2f); tenants %.6f and %.6f of %.2f%n",
                november / 1e6, TEAM.amountMicros() / 1e6, bound / 1e6, charged("tenant/prod") / 1e6,
                charged("tenant/dev") / 1e6, TENANTS.get(0).amountMicros() / 1e6);
        assertThat(november).as("the tightest budget is used").isGreaterThanOrEqualTo(TEAM.amountMicros() * 95 / 100);

        redis.stop();
        redis.startAgain(); // its append-only file brings every replica's total back
        converged("2026-11");

        // December: the monthly budgets start afresh; the organisation's rolling 30 days do not.
        clock.set(Instant.parse("2026-12-01T00:00:00Z"));
        charged.keySet().removeIf(account -> !account.startsWith("organization/"));
        assertThat(replicas.get(1).ledger.usage(TEAM, clock.instant()).spentMicros()).isZero();
        assertThat(replicas.get(1).ledger.usage(ORG, clock.instant()).spentMicros()).isEqualTo(charged("organization/acme-corp"));
        hammer(3, 1.0);
        assertWithinBudgets(bound);
        converged("2026-12");
        assertThat(charged("team/search")).isGreaterThanOrEqualTo(TEAM.amountMicros() * 95 / 100);
    }

    /**
     * {@code CLIENTS} clients, each on a replica (client % 3) and a tenant (client % 2), with costs
     * from a fixed seed (a reservation of 0.002 to 0.02, an answer of 30 to 100 % of it), until the
     * budgets refuse them for good or {@code share} of a month's team budget has been charged.
     */
    private void hammer(long seed, double share) throws Exception {
        long stopAt = (long) (TEAM.amountMicros() * share);
        long start = charged("team/search");
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            done.add(clients.submit(() -> {
                SplittableRandom random = new SplittableRandom(seed * 1_000 + client);
                List<SpendRule> chain = List.of(TENANTS.get(client % 2), TEAM, ORG);
                int refusedInARow = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                // 200 refusals in a row (over 40 ms) outlast every request in flight: the budget is spent for good.
                while (refusedInARow < 200 && charged("team/search") - start < stopAt && System.nanoTime() < deadline) {
                    long reserve = 2_000 + random.nextLong(18_000);
                    SpendAdmission admission = replicas.get(client % 3).ledger.admit(chain, reserve);
                    if (!admission.admitted()) {
                        refusedInARow = admission.refusal() == SpendAdmission.Refusal.OVER_BUDGET ? refusedInARow + 1 : 0;
                        LockSupport.parkNanos(200_000); // a client waits before it tries again
                        continue;
                    }
                    refusedInARow = 0;
                    LockSupport.parkNanos(random.nextLong(100_000, 2_000_000)); // the request runs
                    long cost = reserve * (30 + random.nextInt(71)) / 100;
                    admission.reservation().settle("llama", cost);
                    for (SpendRule rule : chain) {
                        charged.computeIfAbsent(rule.level().label() + "/" + rule.account(), k -> new AtomicLong()).addAndGet(cost);
                    }
                }
            }));
        }
        for (Future<?> client : done) {
            client.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();
    }

    private long charged(String account) {
        AtomicLong value = charged.get(account);
        return value == null ? 0 : value.get();
    }

    private void assertWithinBudgets(long bound) {
        assertThat(charged("team/search")).isLessThanOrEqualTo(TEAM.amountMicros() + bound);
        for (SpendRule tenant : TENANTS) {
            assertThat(charged("tenant/" + tenant.account())).isLessThanOrEqualTo(tenant.amountMicros() + bound);
        }
    }

    /**
     * Every replica, once its reports are in, sees exactly what the clients were charged: nothing
     * lost, nothing twice. An idle replica reports only buckets in use: each is touched (a
     * reservation of nothing) so that it reads the others' spend again.
     */
    private void converged(String month) {
        for (Replica replica : replicas) {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (SpendRule rule : List.of(TENANTS.get(0), TENANTS.get(1), TEAM, ORG)) {
                    SpendAdmission touch = replica.ledger.admit(List.of(rule), 0);
                    if (touch.admitted()) {
                        touch.reservation().release();
                    }
                }
                assertThat(replica.ledger.usage(TEAM, clock.instant()).window().id()).isEqualTo(month);
                assertThat(replica.ledger.usage(TEAM, clock.instant()).spentMicros()).isEqualTo(charged("team/search"));
                for (SpendRule tenant : TENANTS) {
                    assertThat(replica.ledger.usage(tenant, clock.instant()).spentMicros())
                            .isEqualTo(charged("tenant/" + tenant.account()));
                }
                assertThat(replica.ledger.usage(ORG, clock.instant()).spentMicros()).isEqualTo(charged("organization/acme-corp"));
            });
        }
    }
}
