package io.aimesh.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The top of the spend hierarchy: its budgets hold for the spend of all its teams together.
 *
 * @param name the organisation's {@code metadata.name}
 * @param budgets its budgets; may be empty
 */
public record Organization(String name, List<SpendBudget> budgets) {
    public Organization {
        requireNonNull(name, "name");
        budgets = List.copyOf(budgets);
    }
}
