package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * A tenant: who it is, which models it may use, and its limits. Parsed and validated now;
 * enforced by the ai-filter.
 *
 * @param name the tenant's {@code metadata.name}
 * @param apiKeySha256 SHA-256 digests (lower-case hex) of the tenant's API keys; keys are never stored in clear
 * @param jwtClaim the value of the Gateway's tenant claim in this tenant's verified JWTs, or {@code null}
 * @param trustedHeader a header a trusted gateway sets to name this tenant, or {@code null}
 * @param allowedModels model names the tenant may use; {@code "*"} allows all
 * @param priority the tenant's priority class
 * @param modelPriorities priority classes for some models, over {@code priority}
 * @param share the tenant's weight in the fair share of a saturated pool, {@code >= 1}
 * @param tier the tenant's tier, or {@code null}
 * @param limits token limits
 * @param requestsPerMinute request limit, or {@code 0} for none
 * @param team the {@link Team} the tenant's spend also counts against, or {@code null}
 * @param budgets the tenant's own spend budgets
 * @param keyBudgets budgets of single API keys
 */
public record Tenant(String name, List<String> apiKeySha256, String jwtClaim, HeaderMatch trustedHeader,
                     List<String> allowedModels, Priority priority, Map<String, Priority> modelPriorities, int share,
                     String tier, List<TokenLimit> limits, long requestsPerMinute, String team, List<SpendBudget> budgets,
                     List<KeyBudgets> keyBudgets) {
    public Tenant {
        requireNonNull(name, "name");
        apiKeySha256 = List.copyOf(apiKeySha256);
        allowedModels = List.copyOf(allowedModels);
        requireNonNull(priority, "priority");
        modelPriorities = Map.copyOf(modelPriorities);
        if (share < 1) {
            throw new IllegalArgumentException("share: " + share + " (expected: >= 1)");
        }
        limits = List.copyOf(limits);
        if (requestsPerMinute < 0) {
            throw new IllegalArgumentException("requestsPerMinute: " + requestsPerMinute + " (expected: >= 0)");
        }
        budgets = List.copyOf(budgets);
        keyBudgets = List.copyOf(keyBudgets);
    }

    /**
     * The budgets of one API key.
     *
     * @param sha256 the key's digest, lower-case hex
     * @param name how reports and refusals name the key (never the key, nor its whole digest)
     * @param budgets the key's budgets, at least one
     */
    public record KeyBudgets(String sha256, String name, List<SpendBudget> budgets) {
        public KeyBudgets {
            requireNonNull(sha256, "sha256");
            requireNonNull(name, "name");
            budgets = List.copyOf(budgets);
        }
    }

    /** A header name and the exact value that identifies the tenant. */
    public record HeaderMatch(String name, String value) {
        public HeaderMatch {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
        }
    }

    /** Priority classes, highest first. When a pool saturates, the lowest is shed first. */
    public enum Priority {
        CRITICAL, STANDARD, SHEDDABLE
    }
}
