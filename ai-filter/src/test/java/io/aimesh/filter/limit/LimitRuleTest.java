package io.aimesh.filter.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aimesh.filter.limit.LimitRule.Cost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LimitRuleTest {
    private static final Duration MINUTE = Duration.ofMinutes(1);

    @Test
    void new_acceptsMinuteHourAndDayWindows() {
        for (Duration window : List.of(MINUTE, Duration.ofHours(1), Duration.ofDays(1))) {
            assertThat(new LimitRule("l", List.of("*"), window, 1, Cost.TOTAL, 0).window()).isEqualTo(window);
        }
    }

    @Test
    void new_rejectsOtherWindows() {
        assertThatThrownBy(() -> new LimitRule("l", List.of("*"), Duration.ofSeconds(30), 1, Cost.TOTAL, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window: PT30S (expected: PT1M, PT1H or P1D)");
    }

    @Test
    void new_rejectsTokensOutOfRange() {
        assertThatThrownBy(() -> new LimitRule("l", List.of("*"), MINUTE, 0, Cost.TOTAL, 0))
                .hasMessage("tokens: 0 (expected: 1 to 549755813888)");
        assertThatThrownBy(() -> new LimitRule("l", List.of("*"), MINUTE, LimitRule.MAX_TOKENS + 1, Cost.TOTAL, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void new_rejectsNegativeBurstAndBurstAboveTheMaximum() {
        assertThatThrownBy(() -> new LimitRule("l", List.of("*"), MINUTE, 10, Cost.TOTAL, -1))
                .hasMessage("burst: -1 (expected: >= 0 and tokens + burst <= 549755813888)");
        assertThatThrownBy(() -> new LimitRule("l", List.of("*"), MINUTE, LimitRule.MAX_TOKENS, Cost.TOTAL, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void new_rejectsStarMixedWithModelsDuplicatesAndEmptyLists() {
        for (List<String> models : List.of(List.of("*", "llama"), List.of("llama", "llama"), List.<String>of(), List.of(" "))) {
            assertThatThrownBy(() -> new LimitRule("l", models, MINUTE, 10, Cost.TOTAL, 0))
                    .as("%s", models)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("models: ");
        }
    }

    @Test
    void new_copiesTheModelList() {
        List<String> models = new ArrayList<>(List.of("llama"));
        LimitRule rule = new LimitRule("l", models, MINUTE, 10, Cost.TOTAL, 0);
        models.add("mistral");

        assertThat(rule.models()).containsExactly("llama");
    }

    @Test
    void new_rejectsBlankAndReservedIds() {
        assertThatThrownBy(() -> new LimitRule(" ", List.of("*"), MINUTE, 10, Cost.TOTAL, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LimitRule(Denial.REQUESTS, List.of("*"), MINUTE, 10, Cost.TOTAL, 0))
                .hasMessage("id: \"requests\" (expected: not blank and not \"requests\")");
    }

    @Test
    void cost_rejectsWeightsOutsideZeroToThousand() {
        assertThatThrownBy(() -> new Cost(-1, 1)).hasMessage("inputWeight: -1 (expected: 0 to 1000)");
        assertThatThrownBy(() -> new Cost(1, 1001)).hasMessage("outputWeight: 1001 (expected: 0 to 1000)");
    }

    @Test
    void tenantLimits_rejectsDuplicateRuleIdsAndNegativeRequestLimits() {
        LimitRule rule = new LimitRule("tpm", List.of("*"), MINUTE, 10, Cost.TOTAL, 0);

        assertThatThrownBy(() -> new TenantLimits("acme", List.of(rule, rule), 0))
                .hasMessage("rules: id \"tpm\" appears twice (expected: distinct ids)");
        assertThatThrownBy(() -> new TenantLimits("acme", List.of(rule), -1))
                .hasMessage("requestsPerMinute: -1 (expected: 0 to 549755813888)");
        assertThatThrownBy(() -> new TenantLimits(" ", List.of(rule), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
