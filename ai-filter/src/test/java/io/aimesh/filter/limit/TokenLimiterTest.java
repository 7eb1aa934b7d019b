package io.aimesh.filter.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aimesh.filter.limit.LimitRule.Cost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenLimiterTest {
    /** Midnight UTC, so minute, hour and day windows all start here. */
    private static final long DAY_START = 19_676L * 86_400_000L;
    private static final Duration MINUTE = Duration.ofMinutes(1);

    private final AtomicLong clock = new AtomicLong(DAY_START);
    private final TokenLimiter limiter = new TokenLimiter(clock::get, TokenLimiter.DEFAULT_MAX_BUDGETS);

    private static LimitRule rule(String id, long tokens) {
        return new LimitRule(id, List.of("*"), MINUTE, tokens, Cost.TOTAL, 0);
    }

    private static TenantLimits tenant(LimitRule... rules) {
        return new TenantLimits("acme", List.of(rules), 0);
    }

    @Test
    void admit_admitsUntilTokensAreUsedThenDenies() {
        TenantLimits limits = tenant(rule("tpm", 1000));

        assertThat(limiter.admit(limits, "m", 200, 100).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 200, 100).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 200, 100).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 200, 100).admitted()).isFalse();
        assertThat(limiter.admit(limits, "m", 50, 50).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 1, 0).admitted()).isFalse();
    }

    @Test
    void admit_startsEmptyAtTheNextEpochAlignedWindow() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        clock.set(DAY_START + 30_000);
        assertThat(limiter.admit(limits, "m", 1000, 0).admitted()).isTrue();

        clock.set(DAY_START + 59_999);
        assertThat(limiter.admit(limits, "m", 1, 0).admitted()).isFalse();
        clock.set(DAY_START + 60_000);
        assertThat(limiter.admit(limits, "m", 1000, 0).admitted()).isTrue();
    }

    @Test
    void admit_sharesOneBudgetAmongAllModelsForStar() {
        TenantLimits limits = tenant(rule("tpm", 1000));

        assertThat(limiter.admit(limits, "llama", 600, 0).admitted()).isTrue();
        assertThat(limiter.admit(limits, "mistral", 600, 0).admitted()).isFalse();
        assertThat(limiter.admit(limits, "mistral", 400, 0).admitted()).isTrue();
    }

    @Test
    void admit_givesEachNamedModelItsOwnFullBudget() {
        TenantLimits limits = tenant(new LimitRule("per-model", List.of("llama", "mistral"), MINUTE, 1000, Cost.TOTAL, 0));

        assertThat(limiter.admit(limits, "llama", 1000, 0).admitted()).isTrue();
        assertThat(limiter.admit(limits, "mistral", 1000, 0).admitted()).isTrue();
        assertThat(limiter.admit(limits, "llama", 1, 0).admitted()).isFalse();
        assertThat(limiter.admit(limits, "other", 5000, 0).admitted()).as("a model no rule names").isTrue();
    }

    @Test
    void admit_checksNamedAndSharedBudgetsTogether() {
        TenantLimits limits = tenant(rule("all", 1500),
                new LimitRule("llama", List.of("llama"), MINUTE, 1000, Cost.TOTAL, 0));

        assertThat(limiter.admit(limits, "llama", 1000, 0).admitted()).isTrue();
        Admission denied = limiter.admit(limits, "llama", 1, 0);
        assertThat(denied.denial().limit()).isEqualTo("llama");
        assertThat(denied.denial().scope()).isEqualTo("llama");
        assertThat(limiter.admit(limits, "mistral", 600, 0).denial().limit()).isEqualTo("all");
        assertThat(limiter.admit(limits, "mistral", 500, 0).admitted()).isTrue();
    }

    @Test
    void admit_weighsInputAndOutputTokens() {
        TenantLimits limits = tenant(new LimitRule("weighted", List.of("*"), MINUTE, 1000, new Cost(1, 3), 0));

        Admission first = limiter.admit(limits, "m", 100, 100);
        assertThat(first.headers().remainingTokens()).isEqualTo(600);
        assertThat(limiter.admit(limits, "m", 0, 201).admitted()).isFalse();
        assertThat(limiter.admit(limits, "m", 0, 200).headers().remainingTokens()).isZero();
    }

    @Test
    void admit_countsOnlyInputOrOnlyOutputTokens() {
        TenantLimits limits = tenant(
                new LimitRule("input", List.of("*"), MINUTE, 1000, Cost.INPUT, 0),
                new LimitRule("output", List.of("*"), MINUTE, 100, Cost.OUTPUT, 0));

        assertThat(limiter.admit(limits, "m", 900, 100).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 100, 1).denial().limit()).isEqualTo("output");
        assertThat(limiter.admit(limits, "m", 101, 0).denial().limit()).isEqualTo("input");
        assertThat(limiter.admit(limits, "m", 100, 0).admitted()).isTrue();
    }

    @Test
    void admit_lendsTheBurstAndTakesItFromTheNextWindow() {
        TenantLimits limits = tenant(new LimitRule("tpm", List.of("*"), MINUTE, 1000, Cost.TOTAL, 500));

        assertThat(limiter.admit(limits, "m", 1500, 0).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 1, 0).admitted()).isFalse();

        clock.set(DAY_START + 60_000);
        Admission repaying = limiter.admit(limits, "m", 0, 0);
        assertThat(repaying.headers().remainingTokens()).as("500 borrowed").isEqualTo(500);
        assertThat(limiter.admit(limits, "m", 1000, 0).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 1, 0).admitted()).isFalse();

        clock.set(DAY_START + 3 * 60_000);
        assertThat(limiter.admit(limits, "m", 1500, 0).admitted()).as("paid back during an idle window").isTrue();
    }

    @Test
    void admit_withoutBurstNeverExceedsTokens() {
        TenantLimits limits = tenant(rule("tpm", 1000));

        assertThat(limiter.admit(limits, "m", 1001, 0).admitted()).isFalse();
        assertThat(limiter.admit(limits, "m", 1000, 0).admitted()).isTrue();
        clock.set(DAY_START + 60_000);
        assertThat(limiter.admit(limits, "m", 1000, 0).headers().remainingTokens()).isZero();
    }

    @Test
    void reconcile_refundsTheUnusedEstimate() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        Reservation reservation = limiter.admit(limits, "m", 100, 700).reservation();

        assertThat(reservation.reconcile(100, 200)).isTrue();

        assertThat(limiter.admit(limits, "m", 700, 0).admitted()).isTrue();
        assertThat(limiter.admit(limits, "m", 1, 0).admitted()).isFalse();
    }

    @Test
    void reconcile_chargesUsageAboveTheEstimateBeyondTheLimitAndIntoTheNextWindow() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        Reservation reservation = limiter.admit(limits, "m", 100, 100).reservation();

        reservation.reconcile(100, 1400);

        assertThat(limiter.admit(limits, "m", 0, 0).admitted()).as("1500 used: even a request costing nothing is refused").isFalse();
        clock.set(DAY_START + 60_000);
        assertThat(limiter.admit(limits, "m", 0, 0).headers().remainingTokens()).isEqualTo(500);
    }

    @Test
    void reconcile_afterTheWindowEnded_dropsTheRefund() {
        TenantLimits limits = tenant(new LimitRule("tpm", List.of("*"), MINUTE, 1000, Cost.TOTAL, 500));
        Reservation reservation = limiter.admit(limits, "m", 1500, 0).reservation();
        clock.set(DAY_START + 60_000);

        reservation.reconcile(100, 0);

        assertThat(limiter.admit(limits, "m", 1000, 0).admitted()).as("the borrowed 500 is still owed").isTrue();
        assertThat(limiter.admit(limits, "m", 1, 0).admitted()).isFalse();
    }

    @Test
    void reconcile_afterTheWindowEnded_chargesTheExtraToTheCurrentWindow() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        Reservation reservation = limiter.admit(limits, "m", 100, 0).reservation();
        clock.set(DAY_START + 60_000 + 5_000);

        reservation.reconcile(100, 300);

        Admission next = limiter.admit(limits, "m", 0, 0);
        assertThat(next.headers().remainingTokens()).isEqualTo(700);
        assertThat(limiter.admit(limits, "m", 701, 0).admitted()).isFalse();
    }

    @Test
    void reconcile_isIdempotentAndEndsTheReservation() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        Reservation reservation = limiter.admit(limits, "m", 500, 0).reservation();

        assertThat(reservation.reconcile(100, 0)).isTrue();
        assertThat(reservation.reconcile(0, 0)).isFalse();
        assertThat(reservation.release()).isFalse();

        assertThat(limiter.admit(limits, "m", 0, 0).headers().remainingTokens()).isEqualTo(900);
    }

    @Test
    void release_refundsTheTokensAndTheRequest() {
        TenantLimits limits = new TenantLimits("acme", List.of(rule("tpm", 1000)), 1);
        Reservation reservation = limiter.admit(limits, "m", 1000, 0).reservation();
        assertThat(limiter.admit(limits, "m", 0, 0).denial().limit()).isEqualTo(Denial.REQUESTS);

        assertThat(reservation.release()).isTrue();
        assertThat(reservation.release()).isFalse();
        assertThat(reservation.reconcile(1000, 0)).isFalse();

        Admission again = limiter.admit(limits, "m", 1000, 0);
        assertThat(again.admitted()).isTrue();
    }

    @Test
    void admit_keepsNothingReservedWhenAnyBudgetRefuses() {
        TenantLimits limits = new TenantLimits("acme", List.of(
                rule("all", 10_000),
                new LimitRule("llama", List.of("llama"), MINUTE, 500, Cost.TOTAL, 0)), 10);

        Admission denied = limiter.admit(limits, "llama", 600, 0);

        assertThat(denied.denial().limit()).isEqualTo("llama");
        assertThat(denied.headers().remainingRequests()).isEqualTo(10);
        Admission other = limiter.admit(limits, "mistral", 0, 0);
        assertThat(other.headers().remainingTokens()).isEqualTo(10_000);
        assertThat(other.headers().remainingRequests()).isEqualTo(9);
    }

    @Test
    void admit_reportsRemainingTokensThatGoDown() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        List<Long> remaining = new ArrayList<>();

        for (int i = 0; i < 5; i++) {
            RateLimitHeaders headers = limiter.admit(limits, "m", 150, 50).headers();
            assertThat(headers.limitTokens()).isEqualTo(1000);
            remaining.add(headers.remainingTokens());
        }

        assertThat(remaining).containsExactly(800L, 600L, 400L, 200L, 0L);
        assertThat(limiter.admit(limits, "m", 1, 0).headers().remainingTokens()).isZero();
    }

    @Test
    void admit_reportsTheBudgetWithTheLeastRemaining() {
        TenantLimits limits = tenant(rule("minute", 1000),
                new LimitRule("day", List.of("*"), Duration.ofDays(1), 1500, Cost.TOTAL, 0));
        clock.set(DAY_START + 10_000);

        RateLimitHeaders first = limiter.admit(limits, "m", 600, 0).headers();
        assertThat(first.limitTokens()).isEqualTo(1000);
        assertThat(first.remainingTokens()).isEqualTo(400);
        assertThat(first.resetTokensMillis()).isEqualTo(50_000);

        clock.set(DAY_START + 60_000);
        RateLimitHeaders next = limiter.admit(limits, "m", 0, 0).headers();
        assertThat(next.limitTokens()).isEqualTo(1500);
        assertThat(next.remainingTokens()).isEqualTo(900);
        assertThat(next.resetTokensMillis()).isEqualTo(86_400_000 - 60_000);
        assertThat(next.hasRequests()).isFalse();
    }

    @Test
    void denial_isTooLarge_whenTheCostExceedsTokensPlusBurst_andOnlyThen() {
        TenantLimits limits = tenant(new LimitRule("tpm", List.of("*"), MINUTE, 600, Cost.TOTAL, 100));
        limiter.admit(limits, "m", 500, 0);

        assertThat(limiter.admit(limits, "m", 1, 700).denial().tooLarge()).isTrue();
        assertThat(limiter.admit(limits, "m", 1, 300).denial().tooLarge()).isFalse();
    }

    @Test
    void denial_namesTheBudgetAndRetriesAtTheWindowEnd() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        clock.set(DAY_START + 12_345);
        limiter.admit(limits, "m", 900, 0);

        Admission denied = limiter.admit(limits, "m", 200, 0);

        assertThat(denied.admitted()).isFalse();
        assertThat(denied.denial()).isEqualTo(new Denial("acme", "tpm", "*", MINUTE, 60_000 - 12_345));
        assertThat(denied.headers().remainingTokens()).isEqualTo(100);
        assertThat(denied.headers().resetTokensMillis()).isEqualTo(60_000 - 12_345);
        assertThatThrownBy(denied::reservation).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void denial_retriesWhenTheCarriedOvershootIsPaidBack() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        limiter.admit(limits, "m", 100, 0).reservation().reconcile(2500, 0);
        clock.set(DAY_START + 1_000);

        Admission denied = limiter.admit(limits, "m", 600, 0);

        assertThat(denied.denial().retryAfterMillis()).as("fits when 2500 - 3 * 1000 is carried").isEqualTo(3 * 60_000 - 1_000);
        clock.set(DAY_START + 2 * 60_000);
        assertThat(limiter.admit(limits, "m", 600, 0).admitted()).isFalse();
        clock.set(DAY_START + 3 * 60_000);
        assertThat(limiter.admit(limits, "m", 600, 0).admitted()).isTrue();
    }

    @Test
    void admit_limitsRequestsPerMinute() {
        TenantLimits limits = new TenantLimits("acme", List.of(), 3);
        clock.set(DAY_START + 45_000);

        List<Long> remaining = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Admission admission = limiter.admit(limits, "m", 10_000, 10_000);
            assertThat(admission.headers().limitRequests()).isEqualTo(3);
            assertThat(admission.headers().resetRequestsMillis()).isEqualTo(15_000);
            assertThat(admission.headers().hasTokens()).isFalse();
            remaining.add(admission.headers().remainingRequests());
        }
        Admission denied = limiter.admit(limits, "m", 0, 0);

        assertThat(remaining).containsExactly(2L, 1L, 0L);
        assertThat(denied.denial()).isEqualTo(new Denial("acme", Denial.REQUESTS, "*", MINUTE, 15_000));
        clock.set(DAY_START + 60_000);
        assertThat(limiter.admit(limits, "m", 0, 0).admitted()).isTrue();
    }

    @Test
    void admit_admitsEverythingForATenantWithoutLimits() {
        TenantLimits limits = new TenantLimits("free", List.of(), 0);

        Admission admission = limiter.admit(limits, "m", Long.MAX_VALUE, Long.MAX_VALUE);

        assertThat(admission.admitted()).isTrue();
        assertThat(admission.headers().hasTokens()).isFalse();
        assertThat(admission.headers().hasRequests()).isFalse();
        assertThat(admission.reservation().reconcile(1, 1)).isTrue();
    }

    @Test
    void admit_chargesTheLatestWindowWhenTheClockGoesBack() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        clock.set(DAY_START + 61_000);
        limiter.admit(limits, "m", 1000, 0).reservation().release();

        clock.set(DAY_START + 59_000);
        Admission late = limiter.admit(limits, "m", 800, 0);
        assertThat(late.headers().resetTokensMillis()).isEqualTo(61_000);
        late.reservation().reconcile(300, 0);

        clock.set(DAY_START + 61_000);
        assertThat(limiter.admit(limits, "m", 0, 0).headers().remainingTokens()).isEqualTo(700);
    }

    @Test
    void admit_keepsUsageOfUnchangedRulesWhenTheConfigurationChanges() {
        TenantLimits before = tenant(rule("kept", 1000), rule("changed", 1000));
        limiter.admit(before, "m", 600, 0);

        TenantLimits after = tenant(rule("kept", 1000), rule("changed", 2000));
        assertThat(limiter.admit(after, "m", 400, 0).admitted()).isTrue();
        assertThat(limiter.admit(after, "m", 1, 0).denial().limit()).isEqualTo("kept");
        assertThat(limiter.admit(after, "m", 0, 0).headers().remainingTokens())
                .as("\"kept\" has nothing left; \"changed\" started empty").isZero();
        assertThat(limiter.budgetsFor(after, "m")).extracting(budget -> budget.tokens).containsExactly(1000L, 2000L);
    }

    @Test
    void admit_recognisesAnEqualConfigurationAsUnchanged() {
        limiter.admit(tenant(rule("tpm", 1000)), "m", 1000, 0);

        assertThat(limiter.admit(tenant(rule("tpm", 1000)), "m", 1, 0).admitted()).isFalse();
    }

    @Test
    void admit_dropsLeastRecentlyUsedTenantsBeyondMaxBudgets() {
        TokenLimiter small = new TokenLimiter(clock::get, 10);

        for (int i = 0; i < 50; i++) {
            small.admit(new TenantLimits("tenant-" + i, List.of(rule("tpm", 1000)), 10), "m", 1, 1);
        }

        assertThat(small.budgetCount()).isBetween(1L, 10L);
    }

    @Test
    void admit_dropsTenantsIdleForTwoDays() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        limiter.admit(limits, "m", 1, 0);
        assertThat(limiter.budgetCount()).isEqualTo(1);

        clock.addAndGet(TokenLimiter.EXPIRE_AFTER_ACCESS.toMillis() + 1);

        assertThat(limiter.budgetCount()).isZero();
    }

    @Test
    void admit_keepsTenantsInUseBeyondTheIdleExpiry() {
        TenantLimits limits = tenant(rule("tpm", 1000));
        Budget[] first = limiter.budgetsFor(limits, "m");
        long step = TokenLimiter.EXPIRE_AFTER_ACCESS.toMillis() * 3 / 4;

        for (int i = 0; i < 4; i++) {
            clock.addAndGet(step);
            limiter.admit(limits, "m", 1, 0);
        }

        assertThat(limiter.budgetsFor(limits, "m")).containsExactly(first);
    }

    @Test
    void admit_rejectsATenantWithMoreBudgetsThanMaxBudgets() {
        TokenLimiter small = new TokenLimiter(clock::get, 2);
        TenantLimits limits = tenant(new LimitRule("per-model", List.of("a", "b", "c"), MINUTE, 10, Cost.TOTAL, 0));

        assertThatThrownBy(() -> small.admit(limits, "a", 1, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 budgets");
    }

    @Test
    void admit_rejectsNegativeEstimates() {
        TenantLimits limits = tenant(rule("tpm", 1000));

        assertThatThrownBy(() -> limiter.admit(limits, "m", -1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("estimatedInput: -1 (expected: >= 0)");
        assertThatThrownBy(() -> limiter.admit(limits, "m", 0, 0).reservation().reconcile(0, -5))
                .hasMessage("actualOutput: -5 (expected: >= 0)");
    }
}
