package io.aimesh.bench.spend;

import io.aimesh.bench.AbstractMicrobenchmark;
import io.aimesh.filter.limit.LimitRule;
import io.aimesh.filter.limit.TenantLimits;
import io.aimesh.filter.limit.TokenLimiter;
import io.aimesh.filter.spend.Level;
import io.aimesh.filter.spend.Period;
import io.aimesh.filter.spend.SpendAdmission;
import io.aimesh.filter.spend.SpendJournal;
import io.aimesh.filter.spend.SpendLedger;
import io.aimesh.filter.spend.SpendRule;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The per-request cost of spend budgets: reserve a request's price in the budgets of its key,
 * tenant, team and organisation, then settle it at its real cost, as the ai-filter does around
 * every request of a budgeted tenant. {@code store} picks what the settlement does, in the same
 * run: {@code memory} (no {@code --spend-dir}), {@code journal} (one {@code write} per budget into
 * the journal before the answer ends), and {@code tokens}: the token limiter's admit-and-settle of
 * the same requests, what every request of a limited tenant already pays, for scale. Requests are
 * drawn from a fixed seed over 1024 keys in 64 tenants, 8 teams and one organisation, with budgets
 * large enough that nothing is refused during a run.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main SpendLedgerBenchmark
 * </pre>
 * A quick look: append {@code -f 1 -wi 2 -i 3 -r 1s}; allocation per operation: {@code -prof gc}.
 */
@State(Scope.Benchmark)
public class SpendLedgerBenchmark extends AbstractMicrobenchmark {
    private static final long SEED = 42;
    private static final int REQUESTS = 1 << 14;
    private static final long LARGE = 1_000_000_000_000_000L;

    @Param({"memory", "journal", "tokens"})
    public String store;

    private SpendLedger ledger;
    private SpendJournal journal;
    private TokenLimiter limiter;
    private List<SpendRule>[] chains;
    private TenantLimits[] limits;
    private long[] reserve;
    private long[] cost;

    @Setup
    @SuppressWarnings("unchecked")
    public void setUp() throws IOException {
        ZoneId utc = ZoneId.of("UTC");
        SpendRule org = rule(Level.ORGANIZATION, "acme-corp", Period.MONTH, utc);
        SpendRule[] teams = new SpendRule[8];
        for (int t = 0; t < teams.length; t++) {
            teams[t] = rule(Level.TEAM, "team-" + t, Period.MONTH, utc);
        }
        SpendRule[] tenants = new SpendRule[64];
        for (int t = 0; t < tenants.length; t++) {
            tenants[t] = rule(Level.TENANT, "tenant-" + t, Period.ROLLING_30D, utc);
        }
        SplittableRandom random = new SplittableRandom(SEED);
        chains = new List[REQUESTS];
        limits = new TenantLimits[REQUESTS];
        reserve = new long[REQUESTS];
        cost = new long[REQUESTS];
        TenantLimits[] tenantLimits = new TenantLimits[tenants.length];
        for (int t = 0; t < tenants.length; t++) {
            tenantLimits[t] = new TenantLimits("tenant-" + t, List.of(new LimitRule("tpm", List.of("*"), Duration.ofMinutes(1),
                    LimitRule.MAX_TOKENS, new LimitRule.Cost(1, 1), 0)), 0);
        }
        for (int i = 0; i < REQUESTS; i++) {
            int key = random.nextInt(1024);
            int tenant = key % tenants.length;
            List<SpendRule> chain = new ArrayList<>(4);
            chain.add(rule(Level.KEY, "key-" + key, Period.DAY, utc));
            chain.add(tenants[tenant]);
            chain.add(teams[tenant % teams.length]);
            chain.add(org);
            chains[i] = List.copyOf(chain);
            limits[i] = tenantLimits[tenant];
            reserve[i] = random.nextLong(100, 20_000);
            cost[i] = reserve[i] * random.nextInt(30, 101) / 100;
        }
        switch (store) {
            case "memory" -> ledger = new SpendLedger(Clock.systemUTC(), null, alert -> { });
            case "journal" -> {
                journal = SpendJournal.open(Files.createTempDirectory("aimesh-spend-bench-"), 64L << 20, 100);
                ledger = new SpendLedger(Clock.systemUTC(), journal, alert -> { });
            }
            case "tokens" -> limiter = new TokenLimiter(System::currentTimeMillis, TokenLimiter.DEFAULT_MAX_BUDGETS);
            default -> throw new IllegalArgumentException("store: " + store + " (expected: memory, journal or tokens)");
        }
    }

    private static SpendRule rule(Level level, String account, Period period, ZoneId zone) {
        return new SpendRule(level, account, SpendRule.key(level, account, period, zone), LARGE, period, zone, List.of());
    }

    @TearDown
    public void tearDown() {
        if (journal != null) {
            journal.close();
        }
    }

    @Benchmark
    @Threads(1)
    public long admitAndSettle(Cursor cursor) {
        return run(cursor.next());
    }

    @Benchmark
    @Threads(2)
    public long admitAndSettleTwoThreads(Cursor cursor) {
        return run(cursor.next());
    }

    private long run(int i) {
        if (limiter != null) {
            var admission = limiter.admit(limits[i], "llama", reserve[i] / 2, reserve[i] / 2);
            admission.reservation().reconcile(cost[i] / 2, cost[i] / 2);
            return admission.headers().remainingTokens();
        }
        SpendAdmission admission = ledger.admit(chains[i], reserve[i]);
        admission.reservation().settle("llama", cost[i]);
        return admission.remaining().micros();
    }

    /** Each thread's position in the shared request sequence, starting apart. */
    @State(Scope.Thread)
    public static class Cursor {
        private static final AtomicInteger THREADS = new AtomicInteger();
        private int next;

        @Setup
        public void setUp() {
            next = THREADS.getAndIncrement() * 7919;
        }

        int next() {
            return next++ & (REQUESTS - 1);
        }
    }
}
