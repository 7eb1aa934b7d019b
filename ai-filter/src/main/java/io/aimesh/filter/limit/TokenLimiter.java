package io.aimesh.filter.limit;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Admits inference requests against their tenant's token and request budgets before they reach a
 * model, and settles the reservation afterwards with the real usage.
 *
 * <p>Thread-safe and lock-free on the request path: {@link #admit}, {@link Reservation#reconcile}
 * and {@link Reservation#release} may be called from any thread.
 *
 * <h2>Budgets</h2>
 * A {@link LimitRule} with models {@code ["*"]} is one budget for all the tenant's models; a rule
 * naming models is one budget per named model, each allowed the full {@code tokens}, and does not
 * apply to other models. {@link TenantLimits#requestsPerMinute()} is one more budget, for all
 * models, where every request costs 1. A request is checked against every budget that applies to
 * its model.
 *
 * <h2>Windows</h2>
 * Fixed windows aligned to the epoch of the supplied clock: the minute window {@code k} is
 * {@code [k * 60 s, (k + 1) * 60 s)}, hours and days (UTC) alike, as the counters of
 * envoyproxy/ratelimit. A budget's usage resets when its window ends, except for what it used
 * above {@code tokens}: that is carried into the next window (less {@code tokens} for every further
 * window that passes), so a borrowed burst or a reconciled overshoot is paid back and the long-run
 * rate stays {@code tokens} per window. Like any fixed window, two full windows can be used
 * back to back across a boundary; a sliding or token-bucket limiter avoids that at the price of a
 * reset time that means less and more state per budget (Cloudflare, "How we built rate limiting
 * capable of scaling to millions of domains", 2017).
 *
 * <h2>Admission</h2>
 * A request is admitted iff, in every budget it touches, {@code used + cost <= tokens + burst},
 * where {@code cost} weighs the estimated input and output tokens with the rule's
 * {@link LimitRule.Cost}. With burst 0 the limit is strict. The check and the charge are one
 * compare-and-set per budget ({@link Budget}). Budgets are charged in order (the request budget,
 * then the rules as listed); when one refuses, those already charged are refunded, so nothing stays
 * reserved for a denied request. A concurrent request may see the refunded cost as used in the
 * meantime and be refused when it would have fitted; it is never admitted when it would not.
 *
 * <h2>Reconciliation</h2>
 * Usage is known only after the response, and an estimate can be wrong (without
 * {@code max_tokens} the output is a guess), so an admission reserves the estimate and
 * {@link Reservation#reconcile} replaces it by the real cost: in the window the reservation was
 * charged to while it is current; once that window has ended, a refund is dropped (the window's
 * usage no longer matters, beyond its carry) and an extra charge goes to the current window. An
 * extra charge is made even beyond {@code tokens + burst}: the request has run. Envoy AI Gateway
 * likewise checks at the request and counts the usage read from the response
 * (https://aigateway.envoyproxy.io/docs/0.1/capabilities/usage-based-ratelimiting); a reservation
 * adds what it lacks, holding the estimate meanwhile, so concurrent requests cannot all pass on
 * the same remaining budget.
 *
 * <p>So in any window the admitted cost is at most {@code tokens + burst}, and the final usage is
 * at most {@code tokens + burst} plus the overshoots (real cost above estimate) of the requests
 * still unsettled when the window's last admission happened: with one request in flight per
 * caller, {@code tokens + burst + callers * largest overshoot}. Over {@code n} consecutive windows
 * the total is at most {@code n * tokens + burst} plus such overshoots.
 *
 * <h2>Answers</h2>
 * A {@link Denial} names the first budget that refused and when the request will fit: the end of
 * the window, or later while a carry is paid back. {@link RateLimitHeaders} carry OpenAI's
 * {@code x-ratelimit-*} values for the token budget with the least remaining and for the request
 * budget (OpenAI, "Rate limits", https://platform.openai.com/docs/guides/rate-limits).
 *
 * <h2>State</h2>
 * In-process, per tenant: a Caffeine cache from tenant name to its budgets ({@link TenantBudgets}),
 * weighed by the number of budgets and bounded by {@code maxBudgets}, each tenant dropped after two
 * days unused by the supplied clock (twice the longest window, so a carry survives until it is
 * paid). An evicted tenant starts over with empty budgets: size {@code maxBudgets} for the working
 * set. A tenant's state is built on its first request and rebuilt when it arrives with a different
 * {@link TenantLimits}: budgets whose limit is unchanged (same id, model scope, window, tokens,
 * cost and burst) keep their usage; changed or new ones start empty, and reservations made on a
 * replaced budget settle against it, no longer against the tenant.
 *
 * <h2>Cost</h2>
 * An admission reads the clock once, looks the tenant up without Caffeine's per-read bookkeeping
 * (a tenant's use is recorded in the cache at most once a second, and the cache's ticker is the
 * last clock reading), does one more map lookup when rules name models, and one compare-and-set
 * per budget; it allocates the {@link Admission} and the {@link Reservation} (128 bytes with one
 * budget). A reconciliation reads the clock once more, unless the cost did not change, and does one
 * compare-and-set to settle and one per budget. With {@code System::currentTimeMillis} (about
 * 22 ns a call on the benchmark machine) the two clock readings are half of the time of
 * admit-and-reconcile; see {@code io.aimesh.bench.limit.LimiterBenchmark}.
 */
public final class TokenLimiter {
    /** The default bound on the number of budgets kept. */
    public static final long DEFAULT_MAX_BUDGETS = 100_000;

    /** Twice the longest window: a carry lives one window after the window that made it. */
    static final Duration EXPIRE_AFTER_ACCESS = Duration.ofDays(2);
    /** How often a tenant's use is recorded in the cache: plenty for a two-day expiry and for eviction by frequency. */
    static final long RECORD_USE_EVERY_MILLIS = 1_000;

    private final LongSupplier nowMillis;
    private final long maxBudgets;
    private final Cache<String, TenantBudgets> tenants;
    private final Policy<String, TenantBudgets> policy;
    /** The latest clock reading: the cache's ticker, so that a lookup does not read the clock a second time. */
    private volatile long lastNow;

    /**
     * @param nowMillis the clock that defines the windows, in milliseconds since the epoch, such as
     *     {@code System::currentTimeMillis}; called on every admission and settlement, from the
     *     calling thread
     * @param maxBudgets how many budgets to keep, {@code >= 1}, such as {@link #DEFAULT_MAX_BUDGETS};
     *     beyond it Caffeine drops the tenants used least (W-TinyLFU)
     */
    public TokenLimiter(LongSupplier nowMillis, long maxBudgets) {
        this.nowMillis = requireNonNull(nowMillis, "nowMillis");
        if (maxBudgets < 1) {
            throw new IllegalArgumentException("maxBudgets: " + maxBudgets + " (expected: >= 1)");
        }
        this.maxBudgets = maxBudgets;
        this.tenants = Caffeine.newBuilder()
                .maximumWeight(maxBudgets)
                .weigher((String tenant, TenantBudgets budgets) -> budgets.weight())
                .expireAfterAccess(EXPIRE_AFTER_ACCESS)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(lastNow))
                .build();
        this.policy = tenants.policy();
    }

    /**
     * Admits a request or denies it; see the class comment for the rules.
     *
     * @param limits the tenant's limits; pass the same instance while the configuration is unchanged
     * @param model the requested model, as the client sent it
     * @param estimatedInput estimated input tokens, {@code >= 0}
     * @param estimatedOutput estimated output tokens, {@code >= 0}, such as {@code max_tokens}
     * @return the admission; when admitted, its {@link Admission#reservation()} must be reconciled or
     *     released, else the estimate stays charged
     * @throws IllegalArgumentException if the tenant has more budgets than {@code maxBudgets}
     */
    public Admission admit(TenantLimits limits, String model, long estimatedInput, long estimatedOutput) {
        requireNonNull(limits, "limits");
        requireNonNull(model, "model");
        checkTokens("estimatedInput", estimatedInput);
        checkTokens("estimatedOutput", estimatedOutput);
        long now = now();
        Budget[] budgets = budgetsOf(limits, now).budgetsFor(model);
        long[] chargedWindows = null;
        long limitTokens = RateLimitHeaders.NONE;
        long remainingTokens = RateLimitHeaders.NONE;
        long resetTokens = RateLimitHeaders.NONE;
        long limitRequests = RateLimitHeaders.NONE;
        long remainingRequests = RateLimitHeaders.NONE;
        long resetRequests = RateLimitHeaders.NONE;
        for (int i = 0; i < budgets.length; i++) {
            Budget budget = budgets[i];
            long window = budget.windowOf(now);
            long cost = budget.cost(estimatedInput, estimatedOutput);
            long state = budget.tryCharge(cost, window);
            if (state < 0) {
                rollBack(budgets, i, estimatedInput, estimatedOutput, chargedWindows, now);
                return Admission.denied(denial(limits.tenant(), budget, ~state, cost, window, now), headers(budgets, now));
            }
            long charged = Budget.windowAt(state, window);
            if (charged != window && chargedWindows == null) {
                chargedWindows = windowsOf(budgets, now);
            }
            if (chargedWindows != null) {
                chargedWindows[i] = charged;
            }
            long remaining = budget.remaining(Budget.used(state));
            long reset = budget.millisUntilEnd(charged, now);
            if (budget.countsRequests()) {
                limitRequests = budget.tokens;
                remainingRequests = remaining;
                resetRequests = reset;
            } else if (tighter(remaining, reset, remainingTokens, resetTokens)) {
                limitTokens = budget.tokens;
                remainingTokens = remaining;
                resetTokens = reset;
            }
        }
        Reservation reservation = new Reservation(budgets, estimatedInput, estimatedOutput, now, chargedWindows, nowMillis);
        return new Admission(reservation, null, limitTokens, remainingTokens, resetTokens, limitRequests, remainingRequests, resetRequests);
    }

    /**
     * One budget a request would be charged to, as it stands: for {@code aimesh explain}.
     *
     * @param limit the limit's name ({@code requests-per-minute} for the tenant's request rate)
     * @param scope the model the budget counts, or {@code *} when it counts every model the limit names
     * @param used what this window has used (carried over included)
     * @param ceiling the limit plus its burst: a request fits while {@code used + cost <= ceiling}
     * @param cost what the request would cost it
     * @param millisUntilReset until the current window ends
     */
    public record Headroom(String limit, String scope, Duration window, long tokens, long ceiling, long used, long cost,
                           long millisUntilReset) {
        public boolean fits() {
            return used + cost <= ceiling;
        }
    }

    /** What each budget of {@code model} would say to a request, without charging anything (this replica's view). */
    public java.util.List<Headroom> headroom(TenantLimits limits, String model, long estimatedInput, long estimatedOutput) {
        long now = now();
        java.util.List<Headroom> headroom = new java.util.ArrayList<>();
        for (Budget budget : budgetsOf(limits, now).budgetsFor(model)) {
            long window = budget.windowOf(now);
            long used = Budget.used(budget.peek(window));
            headroom.add(new Headroom(budget.limit, budget.scope, budget.window, budget.tokens, budget.ceiling, used,
                    budget.cost(estimatedInput, estimatedOutput), budget.millisUntilEnd(window, now)));
        }
        return headroom;
    }

    /**
     * As {@link #admit(TenantLimits, String, long, long)}, and then against the same budgets shared
     * by every replica through {@code global} (see {@link GlobalBudgets}): a request this replica's
     * budgets admit is still refused when a shared one has no room, with the same kind of
     * {@link Denial} (retry at the end of the window). The reservation settles both.
     *
     * @param global the shared budgets, or {@code null} for this replica's alone
     */
    public Admission admit(TenantLimits limits, String model, long estimatedInput, long estimatedOutput, GlobalBudgets global) {
        Admission admission = admit(limits, model, estimatedInput, estimatedOutput);
        if (global == null || !admission.admitted()) {
            return admission;
        }
        Reservation reservation = admission.reservation();
        Budget[] budgets = reservation.budgets();
        String[] keys = new String[budgets.length];
        long[] costs = new long[budgets.length];
        GlobalBudgets.Share[] windows = new GlobalBudgets.Share[budgets.length];
        for (int i = 0; i < budgets.length; i++) {
            Budget budget = budgets[i];
            keys[i] = limits.tenant() + "/" + budget.limit + "/" + budget.scope;
            costs[i] = budget.cost(estimatedInput, estimatedOutput);
            windows[i] = global.window(keys[i], budget.window);
            GlobalBudgets.Outcome outcome = global.tryAcquire(windows[i], budget.ceiling, costs[i]);
            if (outcome != GlobalBudgets.Outcome.ADMITTED) {
                long now = nowMillis.getAsLong();
                for (int j = 0; j < i; j++) {
                    global.adjust(keys[j], budgets[j].window, now, -costs[j]);
                }
                reservation.release();
                // Over the shared limit: retry when the window ends. A spent lease or Redis down: in a moment.
                long retryAfter = outcome == GlobalBudgets.Outcome.OVER_LIMIT
                        ? budget.windowMillis - Math.floorMod(now, budget.windowMillis) : 1_000;
                Denial denial = new Denial(limits.tenant(), budget.limit, budget.scope, budget.window, retryAfter);
                return Admission.denied(denial, admission.headers());
            }
        }
        reservation.shareWith(global, keys, costs);
        return withSharedRemaining(admission, budgets, windows, global);
    }

    /**
     * The admission with the rate-limit header values taken from the shared budgets, as this
     * replica last saw them, rather than from its own: what all replicas together have left.
     */
    private Admission withSharedRemaining(Admission admission, Budget[] budgets, GlobalBudgets.Share[] windows,
                                          GlobalBudgets global) {
        RateLimitHeaders local = admission.headers();
        long limitTokens = RateLimitHeaders.NONE;
        long remainingTokens = RateLimitHeaders.NONE;
        long resetTokens = RateLimitHeaders.NONE;
        long remainingRequests = local.remainingRequests();
        long now = nowMillis.getAsLong();
        for (int i = 0; i < budgets.length; i++) {
            Budget budget = budgets[i];
            long remaining = budget.remaining(global.used(windows[i]));
            long reset = budget.windowMillis - Math.floorMod(now, budget.windowMillis);
            if (budget.countsRequests()) {
                remainingRequests = remaining;
            } else if (tighter(remaining, reset, remainingTokens, resetTokens)) {
                limitTokens = budget.tokens;
                remainingTokens = remaining;
                resetTokens = reset;
            }
        }
        return new Admission(admission.reservation(), null, limitTokens, remainingTokens, resetTokens,
                local.limitRequests(), remainingRequests, local.resetRequestsMillis());
    }

    /** The budgets of {@code limits} at this moment, for tests; shared, do not modify. */
    Budget[] budgetsFor(TenantLimits limits, String model) {
        return budgetsOf(limits, now()).budgetsFor(model);
    }

    /** The number of budgets kept, after pending evictions; for tests. */
    long budgetCount() {
        now();
        tenants.cleanUp();
        return tenants.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }

    static void checkTokens(String name, long tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException(name + ": " + tokens + " (expected: >= 0)");
        }
    }

    private long now() {
        long now = nowMillis.getAsLong();
        if (now != lastNow) {
            lastNow = now;
        }
        return now;
    }

    private TenantBudgets budgetsOf(TenantLimits limits, long now) {
        // Caffeine's bookkeeping of every read costs more than the rest of an admission; a tenant's use
        // is recorded once a second instead.
        TenantBudgets budgets = policy.getIfPresentQuietly(limits.tenant());
        if (budgets != null && (budgets.limits == limits || budgets.limits.equals(limits))) {
            if (now - budgets.recordedUseAt >= RECORD_USE_EVERY_MILLIS || now < budgets.recordedUseAt) {
                budgets.recordedUseAt = now;
                tenants.getIfPresent(limits.tenant());
            }
            return budgets;
        }
        // First request of the tenant, or a new configuration: rebuilt once, under the map's lock for the tenant.
        return tenants.asMap().compute(limits.tenant(), (tenant, previous) -> {
            if (previous != null && previous.limits.equals(limits)) {
                return previous;
            }
            TenantBudgets rebuilt = TenantBudgets.of(limits, previous, now);
            if (rebuilt.weight() > maxBudgets) {
                throw new IllegalArgumentException("limits: tenant " + tenant + " has " + rebuilt.weight()
                        + " budgets (expected: <= maxBudgets " + maxBudgets + ")");
            }
            return rebuilt;
        });
    }

    private static void rollBack(Budget[] budgets, int count, long input, long output, long[] chargedWindows, long now) {
        for (int i = 0; i < count; i++) {
            Budget budget = budgets[i];
            long window = budget.windowOf(now);
            budget.refund(budget.cost(input, output), chargedWindows != null ? chargedWindows[i] : window, window);
        }
    }

    private static long[] windowsOf(Budget[] budgets, long now) {
        long[] windows = new long[budgets.length];
        for (int i = 0; i < budgets.length; i++) {
            windows[i] = budgets[i].windowOf(now);
        }
        return windows;
    }

    private static Denial denial(String tenant, Budget budget, long state, long cost, long window, long now) {
        long retryAfter = budget.millisUntilFits(Budget.used(state), cost, Budget.windowAt(state, window), now);
        return new Denial(tenant, budget.limit, budget.scope, budget.window, retryAfter, cost > budget.ceiling);
    }

    /** The header values as of now, after a denial: what others did meanwhile included. */
    private static RateLimitHeaders headers(Budget[] budgets, long now) {
        long limitTokens = RateLimitHeaders.NONE;
        long remainingTokens = RateLimitHeaders.NONE;
        long resetTokens = RateLimitHeaders.NONE;
        long limitRequests = RateLimitHeaders.NONE;
        long remainingRequests = RateLimitHeaders.NONE;
        long resetRequests = RateLimitHeaders.NONE;
        for (Budget budget : budgets) {
            long window = budget.windowOf(now);
            long state = budget.peek(window);
            long remaining = budget.remaining(Budget.used(state));
            long reset = budget.millisUntilEnd(Budget.windowAt(state, window), now);
            if (budget.countsRequests()) {
                limitRequests = budget.tokens;
                remainingRequests = remaining;
                resetRequests = reset;
            } else if (tighter(remaining, reset, remainingTokens, resetTokens)) {
                limitTokens = budget.tokens;
                remainingTokens = remaining;
                resetTokens = reset;
            }
        }
        return new RateLimitHeaders(limitTokens, remainingTokens, resetTokens, limitRequests, remainingRequests, resetRequests);
    }

    /** Whether a token budget with this remaining and reset is the one to report rather than the best so far. */
    private static boolean tighter(long remaining, long reset, long bestRemaining, long bestReset) {
        return bestRemaining == RateLimitHeaders.NONE || remaining < bestRemaining || (remaining == bestRemaining && reset > bestReset);
    }
}
