package io.aimesh.filter.spend;

import static java.util.Objects.requireNonNull;

import io.aimesh.filter.batch.Batcher;
import io.aimesh.internal.Secrets;
import io.aimesh.filter.redis.RedisLink;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Shares the spend of every bucket among the filter replicas through Redis, off the request path.
 *
 * <h2>Totals, not increments</h2>
 * Each bucket is a Redis hash ({@code aimesh:spend:<bucket>}) with one field per replica holding
 * that replica's whole settled spend in the bucket, and a report sets it ({@code HSET}) and reads
 * the sum of all fields in one script. Setting a total is idempotent where an increment is not: a
 * report that is retried, or replayed by a replica restarted from its journal (same replica id),
 * cannot count twice; and a Redis that restarted empty is whole again after each replica's next
 * report, even without persistence. The per-model spend of reports goes alongside
 * ({@code aimesh:spend-models:<bucket>}, field {@code replica|model}). Keys expire 32 days after
 * their last report, a day after the longest a bucket counts.
 *
 * <h2>Leases</h2>
 * A replica admits from its view: the others' spend as last read, plus its own settled and reserved
 * spend; and it holds at most a lease ({@link #leaseMicros}) beyond what Redis has acknowledged of
 * its own. So with {@code N} replicas a budget's period ends at most {@code amount + N * lease}
 * (plus overshoots of reservations), as the token budgets of {@code GlobalBudgets}. A bucket is
 * reported when a quarter of its lease is unshared and every sync interval while it changes. While
 * Redis cannot be reached, reports fail and each replica spends at most its lease more, then refuses
 * ({@link SpendAdmission.Refusal#LEASE_SPENT}) until Redis is back.
 *
 * <p>Thread-safe; reports run on the batcher's thread, the periodic sweep on its own.
 */
public final class SpendSharing implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SpendSharing.class.getName());
    private static final String PREFIX = "aimesh:spend:";
    private static final String MODELS = "aimesh:spend-models:";
    private static final String ALERTS = "aimesh:spend-alert:";
    /** Sets this replica's total, returns the sum of every replica's, extends the key's life. */
    private static final String REPORT = """
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            redis.call('PEXPIREAT', KEYS[1], ARGV[3])
            local sum = 0
            for _, v in ipairs(redis.call('HVALS', KEYS[1])) do sum = sum + tonumber(v) end
            return sum
            """;
    /** A bucket counts at most 31 days (a month, a day of a rolling 30): its keys outlive their last report by 32. */
    private static final long KEEP_MILLIS = Duration.ofDays(32).toMillis();
    /** A lease is at most this fraction of its budget's amount, so a small budget gets a small lease. */
    private static final int LEASE_SHARE_OF_AMOUNT = 10;

    private final SpendLedger ledger;
    private final String replica;
    private final long leaseMicros;
    private final Clock clock;
    private final RedisLink redis;
    /** For {@link #once}, on {@link #alerts}' thread. */
    private final RedisLink alertLink;
    private final java.util.concurrent.ExecutorService alerts = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "aimesh-spend-alerts");
        thread.setDaemon(true);
        return thread;
    });
    private final Duration timeout;
    private final Batcher<SpendLedger.Cell> reports;
    private final ScheduledExecutorService ticker;
    private volatile boolean redisUp = true;
    /** Set by {@link #abandon}: nothing more is reported. */
    private volatile boolean abandoned;

    private SpendSharing(SpendLedger ledger, String redis, String replica, long leaseMicros, Duration syncInterval,
                         Duration timeout, Clock clock) {
        this.ledger = requireNonNull(ledger, "ledger");
        this.replica = requireNonNull(replica, "replica");
        this.leaseMicros = leaseMicros;
        this.clock = requireNonNull(clock, "clock");
        this.timeout = requireNonNull(timeout, "timeout");
        this.redis = new RedisLink(redis, timeout); // the batcher's thread only
        this.alertLink = new RedisLink(redis, timeout);
        this.reports = Batcher.start("spend-sharing", new Batcher.Policy(256, Duration.ZERO, 1 << 14), this::report);
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "aimesh-spend-sharing");
            thread.setDaemon(true);
            return thread;
        });
        long period = syncInterval.toNanos();
        ticker.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.NANOSECONDS);
    }

    /**
     * Shares {@code ledger}'s buckets through {@code redis} as replica {@code replica}: first reports
     * what the ledger recovered from its journal, then keeps every bucket current.
     *
     * @param leaseMicros the most a replica spends beyond what Redis has acknowledged, per budget, {@code >= 1}
     */
    public static SpendSharing start(SpendLedger ledger, String redis, String replica, long leaseMicros,
                                     Duration syncInterval, Duration timeout, Clock clock) {
        if (leaseMicros < 1) {
            throw new IllegalArgumentException("leaseMicros: " + leaseMicros + " (expected: >= 1)");
        }
        SpendSharing sharing = new SpendSharing(ledger, redis, replica, leaseMicros, syncInterval, timeout, clock);
        ledger.share(sharing);
        ledger.cells().values().forEach(sharing::reportSoon);
        return sharing;
    }

    /** A budget's lease: the policy's, at most a tenth of its amount. */
    long leaseMicros(long amountMicros) {
        return Math.max(1, Math.min(leaseMicros, amountMicros / LEASE_SHARE_OF_AMOUNT));
    }

    /** Whether the last report reached Redis. */
    public boolean redisUp() {
        return redisUp;
    }

    void reportSoon(SpendLedger.Cell cell) {
        synchronized (cell) {
            if (cell.queued) {
                return;
            }
            cell.queued = true;
        }
        if (!reports.offer(cell)) {
            synchronized (cell) {
                cell.queued = false; // the ring is full: the next tick reports it
            }
        }
    }

    /** Reports every bucket that changed or is in use (the others' spend moves too). */
    private void tick() {
        try {
            java.time.Instant now = clock.instant();
            for (SpendLedger.Cell cell : ledger.cells().values()) {
                boolean due;
                synchronized (cell) {
                    due = cell.mine != cell.shared || cell.reserved > 0 || cell.active;
                    cell.active = false;
                }
                if (due && SpendLedger.counts(cell.bucket, now)) {
                    reportSoon(cell);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "spend sharing tick failed: " + Secrets.redact(String.valueOf(e)));
        }
    }

    /** One pipelined round trip for a batch of buckets: each replica total set, every sum read. */
    private void report(List<SpendLedger.Cell> batch) {
        if (abandoned) {
            return;
        }
        long[] totals = new long[batch.size()];
        List<java.util.Map<String, Long>> models = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            SpendLedger.Cell cell = batch.get(i);
            synchronized (cell) {
                totals[i] = cell.mine;
                models.add(java.util.Map.copyOf(cell.byModel));
                cell.queued = false;
            }
        }
        long[] sums = new long[batch.size()];
        boolean ok;
        try {
            StatefulRedisConnection<String, String> pipeline = redis.connection();
            pipeline.setAutoFlushCommands(false);
            RedisAsyncCommands<String, String> commands = pipeline.async();
            List<RedisFuture<Long>> replies = new ArrayList<>(batch.size());
            List<RedisFuture<?>> others = new ArrayList<>();
            long now = clock.millis();
            for (int i = 0; i < batch.size(); i++) {
                SpendLedger.Cell cell = batch.get(i);
                long expireAt = now + KEEP_MILLIS;
                replies.add(commands.eval(REPORT, ScriptOutputType.INTEGER, new String[] {PREFIX + cell.bucket}, replica,
                        Long.toString(totals[i]), Long.toString(expireAt)));
                if (!models.get(i).isEmpty()) {
                    java.util.Map<String, String> fields = new java.util.HashMap<>();
                    models.get(i).forEach((model, micros) -> fields.put(replica + "|" + model, Long.toString(micros)));
                    others.add(commands.hset(MODELS + cell.bucket, fields));
                    others.add(commands.pexpireat(MODELS + cell.bucket, expireAt));
                }
            }
            pipeline.flushCommands();
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < batch.size(); i++) {
                sums[i] = replies.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            for (RedisFuture<?> reply : others) {
                reply.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            ok = true;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (redisUp) {
                LOG.log(Level.WARNING, "Redis is unreachable; each replica spends at most its lease more until it is back: "
                        + Secrets.redact(String.valueOf(e)));
            }
            redis.disconnect();
            ok = false;
        }
        if (ok) {
            for (int i = 0; i < batch.size(); i++) {
                SpendLedger.Cell cell = batch.get(i);
                synchronized (cell) {
                    cell.shared = Math.max(cell.shared, totals[i]);
                    cell.others = sums[i] - totals[i];
                }
            }
            if (!redisUp) {
                LOG.log(Level.INFO, "Redis is back; spend is shared again");
            }
        }
        redisUp = ok;
    }


    /**
     * Runs {@code announce} if this replica is the first of all to claim {@code event} (a soft
     * threshold of a bucket): one {@code SET NX} in Redis, off the caller's thread. While Redis
     * cannot be reached, announces anyway: a duplicate alert beats a lost one.
     */
    public void once(String event, Runnable announce) {
        alerts.execute(() -> {
            boolean first;
            try {
                first = "OK".equals(alertLink.connection().sync().set(ALERTS + event, replica,
                        io.lettuce.core.SetArgs.Builder.nx().px(KEEP_MILLIS)));
            } catch (RuntimeException e) {
                alertLink.disconnect();
                first = true;
            }
            if (first) {
                announce.run();
            }
        });
    }

    /** Stops without reporting: what a replica that dies does. For tests. */
    void abandon() {
        abandoned = true;
        ticker.shutdownNow();
        reports.close();
        redis.close();
        alerts.shutdownNow();
        alertLink.close();
    }

    /** Reports every bucket once more, then disconnects. */
    @Override
    public void close() {
        ticker.shutdownNow();
        ledger.cells().values().forEach(this::reportSoon);
        reports.close();
        redis.close();
        alerts.shutdown();
        try {
            alerts.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        alertLink.close();
    }
}
