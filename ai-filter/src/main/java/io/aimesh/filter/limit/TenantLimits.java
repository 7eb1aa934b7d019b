package io.aimesh.filter.limit;

import static java.util.Objects.requireNonNull;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A tenant's limits, as {@link TokenLimiter#admit} enforces them.
 *
 * <p>Build one instance per tenant per configuration and pass that same instance on every request:
 * the limiter recognises an unchanged configuration by identity first and falls back to
 * {@link #equals} (a deep comparison) only when handed a different instance.
 *
 * @param tenant the tenant's name, not blank
 * @param rules token limits with distinct {@link LimitRule#id() ids}; may be empty
 * @param requestsPerMinute requests allowed per minute (a fixed window, like the token windows),
 *     or {@code 0} for no request limit; {@code 0} to {@link LimitRule#MAX_TOKENS}
 */
public record TenantLimits(String tenant, List<LimitRule> rules, long requestsPerMinute) {
    public TenantLimits {
        requireNonNull(tenant, "tenant");
        if (tenant.isBlank()) {
            throw new IllegalArgumentException("tenant: \"" + tenant + "\" (expected: not blank)");
        }
        rules = List.copyOf(requireNonNull(rules, "rules"));
        Set<String> ids = new HashSet<>();
        for (LimitRule rule : rules) {
            if (!ids.add(rule.id())) {
                throw new IllegalArgumentException("rules: id \"" + rule.id() + "\" appears twice (expected: distinct ids)");
            }
        }
        if (requestsPerMinute < 0 || requestsPerMinute > LimitRule.MAX_TOKENS) {
            throw new IllegalArgumentException(
                    "requestsPerMinute: " + requestsPerMinute + " (expected: 0 to " + LimitRule.MAX_TOKENS + ")");
        }
    }
}
