package io.aimesh.filter.limit;

import io.aimesh.internal.Secrets;
import static java.util.Objects.requireNonNull;

import io.aimesh.filter.batch.Batcher;
import io.aimesh.filter.redis.RedisLink;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Token budgets shared by every ai-filter replica through Redis, with Redis off the request path.
 *
 * <h2>Leases</h2>
 * Each replica admits from its own view of a budget: the global use it last read from Redis
 * ({@code seen}) plus what it admitted since ({@code unreported}). A request is admitted when it fits
 * the limit in that view and the replica's unreported tokens stay within its <em>lease</em>
 * ({@link Policy#leaseTokens()}). Reports go to Redis in batches, through the {@link Batcher}: every
 * budget touched since the last flush is one {@code INCRBY} (its unreported tokens; 0 just reads) and
 * one {@code PEXPIRE} in a single pipelined round trip, which returns the new global use. A replica
 * reports when half its lease is used and at least every {@link Policy#syncInterval()} while active.
 * Keys are per window ({@code aimesh:budget:<budget>:<window index>}) and expire two windows later:
 * the lease that an idle or dead replica held simply ends with its window.
 *
 * <h2>Worst case</h2>
 * With {@code N} replicas and lease {@code l}, the tokens admitted in a window are at most
 * <pre>{@code   limit + N * l}</pre>
 * (plus, as for local budgets, what requests use beyond their estimates once reconciled): each
 * replica admits only within the limit as it last saw it and never more than {@code l} beyond what
 * Redis has counted; once the counts meet the limit, every replica stops at its next report. The sync
 * interval {@code W} does not enter the bound; it bounds how stale a replica's view is, and so how
 * soon a replica learns the budget is spent. A replica admitting faster than {@code l / (W + RTT)}
 * runs out of lease before its report returns and refuses ({@link Outcome#LEASE_SPENT}, retry in a
 * moment) until it does; reports start at a quarter of the lease, so size the lease above about
 * 4/3 of a replica's token rate times the round trip. A lease is also at most a tenth of its
 * budget's limit, and a single request larger than the lease is admitted when nothing is
 * outstanding: precisely, the bound is {@code limit + N * max(min(l, limit / 10), largest request)}.
 * A replica that dies loses what it had not reported,
 * at most {@code l}: those tokens ran but are never counted. A restarted replica reads the global use
 * at its first report and goes on from there.
 *
 * <h2>Redis unavailable</h2>
 * A failed report keeps its tokens unreported (they are sent again with the next one; if Redis had
 * applied part of a failed pipeline they may count twice, which only errs on the strict side) and
 * marks Redis down; each sync interval tries again, and the first report that succeeds brings it back
 * up, with no restart. While it is down, {@link WhenDown#CLOSED} refuses every request, and
 * {@link WhenDown#OPEN} admits locally up to {@link Policy#failOpenTokens()} per budget and window
 * on this replica (a cap: the limit divided by the replicas is the natural choice), to be reported
 * when Redis is back. Redis keeps counts in memory: a restarted Redis has forgotten the window's use.
 *
 * <p>Thread-safe. {@link #tryAcquire} and {@link #adjust} never wait for Redis (they run on the
 * ai-filter's event loop); each budget's state is a small monitor held for a few field updates.
 */
public final class GlobalBudgets implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GlobalBudgets.class.getName());
    private static final String PREFIX = "aimesh:budget:";
    /** A budget's lease is at most this fraction of its limit, so a small limit (requests per minute) gets a small lease. */
    private static final int LEASE_SHARE_OF_LIMIT = 10;

    /** The answer of {@link #tryAcquire}. */
    public enum Outcome {
        ADMITTED,
        /** The budget, as this replica sees it, has no room. */
        OVER_LIMIT,
        /** This replica's lease is used up until its report in flight returns: retry in a moment. */
        LEASE_SPENT,
        /** Redis is unreachable and the policy fails closed (or the fail-open cap is spent). */
        REDIS_DOWN
    }

    /** What to do while Redis cannot be reached. */
    public enum WhenDown {
        /** Admit locally, up to {@link Policy#failOpenTokens()} per budget and window on each replica. */
        OPEN,
        /** Refuse every request. */
        CLOSED
    }

    /**
     * @param leaseTokens the most tokens a replica admits beyond what Redis has counted, {@code >= 1}
     * @param syncInterval the longest time between two reports of an active budget, {@code > 0}
     * @param whenDown fail open or closed while Redis is unreachable
     * @param failOpenTokens the local cap per budget and window while failing open
     * @param timeout how long a report may take before Redis counts as down
     */
    public record Policy(long leaseTokens, Duration syncInterval, WhenDown whenDown, long failOpenTokens, Duration timeout) {
        public Policy {
            if (leaseTokens < 1) {
                throw new IllegalArgumentException("leaseTokens: " + leaseTokens + " (expected: >= 1)");
            }
            if (syncInterval.isZero() || syncInterval.isNegative()) {
                throw new IllegalArgumentException("syncInterval: " + syncInterval + " (expected: > 0)");
            }
            requireNonNull(whenDown, "whenDown");
            if (failOpenTokens < 0) {
                throw new IllegalArgumentException("failOpenTokens: " + failOpenTokens + " (expected: >= 0)");
            }
            requireNonNull(timeout, "timeout");
        }
    }

    /**
     * One budget's window, as this replica sees it: also the handle that lets one request check and
     * read a budget with one lookup ({@link #window}). Guarded by itself.
     */
    static final class Share {
        final String key;
        final long windowMillis;
        long seen;
        long unreported;
        long reporting;
        /** Admitted here in this window, for the fail-open cap. */
        long local;
        boolean queued;
        boolean active;

        Share(String key, long windowMillis) {
            this.key = key;
            this.windowMillis = windowMillis;
        }
    }

    private final RedisLink redis;
    private final Policy policy;
    private final LongSupplier millis;
    private final Map<String, Share> shares = new ConcurrentHashMap<>();
    private final Batcher<Share> reports;
    private final ScheduledExecutorService ticker;
    private volatile boolean redisUp = true;
    /** Set by {@link #abandon}: nothing more is reported. */
    private volatile boolean abandoned;

    private GlobalBudgets(String redis, Policy policy, LongSupplier millis) {
        this.policy = requireNonNull(policy, "policy");
        this.millis = requireNonNull(millis, "millis");
        // Used by the batcher's consumer thread only; an unreachable Redis counts as down within the policy's timeout.
        this.redis = new RedisLink(redis, policy.timeout());
        this.reports = Batcher.start("global-budgets", new Batcher.Policy(512, Duration.ZERO, 1 << 16), this::report);
        this.ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "aimesh-global-budgets");
            thread.setDaemon(true);
            return thread;
        });
        long period = policy.syncInterval().toNanos();
        ticker.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.NANOSECONDS);
        // Connects now, in the background, rather than on the first request's report.
        reports.offer(new Share(PREFIX + "connect", 60_000));
    }

    /**
     * Shares budgets through the Redis at {@code redis} ({@code redis://host:port}).
     *
     * @param millis the clock that places requests in windows (epoch milliseconds)
     */
    public static GlobalBudgets connect(String redis, Policy policy, LongSupplier millis) {
        RedisURI.create(requireNonNull(redis, "redis")); // refused here when malformed
        return new GlobalBudgets(redis, policy, millis);
    }

    /**
     * Takes {@code cost} tokens from {@code budget}'s current window if they fit (see the class
     * comment); never waits for Redis.
     *
     * @param budget the budget's name, unique across tenants, limits and models
     * @param limit the tokens allowed per window
     */
    public Outcome tryAcquire(String budget, long limit, Duration window, long cost) {
        return tryAcquire(window(budget, window), limit, cost);
    }

    /** {@code budget}'s current window, for {@link #tryAcquire(Share, long, long)} and {@link #used(Share)}. */
    Share window(String budget, Duration window) {
        return share(budget, window, millis.getAsLong());
    }

    /** As {@link #tryAcquire(String, long, Duration, long)}, on a window already looked up. */
    Outcome tryAcquire(Share share, long limit, long cost) {
        Outcome outcome;
        boolean report;
        long lease = lease(limit);
        synchronized (share) {
            share.active = true;
            if (!redisUp) {
                outcome = policy.whenDown() == WhenDown.OPEN && share.local + cost <= policy.failOpenTokens()
                        ? Outcome.ADMITTED : Outcome.REDIS_DOWN;
            } else if (share.seen + share.reporting + share.unreported + cost > limit) {
                outcome = Outcome.OVER_LIMIT;
            } else {
                long outstanding = Math.max(0, share.unreported + share.reporting);
                outcome = outstanding == 0 || outstanding + cost <= lease ? Outcome.ADMITTED : Outcome.LEASE_SPENT;
            }
            if (outcome == Outcome.ADMITTED) {
                share.unreported += cost;
                share.local += cost;
            }
            // Reporting at a quarter of the lease leaves three quarters for the round trip: the lease
            // is spent before the report returns only at a rate of 3/4 lease per round trip.
            report = !share.queued && share.unreported + share.reporting >= Math.max(1, lease / 4);
            if (report) {
                share.queued = true;
            }
        }
        if (report && !reports.offer(share)) {
            synchronized (share) {
                share.queued = false; // the ring is full: the next tick reports it
            }
        }
        return outcome;
    }

    /** A budget's lease: the policy's, but at most a tenth of its limit. */
    private long lease(long limit) {
        return Math.min(policy.leaseTokens(), Math.max(1, limit / LEASE_SHARE_OF_LIMIT));
    }

    /**
     * Adds {@code delta} tokens (negative: a refund) to {@code budget}'s window of {@code chargedAt}
     * (epoch ms), as a reconciliation does. Once that window has ended a refund is dropped (its use
     * no longer matters) and an extra charge goes to the current window, as for local budgets.
     */
    public void adjust(String budget, Duration window, long chargedAt, long delta) {
        long now = millis.getAsLong();
        long windowMillis = window.toMillis();
        boolean ended = Math.floorDiv(chargedAt, windowMillis) < Math.floorDiv(now, windowMillis);
        if (ended && delta <= 0) {
            return;
        }
        Share share = share(budget, window, ended ? now : chargedAt);
        synchronized (share) {
            share.unreported += delta;
            share.local += delta;
            share.active = true;
        }
    }

    /** Whether the last report reached Redis. */
    public boolean redisUp() {
        return redisUp;
    }

    /** This replica's view of {@code budget}'s current window: the global use it last read plus its own since. */
    public long used(String budget, Duration window) {
        return used(window(budget, window));
    }

    /** As {@link #used(String, Duration)}, on a window already looked up. */
    long used(Share share) {
        synchronized (share) {
            return share.seen + share.reporting + share.unreported;
        }
    }

    /** Reports what is unreported, then disconnects. */
    @Override
    public void close() {
        ticker.shutdownNow();
        for (Share share : shares.values()) {
            offerReport(share);
        }
        reports.close();
        redis.close();
    }

    /** Stops without reporting: what a replica that dies does. For tests. */
    void abandon() {
        abandoned = true;
        ticker.shutdownNow();
        reports.close();
        redis.close();
    }

    private Share share(String budget, Duration window, long atMillis) {
        long windowMillis = window.toMillis();
        long index = Math.floorDiv(atMillis, windowMillis);
        String key = PREFIX + budget + ":" + index;
        return shares.computeIfAbsent(key, k -> new Share(k, windowMillis));
    }

    /** Reports every active or unreported budget, and forgets windows two windows past. */
    private void tick() {
        try {
            long now = millis.getAsLong();
            for (Share share : shares.values()) {
                boolean due;
                boolean stale;
                synchronized (share) {
                    due = share.active || share.unreported != 0;
                    share.active = false;
                    long index = Long.parseLong(share.key.substring(share.key.lastIndexOf(':') + 1));
                    stale = share.unreported == 0 && share.reporting == 0 && now / share.windowMillis > index + 1;
                }
                if (stale) {
                    shares.remove(share.key);
                } else if (due) {
                    offerReport(share);
                }
            }
        } catch (RuntimeException e) {
            // Not the exception itself: its message or a cause's may quote the Redis URI with its password.
            LOG.log(Level.ERROR, "global budget tick failed: " + Secrets.redact(String.valueOf(e)));
        }
    }

    private void offerReport(Share share) {
        synchronized (share) {
            if (share.queued) {
                return;
            }
            share.queued = true;
        }
        if (!reports.offer(share)) {
            synchronized (share) {
                share.queued = false;
            }
        }
    }

    /** One pipelined round trip for a batch of budgets: INCRBY what is unreported (0 reads), PEXPIRE. On the batcher's thread. */
    private void report(List<Share> batch) {
        if (abandoned) {
            return;
        }
        long[] deltas = new long[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            Share share = batch.get(i);
            synchronized (share) {
                deltas[i] = share.unreported;
                share.reporting += deltas[i];
                share.unreported = 0;
                share.queued = false;
            }
        }
        long[] totals = new long[batch.size()];
        boolean ok;
        try {
            StatefulRedisConnection<String, String> pipeline = redis.connection();
            pipeline.setAutoFlushCommands(false); // one write for the whole batch: a pipelined round trip
            RedisAsyncCommands<String, String> commands = pipeline.async();
            List<RedisFuture<Long>> increments = new ArrayList<>(batch.size());
            List<RedisFuture<Boolean>> expiries = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                Share share = batch.get(i);
                increments.add(commands.incrby(share.key, deltas[i]));
                expiries.add(commands.pexpire(share.key, 2 * share.windowMillis));
            }
            pipeline.flushCommands();
            long deadline = System.nanoTime() + policy.timeout().toNanos();
            for (int i = 0; i < batch.size(); i++) {
                totals[i] = increments.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            for (RedisFuture<Boolean> expiry : expiries) {
                expiry.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            ok = true;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (redisUp) {
                LOG.log(Level.WARNING, "Redis is unreachable; budgets fail " + policy.whenDown().name().toLowerCase()
                        + " until it is back: " + Secrets.redact(String.valueOf(e)));
            }
            redis.disconnect();
            ok = false;
        }
        for (int i = 0; i < batch.size(); i++) {
            Share share = batch.get(i);
            synchronized (share) {
                share.reporting -= deltas[i];
                if (ok) {
                    share.seen = totals[i];
                } else {
                    share.unreported += deltas[i]; // sent again with the next report
                }
            }
        }
        if (ok && !redisUp) {
            LOG.log(Level.INFO, "Redis is back; budgets are global again");
        }
        redisUp = ok;
    }

}
