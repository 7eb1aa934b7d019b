package io.aimesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.aimesh.filter.AiFilter;
import io.aimesh.filter.AiFilterOptions;
import io.aimesh.modelsim.ModelSimConfig;
import io.aimesh.modelsim.ModelSimServer;
import io.aimesh.xds.ControlPlane;
import io.aimesh.xds.ControlPlaneOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code aimesh explain} against a real control plane and ai-filter (no Envoy: nothing is sent), with
 * a picker pool of two real model-sims the filter scrapes: every decision is printed with the policy
 * file:line it comes from, and the verdict decides the exit code.
 */
class ExplainCommandTest {
    private static final String KEY = "explain-test-key";
    @TempDir
    Path directory;
    private ControlPlane controlPlane;
    private AiFilter filter;
    private ModelSimServer simA;
    private ModelSimServer simB;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        simA = ModelSimServer.start(ModelSimConfig.builder().port(0).model("llama").version("v2").seed(1).build());
        simB = ModelSimServer.start(ModelSimConfig.builder().port(0).model("llama").version("v2").seed(2).build());
        Path policies = Files.createDirectories(directory.resolve("policies"));
        Files.writeString(policies.resolve("pools.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: Gateway
                metadata: {name: g}
                spec: {filter: {address: "127.0.0.1:9001"}}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p1}
                spec: {endpoints: ["127.0.0.1:18101"]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: InferencePool
                metadata: {name: p2}
                spec:
                  endpoints: ["127.0.0.1:%d", "127.0.0.1:%d"]
                  balancing: {mode: picker, metricsInterval: 100ms}
                """.formatted(simA.port(), simB.port()));
        Files.writeString(policies.resolve("routes.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: llama-route}
                spec:
                  model: llama
                  versions: [{name: v1, pool: p1, weight: 100}, {name: v2, pool: p2, weight: 0}]
                  overrides: [{header: x-aimesh-version, value: v2, version: v2}]
                  pricing: {input: "1", output: "2"}
                  defaultMaxTokens: 10
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: ModelRoute
                metadata: {name: other-route}
                spec:
                  model: other
                  versions: [{name: v1, pool: p1, weight: 100}]
                """);
        Files.writeString(policies.resolve("tenants.yaml"), """
                apiVersion: aimesh.io/v1alpha1
                kind: Team
                metadata: {name: search}
                spec: {budgets: [{amount: "0.001", period: month}]}
                ---
                apiVersion: aimesh.io/v1alpha1
                kind: Tenant
                metadata: {name: acme}
                spec:
                  team: search
                  allowedModels: [llama]
                  identity: {apiKeys: [{sha256: "sha256:%s"}]}
                  limits:
                    - window: 1m
                      tokens: 5000
                """.formatted(io.aimesh.filter.api.Sha256.hex(KEY)));
        controlPlane = ControlPlane.start(ControlPlaneOptions.defaults(policies).withXds("127.0.0.1", 0).withAdmin("127.0.0.1", 0));
        filter = AiFilter.start(new AiFilterOptions("127.0.0.1:" + controlPlane.xdsPort(), "explain-filter", "127.0.0.1", 0,
                "127.0.0.1", 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> filter.configVersion() != null);
    }

    @AfterEach
    void stop() throws Exception {
        filter.close();
        controlPlane.close();
        simA.close();
        simB.close();
    }

    @Test
    void anAdmittedRequest_printsEveryDecision_withItsPolicyFileAndLine() throws Exception {
        Path keyFile = Files.writeString(directory.resolve("key"), KEY + "\n");

        assertThat(run("--api-key-file", keyFile.toString(), "--model", "llama", "--tokens", "500")).as(err.toString()).isZero();

        String printed = out.toString();
        assertThat(printed).containsPattern("identity +ok +tenant acme, by its API key +\\[Tenant/acme .*tenants.yaml:6:1\\]");
        assertThat(printed).containsPattern("permission +ok +in allowedModels");
        assertThat(printed).containsPattern("limit +ok +\\*:tokens-per-minute:total \\(\\*, 1m\\): 0 of 5000 used, this request \\d+, 5000 left, resets in \\d+ s"
                + " +\\[Tenant/acme ");
        assertThat(printed).containsPattern("budget +ok +team search, month \\d{4}-\\d{2}: 0.00 spent, 0.00 reserved of 0.001,"
                + " this request reserves 0.00052, 0.001 left, resets .* +\\[Team/search .*tenants.yaml:1:1\\]");
        assertThat(printed).containsPattern("version +ok +v1, by a draw by weight .*weights v1 100, v2 0 +\\[model/llama .*routes.yaml:1:1\\]");
        assertThat(printed).containsPattern("endpoint +ok +pool p1: Envoy balances its endpoints");
        assertThat(printed).contains("verdict: admitted");
    }

    @Test
    void theOverrideHeader_choosesThePickerPool_andEachEndpointsScoreIsShown() {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            run("--tenant", "acme", "--model", "llama", "--header", "x-aimesh-version=v2");
            return out.toString().contains("queue 0.00"); // both endpoints scraped
        });

        String printed = out.toString();
        assertThat(printed).containsPattern("version +ok +v2, by the override header x-aimesh-version: v2");
        assertThat(printed).containsPattern("endpoint +ok +would pick 127.0.0.1:\\d+; pool p2, lowest cost wins");
        assertThat(printed).containsPattern("127.0.0.1:" + simA.port() + " cost \\d\\.\\d{3} \\(queue 0.00, KV cache 0.00, in flight 0\\)");
        assertThat(printed).containsPattern("127.0.0.1:" + simB.port() + " cost \\d\\.\\d{3}");
    }

    @Test
    void refusals_sayWhichStepRefused_andExitOne() throws Exception {
        assertThat(run("--tenant", "acme", "--model", "other")).isEqualTo(1);
        assertThat(out.toString()).containsPattern("permission +refused +tenant acme may not use other \\(allowedModels\\): 403")
                .contains("verdict: refused: 403 (permission)");

        assertThat(run("--tenant", "acme", "--model", "llama", "--tokens", "20000")).isEqualTo(1);
        assertThat(out.toString()).containsPattern("limit +refused +\\*:tokens-per-minute:total \\(\\*, 1m\\): 0 of 5000 used, this request 20010")
                .contains("verdict: refused: 429 (token limit");

        Path wrongKey = Files.writeString(directory.resolve("wrong"), "not-a-key");
        assertThat(run("--api-key-file", wrongKey.toString(), "--model", "llama")).isEqualTo(1);
        assertThat(out.toString()).contains("identity   refused  no tenant has this API key: 401").contains("verdict: refused: 401");

        assertThat(run("--tenant", "acme", "--model", "llama", "--tokens", "2000")).as("the limit holds 2010 tokens").isEqualTo(1);
        assertThat(out.toString()).containsPattern("limit +ok").containsPattern("budget +refused +team search")
                .contains("verdict: refused: 429 insufficient_quota (team search)");
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        ExplainCommand command = new ExplainCommand();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        String[] all = java.util.Arrays.copyOf(args, args.length + 4);
        all[args.length] = "--filter";
        all[args.length + 1] = "http://127.0.0.1:" + filter.adminPort();
        all[args.length + 2] = "--admin";
        all[args.length + 3] = "http://127.0.0.1:" + controlPlane.adminPort();
        return new CommandLine(command).execute(all);
    }
}
