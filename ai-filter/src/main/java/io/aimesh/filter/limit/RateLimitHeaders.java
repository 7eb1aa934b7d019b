package io.aimesh.filter.limit;

/**
 * The values of OpenAI's rate-limit response headers for one admission or denial:
 * {@code x-ratelimit-limit-tokens}, {@code x-ratelimit-remaining-tokens},
 * {@code x-ratelimit-reset-tokens} and the {@code -requests} trio.
 *
 * <p>The token values come from the tightest token budget the request touched: the one with the
 * least remaining, and of those the one that resets last. Remaining is what is left of
 * {@code tokens} in the current window after this request's reservation (borrowed burst is not
 * advertised), never negative. A request that touched no token budget, or a tenant without a request
 * limit, has {@link #NONE} in the corresponding three values.
 *
 * @param limitTokens the budget's {@code tokens}, or {@link #NONE}
 * @param remainingTokens {@code 0} to {@code limitTokens}, or {@link #NONE}
 * @param resetTokensMillis milliseconds until that budget's window ends, {@code > 0}, or {@link #NONE}
 * @param limitRequests requests per minute, or {@link #NONE}
 * @param remainingRequests {@code 0} to {@code limitRequests}, or {@link #NONE}
 * @param resetRequestsMillis milliseconds until the request window ends, {@code > 0}, or {@link #NONE}
 */
public record RateLimitHeaders(long limitTokens, long remainingTokens, long resetTokensMillis,
                               long limitRequests, long remainingRequests, long resetRequestsMillis) {
    /** The value of every field of a budget that was not touched. */
    public static final long NONE = -1;

    /** Whether the token values are present. */
    public boolean hasTokens() {
        return limitTokens != NONE;
    }

    /** Whether the request values are present. */
    public boolean hasRequests() {
        return limitRequests != NONE;
    }
}
