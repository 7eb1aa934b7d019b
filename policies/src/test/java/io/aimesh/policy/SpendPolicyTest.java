package io.aimesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpendPolicyTest {
    private static final String HIERARCHY = """
            apiVersion: aimesh.io/v1alpha1
            kind: Organization
            metadata: {name: acme-corp}
            spec:
              budgets: [{amount: "10000", period: month}]
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: Team
            metadata: {name: search}
            spec:
              organization: acme-corp
              budgets: [{amount: "2000.50", period: month, timeZone: Europe/Berlin, alertAt: [50, 80, 95]}]
            ---
            apiVersion: aimesh.io/v1alpha1
            kind: Tenant
            metadata: {name: search-prod}
            spec:
              team: search
              budgets: [{amount: "500", period: 30d}, {amount: "40", period: day}]
              identity:
                apiKeys:
                  - sha256: "sha256:%1$s"
                    name: ci
                    budgets: [{amount: "5.25", period: week}]
                  - sha256: "sha256:%2$s"
            """.formatted("a".repeat(64), "b".repeat(64));

    private static LoadResult load(String yaml) {
        return PolicyLoader.load(Map.of("a.yaml", TwoVersionRoute.POLICIES + "  pricing: {input: \"0.15\", output: \"0.60\"}\n"
                + "---\n" + yaml));
    }

    @Test
    void theHierarchy_isReadWithItsBudgetsInMicroUnits() {
        LoadResult result = load(HIERARCHY);

        assertThat(result.errors()).isEmpty();
        PolicySet policies = result.policies();
        assertThat(policies.organizations()).containsExactly(new Organization("acme-corp", List.of(
                new SpendBudget(10_000_000_000L, SpendBudget.Period.MONTH, ZoneId.of("UTC"), List.of(80)))));
        assertThat(policies.teams()).containsExactly(new Team("search", "acme-corp", List.of(
                new SpendBudget(2_000_500_000L, SpendBudget.Period.MONTH, ZoneId.of("Europe/Berlin"), List.of(50, 80, 95)))));
        Tenant tenant = policies.tenants().get(0);
        assertThat(tenant.team()).isEqualTo("search");
        assertThat(tenant.budgets()).extracting(SpendBudget::amountMicros, SpendBudget::period)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(500_000_000L, SpendBudget.Period.ROLLING_30D),
                        org.assertj.core.groups.Tuple.tuple(40_000_000L, SpendBudget.Period.DAY));
        assertThat(tenant.keyBudgets()).containsExactly(new Tenant.KeyBudgets("a".repeat(64), "ci", List.of(
                new SpendBudget(5_250_000L, SpendBudget.Period.WEEK, ZoneId.of("UTC"), List.of(80)))));
        assertThat(policies.routes().get(0).pricing()).isEqualTo(new Pricing(150_000, 150_000, 600_000));
    }

    @Test
    void aVersionsOwnPrices_overTheRoutes_makeTheFilterChooseTheVersion() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", TwoVersionRoute.POLICIES.replace(
                "{name: v2, pool: p2, weight: 0}", "{name: v2, pool: p2, weight: 0, pricing: {input: \"1\", cachedInput: \"0.5\", output: \"2\"}}")
                + "  pricing: {input: \"0.15\", output: \"0.60\"}\n"));

        assertThat(result.errors()).isEmpty();
        ModelRoute route = result.policies().routes().get(0);
        assertThat(route.pricing(route.version("v2"))).isEqualTo(new Pricing(1_000_000, 500_000, 2_000_000));
        assertThat(route.pricing(route.version("v1"))).isEqualTo(new Pricing(150_000, 150_000, 600_000));
        assertThat(result.policies().filterRouted(route)).isTrue();
    }

    @Test
    void badReferencesAndValues_sayWhereAndWhy() {
        LoadResult result = load("""
                apiVersion: aimesh.io/v1alpha1
                kind: Team
                metadata: {name: search}
                spec:
                  organization: nobody
                  budgets: [{amount: "12.123456", period: month, timeZone: Mars/Olympus, alertAt: [90, 80]}]
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: t}
                spec:
                  team: ghosts
                  identity: {apiKeys: [{sha256: "sha256:%s"}]}
                """.formatted("c".repeat(64)));

        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "a.yaml:28:17: Team/search spec.organization: unknown Organization 'nobody' (none are defined)",
                "a.yaml:29:60: Team/search spec.budgets[0].timeZone: unknown time zone 'Mars/Olympus' (expected: an IANA name like Europe/Berlin, or UTC)",
                "a.yaml:29:88: Team/search spec.budgets[0].alertAt[1]: 80 after 90 (expected: increasing percents)",
                "a.yaml:35:9: Tenant/t spec.team: unknown Team 'ghosts' (defined: search)");
    }

    @Test
    void moneyWithMoreThanSixDecimals_isRefusedByItsShape() {
        LoadResult result = load("""
                apiVersion: aimesh.io/v1alpha1
                kind: Organization
                metadata: {name: o}
                spec:
                  budgets: [{amount: "12.1234567", period: month}]
                """);

        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "a.yaml:28:22: Organization/o spec.budgets[0].amount: '12.1234567' is invalid (expected: an amount like 12.50: "
                        + "digits, at most 6 decimals)");
    }

    @Test
    void budgetsWithoutTheFilter_areRefused() {
        LoadResult result = PolicyLoader.load(Map.of("a.yaml", """
                apiVersion: aimesh.io/v1alpha1
                kind: Organization
                metadata: {name: o}
                spec:
                  budgets: [{amount: "12", period: month}]
                """));

        assertThat(result.errors()).extracting(PolicyError::toString).containsExactly(
                "a.yaml:5:12: Organization/o spec.budgets: budgets need the ai-filter in the request path (a Gateway with "
                        + "spec.filter): it charges every request");
    }
}
