package io.aimesh.filter.extproc;

import static io.aimesh.filter.extproc.ProcessorHarness.chat;
import static io.aimesh.filter.extproc.ProcessorHarness.chatHeaders;
import static io.aimesh.filter.extproc.ProcessorHarness.decision;
import static io.aimesh.filter.extproc.ProcessorHarness.metadataHeader;
import static io.aimesh.filter.extproc.ProcessorHarness.responseBody;
import static io.aimesh.filter.extproc.ProcessorHarness.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.FilterConfig;
import io.aimesh.filter.api.KeyBudgets;
import io.aimesh.filter.api.Organization;
import io.aimesh.filter.api.Pricing;
import io.aimesh.filter.api.SpendBudget;
import io.aimesh.filter.api.SpendPeriod;
import io.aimesh.filter.api.Team;
import io.aimesh.filter.spend.Level;
import io.aimesh.filter.spend.Period;
import io.aimesh.filter.spend.SpendRule;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Spend budgets on the request path: llama costs 1.00 per million prompt tokens (0.50 cached) and
 * 2.00 per million output tokens; acme's key has 0.001 a day, acme 1.00 a month, its team 0.0005
 * a month. A request of 11 prompt tokens and max_tokens 10 reserves 0.000011 + 0.000020 = 0.000031.
 */
class SpendBudgetTest {
    private static final SpendBudget.Builder MONTH = SpendBudget.newBuilder().setPeriod(SpendPeriod.SPEND_PERIOD_MONTH)
            .setTimeZone("UTC");
    private final ProcessorHarness filter = ProcessorHarness.of(FilterConfig.newBuilder()
            .addModels(ProcessorHarness.LLAMA.toBuilder()
                    .setPricing(Pricing.newBuilder().setInputMicros(1_000_000).setCachedInputMicros(500_000).setOutputMicros(2_000_000)))
            .addTenants(ProcessorHarness.acme(1_000_000).setTeam("search").addBudgets(MONTH.clone().setAmountMicros(1_000_000))
                    .addKeyBudgets(KeyBudgets.newBuilder().setApiKeySha256(ApiKeys.sha256(ProcessorHarness.ACME_KEY)).setName("ci")
                            .addBudgets(SpendBudget.newBuilder().setAmountMicros(1_000).setPeriod(SpendPeriod.SPEND_PERIOD_DAY))))
            .addTeams(Team.newBuilder().setName("search").setOrganization("acme-corp").addBudgets(MONTH.clone().setAmountMicros(500)))
            .addOrganizations(Organization.newBuilder().setName("acme-corp"))
            .build());

    @AfterEach
    void close() {
        filter.close();
    }

    private static SpendRule rule(Level level, String account, long micros, Period period) {
        return new SpendRule(level, account, SpendRule.key(level, account, period, ZoneId.of("UTC")), micros, period,
                ZoneId.of("UTC"), List.of());
    }

    @Test
    void anAdmittedRequest_saysWhatIsLeftOfItsTightestBudget_andIsChargedItsRealCost() {
        ProcessorHarness.Stream stream = filter.open();
        ProcessingResponse answer = stream.request(chatHeaders(), chat("\"max_tokens\":10,"));

        assertThat(metadataHeader(answer, "x-aimesh-budget-remaining")).hasValue("0.000469"); // team: 500 - 31
        assertThat(metadataHeader(answer, "x-aimesh-budget-reset")).hasValue("2023-12-01T00:00:00Z");
        stream.send(responseBody(200, "{\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":3,\"total_tokens\":43,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":32}}}", true));

        // 8 fresh prompt tokens at 1.00, 32 cached at 0.50, 3 output at 2.00 per million: 8 + 16 + 6 = 30 micro-units.
        Instant now = Instant.ofEpochMilli(ProcessorHarness.NOW_MILLIS);
        assertThat(filter.context.spend().usage(rule(Level.TEAM, "search", 500, Period.MONTH), now).spentMicros()).isEqualTo(30);
        assertThat(filter.context.spend().usage(rule(Level.KEY, "acme.ci", 1_000, Period.DAY), now).spentMicros()).isEqualTo(30);
        assertThat(filter.context.spend().usage(rule(Level.TEAM, "search", 500, Period.MONTH), now).byModel())
                .containsEntry("llama", 30L);
    }

    @Test
    void aRequestOverABudget_is429InsufficientQuota_namingTheLevel_andItsTokensAreNotKept() {
        for (int i = 0; i < 16; i++) {
            assertThat(filter.open().request(chatHeaders(), chat("\"max_tokens\":10,")).hasImmediateResponse()).isFalse();
        }

        ProcessingResponse refused = filter.open().request(chatHeaders(), chat("\"max_tokens\":10,"));

        assertThat(refused.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(decision(refused)).isEqualTo("limited reason=budget level=team name=search period=month tenant=acme model=llama");
        assertThat(refused.getImmediateResponse().getBody().toStringUtf8()).contains("\"code\":\"insufficient_quota\"")
                .contains("the month budget of team 'search' has 0.000004 USD left");
        assertThat(setHeader(refused, "x-aimesh-budget-remaining")).hasValue("0.000004");
        assertThat(setHeader(refused, "x-aimesh-budget-reset")).hasValue("2023-12-01T00:00:00Z");
        assertThat(setHeader(refused, "retry-after")).isPresent();
        // The token budget kept nothing of the refused request: 16 reservations of 21 tokens (seen with budgets lifted).
        filter.config.set(io.aimesh.filter.config.CompiledConfigs.of(FilterConfig.newBuilder().addModels(ProcessorHarness.LLAMA)
                .addTenants(ProcessorHarness.acme(1_000_000)).build()));
        assertThat(filter.remainingAfterOneMore()).isEqualTo(1_000_000 - 16 * 21 - 12);
    }
}
