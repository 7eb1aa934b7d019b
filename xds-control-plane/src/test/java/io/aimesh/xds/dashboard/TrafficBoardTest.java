package io.aimesh.xds.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.aimesh.filter.api.BudgetSample;
import io.aimesh.filter.api.EndpointSample;
import io.aimesh.filter.api.Histogram;
import io.aimesh.filter.api.LatencyBuckets;
import io.aimesh.filter.api.TenantSample;
import io.aimesh.filter.api.VersionSample;
import io.aimesh.filter.api.VersionStatsReport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrafficBoardTest {
    private Instant now = Instant.parse("2026-12-05T12:00:00Z");
    private final TrafficBoard board = new TrafficBoard(new Clock() {
        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    });

    private static VersionStatsReport report(String replica, long requests, long ttftMicros, long picks, long inFlight,
                                             double waiting) {
        return VersionStatsReport.newBuilder().setReplica(replica)
                .addVersions(VersionSample.newBuilder().setModel("llama").setVersion("v1").setRequests(requests).setErrors(1)
                        .setTtft(Histogram.newBuilder().putCounts(LatencyBuckets.index(ttftMicros), requests)))
                .addTenants(TenantSample.newBuilder().setTenant("acme").setModel("llama").putOutcomes("admitted", requests)
                        .putOutcomes("limited", 2).setInputTokens(10 * requests).setOutputTokens(5 * requests))
                .addEndpoints(EndpointSample.newBuilder().setPool("p1").setEndpoint("10.0.0.1:8000").setPicks(picks)
                        .setInFlight(inFlight).setWaiting(waiting).setRunning(1).setKvCacheUsage(0.5).setHealthy(true).setFresh(true))
                .build();
    }

    @Test
    void replicasAddUp_countsOverTheWindow_gaugesFromTheFreshest() {
        board.record(report("a", 30, 10_000, 30, 3, 4));
        now = now.plusSeconds(2);
        board.record(report("b", 10, 200_000, 10, 2, 7));

        DashboardView view = board.view(Map.of(), Map.of());
        DashboardView.VersionRow v1 = view.versions().get(0);
        assertThat(v1.requests()).isEqualTo(40);
        assertThat(v1.errors()).isEqualTo(2);
        assertThat(v1.requestsPerSecond()).isEqualTo(40 / 60.0);
        assertThat(v1.ttftP50Millis()).as("30 of 40 answers took 10 ms").isBetween(9.5, 10.5);
        assertThat(v1.ttftP99Millis()).as("10 took 200 ms").isBetween(190.0, 210.0);
        DashboardView.TenantRow acme = view.tenants().get(0);
        assertThat(acme.requests()).isEqualTo(44);
        assertThat(acme.outcomes()).containsEntry("admitted", 40L).containsEntry("limited", 4L);
        assertThat(acme.inputTokens()).isEqualTo(400);
        DashboardView.EndpointRow endpoint = view.endpoints().get(0);
        assertThat(endpoint.inFlight()).as("each replica's own in flight, added").isEqualTo(5);
        assertThat(endpoint.waiting()).as("the model server's queue as last scraped").isEqualTo(7);
        assertThat(endpoint.picks()).isEqualTo(40);
        assertThat(endpoint.replicas()).isEqualTo(2);
    }

    @Test
    void aTenantsBudgets_areTheMostAnyReplicaUsed() {
        board.record(report("a", 1, 10_000, 1, 0, 0).toBuilder().addBudgets(BudgetSample.newBuilder().setTenant("acme")
                .setKind("spend").setName("team search").setPeriod("month").setUsed(12_500_000).setAmount(200_000_000)
                .setResetsAtMs(Instant.parse("2027-01-01T00:00:00Z").toEpochMilli())).build());
        board.record(report("b", 1, 10_000, 1, 0, 0).toBuilder().setSequence(1).addBudgets(BudgetSample.newBuilder()
                .setTenant("acme").setKind("spend").setName("team search").setPeriod("month").setUsed(12_000_000)
                .setAmount(200_000_000)).build());

        DashboardView view = board.view(Map.of(), Map.of());
        DashboardView.BudgetRow team = view.tenants().get(0).budgets().get(0);
        assertThat(team.used()).isEqualTo(12_500_000);
        assertThat(team.left()).isEqualTo(187_500_000);
        assertThat(team.resetsAt()).isEqualTo("2027-01-01T00:00:00Z");
        assertThat(DashboardPage.fragment(view, java.util.List.of(), Map.of(), "applied"))
                .contains("<div data-budget=\"team search\">team search (month): 12.50 of 200.00, 187.50 left, resets 2027-01-01");
    }

    @Test
    void aReplicaThatStoppedReporting_leavesTheGauges_andOldCountsLeaveTheWindow() {
        board.record(report("a", 30, 10_000, 30, 3, 4));
        now = now.plus(Duration.ofSeconds(TrafficBoard.REPORT_STALE_SECONDS + 1));
        board.record(report("b", 10, 10_000, 10, 2, 7));

        assertThat(board.view(Map.of(), Map.of()).endpoints().get(0).inFlight()).isEqualTo(2);
        now = now.plus(Duration.ofMinutes(11));
        DashboardView later = board.view(Map.of(), Map.of());
        assertThat(later.versions().get(0).requests()).as("ten minutes on, nothing is left").isZero();
        assertThat(later.versions().get(0).ttftP50Millis()).isNaN();
        assertThat(later.endpoints()).as("no replica reported the endpoint lately").isEmpty();
    }

    @Test
    void theRolloutsWeightsStandInForTheRoutes() {
        board.record(report("a", 1, 10_000, 1, 0, 0));

        DashboardView view = board.view(Map.of("llama|v1", 80), Map.of("llama", "progressing"));
        assertThat(view.versions().get(0).weight()).isEqualTo(80);
        assertThat(view.versions().get(0).rollout()).isEqualTo("progressing");
        assertThat(DashboardPage.page(view, java.util.List.of(), Map.of(), "applied"))
                .contains("<tr data-version=\"llama/v1\">").contains("<td data-field=\"requests\">1</td>");
    }

    @Test
    void namesAreEscaped() {
        board.record(VersionStatsReport.newBuilder().setReplica("a").addTenants(TenantSample.newBuilder()
                .setTenant("<script>x</script>").putOutcomes("denied", 1)).build());

        String html = DashboardPage.fragment(board.view(Map.of(), Map.of()), java.util.List.of(), Map.of(), "applied");
        assertThat(html).contains("&lt;script&gt;x&lt;/script&gt;").doesNotContain("<script>x");
    }
}
