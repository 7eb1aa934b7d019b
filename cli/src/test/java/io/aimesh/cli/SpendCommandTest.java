package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.filter.spend.Level;
import io.aimesh.filter.spend.Period;
import io.aimesh.filter.spend.SpendJournal;
import io.aimesh.filter.spend.SpendRule;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code aimesh spend} against a real ai-filter's admin API. No Envoy: the filter's journal holds a
 * month's spend as a running filter would have written it, and the filter replays it at start.
 */
class SpendCommandTest {
    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");
    @TempDir
    Path directory;
    private ControlPlane controlPlane;
    private AiFilter filter;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        Path policies = Files.createDirectories(directory.resolve("policies"));
        Files.writeString(policies.resolve("all.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: g}
                spec: {filter: {address: "127.0.0.1:9001"}, currency: EUR}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p1}
                spec: {endpoints: ["127.0.0.1:18101"]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: r}
                spec:
                  model: llama
                  versions: [{name: v1, pool: p1, weight: 100}]
                  pricing: {input: "1", output: "2"}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Organization
                metadata: {name: acme-corp}
                spec: {budgets: [{amount: "1000", period: month}]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Team
                metadata: {name: search}
                spec: {organization: acme-corp, budgets: [{amount: "200", period: month}]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: prod}
                spec:
                  team: search
                  budgets: [{amount: "50", period: month}]
                  identity: {apiKeys: [{sha256: "sha256:%s"}]}
                """.formatted("a".repeat(64)));
        Path spend = directory.resolve("spend");
        try (SpendJournal journal = SpendJournal.open(spend, 1 << 20, 1_000)) {
            ZoneId utc = ZoneId.of("UTC");
            journal.append(SpendRule.key(Level.TEAM, "search", Period.MONTH, utc) + "#2026-12|llama", 12_500_000);
            journal.append(SpendRule.key(Level.TENANT, "prod", Period.MONTH, utc) + "#2026-12|llama", 12_500_000);
            journal.append(SpendRule.key(Level.ORGANIZATION, "acme-corp", Period.MONTH, utc) + "#2026-12|llama", 12_500_000);
        }
        controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0));
        filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), "spend-filter", "127.0.0.1", 0,
                "127.0.0.1", 0).withSpendDirectory(spend).withClock(java.time.Clock.fixed(NOW, ZoneOffset.UTC)));
        await().atMost(Duration.ofSeconds(10)).until(() -> filter.configVersion() != null);
    }

    @AfterEach
    void stop() throws Exception {
        filter.close();
        controlPlane.close();
    }

    @Test
    void spend_printsEveryLevelWithItsBudgetAndModels_fromTheLiveLedger() {
        assertThat(run("--team", "search")).isZero();

        String printed = out.toString();
        assertThat(printed).contains("spend at 2026-12-05T12:00:00Z (EUR, this replica)");
        assertThat(printed).containsPattern("organization +acme-corp +month +2026-12 +12\\.50 +1000\\.00 +987\\.50  2027-01-01T00:00:00Z");
        assertThat(printed).containsPattern("team +search +month +2026-12 +12\\.50 +200\\.00 +187\\.50");
        assertThat(printed).containsPattern("tenant +prod +month +2026-12 +12\\.50 +50\\.00 +37\\.50");
        assertThat(printed).containsPattern("model llama +12\\.50");
    }

    @Test
    void spend_asJson_andForAnUnknownAccount_orABadPeriod_saysWhy() {
        assertThat(run("--tenant", "prod", "--json")).isZero();
        assertThat(out.toString()).contains("\"currency\" : \"EUR\"").contains("\"spent\" : \"12.50\"");
        assertThat(run("--org", "globex")).isEqualTo(1);
        assertThat(err.toString()).contains("no organization 'globex'");
        assertThat(run("--period", "December")).isEqualTo(1);
        assertThat(err.toString()).contains("period: expected YYYY-MM");
        assertThat(run("--period", "2026-11")).isZero();
        assertThat(out.toString()).containsPattern("team +search +month +2026-11 +0\\.00 +200\\.00");
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        SpendCommand command = new SpendCommand();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        String[] all = java.util.Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--filter";
        all[args.length + 1] = "http://127.0.0.1:" + filter.adminPort();
        return new CommandLine(command).execute(all);
    }
}
