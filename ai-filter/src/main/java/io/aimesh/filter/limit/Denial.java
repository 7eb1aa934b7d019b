package io.aimesh.filter.limit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Why {@link TokenLimiter#admit} refused a request: the first budget, in the tenant's order (the
 * request budget first, then the rules as listed), that the request did not fit in.
 *
 * @param tenant the tenant
 * @param limit the refusing rule's {@link LimitRule#id() id}, or {@link #REQUESTS} for the
 *     requests-per-minute budget
 * @param scope {@link LimitRule#ALL_MODELS "*"} for a budget shared by all models, else the model
 * @param window the budget's window
 * @param retryAfterMillis milliseconds until the budget will have room for this request, assuming no
 *     other use: usually the time to the end of the window, longer while a borrowed burst or an
 *     overshoot is being paid back; {@code >= 0}. A request costing more than
 *     {@code tokens + burst} never fits: the value is then the time to the end of the window.
 * @param tooLarge whether the request costs more than the budget's {@code tokens + burst}, so
 *     that no wait would let it in
 */
public record Denial(String tenant, String limit, String scope, Duration window, long retryAfterMillis, boolean tooLarge) {
    /** The {@link #limit} of the requests-per-minute budget. No rule may use this id. */
    public static final String REQUESTS = "requests";

    /** A denial that waiting can cure. */
    public Denial(String tenant, String limit, String scope, Duration window, long retryAfterMillis) {
        this(tenant, limit, scope, window, retryAfterMillis, false);
    }

    public Denial {
        requireNonNull(tenant, "tenant");
        requireNonNull(limit, "limit");
        requireNonNull(scope, "scope");
        requireNonNull(window, "window");
        if (retryAfterMillis < 0) {
            throw new IllegalArgumentException("retryAfterMillis: " + retryAfterMillis + " (expected: >= 0)");
        }
    }
}
