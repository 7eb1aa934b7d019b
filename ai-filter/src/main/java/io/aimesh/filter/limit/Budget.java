package io.aimesh.filter.limit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * The usage of one limit, for one tenant and one model scope, in the current fixed window.
 *
 * <h2>State</h2>
 * The window and its usage are one {@code long}, changed only by compare-and-set, so a check and
 * a charge are one atomic step without a lock (the packing idiom of
 * {@link java.util.concurrent.ThreadPoolExecutor}'s {@code ctl}):
 * <pre>
 *   bit  63      0, so a state is never negative and a refusal can return {@code ~state}
 *   bits 62..40  the window index (milliseconds since the epoch / window length) modulo 2^23
 *   bits 39..0   cost used in that window, saturating at 2^40 - 1
 * </pre>
 * Window indexes are compared modulo 2<sup>23</sup> with serial-number arithmetic (RFC 1982):
 * correct while a budget's state is less than 2<sup>22</sup> windows old, eight years of minute
 * windows; the tenant's budgets are dropped after two idle days.
 *
 * <h2>Rollover</h2>
 * The state rolls over lazily, on the first charge after its window ended. The new window starts
 * with the usage that exceeded {@code tokens}, less {@code tokens} for every further window that
 * passed unused: {@code max(0, used - n * tokens)} after {@code n} windows. That is how a borrowed
 * burst, or a reconciled overshoot, is paid back, and why the long-run rate stays {@code tokens}
 * per window. A refused request does not store the rollover; the next admitted one does.
 *
 * <h2>Ledger</h2>
 * {@link #charged()} and {@link #dropped()} let tests check that no update is lost under
 * concurrency (charged = the sum of final costs + dropped refunds). They are written only at
 * rollovers and dropped refunds, never on the common path.
 */
final class Budget {
    static final int USED_BITS = 40;
    static final long MAX_USED = (1L << USED_BITS) - 1;
    static final int WINDOW_BITS = 23;
    static final long WINDOW_MASK = (1L << WINDOW_BITS) - 1;

    private static final long MINUTE = 60_000;
    private static final long HOUR = 3_600_000;
    private static final long DAY = 86_400_000;

    private static final VarHandle STATE;
    private static final VarHandle CLOSED;
    private static final VarHandle DROPPED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(Budget.class, "state", long.class);
            CLOSED = lookup.findVarHandle(Budget.class, "closed", long.class);
            DROPPED = lookup.findVarHandle(Budget.class, "dropped", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The rule id, or {@link Denial#REQUESTS}. */
    final String limit;
    /** {@code "*"} or the model. */
    final String scope;
    final Duration window;
    final long windowMillis;
    final long tokens;
    /** {@code tokens + burst}: a request is admitted iff {@code used + cost <= ceiling}. */
    final long ceiling;
    private final long perRequest;
    private final long inputWeight;
    private final long outputWeight;

    private volatile long state;
    /** Net cost charged to ended windows, less what they carried into the next one. */
    @SuppressWarnings("unused") // through CLOSED
    private volatile long closed;
    @SuppressWarnings("unused") // through DROPPED
    private volatile long dropped;

    private Budget(String limit, String scope, Duration window, long tokens, long burst,
                   long perRequest, long inputWeight, long outputWeight, long nowMillis) {
        this.limit = limit;
        this.scope = scope;
        this.window = window;
        this.windowMillis = window.toMillis();
        this.tokens = tokens;
        this.ceiling = tokens + burst;
        this.perRequest = perRequest;
        this.inputWeight = inputWeight;
        this.outputWeight = outputWeight;
        this.state = pack(windowOf(nowMillis), 0);
    }

    static Budget forRule(LimitRule rule, String scope, long nowMillis) {
        return new Budget(rule.id(), scope, rule.window(), rule.tokens(), rule.burst(),
                0, rule.cost().inputWeight(), rule.cost().outputWeight(), nowMillis);
    }

    static Budget forRequests(long requestsPerMinute, long nowMillis) {
        return new Budget(Denial.REQUESTS, LimitRule.ALL_MODELS, Duration.ofMinutes(1), requestsPerMinute, 0,
                1, 0, 0, nowMillis);
    }

    boolean countsRequests() {
        return perRequest != 0;
    }

    /** What a request with these token counts costs here; {@code 1} in a request budget. */
    long cost(long input, long output) {
        // Token counts above 2^40 could overflow the product; they saturate the budget anyway.
        long cost = perRequest + Math.min(input, MAX_USED) * inputWeight + Math.min(output, MAX_USED) * outputWeight;
        return Math.min(cost, MAX_USED);
    }

    /** The index of the window holding {@code nowMillis}; a division by a constant, so a multiplication. */
    long windowOf(long nowMillis) {
        if (windowMillis == MINUTE) {
            return Math.floorDiv(nowMillis, MINUTE);
        }
        if (windowMillis == HOUR) {
            return Math.floorDiv(nowMillis, HOUR);
        }
        return Math.floorDiv(nowMillis, DAY);
    }

    /**
     * Charges {@code cost} if it fits: {@code used + cost <= ceiling} in {@code window}, or in the
     * budget's window if another caller already moved it past {@code window}.
     *
     * @return the new state, or {@code ~state} (negative) with the state it did not fit in
     */
    long tryCharge(long cost, long window) {
        for (;;) {
            long current = state;
            long ahead = ahead(window, current);
            long start = current;
            if (ahead > 0) {
                start = pack(window, carry(used(current), ahead));
            }
            if (used(start) + cost > ceiling) {
                return ~start;
            }
            if (STATE.weakCompareAndSet(this, current, start + cost)) {
                if (ahead > 0) {
                    CLOSED.getAndAdd(this, used(current) - used(start));
                }
                return start + cost;
            }
        }
    }

    /** Charges {@code cost} to the current window even beyond the ceiling: the request already ran. */
    void forceCharge(long cost, long window) {
        for (;;) {
            long current = state;
            long ahead = ahead(window, current);
            long start = current;
            if (ahead > 0) {
                start = pack(window, carry(used(current), ahead));
            }
            long next = start + Math.min(cost, MAX_USED - used(start));
            if (STATE.weakCompareAndSet(this, current, next)) {
                if (ahead > 0) {
                    CLOSED.getAndAdd(this, used(current) - used(start));
                }
                return;
            }
        }
    }

    /**
     * Gives back {@code cost} charged to {@code chargedWindow}, unless that window has ended (by the
     * clock, {@code window}, or by the state): then the refund is dropped.
     */
    void refund(long cost, long chargedWindow, long window) {
        for (;;) {
            long current = state;
            if (distance(chargedWindow, window) > 0 || ahead(chargedWindow, current) != 0) {
                DROPPED.getAndAdd(this, cost);
                return;
            }
            if (STATE.weakCompareAndSet(this, current, current - Math.min(cost, used(current)))) {
                return;
            }
        }
    }

    /** The state as of {@code window}: rolled over, without storing it, if that window is later. */
    long peek(long window) {
        long current = state;
        long ahead = ahead(window, current);
        return ahead > 0 ? pack(window, carry(used(current), ahead)) : current;
    }

    /** What is left of {@code tokens} at this usage, {@code 0} to {@code tokens}. */
    long remaining(long used) {
        return Math.max(0, tokens - used);
    }

    /** Milliseconds from {@code nowMillis} to the end of window {@code window}. */
    long millisUntilEnd(long window, long nowMillis) {
        return (window + 1) * windowMillis - nowMillis;
    }

    /**
     * Milliseconds from {@code nowMillis} until a request costing {@code cost} fits, at usage
     * {@code used} in {@code window} and without other use: the first window whose carried usage
     * leaves room, or the next window if none ever will.
     */
    long millisUntilFits(long used, long cost, long window, long nowMillis) {
        long windows = 1;
        if (cost <= ceiling) {
            long excess = used + cost - ceiling;
            windows = Math.max(1, (excess + tokens - 1) / tokens);
        }
        return millisUntilEnd(window + windows - 1, nowMillis);
    }

    /** Net cost charged since creation; exact when no charge saturated. */
    long charged() {
        return (long) CLOSED.getVolatile(this) + used(state);
    }

    /** Refunds dropped because their window had ended. */
    long dropped() {
        return (long) DROPPED.getVolatile(this);
    }

    static long used(long state) {
        return state & MAX_USED;
    }

    /** The full window index of {@code state}, given a full window index {@code window} near it. */
    static long windowAt(long state, long window) {
        return window - ahead(window, state);
    }

    private static long pack(long window, long used) {
        return ((window & WINDOW_MASK) << USED_BITS) | used;
    }

    /** How many windows {@code window} is after the window of {@code state}; negative if before. */
    private static long ahead(long window, long state) {
        return distance(state >>> USED_BITS, window);
    }

    /** {@code to - from} for window indexes known only modulo 2^23. */
    private static long distance(long from, long to) {
        return ((to - from) << (Long.SIZE - WINDOW_BITS)) >> (Long.SIZE - WINDOW_BITS);
    }

    private long carry(long used, long windows) {
        return windows > used / tokens ? 0 : used - windows * tokens;
    }
}
