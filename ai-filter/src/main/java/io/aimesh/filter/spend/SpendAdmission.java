package io.aimesh.filter.spend;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * The ledger's answer to one request: its reservation in every budget, or the budget that refused.
 * Either way, {@link #remaining()} is what is left of the tightest budget it touched (the refusing
 * one on a refusal) and when that budget resets.
 */
public final class SpendAdmission {
    /** Why a request was refused. */
    public enum Refusal {
        /** The budget cannot hold the reservation this period. */
        OVER_BUDGET,
        /** This replica holds its whole lease of the shared budget until Redis acknowledges it: retry in a moment. */
        LEASE_SPENT
    }

    /**
     * What is left of one budget.
     *
     * @param rule the budget
     * @param bucket the bucket's id, e.g. {@code 2026-12}
     * @param micros what is left after this request's reservation (before it, on a refusal), {@code >= 0}
     * @param resetsAt when the budget's period (for a rolling one, its oldest day) ends
     */
    public record Remaining(SpendRule rule, String bucket, long micros, Instant resetsAt) {
    }

    private final SpendLedger.Reservation reservation;
    private final Refusal refusal;
    private final Remaining remaining;

    private SpendAdmission(SpendLedger.Reservation reservation, Refusal refusal, Remaining remaining) {
        this.reservation = reservation;
        this.refusal = refusal;
        this.remaining = remaining;
    }

    static SpendAdmission admitted(SpendLedger.Reservation reservation, Remaining tightest) {
        return new SpendAdmission(requireNonNull(reservation, "reservation"), null, tightest);
    }

    static SpendAdmission refused(Refusal refusal, Remaining remaining) {
        return new SpendAdmission(null, requireNonNull(refusal, "refusal"), requireNonNull(remaining, "remaining"));
    }

    public boolean admitted() {
        return refusal == null;
    }

    /** The reservation to settle or release; {@code null} on a refusal. */
    public SpendLedger.Reservation reservation() {
        return reservation;
    }

    /** Why it was refused; {@code null} when admitted. */
    public Refusal refusal() {
        return refusal;
    }

    /** The tightest budget touched (the refusing one on a refusal); {@code null} for a request no budget applies to. */
    public Remaining remaining() {
        return remaining;
    }
}
