package io.aimesh.filter.limit;

/**
 * The answer of {@link TokenLimiter#admit}: admitted with a {@link Reservation} to settle, or
 * denied with a {@link Denial}; either way with the values of the rate-limit response headers.
 * Immutable.
 */
public final class Admission {
    private final Reservation reservation;
    private final Denial denial;
    // The header values are kept flat rather than as a RateLimitHeaders: one object less per request.
    private final long limitTokens;
    private final long remainingTokens;
    private final long resetTokensMillis;
    private final long limitRequests;
    private final long remainingRequests;
    private final long resetRequestsMillis;

    Admission(Reservation reservation, Denial denial, long limitTokens, long remainingTokens, long resetTokensMillis,
              long limitRequests, long remainingRequests, long resetRequestsMillis) {
        this.reservation = reservation;
        this.denial = denial;
        this.limitTokens = limitTokens;
        this.remainingTokens = remainingTokens;
        this.resetTokensMillis = resetTokensMillis;
        this.limitRequests = limitRequests;
        this.remainingRequests = remainingRequests;
        this.resetRequestsMillis = resetRequestsMillis;
    }

    static Admission denied(Denial denial, RateLimitHeaders headers) {
        return new Admission(null, denial, headers.limitTokens(), headers.remainingTokens(), headers.resetTokensMillis(),
                headers.limitRequests(), headers.remainingRequests(), headers.resetRequestsMillis());
    }

    /** Whether the request may proceed. */
    public boolean admitted() {
        return reservation != null;
    }

    /**
     * The reservation to {@linkplain Reservation#reconcile reconcile} when the response's usage is
     * known, or to {@linkplain Reservation#release release} if the request fails before a model.
     *
     * @throws IllegalStateException if the request was denied
     */
    public Reservation reservation() {
        if (reservation == null) {
            throw new IllegalStateException("denied: " + denial);
        }
        return reservation;
    }

    /**
     * Which budget refused the request and when to retry.
     *
     * @throws IllegalStateException if the request was admitted
     */
    public Denial denial() {
        if (denial == null) {
            throw new IllegalStateException("admitted");
        }
        return denial;
    }

    /**
     * The values of the {@code x-ratelimit-*} headers after this admission or denial; never
     * {@code null}. Equal on every call; a new record each time.
     */
    public RateLimitHeaders headers() {
        return new RateLimitHeaders(limitTokens, remainingTokens, resetTokensMillis, limitRequests, remainingRequests, resetRequestsMillis);
    }

    @Override
    public String toString() {
        return (reservation != null ? "Admission[admitted, " : "Admission[" + denial + ", ") + headers() + ']';
    }
}
