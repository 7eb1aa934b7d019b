package io.aimesh.filter.limit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;

/**
 * The cost held for one admitted request until it is {@linkplain #reconcile reconciled} with the
 * request's real usage or {@linkplain #release released}.
 *
 * <p>Thread-safe. Exactly one call of {@link #reconcile} or {@link #release} takes effect, the
 * first; later calls return {@code false} and change nothing. A reservation never settled keeps its
 * estimate charged.
 */
public final class Reservation {
    private static final VarHandle SETTLED;
    private static final long NOT_READ = Long.MIN_VALUE;

    static {
        try {
            SETTLED = MethodHandles.lookup().findVarHandle(Reservation.class, "settled", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Budget[] budgets;
    private final long input;
    private final long output;
    private final long admittedAt;
    /** The window each budget was charged in; {@code null} when all were charged in the window of {@code admittedAt}. */
    private final long[] chargedWindows;
    private final LongSupplier nowMillis;
    private volatile boolean settled;
    /** The shared budgets also charged, with each budget's key and cost there; {@code null} when none. Set before publication. */
    private GlobalBudgets global;
    private String[] globalKeys;
    private long[] globalCosts;

    Reservation(Budget[] budgets, long input, long output, long admittedAt, long[] chargedWindows, LongSupplier nowMillis) {
        this.budgets = budgets;
        this.input = input;
        this.output = output;
        this.admittedAt = admittedAt;
        this.chargedWindows = chargedWindows;
        this.nowMillis = nowMillis;
    }

    /**
     * Replaces the estimate by the request's real cost. In each budget, while the window charged at
     * admission is current, the difference is added to or taken from it; once that window has ended,
     * a refund is dropped and an extra charge goes to the current window. An extra charge is made
     * even beyond the limit: the request already ran.
     *
     * @param actualInput input tokens used, {@code >= 0}
     * @param actualOutput output tokens used, {@code >= 0}
     * @return whether this call settled the reservation; {@code false} if it was already settled
     */
    public boolean reconcile(long actualInput, long actualOutput) {
        TokenLimiter.checkTokens("actualInput", actualInput);
        TokenLimiter.checkTokens("actualOutput", actualOutput);
        if (!SETTLED.compareAndSet(this, false, true)) {
            return false;
        }
        long now = NOT_READ;
        for (int i = 0; i < budgets.length; i++) {
            now = settle(i, budgets[i].cost(actualInput, actualOutput), now);
        }
        if (global != null) {
            for (int i = 0; i < budgets.length; i++) {
                long delta = budgets[i].cost(actualInput, actualOutput) - globalCosts[i];
                if (delta != 0) {
                    global.adjust(globalKeys[i], budgets[i].window, admittedAt, delta);
                }
            }
        }
        return true;
    }

    /**
     * Gives the whole reservation back, the request itself included in the request budget: for a
     * request that failed before it reached a model. Nothing is given back to a window that has ended.
     *
     * @return whether this call settled the reservation; {@code false} if it was already settled
     */
    public boolean release() {
        if (!SETTLED.compareAndSet(this, false, true)) {
            return false;
        }
        long now = NOT_READ;
        for (int i = 0; i < budgets.length; i++) {
            now = settle(i, 0, now);
        }
        if (global != null) {
            for (int i = 0; i < budgets.length; i++) {
                global.adjust(globalKeys[i], budgets[i].window, admittedAt, -globalCosts[i]);
            }
        }
        return true;
    }

    /** The budgets charged. */
    Budget[] budgets() {
        return budgets;
    }

    /** Records that the shared budgets {@code keys} of {@code global} were charged {@code costs} as well. */
    void shareWith(GlobalBudgets shared, String[] keys, long[] costs) {
        this.global = shared;
        this.globalKeys = keys;
        this.globalCosts = costs;
    }

    /** Settles one budget at {@code cost}; reads the clock only if the cost changed and {@code now} is {@link #NOT_READ}. */
    private long settle(int index, long cost, long now) {
        Budget budget = budgets[index];
        long held = budget.cost(input, output);
        if (cost != held && now == NOT_READ) {
            now = nowMillis.getAsLong();
        }
        if (cost > held) {
            budget.forceCharge(cost - held, budget.windowOf(now));
        } else if (cost < held) {
            budget.refund(held - cost, chargedWindow(index), budget.windowOf(now));
        }
        return now;
    }

    /** The window budget {@code index} was charged in. */
    long chargedWindow(int index) {
        return chargedWindows != null ? chargedWindows[index] : budgets[index].windowOf(admittedAt);
    }

    @Override
    public String toString() {
        return "Reservation[input=" + input + ", output=" + output + ", admittedAt=" + admittedAt
                + ", budgets=" + budgets.length + ", settled=" + settled + ']';
    }
}
