package io.aimesh.filter.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.limit.LimitRule.Cost;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetTest {
    private static final long MINUTE = 60_000;
    private static final LimitRule RULE = new LimitRule("tpm", List.of("*"), Duration.ofMinutes(1), 1000, Cost.TOTAL, 0);

    @Test
    void tryCharge_rollsOverWhereTheWindowIndexWrapsAround() {
        long lastBeforeWrap = Budget.WINDOW_MASK;
        Budget budget = Budget.forRule(RULE, "*", lastBeforeWrap * MINUTE);
        assertThat(budget.tryCharge(1000, lastBeforeWrap)).isPositive();
        assertThat(budget.tryCharge(1, lastBeforeWrap)).isNegative();

        long state = budget.tryCharge(1000, lastBeforeWrap + 1);

        assertThat(state).isPositive();
        assertThat(Budget.windowAt(state, lastBeforeWrap + 1)).isEqualTo(lastBeforeWrap + 1);
        assertThat(Budget.used(state)).isEqualTo(1000);
    }

    @Test
    void tryCharge_refusalReturnsTheStateItDidNotFitIn() {
        Budget budget = Budget.forRule(RULE, "*", 0);
        budget.tryCharge(700, 0);

        long refused = budget.tryCharge(400, 0);

        assertThat(refused).isNegative();
        assertThat(Budget.used(~refused)).isEqualTo(700);
    }

    @Test
    void forceCharge_saturatesInsteadOfOverflowing() {
        Budget budget = Budget.forRule(RULE, "*", 0);

        budget.forceCharge(Budget.MAX_USED, 0);
        budget.forceCharge(Budget.MAX_USED, 0);

        assertThat(Budget.used(budget.peek(0))).isEqualTo(Budget.MAX_USED);
        assertThat(Budget.windowAt(budget.peek(0), 0)).isZero();
    }

    @Test
    void cost_saturatesForHugeTokenCounts() {
        Budget budget = Budget.forRule(new LimitRule("w", List.of("*"), Duration.ofMinutes(1), 10, new Cost(1000, 1000), 0), "*", 0);

        assertThat(budget.cost(Long.MAX_VALUE, Long.MAX_VALUE)).isEqualTo(Budget.MAX_USED);
        assertThat(budget.cost(2, 3)).isEqualTo(5000);
    }

    @Test
    void charged_countsNetCostAcrossWindowsAndCarries() {
        Budget budget = Budget.forRule(new LimitRule("b", List.of("*"), Duration.ofMinutes(1), 1000, Cost.TOTAL, 500), "*", 0);
        budget.tryCharge(1500, 0);
        budget.tryCharge(900, 1);
        budget.refund(100, 1, 1);
        budget.refund(50, 0, 1);

        assertThat(budget.charged()).as("the dropped refund stays charged").isEqualTo(1500 + 900 - 100);
        assertThat(budget.dropped()).isEqualTo(50);
    }
}
