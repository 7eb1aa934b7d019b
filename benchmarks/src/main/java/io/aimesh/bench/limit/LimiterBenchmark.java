package io.aimesh.bench.limit;

import io.aimesh.bench.AbstractMicrobenchmark;
import com.google.common.util.concurrent.RateLimiter;
import io.aimesh.filter.limit.Admission;
import io.aimesh.filter.limit.LimitRule;
import io.aimesh.filter.limit.TenantLimits;
import io.aimesh.filter.limit.TokenLimiter;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * The per-request cost of token limiting: admit a request's estimated tokens, then settle with its
 * real usage, as the ext_proc filter does around every inference request. {@code limiter} picks
 * the implementation, measured in the same run:
 * <ul>
 *   <li>{@code aimesh}: {@link TokenLimiter#admit} then
 *       {@link io.aimesh.filter.limit.Reservation#reconcile}; its answer includes the rate-limit
 *       header values;</li>
 *   <li>{@code bucket4j}: a lock-free Bucket4j {@code LocalBucket} per tenant in a
 *       {@link ConcurrentHashMap}: {@code tryConsume(estimate)}, then {@code addTokens} for a refund
 *       or {@code consumeIgnoringRateLimits} for an extra charge;</li>
 *   <li>{@code guava}: a Guava {@link RateLimiter} per tenant: {@code tryAcquire(estimate)}, then
 *       {@code tryAcquire(extra)} for an extra charge. Guava cannot refund, so for the three
 *       requests in four that used less than estimated it does half the work of the others (one
 *       clock reading instead of two): a lower bound, not the same job.</li>
 * </ul>
 * All read {@code System.currentTimeMillis} or {@code nanoTime}, about 22 ns a call on a
 * virtualised EPYC: the two readings of admit-and-settle are about half of aimesh's time.
 * Every tenant has one limit on total tokens per minute, large enough that nothing is refused
 * during a run, so all three do the admitting path. Requests are drawn from a fixed seed over
 * {@code keys} tenants: 1024 spreads them (no hot key), 1 puts every thread on one budget.
 * {@code admitAndSettle} runs one thread, {@code admitAndSettleTwoThreads} two (per-thread time;
 * throughput is threads / time).
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -o -q -pl benchmarks -am package -DskipTests
 * java -cp 'benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
 *     org.openjdk.jmh.Main LimiterBenchmark
 * </pre>
 * A quick look: append {@code -f 1 -wi 2 -i 3 -r 1s}; allocation per operation: {@code -prof gc}.
 * The p99 is the {@code ·p0.99} row of each {@code sample} result.
 */
@State(Scope.Benchmark)
public class LimiterBenchmark extends AbstractMicrobenchmark {
    private static final long SEED = 42;
    /** A power of two, for the cursor mask; large enough that the sequence does not train the branch predictor. */
    private static final int REQUESTS = 1 << 14;
    private static final long TOKENS_PER_MINUTE = LimitRule.MAX_TOKENS;
    /** Bucket4j refills at most one token per nanosecond; its full bucket outlasts a run all the same. */
    private static final long BUCKET4J_REFILL_PER_MINUTE = Duration.ofMinutes(1).toNanos() / 2;
    private static final String MODEL = "llama-3-8b-instruct";

    @Param({"aimesh", "bucket4j", "guava"})
    public String limiter;

    @Param({"1024", "1"})
    public int keys;

    private Contender contender;
    private Request[] requests;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(SEED);
        requests = new Request[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            long input = random.nextInt(1, 513);
            long output = random.nextInt(1, 257);
            // Usage below the estimate (max_tokens was generous) most of the time, above it sometimes.
            long actualOutput = random.nextInt(4) == 0 ? output + random.nextInt(64) : random.nextInt(1, (int) output + 1);
            requests[i] = new Request(random.nextInt(keys), input, output, input, actualOutput);
        }
        contender = switch (limiter) {
            case "aimesh" -> new Aimesh(keys);
            case "bucket4j" -> new Bucket4j(keys);
            case "guava" -> new Guava(keys);
            default -> throw new IllegalArgumentException("limiter: " + limiter + " (expected: aimesh, bucket4j or guava)");
        };
    }

    @Benchmark
    @Threads(1)
    public long admitAndSettle(Cursor cursor) {
        return contender.admitAndSettle(requests[cursor.next()]);
    }

    @Benchmark
    @Threads(2)
    public long admitAndSettleTwoThreads(Cursor cursor) {
        return contender.admitAndSettle(requests[cursor.next()]);
    }

    /** Each thread's position in the shared request sequence, starting apart so threads do not walk in step. */
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

    record Request(int key, long input, long output, long actualInput, long actualOutput) {
        long estimate() {
            return input + output;
        }

        long actual() {
            return actualInput + actualOutput;
        }
    }

    /** One limiter doing the benchmark's work. */
    interface Contender {
        /** Admits {@code request} and settles it; returns a value that depends on the outcome. */
        long admitAndSettle(Request request);
    }

    static final class Aimesh implements Contender {
        private final TokenLimiter limiter = new TokenLimiter(System::currentTimeMillis, TokenLimiter.DEFAULT_MAX_BUDGETS);
        private final TenantLimits[] tenants;

        Aimesh(int keys) {
            LimitRule rule = new LimitRule("tpm", List.of(LimitRule.ALL_MODELS), Duration.ofMinutes(1),
                    TOKENS_PER_MINUTE, LimitRule.Cost.TOTAL, 0);
            tenants = new TenantLimits[keys];
            for (int i = 0; i < keys; i++) {
                tenants[i] = new TenantLimits("tenant-" + i, List.of(rule), 0);
            }
        }

        @Override
        public long admitAndSettle(Request request) {
            Admission admission = limiter.admit(tenants[request.key()], MODEL, request.input(), request.output());
            if (!admission.admitted()) {
                return -1;
            }
            admission.reservation().reconcile(request.actualInput(), request.actualOutput());
            return admission.headers().remainingTokens();
        }
    }

    static final class Bucket4j implements Contender {
        private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
        private final String[] tenants;

        Bucket4j(int keys) {
            tenants = new String[keys];
            for (int i = 0; i < keys; i++) {
                tenants[i] = "tenant-" + i;
                buckets.put(tenants[i], Bucket.builder()
                        .addLimit(limit -> limit.capacity(TOKENS_PER_MINUTE).refillGreedy(BUCKET4J_REFILL_PER_MINUTE, Duration.ofMinutes(1)))
                        .build());
            }
        }

        @Override
        public long admitAndSettle(Request request) {
            Bucket bucket = buckets.get(tenants[request.key()]);
            if (!bucket.tryConsume(request.estimate())) {
                return -1;
            }
            long extra = request.actual() - request.estimate();
            if (extra > 0) {
                bucket.consumeIgnoringRateLimits(extra);
            } else if (extra < 0) {
                bucket.addTokens(-extra);
            }
            return extra;
        }
    }

    static final class Guava implements Contender {
        private final ConcurrentHashMap<String, RateLimiter> limiters = new ConcurrentHashMap<>();
        private final String[] tenants;

        Guava(int keys) {
            tenants = new String[keys];
            for (int i = 0; i < keys; i++) {
                tenants[i] = "tenant-" + i;
                limiters.put(tenants[i], RateLimiter.create(TOKENS_PER_MINUTE / 60.0));
            }
        }

        @Override
        public long admitAndSettle(Request request) {
            RateLimiter limiter = limiters.get(tenants[request.key()]);
            if (!limiter.tryAcquire((int) request.estimate())) {
                return -1;
            }
            long extra = request.actual() - request.estimate();
            if (extra > 0) {
                limiter.tryAcquire((int) extra);
            }
            return extra;
        }
    }
}
