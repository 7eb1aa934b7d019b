package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A team in an {@link Organization}: its budgets hold for the spend of all its tenants together.
 *
 * @param name the team's {@code metadata.name}
 * @param organization the organisation it belongs to, or {@code null} for none
 * @param budgets its budgets; may be empty
 */
public record Team(String name, String organization, List<SpendBudget> budgets) {
    public Team {
        requireNonNull(name, "name");
        budgets = List.copyOf(budgets);
    }
}
